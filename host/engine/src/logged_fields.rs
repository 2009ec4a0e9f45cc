//! The mapped fields an attempt records for the provisioning log: the target's claim mappings
//! applied to the claims the call carried ([`crate::mapping::provenance`]), values of fields
//! that look secret replaced by [`REDACTED`], and the whole bounded in size so a user with huge
//! claims cannot grow the log without limit.

use std::collections::BTreeMap;

use provisioner_contract::{Claim, ClaimMapping};

use crate::mapping::{self, FieldProvenance};
use crate::store::Claims;

/// What a secret-looking field's value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Most fields recorded per attempt; further fields are left out.
pub const MAX_FIELDS: usize = 64;

/// Most characters of one recorded value; a longer value is cut and ends with `…`.
pub const MAX_VALUE_CHARS: usize = 256;

/// Words that mark a field or claim name as holding a secret (compared in lower case, with
/// `-` and `_` removed).
const SECRET_WORDS: [&str; 7] = [
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "privatekey",
    "apikey",
];

/// Whether a field or claim named `name` looks like it holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_WORDS.iter().any(|word| folded.contains(word))
}

/// Whether `field`'s value must not be shown: its target field or its claim looks secret.
pub fn is_secret(field: &FieldProvenance) -> bool {
    looks_secret(&field.field) || field.claim.as_deref().is_some_and(looks_secret)
}

/// Replaces the value of every secret-looking field of `fields` with [`REDACTED`].
pub fn redact(fields: &mut [FieldProvenance]) {
    for field in fields.iter_mut().filter(|field| is_secret(field)) {
        if field.value.is_some() {
            field.value = Some(REDACTED.to_owned());
        }
    }
}

/// The fields a call carrying `claims` sends through `mappings`, as recorded in the log (fields
/// without a value are left out); none when the call carried no claims (a delete, a group).
pub fn for_claims(mappings: &[ClaimMapping], claims: &[Claim]) -> Option<BTreeMap<String, String>> {
    if claims.is_empty() {
        return None;
    }
    let claims: Claims = claims
        .iter()
        .map(|claim| (claim.uri.clone(), claim.values.clone()))
        .collect();
    let mut fields = mapping::provenance(mappings, &claims);
    redact(&mut fields);
    Some(
        fields
            .into_iter()
            .filter_map(|field| Some((field.field, bounded(field.value?))))
            .take(MAX_FIELDS)
            .collect(),
    )
}

/// `value` cut to [`MAX_VALUE_CHARS`] characters.
fn bounded(value: String) -> String {
    if value.chars().count() <= MAX_VALUE_CHARS {
        return value;
    }
    let mut cut: String = value.chars().take(MAX_VALUE_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(field: &str, claim: &str) -> ClaimMapping {
        ClaimMapping {
            target_field: field.into(),
            claim: Some(claim.into()),
            default_value: None,
        }
    }

    fn claim(uri: &str, value: &str) -> Claim {
        Claim {
            uri: uri.into(),
            values: vec![value.into()],
        }
    }

    #[test]
    fn secret_looking_fields_and_claims_are_redacted_and_values_bounded() {
        let long = "x".repeat(1000);
        let fields = for_claims(
            &[
                mapping("LastName", "c:last"),
                mapping("Password", "c:pw"),
                mapping("Note", "urn:x:api_key"),
                mapping("Title", "c:title"),
                mapping("Missing", "c:none"),
            ],
            &[
                claim("c:last", "Gnaniah"),
                claim("c:pw", "hunter2"),
                claim("urn:x:api_key", "k-123"),
                claim("c:title", &long),
            ],
        )
        .unwrap();
        assert_eq!(fields["LastName"], "Gnaniah");
        assert_eq!(fields["Password"], REDACTED);
        assert_eq!(fields["Note"], REDACTED);
        assert_eq!(fields["Title"].chars().count(), MAX_VALUE_CHARS);
        assert!(fields["Title"].ends_with('…'));
        assert!(!fields.contains_key("Missing"));
        assert_eq!(for_claims(&[mapping("LastName", "c:last")], &[]), None);
    }

    #[test]
    fn secret_words_in_any_case_and_separator() {
        for name in [
            "Password",
            "client_secret",
            "X-Api-Key",
            "refreshToken",
            "PRIVATE_KEY",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["LastName", "Email", "ProfileId", "Username"] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
