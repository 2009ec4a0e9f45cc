//! Discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.
//! They state what this crate actually implements.

use serde_json::{json, Value};

use crate::config::ScimConfig;
use crate::schema::{
    self, ResourceKind, COMMON_ATTRS, ENTERPRISE_ATTRS, ENTERPRISE_URN, GROUP_ATTRS, GROUP_URN,
    LIST_RESPONSE_URN, RESOURCE_TYPE_URN, SCHEMA_URN, SPC_URN, USER_ATTRS, USER_URN,
};

/// The ServiceProviderConfig document.
pub fn service_provider_config(cfg: &ScimConfig, base: &str) -> Value {
    json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://www.rfc-editor.org/rfc/rfc7644",
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": cfg.max_bulk_operations,
            "maxPayloadSize": cfg.max_body_bytes,
        },
        "filter": {"supported": true, "maxResults": cfg.max_page_size},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [
            {
                "type": "httpbasic",
                "name": "HTTP Basic",
                "description": "Authentication with a tenant-bound user name and password.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc7617",
                "primary": true,
            },
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "Authentication with a tenant-bound bearer token.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

/// One ResourceType document.
pub fn resource_type(kind: ResourceKind, base: &str) -> Value {
    let ext: Vec<Value> = kind
        .extension_urns()
        .iter()
        .map(|u| json!({"schema": u, "required": false}))
        .collect();
    let mut v = json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": format!("{} resources", kind.name()),
        "schema": kind.core_urn(),
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", kind.name()),
        },
    });
    if !ext.is_empty() {
        v["schemaExtensions"] = Value::Array(ext);
    }
    v
}

/// All ResourceType documents.
pub fn resource_types(base: &str) -> Vec<Value> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .map(|k| resource_type(k, base))
        .collect()
}

/// The ResourceType document with the given id (case-insensitive), or `None`.
pub fn resource_type_by_id(id: &str, base: &str) -> Option<Value> {
    resource_types(base)
        .into_iter()
        .find(|r| r["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
}

/// One Schema document, or `None` for an unknown id.
pub fn schema_doc(id: &str, base: &str) -> Option<Value> {
    let (urn, name, attrs): (&str, &str, Vec<&schema::AttrDef>) =
        if id.eq_ignore_ascii_case(USER_URN) {
            (
                USER_URN,
                "User",
                USER_ATTRS
                    .iter()
                    .chain(COMMON_ATTRS.iter().skip(1))
                    .collect(),
            )
        } else if id.eq_ignore_ascii_case(GROUP_URN) {
            (
                GROUP_URN,
                "Group",
                GROUP_ATTRS
                    .iter()
                    .chain(COMMON_ATTRS.iter().skip(1))
                    .collect(),
            )
        } else if id.eq_ignore_ascii_case(ENTERPRISE_URN) {
            (
                ENTERPRISE_URN,
                "EnterpriseUser",
                ENTERPRISE_ATTRS.iter().collect(),
            )
        } else {
            return None;
        };
    Some(json!({
        "schemas": [SCHEMA_URN],
        "id": urn,
        "name": name,
        "description": format!("{name} schema"),
        "attributes": attrs.into_iter().map(schema::attr_to_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{urn}")},
    }))
}

/// All Schema documents.
pub fn schemas(base: &str) -> Vec<Value> {
    [USER_URN, GROUP_URN, ENTERPRISE_URN]
        .into_iter()
        .filter_map(|u| schema_doc(u, base))
        .collect()
}

/// Wraps discovery documents in a ListResponse.
pub fn list_response(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}
