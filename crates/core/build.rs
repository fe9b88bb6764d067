//! Embeds the bundled copy of Mozilla's ISP database (`data/ispdb/ispdb/`): writes
//! `$OUT_DIR/ispdb_bundle.rs`, a table of every file's name and text (`include_str!`), which
//! `src/provisioning/ispdb.rs` indexes at first use. A new snapshot is a copy into that folder:
//! no list to keep by hand, and the files are parsed by the same code as `--ispdb DIR`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let dir = Path::new(&manifest).join("data/ispdb/ispdb");
    // A file added or removed changes the folder; include_str! tracks each file's content.
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut code = String::from("/// Every file of data/ispdb/ispdb/: name, text.\n");
    code.push_str("static BUNDLED_FILES: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = dir.join(name);
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    std::fs::write(Path::new(&out).join("ispdb_bundle.rs"), code)
        .unwrap_or_else(|e| panic!("cannot write ispdb_bundle.rs: {e}"));
}
