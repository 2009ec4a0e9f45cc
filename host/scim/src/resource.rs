//! Typed SCIM resources: [`UserResource`] (core + enterprise extension) and [`GroupResource`].
//!
//! The serde representation is the SCIM wire form (camelCase, extension under its URN). The
//! `password` field holds an argon2 PHC hash once stored and is never rendered. Booleans accept
//! Entra ID's string spellings (`"True"`, `"false"`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::{ScimError, ScimResult};
use crate::schema::{self, ResourceKind, ENTERPRISE_URN, GROUP_URN, USER_URN};

/// Resource metadata (RFC 7643 §3.1). `version` is the weak ETag, e.g. `W/"3"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// `User` or `Group`.
    #[serde(default)]
    pub resource_type: String,
    /// Creation time, RFC 3339 UTC.
    #[serde(default)]
    pub created: String,
    /// Last modification time, RFC 3339 UTC.
    #[serde(default)]
    pub last_modified: String,
    /// Absolute URI of the resource (filled in when rendered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Weak entity tag of the current version.
    #[serde(default)]
    pub version: String,
}

/// The `name` complex attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    /// Full name, formatted for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Family (last) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Given (first) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Middle name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Honorific prefix, e.g. `Ms.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    /// Honorific suffix, e.g. `III`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
}

/// One value of a simple multi-valued attribute (emails, phoneNumbers, roles, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiValue {
    /// The value itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Human-readable label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Label such as `work`, `home`, `mobile`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the preferred value.
    #[serde(
        default,
        deserialize_with = "lenient_opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub primary: Option<bool>,
}

/// One postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Full address, formatted for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `work`, `home`, `other`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the preferred address.
    #[serde(
        default,
        deserialize_with = "lenient_opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub primary: Option<bool>,
}

/// A reference to another resource (group membership, members).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceRef {
    /// The referenced resource's `id`.
    #[serde(default)]
    pub value: String,
    /// URI of the referenced resource.
    #[serde(default, rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Display name of the referenced resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `User` or `Group` (members), `direct` (a user's groups).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The manager reference of the enterprise extension.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    /// The manager's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// URI of the manager.
    #[serde(default, rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The manager's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseUser {
    /// Employee number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    /// Cost center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    /// Organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Division.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Manager. Microsoft Entra ID sends it as the bare id string; that is read as `value`.
    #[serde(
        default,
        deserialize_with = "manager_or_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub manager: Option<Manager>,
}

/// Reads `manager` as the RFC's object, or as a bare id string (`"manager": "26118915-..."`,
/// how Microsoft Entra ID sends it) meaning `{"value": "26118915-..."}`.
fn manager_or_id<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Manager>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Id(String),
        Object(Manager),
    }
    Ok(match Option::<Given>::deserialize(deserializer)? {
        None => None,
        Some(Given::Id(id)) if id.is_empty() => None,
        Some(Given::Id(id)) => Some(Manager {
            value: Some(id),
            ..Manager::default()
        }),
        Some(Given::Object(manager)) => Some(manager),
    })
}

impl EnterpriseUser {
    fn is_empty(&self) -> bool {
        self == &EnterpriseUser::default()
    }
}

/// A SCIM User (core schema plus the enterprise extension).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserResource {
    /// Schema URNs present on the resource.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Server-assigned identifier.
    #[serde(default)]
    pub id: String,
    /// Identifier assigned by the provisioning client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Unique (case-insensitively, per tenant) login name.
    #[serde(default)]
    pub user_name: String,
    /// Structured name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Casual name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    /// Profile page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Organisation-specific user type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    /// Preferred language (RFC 7231 Accept-Language form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    /// Locale, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Time zone, e.g. `America/Los_Angeles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Administrative status.
    #[serde(
        default,
        deserialize_with = "lenient_opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<bool>,
    /// Argon2 PHC hash of the password once stored (write-only; never rendered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<MultiValue>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<MultiValue>,
    /// Instant-messaging addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ims: Vec<MultiValue>,
    /// Photo URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<MultiValue>,
    /// Postal addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Groups the user belongs to (read-only; computed when rendered, never stored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ResourceRef>,
    /// Entitlements (WSO2's tutorial uses them for Salesforce profile ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<MultiValue>,
    /// Roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<MultiValue>,
    /// X.509 certificates (base64 DER).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x509_certificates: Vec<MultiValue>,
    /// Enterprise extension.
    #[serde(
        default,
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        skip_serializing_if = "Option::is_none"
    )]
    pub enterprise: Option<EnterpriseUser>,
    /// Metadata.
    #[serde(default)]
    pub meta: Meta,
}

/// A SCIM Group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupResource {
    /// Schema URNs present on the resource.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Server-assigned identifier.
    #[serde(default)]
    pub id: String,
    /// Identifier assigned by the provisioning client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Group name (unique case-insensitively per tenant, as WSO2 roles are).
    #[serde(default)]
    pub display_name: String,
    /// Members (users or groups of the same tenant).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ResourceRef>,
    /// Metadata.
    #[serde(default)]
    pub meta: Meta,
}

/// What every stored resource has: a server-assigned `id` and a [`Meta`].
pub trait ScimResource {
    /// The server-assigned identifier.
    fn id(&self) -> &str;
    /// Sets the server-assigned identifier.
    fn set_id(&mut self, id: String);
    /// The resource metadata.
    fn meta(&self) -> &Meta;
    /// The resource metadata, for update.
    fn meta_mut(&mut self) -> &mut Meta;
}

/// Implements [`ScimResource`] for structs with `id` and `meta` fields.
macro_rules! impl_scim_resource {
    ($($t:ty),*) => {$(
        impl ScimResource for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn set_id(&mut self, id: String) {
                self.id = id;
            }
            fn meta(&self) -> &Meta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut Meta {
                &mut self.meta
            }
        }
    )*};
}

impl_scim_resource!(UserResource, GroupResource);

fn lenient_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) => schema::parse_bool(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expected a boolean, got \"{s}\""))),
        Some(other) => Err(D::Error::custom(format!("expected a boolean, got {other}"))),
    }
}

/// Validates the `schemas` of an incoming resource: it must name the core schema of `kind`;
/// any other URN must be a known extension of it, or carry no attributes in the body.
///
/// Microsoft Entra ID creates groups with
/// `"schemas": [<core Group>, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"]`
/// and no attribute under the second URN; such a URN states nothing this server would drop, so
/// it is accepted (and not stored). An unknown URN that does carry attributes is refused, since
/// they would be lost.
pub fn check_schemas(kind: ResourceKind, body: &Value) -> ScimResult<()> {
    let Some(list) = body.get("schemas") else {
        return Err(ScimError::invalid_value("missing \"schemas\""));
    };
    let Some(list) = list.as_array() else {
        return Err(ScimError::invalid_syntax("\"schemas\" must be an array"));
    };
    let mut core = false;
    for urn in list {
        let urn = urn
            .as_str()
            .ok_or_else(|| ScimError::invalid_syntax("\"schemas\" must hold strings"))?;
        if urn.eq_ignore_ascii_case(kind.core_urn()) {
            core = true;
        } else if !kind
            .extension_urns()
            .iter()
            .any(|u| u.eq_ignore_ascii_case(urn))
            && carries_attributes(body, urn)
        {
            return Err(ScimError::invalid_value(format!(
                "unknown or unsupported schema \"{urn}\" for a {}: this server does not \
                 store its attributes; remove them (and the URN) from the request",
                kind.name()
            )));
        }
    }
    if !core {
        return Err(ScimError::invalid_value(format!(
            "\"schemas\" must include {}",
            kind.core_urn()
        )));
    }
    Ok(())
}

/// Whether the body has an attribute of the schema `urn`: the `urn` key itself, or a key
/// prefixed with `urn:`.
fn carries_attributes(body: &Value, urn: &str) -> bool {
    let prefix = format!("{}:", urn.to_ascii_lowercase());
    body.as_object().is_some_and(|o| {
        o.keys().any(|k| {
            let k = k.to_ascii_lowercase();
            k == urn.to_ascii_lowercase() || k.starts_with(&prefix)
        })
    })
}

fn typed_error(e: serde_json::Error) -> ScimError {
    ScimError::invalid_value(format!("attribute value not valid for the schema: {e}"))
}

/// Checks that a client-supplied body is an object naming the schemas of `kind`, and
/// canonicalises its attribute names.
fn request_body(kind: ResourceKind, mut body: Value) -> ScimResult<Value> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax(format!(
            "a {} must be a JSON object",
            kind.name()
        )));
    }
    check_schemas(kind, &body)?;
    schema::canonicalize(kind, &mut body);
    Ok(body)
}

impl UserResource {
    /// Parses and validates a client-supplied user body (schemas, types, required `userName`).
    /// Read-only attributes (`id`, `meta`, `groups`) are ignored.
    pub fn from_request(body: Value) -> ScimResult<Self> {
        let mut user = Self::from_value(request_body(ResourceKind::User, body)?)?;
        user.id = String::new();
        user.meta = Meta::default();
        user.groups.clear();
        Ok(user)
    }

    /// Deserialises a (canonicalised) JSON value and checks the invariants.
    pub fn from_value(body: Value) -> ScimResult<Self> {
        let mut user: UserResource = serde_json::from_value(body).map_err(typed_error)?;
        user.validate()?;
        user.normalize();
        Ok(user)
    }

    /// Checks required attributes and single-primary rules.
    pub fn validate(&self) -> ScimResult<()> {
        if self.user_name.trim().is_empty() {
            return Err(ScimError::invalid_value(
                "\"userName\" is required and must not be empty",
            ));
        }
        for (name, vals) in [
            ("emails", &self.emails),
            ("phoneNumbers", &self.phone_numbers),
            ("roles", &self.roles),
            ("entitlements", &self.entitlements),
        ] {
            if vals.iter().filter(|v| v.primary == Some(true)).count() > 1 {
                return Err(ScimError::invalid_value(format!(
                    "at most one of \"{name}\" may be primary"
                )));
            }
        }
        Ok(())
    }

    /// Sets `schemas` to the core URN plus the extension when it carries data.
    pub fn normalize(&mut self) {
        if self
            .enterprise
            .as_ref()
            .is_some_and(EnterpriseUser::is_empty)
        {
            self.enterprise = None;
        }
        self.schemas = vec![USER_URN.to_string()];
        if self.enterprise.is_some() {
            self.schemas.push(ENTERPRISE_URN.to_string());
        }
    }
}

impl GroupResource {
    /// Parses and validates a client-supplied group body.
    pub fn from_request(body: Value) -> ScimResult<Self> {
        let mut group = Self::from_value(request_body(ResourceKind::Group, body)?)?;
        group.id = String::new();
        group.meta = Meta::default();
        Ok(group)
    }

    /// Deserialises a (canonicalised) JSON value and checks the invariants.
    pub fn from_value(body: Value) -> ScimResult<Self> {
        let mut group: GroupResource = serde_json::from_value(body).map_err(typed_error)?;
        if group.display_name.trim().is_empty() {
            return Err(ScimError::invalid_value(
                "\"displayName\" is required and must not be empty",
            ));
        }
        if group.members.iter().any(|m| m.value.is_empty()) {
            return Err(ScimError::invalid_value("every member needs a \"value\""));
        }
        // Duplicate members collapse to one.
        let mut seen = std::collections::HashSet::new();
        group.members.retain(|m| seen.insert(m.value.clone()));
        group.schemas = vec![GROUP_URN.to_string()];
        Ok(group)
    }
}

/// A fresh random (v4) UUID, used as resource id.
pub fn new_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The current time as RFC 3339 UTC with millisecond precision (see [`format_rfc3339_millis`]).
pub fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format_rfc3339_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC with millisecond precision, the form of
/// `meta.created` / `meta.lastModified`: `2023-11-14T22:13:20.123Z`.
///
/// Instants outside the years -9999..=9999 are clamped to the nearest representable one.
pub fn format_rfc3339_millis(ms_since_epoch: i64) -> String {
    let nanos = i128::from(ms_since_epoch) * 1_000_000;
    let t = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(if nanos < 0 {
        PrimitiveDateTime::MIN.assume_utc()
    } else {
        PrimitiveDateTime::MAX.assume_utc()
    });
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// The weak ETag for version number `n`.
pub fn etag(n: u64) -> String {
    format!("W/\"{n}\"")
}

/// The next version after `current` (`W/"3"` -> `W/"4"`; anything unparsable -> `W/"1"`).
pub fn next_version(current: &str) -> String {
    let n = current
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .unwrap_or(0);
    etag(n + 1)
}

/// Whether an `If-Match` / `If-None-Match` header value matches `version` (weak comparison;
/// `*` matches anything; a comma-separated list matches if any entry does).
pub fn etag_matches(header: &str, version: &str) -> bool {
    let strip = |s: &str| {
        s.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_string()
    };
    let want = strip(version);
    header
        .split(',')
        .any(|t| t.trim() == "*" || strip(t) == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written formatter this crate used before `time`, kept as the reference.
    fn civil_reference(ms: i64) -> String {
        let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    #[test]
    fn an_entra_manager_given_as_a_bare_id_is_its_value() {
        let user: UserResource = serde_json::from_value(serde_json::json!({
            "schemas": [crate::schema::USER_URN, crate::schema::ENTERPRISE_URN],
            "userName": "ann@example.com",
            crate::schema::ENTERPRISE_URN: {"manager": "26118915-6090", "department": "R&D"}
        }))
        .unwrap();
        let enterprise = user.enterprise.unwrap();
        assert_eq!(
            enterprise.manager.and_then(|m| m.value).as_deref(),
            Some("26118915-6090")
        );
        assert_eq!(enterprise.department.as_deref(), Some("R&D"));
        let object: EnterpriseUser = serde_json::from_value(
            serde_json::json!({"manager": {"value": "m1", "displayName": "M"}}),
        )
        .unwrap();
        assert_eq!(object.manager.unwrap().display_name.as_deref(), Some("M"));
    }

    #[test]
    fn an_unknown_schema_without_attributes_is_accepted() {
        let ad = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group";
        let g = GroupResource::from_request(serde_json::json!({
            "schemas": [GROUP_URN, ad],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"}
        }))
        .unwrap();
        assert_eq!(g.schemas, [GROUP_URN]);
        assert_eq!(
            g.external_id.as_deref(),
            Some("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
        );
        let other = "urn:example:params:scim:schemas:extension:acme:2.0:User";
        for body in [
            serde_json::json!({"schemas": [USER_URN, other], "userName": "a",
                other: {"badge": "7"}}),
            serde_json::json!({"schemas": [USER_URN, other], "userName": "a",
                format!("{other}:badge"): "7"}),
        ] {
            let e = UserResource::from_request(body).unwrap_err();
            assert!(e.detail.contains(other), "{}", e.detail);
        }
        // The core schema is still required.
        assert!(GroupResource::from_request(
            serde_json::json!({"schemas": [ad], "displayName": "x"})
        )
        .is_err());
    }

    #[test]
    fn rfc3339_millis() {
        assert_eq!(format_rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339_millis(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(format_rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
        // Byte-identical to the former formatter from year 0 to 9999.
        let (first, last) = (-62_167_219_200_000_i64, 253_402_300_799_999_i64);
        let step = (last - first) / 100_003;
        let mut ms = first;
        while ms <= last {
            assert_eq!(format_rfc3339_millis(ms), civil_reference(ms), "{ms}");
            ms += step;
        }
        assert_eq!(format_rfc3339_millis(last), civil_reference(last));
        assert_eq!(format_rfc3339_millis(i64::MAX), "9999-12-31T23:59:59.999Z");
        let now = now_rfc3339();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[19] == b'.', "{now}");
    }
}
