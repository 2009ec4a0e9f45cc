//! Request-body decoding and the record-independent checks of User writes (JSON shape, field
//! names, JSON types, read-only fields, lengths, formats and picklists).

use serde_json::{Map, Value};

use crate::config::EmulatorConfig;
use crate::fields::{self, FieldDef, FieldType};
use crate::response::ApiError;

/// Whether a write creates a record or updates an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `POST /sobjects/User/`.
    Create,
    /// `PATCH /sobjects/User/{id}`.
    Update,
}

/// A validated field assignment: the field and its JSON value (a string, a boolean or null).
pub type Change = (&'static FieldDef, Value);

/// Decodes a request body as a UTF-8 JSON object, with Salesforce's JSON_PARSER_ERROR messages.
pub fn parse_object(body: &[u8]) -> Result<(String, Map<String, Value>), ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::json_parser(
            "The HTTP entity body is required, but this request has no entity body.",
        ));
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let (line, column) = line_col(&body[..at]);
            return Err(ApiError::json_parser(format!(
                "Invalid UTF-8 start byte 0x{:02x} at [line:{line}, column:{}]",
                body[at],
                column + 1
            )));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let offending = offending_char(text, e.line(), e.column());
        ApiError::json_parser(format!(
            "Unexpected character ({offending}) at [line:{}, column:{}]",
            e.line(),
            e.column()
        ))
    })?;
    match value {
        Value::Object(map) => Ok((text.to_string(), map)),
        other => Err(ApiError::json_parser(format!(
            "Cannot deserialize instance of User from {} value {} or request may be missing a required field at [line:1, column:1]",
            token_name(&other),
            token_text(&other)
        ))),
    }
}

/// Checks field names, JSON types and writability, and returns the assignments in body order
/// (alphabetical, as the body is decoded into a sorted map).
pub fn to_changes(
    text: &str,
    body: Map<String, Value>,
    mode: WriteMode,
    config: &EmulatorConfig,
) -> Result<Vec<Change>, ApiError> {
    let mut changes = Vec::new();
    let mut read_only = Vec::new();
    for (key, value) in body {
        if key == "attributes" {
            continue;
        }
        let Some(def) = fields::find(&key) else {
            return Err(ApiError::field(
                "INVALID_FIELD",
                format!("No such column '{key}' on sobject of type User"),
                &[],
            ));
        };
        if def.name == "Id" {
            return Err(ApiError::field(
                "INVALID_FIELD",
                "The Id field should not be specified in the sobject data.",
                &[],
            ));
        }
        let value = check_json_type(text, &key, def, value, config)?;
        if !def.writable {
            read_only.push(def.name);
            continue;
        }
        changes.push((def, value));
    }
    if !read_only.is_empty() {
        return Err(ApiError::field(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                read_only.join(", ")
            ),
            &read_only,
        ));
    }
    if mode == WriteMode::Create {
        let missing: Vec<&str> = fields::required_fields()
            .filter(|f| {
                !changes
                    .iter()
                    .any(|(d, v)| d.name == f.name && !is_blank(v))
            })
            .map(|f| f.name)
            .collect();
        if !missing.is_empty() {
            return Err(required_missing(&missing));
        }
    } else {
        let blanked: Vec<&str> = changes
            .iter()
            .filter(|(d, v)| d.required && is_blank(v))
            .map(|(d, _)| d.name)
            .collect();
        if !blanked.is_empty() {
            return Err(required_missing(&blanked));
        }
    }
    for (def, value) in &changes {
        check_value(def, value)?;
    }
    Ok(changes)
}

fn required_missing(names: &[&str]) -> ApiError {
    ApiError::field(
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{}]", names.join(", ")),
        names,
    )
}

/// True for null and the empty string, which Salesforce treats as "no value".
pub fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn check_json_type(
    text: &str,
    key: &str,
    def: &FieldDef,
    value: Value,
    config: &EmulatorConfig,
) -> Result<Value, ApiError> {
    let ok = match (&value, def.ty) {
        (Value::Null, _) => true,
        (Value::Bool(_), FieldType::Boolean) => true,
        (Value::String(_), t) if t.is_textual() => true,
        (Value::Number(_) | Value::Bool(_), t)
            if t.is_textual() && config.coerce_scalars_to_text =>
        {
            return Ok(Value::String(token_text(&value)));
        }
        _ => false,
    };
    if ok {
        return Ok(value);
    }
    let (line, column) = value_position(text, key);
    Err(ApiError::json_parser(format!(
        "Cannot deserialize instance of {} from {} value {} or request may be missing a required field at [line:{line}, column:{column}]",
        def.ty.soap_name(),
        token_name(&value),
        token_text(&value)
    )))
}

/// Checks one assigned value against the field's length, format and picklist rules.
pub fn check_value(def: &FieldDef, value: &Value) -> Result<(), ApiError> {
    let Value::String(s) = value else {
        return Ok(());
    };
    if s.is_empty() {
        return Ok(());
    }
    if let Some(max) = def.max_len {
        if s.chars().count() > max && !matches!(def.ty, FieldType::Reference(_)) {
            return Err(ApiError::field(
                "STRING_TOO_LONG",
                format!(
                    "{}: data value too large: {s} (max length={max})",
                    def.label
                ),
                &[def.name],
            ));
        }
    }
    match def.ty {
        FieldType::Text if def.name == "Username" && !is_email_shaped(s) => Err(ApiError::field(
            "FIELD_INTEGRITY_EXCEPTION",
            "Username must be in the form of an email address (for example, john@acme.com)",
            &["Username"],
        )),
        FieldType::Email if !is_email_shaped(s) => Err(ApiError::field(
            "INVALID_EMAIL_ADDRESS",
            format!("{}: invalid email address: {s}", def.label),
            &[def.name],
        )),
        FieldType::Picklist(values) if !values.contains(&s.as_str()) => Err(ApiError::field(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            format!(
                "{}: bad value for restricted picklist field: {s}",
                def.label
            ),
            &[def.name],
        )),
        FieldType::Reference(prefix) => check_reference_shape(def, s, prefix),
        _ => Ok(()),
    }
}

fn check_reference_shape(def: &FieldDef, s: &str, prefix: &str) -> Result<(), ApiError> {
    if !crate::ids::is_valid_id(s) {
        return Err(ApiError::field(
            "MALFORMED_ID",
            format!("{}: id value of incorrect type: {s}", def.label),
            &[def.name],
        ));
    }
    if !s.starts_with(prefix) {
        return Err(ApiError::field(
            "FIELD_INTEGRITY_EXCEPTION",
            format!("{}: id value of incorrect type: {s}", def.label),
            &[def.name],
        ));
    }
    Ok(())
}

/// A permissive email-shape check: `local@domain.tld`, no spaces, one `@`.
pub fn is_email_shaped(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') || s.chars().any(|c| c.is_whitespace()) {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Number(n) if n.is_f64() => "VALUE_NUMBER_FLOAT",
        Value::Number(_) => "VALUE_NUMBER_INT",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn token_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(_) => "[".into(),
        Value::Object(_) => "{".into(),
        other => other.to_string(),
    }
}

fn line_col(prefix: &[u8]) -> (usize, usize) {
    let line = 1 + prefix.iter().filter(|b| **b == b'\n').count();
    let column = prefix.iter().rev().take_while(|b| **b != b'\n').count();
    (line, column)
}

/// Best-effort position (1-based line and column) of the value of `key` in the raw body.
fn value_position(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    let Some(start) = text.find(&needle) else {
        return (1, 1);
    };
    let after = start + needle.len();
    let rest = &text[after..];
    let skip = rest
        .char_indices()
        .find(|(_, c)| !c.is_whitespace() && *c != ':')
        .map(|(i, _)| i)
        .unwrap_or(0);
    let (line, column) = line_col(&text.as_bytes()[..after + skip]);
    (line, column + 1)
}

fn offending_char(text: &str, line: usize, column: usize) -> String {
    let ch = text
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|l| l.chars().nth(column.saturating_sub(1)));
    match ch {
        Some(c) => format!("'{c}' (code {})", c as u32),
        None => "end-of-input".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(is_email_shaped("jane.doe@example.com"));
        assert!(is_email_shaped("jane+tag@sub.example.co.uk"));
        assert!(!is_email_shaped("jane"));
        assert!(!is_email_shaped("jane@localhost"));
        assert!(!is_email_shaped("ja ne@example.com"));
        assert!(!is_email_shaped("@example.com"));
        assert!(!is_email_shaped("a@@example.com"));
    }

    #[test]
    fn empty_and_invalid_bodies() {
        assert!(parse_object(b"")
            .unwrap_err()
            .message
            .contains("no entity body"));
        let e = parse_object(b"{\"a\":\"\xff\"}").unwrap_err();
        assert_eq!(e.code, "JSON_PARSER_ERROR");
        assert!(e.message.contains("Invalid UTF-8"));
        let e = parse_object(b"{bad").unwrap_err();
        assert!(
            e.message.starts_with("Unexpected character"),
            "{}",
            e.message
        );
    }
}
