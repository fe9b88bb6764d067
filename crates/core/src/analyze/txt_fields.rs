//! The grammar the `_mta-sts` record (RFC 8461 §3.1) and the `_smtp._tls` record (RFC 8460 §3)
//! share: a version, then `;`-separated `name=value` fields, an optional `;` at the end. Each
//! record's own fields are its module's business. Pure.

/// Whitespace around fields (WSP).
pub const WSP: [char; 2] = [' ', '\t'];

/// Whether a TXT record begins with `version`, followed by a delimiter or nothing (a record that
/// begins so but is not valid still counts: it is the domain's record).
pub fn announces(record: &str, version: &str) -> bool {
    record
        .strip_prefix(version)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([';', ' ', '\t']))
}

/// The `(name, value)` fields after `version`, in order; what breaks the grammar, in words.
pub fn fields<'a>(record: &'a str, version: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut parts = record.split(';');
    if parts.next().unwrap_or_default().trim_end_matches(WSP) != version {
        return Err(format!("it must begin with {version}"));
    }
    let parts: Vec<&str> = parts.map(|f| f.trim_matches(WSP)).collect();
    let mut fields = Vec::with_capacity(parts.len());
    for (index, field) in parts.iter().enumerate() {
        if field.is_empty() {
            // Only the delimiter closing the record may be followed by nothing.
            if index + 1 == parts.len() && index > 0 {
                continue;
            }
            return Err("it has an empty field (\";\" with nothing before the next)".to_string());
        }
        let Some((name, value)) = field.split_once('=') else {
            return Err(format!("the field \"{field}\" is not name=value"));
        };
        fields.push((name, value));
    }
    Ok(fields)
}

/// Checks a field the record's RFC does not define (an extension): its name and its value
/// (`%x21-3A / %x3C / %x3E-7E`, at least one).
pub fn check_extension(name: &str, value: &str) -> Result<(), String> {
    if !field_name(name) {
        return Err(format!("\"{name}\" is not a field name"));
    }
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| matches!(b, 0x21..=0x3a | 0x3c | 0x3e..=0x7e))
    {
        return Err(format!("the value of {name} (\"{value}\") is not allowed"));
    }
    Ok(())
}

/// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`: a field name.
pub fn field_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 32
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}
