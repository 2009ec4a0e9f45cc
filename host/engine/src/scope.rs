//! Which targets a user change goes to: provisioning roles and a scoping filter on claims.
//!
//! A user's effective roles are its own `roles` plus the display names of the groups it is a
//! direct member of: in WSO2, which this engine replaces, groups and roles are one thing. So a
//! group named after a target's provisioning role brings its members into that target's scope.

use crate::store::{OutboundSettings, UserRecord};

/// Whether a target provisions `user`, whose groups have the display names `group_roles`: the
/// user is live, holds one of the target's provisioning roles itself or through a group (when
/// the target lists any) and matches its scoping filter (when it has one).
pub fn applies(settings: &OutboundSettings, user: &UserRecord, group_roles: &[String]) -> bool {
    !user.deleted
        && (settings.provisioning_roles.is_empty()
            || settings
                .provisioning_roles
                .iter()
                .any(|role| user.roles.contains(role) || group_roles.contains(role)))
        && settings
            .scope_filter
            .as_ref()
            .is_none_or(|filter| filter.matches(&user.claims))
}

/// Whether the target's scope depends on roles, so a user's groups must be read to decide it.
pub fn uses_roles(settings: &OutboundSettings) -> bool {
    !settings.provisioning_roles.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Claims, ScopeFilter};

    fn user(roles: &[&str], country: &str) -> UserRecord {
        UserRecord {
            tenant: "t".into(),
            id: "u1".into(),
            user_name: "alice".into(),
            claims: [(
                "http://wso2.org/claims/country".to_owned(),
                vec![country.to_owned()],
            )]
            .into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            version: 1,
            deleted: false,
            created_at: 0,
            updated_at: 0,
            document: None,
        }
    }

    #[test]
    fn roles_and_filter_decide() {
        let settings = OutboundSettings {
            provisioning_roles: vec!["sales".into()],
            scope_filter: Some(ScopeFilter::Eq {
                claim: "http://wso2.org/claims/country".into(),
                value: "lk".into(),
            }),
            ..OutboundSettings::default()
        };
        assert!(applies(&settings, &user(&["sales"], "LK"), &[]));
        assert!(!applies(&settings, &user(&["hr"], "LK"), &[]));
        assert!(!applies(&settings, &user(&["sales"], "US"), &[]));
        let mut deleted = user(&["sales"], "LK");
        deleted.deleted = true;
        assert!(!applies(&settings, &deleted, &[]));
        assert!(applies(&OutboundSettings::default(), &user(&[], "US"), &[]));
    }

    #[test]
    fn a_group_named_after_a_provisioning_role_grants_it() {
        let settings = OutboundSettings {
            provisioning_roles: vec!["sales".into()],
            ..OutboundSettings::default()
        };
        let hr = user(&["hr"], "LK");
        assert!(applies(&settings, &hr, &["sales".to_owned()]));
        assert!(!applies(&settings, &hr, &["marketing".to_owned()]));
        assert!(!applies(&settings, &hr, &[]));
    }

    #[test]
    fn filter_parses_from_json() {
        let filter: ScopeFilter = serde_json::from_str(
            r#"{"all": [{"starts_with": {"claim": "c", "value": "A"}},
                        {"not": {"present": {"claim": "d"}}}]}"#,
        )
        .unwrap();
        let claims: Claims = [("c".to_owned(), vec!["abc".to_owned()])].into();
        assert!(filter.matches(&claims));
    }
}
