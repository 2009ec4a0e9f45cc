//! Schema URNs and the attribute tables of the supported resource schemas (RFC 7643).
//!
//! The tables are the single source of truth for three things: the `/Schemas` discovery
//! documents, case-insensitive attribute-name canonicalisation of incoming JSON, and
//! per-attribute facts used by filters and PATCH (`caseExact`, type, multi-valuedness).

use serde_json::{Map, Value};

/// Media type of every response.
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
/// Core User schema.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core Group schema.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension schema.
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Error message schema.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// ListResponse message schema.
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// SearchRequest message schema.
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// PatchOp message schema.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// BulkRequest message schema.
pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// BulkResponse message schema.
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// ServiceProviderConfig schema.
pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// ResourceType schema.
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// Schema schema.
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// SCIM 1.x core schema (accepted on the `/wso2/scim` compatibility endpoint).
pub const SCIM1_CORE_URN: &str = "urn:scim:schemas:core:1.0";
/// SCIM 1.x enterprise extension (mapped onto [`ENTERPRISE_URN`]).
pub const SCIM1_ENTERPRISE_URN: &str = "urn:scim:schemas:extension:enterprise:1.0";

/// The data type of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// `string`
    String,
    /// `boolean`
    Boolean,
    /// `complex`
    Complex,
    /// `reference`
    Reference,
    /// `dateTime`
    DateTime,
    /// `binary`
    Binary,
}

impl AttrType {
    fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Complex => "complex",
            AttrType::Reference => "reference",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
        }
    }
}

/// One attribute definition of a schema.
#[derive(Debug, Clone, Copy)]
pub struct AttrDef {
    /// Canonical attribute name.
    pub name: &'static str,
    /// Data type.
    pub ty: AttrType,
    /// Whether the attribute is multi-valued.
    pub multi: bool,
    /// Whether the attribute is required.
    pub required: bool,
    /// Whether string comparison is case-sensitive.
    pub case_exact: bool,
    /// `readWrite`, `readOnly`, `immutable` or `writeOnly`.
    pub mutability: &'static str,
    /// `always`, `default`, `request` or `never`.
    pub returned: &'static str,
    /// `none`, `server` or `global`.
    pub uniqueness: &'static str,
    /// Sub-attributes of a complex attribute.
    pub sub: &'static [AttrDef],
    /// What a `reference` attribute may refer to (empty: `external`).
    pub reference_types: &'static [&'static str],
}

const fn a(name: &'static str, ty: AttrType) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: "readWrite",
        returned: "default",
        uniqueness: "none",
        sub: &[],
        reference_types: &[],
    }
}

const fn s(name: &'static str) -> AttrDef {
    a(name, AttrType::String)
}

const fn multi(name: &'static str, sub: &'static [AttrDef]) -> AttrDef {
    AttrDef {
        multi: true,
        sub,
        ..a(name, AttrType::Complex)
    }
}

const fn complex(name: &'static str, sub: &'static [AttrDef]) -> AttrDef {
    AttrDef {
        sub,
        ..a(name, AttrType::Complex)
    }
}

const MV_SUB: &[AttrDef] = &[
    s("value"),
    s("display"),
    s("type"),
    a("primary", AttrType::Boolean),
];

/// The `display` of a reference, filled in by the server from the referenced resource.
const COMPUTED_DISPLAY: AttrDef = AttrDef {
    mutability: "readOnly",
    ..s("display")
};

/// The `type` of a reference (`User`, `Group`, `direct`), set by the server.
const COMPUTED_TYPE: AttrDef = AttrDef {
    mutability: "readOnly",
    ..s("type")
};

/// A group's members: the server resolves each member and fills in its `display` and `type`
/// (`User` or `Group`) itself, whatever the client sent, so both are read-only.
const REF_SUB: &[AttrDef] = &[
    AttrDef {
        case_exact: true,
        ..s("value")
    },
    AttrDef {
        case_exact: true,
        reference_types: &["User", "Group"],
        ..a("$ref", AttrType::Reference)
    },
    COMPUTED_DISPLAY,
    COMPUTED_TYPE,
];

const READ_ONLY_REF_SUB: &[AttrDef] = &[
    AttrDef {
        case_exact: true,
        mutability: "readOnly",
        ..s("value")
    },
    AttrDef {
        case_exact: true,
        mutability: "readOnly",
        reference_types: &["User", "Group"],
        ..a("$ref", AttrType::Reference)
    },
    COMPUTED_DISPLAY,
    COMPUTED_TYPE,
];

/// Attributes common to every resource (RFC 7643 §3.1). They are described by the RFC, not
/// by the schemas: `/Schemas` does not list them (RFC 7643 §7 and §8.7.1).
pub const COMMON_ATTRS: &[AttrDef] = &[
    AttrDef {
        case_exact: true,
        mutability: "readOnly",
        returned: "always",
        uniqueness: "server",
        ..s("id")
    },
    AttrDef {
        case_exact: true,
        ..s("externalId")
    },
    AttrDef {
        mutability: "readOnly",
        sub: &[
            AttrDef {
                case_exact: true,
                mutability: "readOnly",
                ..s("resourceType")
            },
            AttrDef {
                mutability: "readOnly",
                ..a("created", AttrType::DateTime)
            },
            AttrDef {
                mutability: "readOnly",
                ..a("lastModified", AttrType::DateTime)
            },
            AttrDef {
                case_exact: true,
                mutability: "readOnly",
                ..a("location", AttrType::Reference)
            },
            AttrDef {
                case_exact: true,
                mutability: "readOnly",
                ..s("version")
            },
        ],
        ..a("meta", AttrType::Complex)
    },
];

/// Core User attributes (RFC 7643 §4.1).
pub const USER_ATTRS: &[AttrDef] = &[
    AttrDef {
        required: true,
        uniqueness: "server",
        ..s("userName")
    },
    complex(
        "name",
        &[
            s("formatted"),
            s("familyName"),
            s("givenName"),
            s("middleName"),
            s("honorificPrefix"),
            s("honorificSuffix"),
        ],
    ),
    s("displayName"),
    s("nickName"),
    a("profileUrl", AttrType::Reference),
    s("title"),
    s("userType"),
    s("preferredLanguage"),
    s("locale"),
    s("timezone"),
    a("active", AttrType::Boolean),
    AttrDef {
        case_exact: true,
        mutability: "writeOnly",
        returned: "never",
        ..s("password")
    },
    multi("emails", MV_SUB),
    multi("phoneNumbers", MV_SUB),
    multi("ims", MV_SUB),
    multi("photos", MV_SUB),
    multi(
        "addresses",
        &[
            s("formatted"),
            s("streetAddress"),
            s("locality"),
            s("region"),
            s("postalCode"),
            s("country"),
            s("type"),
            a("primary", AttrType::Boolean),
        ],
    ),
    AttrDef {
        mutability: "readOnly",
        ..multi("groups", READ_ONLY_REF_SUB)
    },
    multi("entitlements", MV_SUB),
    multi("roles", MV_SUB),
    multi("x509Certificates", MV_SUB),
];

/// Enterprise User extension attributes (RFC 7643 §4.3).
pub const ENTERPRISE_ATTRS: &[AttrDef] = &[
    s("employeeNumber"),
    s("costCenter"),
    s("organization"),
    s("division"),
    s("department"),
    complex(
        "manager",
        &[
            AttrDef {
                case_exact: true,
                ..s("value")
            },
            AttrDef {
                case_exact: true,
                reference_types: &["User"],
                ..a("$ref", AttrType::Reference)
            },
            AttrDef {
                mutability: "readOnly",
                ..s("displayName")
            },
        ],
    ),
];

/// Core Group attributes (RFC 7643 §4.2). `displayName` is unique per tenant here (as WSO2
/// roles are), so it says `uniqueness: server`.
pub const GROUP_ATTRS: &[AttrDef] = &[
    AttrDef {
        required: true,
        uniqueness: "server",
        ..s("displayName")
    },
    multi("members", REF_SUB),
];

/// The two resource kinds this server manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`
    User,
    /// `/Groups`
    Group,
}

impl ResourceKind {
    /// The resource type name (`User` / `Group`).
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint segment (`Users` / `Groups`).
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    /// The core schema URN.
    pub fn core_urn(self) -> &'static str {
        match self {
            ResourceKind::User => USER_URN,
            ResourceKind::Group => GROUP_URN,
        }
    }

    /// Extension schema URNs allowed on this resource type.
    pub fn extension_urns(self) -> &'static [&'static str] {
        match self {
            ResourceKind::User => &[ENTERPRISE_URN],
            ResourceKind::Group => &[],
        }
    }

    /// Core attributes (without the common ones).
    pub fn core_attrs(self) -> &'static [AttrDef] {
        match self {
            ResourceKind::User => USER_ATTRS,
            ResourceKind::Group => GROUP_ATTRS,
        }
    }
}

/// Attribute definitions for a schema URN (`None` for an unknown URN).
pub fn attrs_for_urn(urn: &str) -> Option<&'static [AttrDef]> {
    if urn.eq_ignore_ascii_case(USER_URN) {
        Some(USER_ATTRS)
    } else if urn.eq_ignore_ascii_case(GROUP_URN) {
        Some(GROUP_ATTRS)
    } else if urn.eq_ignore_ascii_case(ENTERPRISE_URN) {
        Some(ENTERPRISE_ATTRS)
    } else {
        None
    }
}

/// Looks up a top-level attribute definition of a resource kind (core, then common).
pub fn top_attr(kind: ResourceKind, name: &str) -> Option<&'static AttrDef> {
    kind.core_attrs()
        .iter()
        .chain(COMMON_ATTRS.iter())
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Looks up an attribute definition by an already-split path (`ext` = extension URN or `None`).
pub fn lookup(
    kind: ResourceKind,
    ext: Option<&str>,
    name: &str,
    sub: Option<&str>,
) -> Option<&'static AttrDef> {
    let top = match ext {
        Some(urn) => attrs_for_urn(urn)?
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))?,
        None => top_attr(kind, name)?,
    };
    match sub {
        None => Some(top),
        Some(sub) => top.sub.iter().find(|d| d.name.eq_ignore_ascii_case(sub)),
    }
}

/// Finds the extension URN (if any) that prefixes `path` (`urn:...:User:attr`), returning the
/// URN's canonical spelling and the remainder after the colon. A path equal to an extension URN
/// returns an empty remainder. The core URN prefix is stripped and reported as `None`.
pub fn split_urn_prefix(kind: ResourceKind, path: &str) -> Option<(Option<&'static str>, String)> {
    let lower = path.to_ascii_lowercase();
    for urn in kind.extension_urns() {
        let u = urn.to_ascii_lowercase();
        if lower == u {
            return Some((Some(urn), String::new()));
        }
        if lower.starts_with(&u) && lower.as_bytes().get(u.len()) == Some(&b':') {
            return Some((Some(urn), path[u.len() + 1..].to_string()));
        }
    }
    let core = kind.core_urn().to_ascii_lowercase();
    if lower.starts_with(&core) && lower.as_bytes().get(core.len()) == Some(&b':') {
        return Some((None, path[core.len() + 1..].to_string()));
    }
    if lower.starts_with("urn:") {
        return None;
    }
    Some((None, path.to_string()))
}

/// Rewrites the keys of an incoming resource to their canonical spelling (attribute names are
/// case-insensitive in SCIM) and coerces string booleans (`"True"`, `"false"`) of boolean
/// attributes, as Entra ID sends them. Unknown keys are left untouched.
pub fn canonicalize(kind: ResourceKind, value: &mut Value) {
    let Value::Object(obj) = value else { return };
    let mut out = Map::new();
    for (k, mut v) in std::mem::take(obj) {
        if let Some(urn) = kind
            .extension_urns()
            .iter()
            .find(|u| u.eq_ignore_ascii_case(&k))
        {
            canonicalize_object(attrs_for_urn(urn).unwrap_or(&[]), &mut v);
            out.insert((*urn).to_string(), v);
            continue;
        }
        if k.eq_ignore_ascii_case("schemas") {
            out.insert("schemas".into(), v);
            continue;
        }
        match top_attr(kind, &k) {
            Some(def) => {
                canonicalize_value(def, &mut v);
                out.insert(def.name.to_string(), v);
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    *obj = out;
}

fn canonicalize_object(defs: &[AttrDef], value: &mut Value) {
    let Value::Object(obj) = value else { return };
    let mut out = Map::new();
    for (k, mut v) in std::mem::take(obj) {
        match defs.iter().find(|d| d.name.eq_ignore_ascii_case(&k)) {
            Some(def) => {
                canonicalize_value(def, &mut v);
                out.insert(def.name.to_string(), v);
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    *obj = out;
}

/// Canonicalises one attribute value according to its definition.
pub fn canonicalize_value(def: &AttrDef, v: &mut Value) {
    match v {
        Value::Array(items) if def.multi => {
            for item in items {
                canonicalize_single(def, item);
            }
        }
        _ => canonicalize_single(def, v),
    }
}

fn canonicalize_single(def: &AttrDef, v: &mut Value) {
    match def.ty {
        AttrType::Complex => canonicalize_object(def.sub, v),
        AttrType::Boolean => {
            if let Some(b) = v.as_str().and_then(parse_bool) {
                *v = Value::Bool(b);
            }
        }
        _ => {}
    }
}

/// Parses a string boolean case-insensitively (`"True"`, `"false"`).
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Renders an attribute definition as an RFC 7643 §7 attribute object.
pub fn attr_to_json(def: &AttrDef) -> Value {
    let mut v = serde_json::json!({
        "name": def.name,
        "type": def.ty.as_str(),
        "multiValued": def.multi,
        "description": def.name,
        "required": def.required,
        "caseExact": def.case_exact,
        "mutability": def.mutability,
        "returned": def.returned,
        "uniqueness": def.uniqueness,
    });
    if def.ty == AttrType::Reference {
        v["referenceTypes"] = match def.reference_types {
            [] => serde_json::json!(["external"]),
            types => serde_json::json!(types),
        };
    }
    if !def.sub.is_empty() {
        v["subAttributes"] = Value::Array(def.sub.iter().map(attr_to_json).collect());
    }
    v
}
