//! SCIM 1.x compatibility for WSO2's `/wso2/scim/Users` endpoint (the tutorial's curl).
//!
//! Requests in the 1.0 shape (`urn:scim:schemas:core:1.0`, multi-valued attributes given as
//! plain strings such as `"emails":["samuel@wso2.com"]`) are upgraded to SCIM 2.0 before the
//! ordinary validation; responses are rendered back with the 1.0 schema URNs and errors use the
//! 1.x `{"Errors":[{"description":..., "code":...}]}` shape.

use serde_json::{json, Map, Value};

use crate::error::ScimError;
use crate::schema::{ENTERPRISE_URN, SCIM1_CORE_URN, SCIM1_ENTERPRISE_URN, USER_URN};

const STRING_LISTS: &[&str] = &[
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509Certificates",
];

/// Upgrades a SCIM 1.x user body to SCIM 2.0. A body already in 2.0 form is left unchanged.
pub fn user_from_v1(body: Value) -> Value {
    let Value::Object(mut obj) = body else {
        return body;
    };
    if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
        for s in schemas.iter_mut() {
            match s.as_str() {
                Some(u) if u.eq_ignore_ascii_case(SCIM1_CORE_URN) => *s = json!(USER_URN),
                Some(u) if u.eq_ignore_ascii_case(SCIM1_ENTERPRISE_URN) => {
                    *s = json!(ENTERPRISE_URN)
                }
                _ => {}
            }
        }
    }
    if let Some(k) = obj
        .keys()
        .find(|k| k.eq_ignore_ascii_case(SCIM1_ENTERPRISE_URN))
        .cloned()
    {
        if let Some(v) = obj.remove(&k) {
            obj.insert(ENTERPRISE_URN.into(), v);
        }
    }
    for (k, v) in obj.iter_mut() {
        if !STRING_LISTS.iter().any(|n| n.eq_ignore_ascii_case(k)) {
            continue;
        }
        if let Value::Array(items) = v {
            for (i, item) in items.iter_mut().enumerate() {
                if let Value::String(s) = item {
                    let mut o = Map::new();
                    o.insert("value".into(), Value::String(std::mem::take(s)));
                    if i == 0 && k.eq_ignore_ascii_case("emails") {
                        o.insert("primary".into(), Value::Bool(true));
                    }
                    *item = Value::Object(o);
                }
            }
        }
    }
    Value::Object(obj)
}

/// Renders a SCIM 2.0 user JSON in the 1.x shape (schema URNs and extension key renamed), its
/// `meta.location` under `v1_base` (the 1.x endpoint's base, e.g. `http://host/wso2/scim`):
/// a 1.x client follows it, and the 2.0 path speaks another shape.
pub fn user_to_v1(body: Value, v1_base: &str) -> Value {
    let Value::Object(mut obj) = body else {
        return body;
    };
    if let Some(id) = obj.get("id").and_then(Value::as_str).map(str::to_owned) {
        if let Some(Value::Object(meta)) = obj.get_mut("meta") {
            meta.insert(
                "location".into(),
                Value::String(format!("{}/Users/{id}", v1_base.trim_end_matches('/'))),
            );
        }
    }
    if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
        for s in schemas.iter_mut() {
            if s == USER_URN {
                *s = json!(SCIM1_CORE_URN);
            } else if s == ENTERPRISE_URN {
                *s = json!(SCIM1_ENTERPRISE_URN);
            }
        }
    }
    if let Some(v) = obj.remove(ENTERPRISE_URN) {
        obj.insert(SCIM1_ENTERPRISE_URN.into(), v);
    }
    Value::Object(obj)
}

/// The SCIM 1.x error body for an error.
pub fn error_v1(e: &ScimError) -> Value {
    json!({"Errors": [{"description": e.detail, "code": e.status.as_u16().to_string()}]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_body_upgrades() {
        let v = user_from_v1(
            json!({"schemas":["urn:scim:schemas:core:1.0"],"userName":"samuel@wso2.com",
            "emails":["samuel@wso2.com"],"entitlements":[{"value":"00e90000001aV2o","display":"ChatterFreeUser"}]}),
        );
        assert_eq!(v["schemas"], json!([USER_URN]));
        assert_eq!(
            v["emails"],
            json!([{"value": "samuel@wso2.com", "primary": true}])
        );
        assert_eq!(v["entitlements"][0]["value"], "00e90000001aV2o");
        let mut v = v;
        v["id"] = json!("u1");
        v["meta"] = json!({"location": "http://h/scim/v2/Users/u1", "version": "W/\"1\""});
        let v1 = user_to_v1(v, "http://h/wso2/scim");
        assert_eq!(v1["schemas"], json!([SCIM1_CORE_URN]));
        assert_eq!(v1["meta"]["location"], "http://h/wso2/scim/Users/u1");
        assert_eq!(v1["meta"]["version"], "W/\"1\"");
    }
}
