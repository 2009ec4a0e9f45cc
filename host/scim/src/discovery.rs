//! Discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.
//! They state what this crate actually implements.
//!
//! A Schema document lists the attributes of its schema only: the common attributes `id`,
//! `externalId` and `meta` belong to every resource and are described by RFC 7643 §3.1, not by
//! a schema (RFC 7643 §8.7.1 lists none of them), and clients that build resource models from
//! `/Schemas` fail on a schema that repeats them.

use serde_json::{json, Value};

use crate::config::ScimConfig;
use crate::schema::{
    self, ResourceKind, ENTERPRISE_ATTRS, ENTERPRISE_URN, GROUP_ATTRS, GROUP_URN,
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
    let (urn, name, attrs): (&str, &str, &[schema::AttrDef]) = if id.eq_ignore_ascii_case(USER_URN)
    {
        (USER_URN, "User", USER_ATTRS)
    } else if id.eq_ignore_ascii_case(GROUP_URN) {
        (GROUP_URN, "Group", GROUP_ATTRS)
    } else if id.eq_ignore_ascii_case(ENTERPRISE_URN) {
        (ENTERPRISE_URN, "EnterpriseUser", ENTERPRISE_ATTRS)
    } else {
        return None;
    };
    Some(json!({
        "schemas": [SCHEMA_URN],
        "id": urn,
        "name": name,
        "description": format!("{name} schema"),
        "attributes": attrs.iter().map(schema::attr_to_json).collect::<Vec<_>>(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{GroupResource, UserResource};
    use crate::schema::{AttrDef, AttrType};
    use serde_json::Map;

    /// A value of the attribute's type; complex values carry every sub-attribute.
    fn sample(def: &AttrDef) -> Value {
        let one = match def.ty {
            AttrType::Complex => Value::Object(
                def.sub
                    .iter()
                    .map(|s| (s.name.to_string(), sample(s)))
                    .collect::<Map<_, _>>(),
            ),
            // `false` is a value too, and must survive as one.
            AttrType::Boolean => json!(false),
            AttrType::Reference => json!(format!("https://example.com/{}", def.name)),
            _ => json!(format!("{}-value", def.name)),
        };
        if def.multi {
            json!([one])
        } else {
            one
        }
    }

    fn advertised(urn: &str) -> Vec<Value> {
        schema_doc(urn, "http://h/scim/v2").unwrap()["attributes"]
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn schemas_do_not_list_the_common_attributes() {
        for urn in [USER_URN, GROUP_URN, ENTERPRISE_URN] {
            for a in advertised(urn) {
                let name = a["name"].as_str().unwrap();
                assert!(
                    !["id", "externalId", "meta", "schemas"].contains(&name),
                    "{urn} lists {name}"
                );
            }
        }
        let user = advertised(USER_URN);
        let profile = user.iter().find(|a| a["name"] == "profileUrl").unwrap();
        assert_eq!(profile["referenceTypes"], json!(["external"]));
        let group = advertised(GROUP_URN);
        assert_eq!(group[0]["name"], "displayName");
        assert_eq!(group[0]["uniqueness"], "server");
        let members = group.iter().find(|a| a["name"] == "members").unwrap();
        let r = members["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "$ref")
            .unwrap();
        assert_eq!(r["referenceTypes"], json!(["User", "Group"]));
        // The server fills in each member's display and type itself.
        for sub in members["subAttributes"].as_array().unwrap() {
            let computed = sub["name"] == "display" || sub["name"] == "type";
            assert_eq!(sub["mutability"] == "readOnly", computed, "{sub}");
        }
    }

    /// Every attribute a schema advertises (but the write-only password and the computed
    /// `groups`) survives the typed resource that storage keeps, every sub-attribute included.
    #[test]
    fn every_advertised_attribute_round_trips_through_the_stored_resource() {
        let kept = |d: &&AttrDef| d.mutability != "writeOnly" && d.name != "groups";
        let mut user = Map::new();
        for d in USER_ATTRS.iter().filter(kept) {
            user.insert(d.name.into(), sample(d));
        }
        let ext: Map<_, _> = ENTERPRISE_ATTRS
            .iter()
            .map(|d| (d.name.to_string(), sample(d)))
            .collect();
        user.insert(ENTERPRISE_URN.into(), Value::Object(ext.clone()));
        user.insert("schemas".into(), json!([USER_URN, ENTERPRISE_URN]));
        let stored = UserResource::from_value(Value::Object(user.clone())).unwrap();
        let back = serde_json::to_value(&stored).unwrap();
        for d in USER_ATTRS.iter().filter(kept) {
            assert_eq!(back[d.name], user[d.name], "User attribute {}", d.name);
        }
        for (k, v) in &ext {
            assert_eq!(&back[ENTERPRISE_URN][k], v, "enterprise attribute {k}");
        }

        let mut group = Map::new();
        for d in GROUP_ATTRS {
            group.insert(d.name.into(), sample(d));
        }
        let stored = GroupResource::from_value(Value::Object(group.clone())).unwrap();
        let back = serde_json::to_value(&stored).unwrap();
        for d in GROUP_ATTRS {
            assert_eq!(back[d.name], group[d.name], "Group attribute {}", d.name);
        }
    }
}
