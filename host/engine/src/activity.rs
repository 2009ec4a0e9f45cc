//! Whether a user is active, as every connector sees it.
//!
//! Identity providers deprovision by deactivating (SCIM `active: false`), which the writing API
//! stores as the claim [`ACCOUNT_DISABLED_CLAIM`]. A deactivated user stays in its targets'
//! scopes: it is not deleted remotely but updated, and the connector makes the remote account
//! inactive while the mapping is kept. So that every connector can rely on the claim, the
//! engine sends it with every create and update of a user with exactly one value, `"true"` or
//! `"false"` (absent or anything else counts as `"false"`), and compares users by that value.

use crate::store::Claims;
pub use provisioner_contract::ACCOUNT_DISABLED_CLAIM;

/// Whether the claims say the account is disabled (the claim's first value is `true`, in any
/// case).
pub fn is_disabled(claims: &Claims) -> bool {
    claims
        .get(ACCOUNT_DISABLED_CLAIM)
        .and_then(|values| values.first())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
}

/// `claims` as connectors receive them: the account-disabled claim always present, with the
/// single value `"true"` or `"false"`.
pub fn sent_claims(claims: &Claims) -> Claims {
    let mut sent = claims.clone();
    sent.insert(
        ACCOUNT_DISABLED_CLAIM.to_owned(),
        vec![is_disabled(claims).to_string()],
    );
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(value: Option<&str>) -> Claims {
        value
            .map(|v| (ACCOUNT_DISABLED_CLAIM.to_owned(), vec![v.to_owned()]))
            .into_iter()
            .collect()
    }

    #[test]
    fn the_claim_is_always_sent_with_one_normalised_value() {
        for (stored, sent) in [
            (None, "false"),
            (Some("false"), "false"),
            (Some("False"), "false"),
            (Some("TRUE"), "true"),
            (Some("true"), "true"),
            (Some("yes"), "false"),
        ] {
            let out = sent_claims(&claims(stored));
            assert_eq!(out[ACCOUNT_DISABLED_CLAIM], [sent], "stored {stored:?}");
        }
    }
}
