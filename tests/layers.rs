//! Nothing is imported upwards. Between crates Cargo holds it (`mailtls-core` <- `mailtls-scan`
//! <- `mailtls-serve` <- the binary; a dependency the other way would be a cycle); inside
//! `mailtls-core` each top-level module may use only modules of its own layer or below, in the
//! order docs/architecture.md gives. A new module must be placed in `LAYERS`. And the core
//! library builds without a database, a web server or a progress bar.

use std::path::{Path, PathBuf};

/// Lowest first. Modules on one line share a layer and may use each other.
const LAYERS: &[&[&str]] = &[
    &[
        "vocabulary",
        "exit",
        "target",
        "service",
        "address",
        "tls_catalog",
        "crypto",
        "concurrent",
    ],
    &["observation"],
    &["probe"],
    &["provisioning"],
    &["analyze"],
    &["clients"],
    &["diagnose"],
    &["engine", "options"],
    &["run"],
    &["report"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `name` is a top-level module of the crate under `src` (a file or a folder).
fn is_module(src: &Path, name: &str) -> bool {
    src.join(format!("{name}.rs")).is_file() || src.join(name).is_dir()
}

#[test]
fn no_module_imports_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    let mut unplaced = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs");
        // lib.rs only declares modules.
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(module) else {
            unplaced.push(module.to_string());
            continue;
        };
        // How deep the file's module is: src/probe.rs and src/probe/mod.rs are 1,
        // src/probe/http.rs is 2. That many `super::` reach the crate's root.
        let depth = relative.components().count()
            - usize::from(relative.file_name().is_some_and(|f| f == "mod.rs"));
        let text = std::fs::read_to_string(&file).expect("readable");
        for (index, line) in text.lines().enumerate() {
            // Documentation may point anywhere; only code imports.
            if line.trim_start().starts_with("//") {
                continue;
            }
            let from_root = line
                .match_indices("crate::")
                .map(|(at, _)| at + "crate::".len());
            // `super::super::x` climbing to the root names a top-level module too (only a
            // known module counts: inside a file's own `mod tests`, `super::` goes one less).
            let climbed = line
                .match_indices("super::")
                .filter(|(at, _)| !line[..*at].ends_with("super::"))
                .filter_map(|(at, _)| {
                    let mut rest = &line[at..];
                    let mut climbs = 0;
                    while let Some(further) = rest.strip_prefix("super::") {
                        climbs += 1;
                        rest = further;
                    }
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    (climbs == depth && layer_of(&name).is_some())
                        .then_some(line.len() - rest.len())
                });
            for at in from_root.chain(climbed) {
                let used: String = line[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                match layer_of(&used) {
                    Some(layer) if layer > own => upward.push(format!(
                        "{}:{}: {module} uses {used}",
                        relative.display(),
                        index + 1
                    )),
                    Some(_) => {}
                    // Only a module needs a layer: `$crate::__vocabulary_clap!` names a macro
                    // exported at the crate's root, which has no file of its own.
                    None if is_module(&src, &used) => unplaced.push(used),
                    None => {}
                }
            }
        }
    }
    unplaced.sort();
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS: {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "imports that run upwards:\n{}",
        upward.join("\n")
    );
}

/// What `mailtls-core` must build without: the database (sqlx), the web server (axum, hyper's
/// and hyper-util's server side, maud, prometheus-client), the binary's progress bar and
/// argument parser. (reqwest brings hyper and tower-http for its client.) Read from
/// `cargo tree`, so a dependency that creeps in through another crate counts.
#[test]
fn the_core_library_builds_without_database_or_web_server() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = std::process::Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "-p",
            "mailtls-core",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "-f",
            "{p} {f}",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        tree.contains("x509-parser"),
        "not a dependency tree:\n{tree}"
    );
    let found = forbidden_in(&tree);
    assert!(
        found.is_empty(),
        "mailtls-core depends on:\n{}",
        found.join("\n")
    );
    // The filter itself finds what it must (so the check above can fail).
    let whole = "sqlx v0.9.0 any\nhyper v1.0.0 client,http1,server\nhyper v1.0.0 client,http1\n";
    assert_eq!(forbidden_in(whole).len(), 2);
}

/// The lines of `cargo tree -f '{p} {f}'` output naming a crate the core must not build.
fn forbidden_in(tree: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(_version)) = (words.next(), words.next()) else {
            continue;
        };
        let server = words
            .next()
            .unwrap_or_default()
            .split(',')
            .any(|f| f == "server");
        let forbidden = matches!(
            name,
            "sqlx" | "axum" | "maud" | "prometheus-client" | "indicatif" | "clap"
        ) || (matches!(name, "hyper" | "hyper-util") && server);
        if forbidden {
            found.push(line.to_string());
        }
    }
    found.sort();
    found.dedup();
    found
}
