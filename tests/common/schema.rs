//! Every JSON output a test sees is validated against the committed schema of its kind
//! (docs/schema/), so the documented schema is what the binary prints.
#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

/// The committed schema file for an output's `kind`.
fn schema_file(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "check-host" | "check-domain" => "check.json",
        "reputation" => "reputation.json",
        "cert-verify" => "cert-verify.json",
        "provision" => "provision.json",
        "explain" => "explain.json",
        "scan-target" => "scan-target.json",
        "scan-report" => "scan-report.json",
        "scan-diff" => "scan-diff.json",
        "scan-status" => "scan-status.json",
        "tlsrpt" => "tlsrpt.json",
        _ => return None,
    })
}

/// Validates `output` against the committed schema of its kind; the error lists every
/// violation with its place in the document.
pub fn validate(output: &Value) -> Result<(), String> {
    let kind = output["kind"].as_str().unwrap_or_default();
    let file = schema_file(kind).ok_or_else(|| format!("no schema for kind {kind:?}"))?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema")
        .join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut schema: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // `check` prints one of two reports: validate against the one its kind names, so that a
    // failure says which field is wrong instead of "matches neither".
    let branch = match kind {
        "check-host" => Some("#/$defs/HostReport"),
        "check-domain" => Some("#/$defs/DomainReport"),
        _ => None,
    };
    if let (Some(branch), Some(root)) = (branch, schema.as_object_mut()) {
        root.remove("anyOf");
        root.insert("$ref".to_string(), Value::from(branch));
    }
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| format!("{}: not a valid schema: {e}", path.display()))?;
    let errors: Vec<String> = validator
        .iter_errors(output)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the {kind} output does not match docs/schema/{file}:\n  {}",
            errors.join("\n  ")
        ))
    }
}
