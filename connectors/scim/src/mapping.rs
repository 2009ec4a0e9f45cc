//! Claim mappings: which local claim fills which SCIM attribute, and how a value is written.
//!
//! The `claim-mappings` property maps claim URIs to SCIM paths (see [`crate::path`]); a mapping
//! without a claim writes its default always, and a claim that is absent writes the mapping's
//! default when it has one. With no mappings configured, [`DEFAULT_TABLE`] applies:
//!
//! | claim (`http://wso2.org/claims/` + ...) | SCIM attribute |
//! |---|---|
//! | `givenname`, `lastname`, `middleName`, `fullname` | `name.givenName`, `name.familyName`, `name.middleName`, `name.formatted` |
//! | `displayname`, `nickname`, `title`, `userType` | `displayName`, `nickName`, `title`, `userType` |
//! | `url`, `preferredLanguage`, `locale`, `timeZone` | `profileUrl`, `preferredLanguage`, `locale`, `timezone` |
//! | `emailaddress` (the preferred e-mail) | `emails[type eq "work"].value` |
//! | `emails.home`, `emails.other` | `emails[type eq "home"].value`, `emails[type eq "other"].value` |
//! | `mobile`, `telephone`, `phoneNumbers.home`, `otherphone` | `phoneNumbers[type eq "mobile"/"work"/"home"/"other"].value` |
//! | `streetaddress`, `locality`, `region`, `postalcode`, `country`, `addresses` | `addresses[type eq "work"].streetAddress`, `.locality`, `.region`, `.postalCode`, `.country`, `.formatted` |
//! | `role` (many values) | `roles` |
//! | `employeeNumber`, `costCenter`, `organization`, `division`, `department` | the enterprise extension's attributes of the same names |
//! | `manager` | the enterprise extension's `manager.value` |
//!
//! `userName`, `externalId` (the local id) and `active` (from `accountDisabled`) are always
//! written and need no mapping.

use provisioner_sdk::serde_json::{json, Map, Value};
use provisioner_sdk::{ClaimMapping, Config, ConfigError, User};

use crate::path::TargetPath;

/// The key of the claim-mappings property.
pub const KEY: &str = "claim-mappings";

/// The built-in table: (claim name in the WSO2 dialect, SCIM path).
pub const DEFAULT_TABLE: [(&str, &str); 31] = [
    ("givenname", "name.givenName"),
    ("lastname", "name.familyName"),
    ("middleName", "name.middleName"),
    ("fullname", "name.formatted"),
    ("displayname", "displayName"),
    ("nickname", "nickName"),
    ("title", "title"),
    ("userType", "userType"),
    ("url", "profileUrl"),
    ("preferredLanguage", "preferredLanguage"),
    ("locale", "locale"),
    ("timeZone", "timezone"),
    ("emailaddress", "emails[type eq \"work\"].value"),
    ("emails.home", "emails[type eq \"home\"].value"),
    ("emails.other", "emails[type eq \"other\"].value"),
    ("mobile", "phoneNumbers[type eq \"mobile\"].value"),
    ("telephone", "phoneNumbers[type eq \"work\"].value"),
    ("phoneNumbers.home", "phoneNumbers[type eq \"home\"].value"),
    ("otherphone", "phoneNumbers[type eq \"other\"].value"),
    ("streetaddress", "addresses[type eq \"work\"].streetAddress"),
    ("locality", "addresses[type eq \"work\"].locality"),
    ("region", "addresses[type eq \"work\"].region"),
    ("postalcode", "addresses[type eq \"work\"].postalCode"),
    ("country", "addresses[type eq \"work\"].country"),
    ("addresses", "addresses[type eq \"work\"].formatted"),
    ("role", "roles"),
    (
        "employeeNumber",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    ),
    (
        "costCenter",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
    ),
    (
        "organization",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization",
    ),
    (
        "department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ),
    (
        "manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    ),
];

/// One usable mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// Where the value goes.
    pub path: TargetPath,
    /// The claim URI read; none for a constant.
    pub claim: Option<String>,
    /// The value when the claim is absent (always, for a constant).
    pub default: Option<String>,
}

impl Mapping {
    /// The values to write for `user`: the claim's, else the default; none when neither.
    pub fn values(&self, user: &User) -> Option<Vec<String>> {
        let claimed = self
            .claim
            .as_deref()
            .map_or(&[][..], |c| user.claim_values(c));
        if !claimed.is_empty() {
            return Some(claimed.to_vec());
        }
        self.default.clone().map(|d| vec![d])
    }

    /// Whether this update changed what the mapping writes: its claim changed, or `everything`.
    pub fn changed(&self, user: &User, everything: bool) -> bool {
        everything || self.claim.as_deref().is_some_and(|c| user.changed(c))
    }
}

/// The built-in table as claim mappings.
pub fn default_mappings() -> Vec<ClaimMapping> {
    DEFAULT_TABLE
        .iter()
        .map(|(claim, path)| ClaimMapping {
            target_field: path.to_string(),
            claim: Some(format!("{}{claim}", provisioner_sdk::claims::WSO2_DIALECT)),
            default_value: None,
        })
        .collect()
}

/// The configured mappings, else the built-in table.
fn configured(config: &Config) -> Result<Vec<ClaimMapping>, ConfigError> {
    let configured = config.claim_mappings(KEY)?;
    Ok(if configured.is_empty() {
        default_mappings()
    } else {
        configured
    })
}

/// One mapping, or why its target path is malformed or not a writable attribute.
fn parse(mapping: ClaimMapping) -> Result<Mapping, ConfigError> {
    let path = TargetPath::parse(&mapping.target_field)
        .and_then(|p| p.check().map(|()| p))
        .map_err(|why| ConfigError::new(KEY, why))?;
    Ok(Mapping {
        path,
        claim: mapping.claim.filter(|c| !c.trim().is_empty()),
        default: mapping.default_value,
    })
}

/// The mappings in force; an error names the first target path that is malformed or not a
/// writable attribute.
pub fn read(config: &Config) -> Result<Vec<Mapping>, ConfigError> {
    configured(config)?.into_iter().map(parse).collect()
}

/// Every problem of the mappings in force, one per faulty mapping.
pub fn problems(config: &Config) -> Vec<ConfigError> {
    match configured(config) {
        Ok(mappings) => mappings
            .into_iter()
            .filter_map(|m| parse(m).err())
            .collect(),
        Err(error) => vec![error],
    }
}

/// The JSON value of one claim value at `path`: a boolean where SCIM wants one.
fn scalar(path: &TargetPath, value: &str) -> Value {
    if path.is_boolean() {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(value.to_string())
}

/// What a PATCH `replace` at [`TargetPath::patch_path`] carries for `values`: the list for a
/// whole multi-valued attribute, else the first value.
pub fn patch_value(path: &TargetPath, values: &[String]) -> Value {
    match (&path.filter, path.is_multi_valued()) {
        (None, true) => {
            let sub = path.sub.as_deref().unwrap_or("value");
            Value::Array(
                values
                    .iter()
                    .map(|v| json!({ sub: scalar(path, v) }))
                    .collect(),
            )
        }
        _ => scalar(path, values.first().map_or("", String::as_str)),
    }
}

/// Writes `values` at `path` into a resource being built (create or PUT).
pub fn set(resource: &mut Map<String, Value>, path: &TargetPath, values: &[String]) {
    let container = match &path.schema {
        Some(schema) => object(resource.entry(schema.clone())),
        None => resource,
    };
    let value = patch_value(path, values);
    match (&path.filter, &path.sub) {
        (Some((attr, wanted)), Some(sub)) => {
            let list = container
                .entry(path.attribute.clone())
                .or_insert_with(|| Value::Array(vec![]));
            if !list.is_array() {
                *list = Value::Array(vec![]);
            }
            let list = list.as_array_mut().expect("made an array above");
            let found = list.iter().position(|e| {
                e.get(attr)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(wanted))
            });
            let index = found.unwrap_or_else(|| {
                list.push(json!({ attr: wanted }));
                list.len() - 1
            });
            if let Some(element) = list[index].as_object_mut() {
                element.insert(sub.clone(), value);
            }
        }
        (None, Some(sub)) if !path.is_multi_valued() => {
            object(container.entry(path.attribute.clone())).insert(sub.clone(), value);
        }
        _ => {
            container.insert(path.attribute.clone(), value);
        }
    }
}

/// The object at `entry`, made one if it was anything else.
fn object(entry: provisioner_sdk::serde_json::map::Entry<'_>) -> &mut Map<String, Value> {
    let value = entry.or_insert_with(|| Value::Object(Map::new()));
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("made an object above")
}

/// The extension schemas `mappings` write into for `user`, for the resource's `schemas`.
pub fn extensions<'a>(mappings: &'a [Mapping], user: &User) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for m in mappings {
        if let Some(schema) = m.path.schema.as_deref() {
            if m.values(user).is_some() && !out.contains(&schema) {
                out.push(schema);
            }
        }
    }
    out
}
