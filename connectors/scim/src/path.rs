//! SCIM attribute paths (RFC 7644 §3.10) as the targets of claim mappings.
//!
//! A mapping's target is one of:
//!
//! | form | example | sets |
//! |---|---|---|
//! | singular attribute | `title`, `active` | the attribute (first claim value) |
//! | sub-attribute | `name.givenName`, `manager.value` | the sub-attribute of the complex attribute |
//! | multi-valued attribute | `emails`, `roles` | one `{"value": v}` element per claim value |
//! | filtered element | `emails[type eq "work"].value` | `value` of the element whose `type` is `work`, created when missing |
//! | extension attribute | `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department` | the attribute inside the extension's object |
//!
//! A filtered element without a sub-attribute (`emails[type eq "work"]`) means its `value`.
//! [`TargetPath::check`] says whether a path names a SCIM User attribute this connector can write.

use std::fmt;

/// The core User schema.
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Singular core attributes holding one simple value.
const SIMPLE: [&str; 11] = [
    "userName",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "externalId",
];
/// The sub-attributes of the core `name`.
const NAME_PARTS: [&str; 6] = [
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
];
/// Multi-valued core attributes whose elements have `value`, `display`, `type` and `primary`.
const MULTI: [&str; 7] = [
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509Certificates",
];
/// The sub-attributes of a generic multi-valued element.
const MULTI_PARTS: [&str; 4] = ["value", "display", "type", "primary"];
/// The sub-attributes of an `addresses` element (which has no `value`).
const ADDRESS_PARTS: [&str; 8] = [
    "formatted",
    "streetAddress",
    "locality",
    "region",
    "postalCode",
    "country",
    "type",
    "primary",
];
/// The simple attributes of the enterprise extension.
const ENTERPRISE_SIMPLE: [&str; 5] = [
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
];

/// A parsed mapping target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPath {
    /// The extension schema URN the attribute lives in; none for the core schema.
    pub schema: Option<String>,
    /// The attribute, e.g. `emails`.
    pub attribute: String,
    /// `[attr eq "value"]`: the sub-attribute compared and the value it must equal.
    pub filter: Option<(String, String)>,
    /// The sub-attribute, e.g. `givenName` or `value`.
    pub sub: Option<String>,
}

impl TargetPath {
    /// Parses `text`; the error says what is malformed.
    pub fn parse(text: &str) -> Result<TargetPath, String> {
        let text = text.trim();
        let head_end = text.find('[').unwrap_or(text.len());
        let (schema, rest) = match text[..head_end].rfind(':') {
            Some(i) if text.starts_with("urn:") => {
                let schema = &text[..i];
                let core = schema.eq_ignore_ascii_case(CORE_USER);
                ((!core).then(|| schema.to_string()), &text[i + 1..])
            }
            Some(_) => return Err(format!("`{text}` has a `:` but does not start with `urn:`")),
            None => (None, text),
        };
        let name_end = rest.find(['[', '.']).unwrap_or(rest.len());
        let attribute = name(&rest[..name_end], text)?;
        let mut rest = &rest[name_end..];
        let mut filter = None;
        if let Some(after) = rest.strip_prefix('[') {
            let close = after
                .rfind(']')
                .ok_or_else(|| format!("`{text}` has a `[` without its `]`"))?;
            filter = Some(parse_filter(&after[..close], text)?);
            rest = &after[close + 1..];
        }
        let sub = match rest.strip_prefix('.') {
            Some(sub) => Some(name(sub, text)?),
            None if rest.is_empty() => None,
            None => return Err(format!("`{text}` has `{rest}` after its filter")),
        };
        let sub = match (&filter, sub) {
            (Some(_), None) => Some("value".to_string()),
            (_, sub) => sub,
        };
        Ok(TargetPath {
            schema,
            attribute,
            filter,
            sub,
        })
    }

    /// Whether the path names a User attribute this connector can write; the error says why
    /// not and what to write instead. Attributes of extensions other than the enterprise one
    /// are taken on trust.
    pub fn check(&self) -> Result<(), String> {
        let attribute = self.attribute.as_str();
        let sub = self.sub.as_deref();
        let filtered = self.filter.is_some();
        let known = |list: &[&str], name: &str| list.iter().any(|k| k.eq_ignore_ascii_case(name));
        let ok = match self.schema.as_deref() {
            None if known(&SIMPLE, attribute) => !filtered && sub.is_none(),
            None if attribute.eq_ignore_ascii_case("name") => {
                !filtered && sub.is_some_and(|s| known(&NAME_PARTS, s))
            }
            None if known(&MULTI, attribute) => sub.is_none_or(|s| known(&MULTI_PARTS, s)),
            None if attribute.eq_ignore_ascii_case("addresses") => {
                sub.is_some_and(|s| known(&ADDRESS_PARTS, s))
            }
            None => {
                return Err(format!(
                    "`{self}` is not a writable SCIM User attribute; use e.g. `name.givenName`, \
                     `emails[type eq \"work\"].value`, `title` or an extension URN path"
                ))
            }
            Some(ENTERPRISE_USER) if known(&ENTERPRISE_SIMPLE, attribute) => {
                !filtered && sub.is_none()
            }
            Some(ENTERPRISE_USER) if attribute.eq_ignore_ascii_case("manager") => {
                !filtered && sub.is_none_or(|s| s.eq_ignore_ascii_case("value"))
            }
            Some(ENTERPRISE_USER) => {
                return Err(format!(
                    "`{attribute}` is not an enterprise User attribute; use one of {}, manager",
                    ENTERPRISE_SIMPLE.join(", ")
                ))
            }
            Some(_) => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`{self}` does not fit the shape of `{attribute}`: a singular attribute takes no \
                 filter, `name` and `addresses` need a sub-attribute (`name.givenName`, \
                 `addresses[type eq \"work\"].locality`), sub-attributes must be the \
                 attribute's own"
            ))
        }
    }

    /// Whether the attribute holds a list of elements.
    pub fn is_multi_valued(&self) -> bool {
        self.filter.is_some()
            || self.schema.is_none()
                && (MULTI.iter().chain(&["addresses"]))
                    .any(|m| m.eq_ignore_ascii_case(&self.attribute))
    }

    /// Whether the value written at this path is a boolean (`active`, `primary`).
    pub fn is_boolean(&self) -> bool {
        let last = self.sub.as_deref().unwrap_or(&self.attribute);
        last.eq_ignore_ascii_case("active") || last.eq_ignore_ascii_case("primary")
    }

    /// The path as a PATCH `path` (RFC 7644 §3.5.2), with the extension URN prefix when there
    /// is one. For `remove` of a filtered path the whole element goes, not just its sub-attribute.
    pub fn patch_path(&self, removing: bool) -> String {
        let mut out = String::new();
        if let Some(schema) = &self.schema {
            out.push_str(schema);
            out.push(':');
        }
        out.push_str(&self.attribute);
        match (&self.filter, &self.sub) {
            (Some((attr, value)), sub) => {
                out.push_str(&format!("[{attr} eq \"{}\"]", escape(value)));
                if let Some(sub) = sub.as_ref().filter(|_| !removing) {
                    out.push('.');
                    out.push_str(sub);
                }
            }
            // A sub-attribute of every element is written as the whole list.
            (None, Some(_)) if self.is_multi_valued() => {}
            (None, Some(sub)) => {
                out.push('.');
                out.push_str(sub);
            }
            (None, None) => {}
        }
        out
    }
}

impl fmt::Display for TargetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        write!(f, "{}", self.attribute)?;
        if let Some((attr, value)) = &self.filter {
            write!(f, "[{attr} eq \"{}\"]", escape(value))?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A filter value inside double quotes: `\` and `"` escaped (RFC 7644 §3.4.2.2, JSON string rules).
pub fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

/// An attribute name (`ALPHA *(nameChar)`), or an error quoting `whole`.
fn name(text: &str, whole: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{whole}`: `{text}` is not an attribute name (a letter, then letters, digits, `_`, `-` or `$`)"
        ))
    }
}

/// `attr eq "value"`, the only filter a mapping target may carry.
fn parse_filter(text: &str, whole: &str) -> Result<(String, String), String> {
    let bad = || {
        format!("`{whole}`: the filter must be `attribute eq \"value\"`, e.g. `[type eq \"work\"]`")
    };
    let mut parts = text.trim().splitn(3, ' ');
    let (attr, op, value) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?.trim(),
    );
    if !op.eq_ignore_ascii_case("eq") || value.len() < 2 {
        return Err(bad());
    }
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(bad)?;
    let value = value.replace("\\\"", "\"").replace("\\\\", "\\");
    Ok((name(attr, whole)?, value))
}
