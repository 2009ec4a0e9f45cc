//! Salesforce usernames: built from the provisioning pattern, separator and provisioning
//! domain; checked against Salesforce's rules; and renamed, deterministically, when a user is
//! deactivated.

use crate::pattern::Token;
use crate::salesforce::{id18, is_email, USERNAME_MAX};
use crate::settings::Settings;

/// Splits `DOMAIN/name` into its user-store domain and the bare name.
pub fn split_user_store(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((domain, rest)) if !domain.is_empty() => (Some(domain), rest),
        _ => (None, name),
    }
}

/// Computes the Salesforce Username for a local entity name (WSO2 steps 2-3).
///
/// The pattern's token values are joined by the separator; UD, TD and IDP have the separator
/// removed (literally, unlike WSO2's regex); the result is lowercased. Then, if a provisioning
/// domain is set and the name does not end in `@<domain>`, every `@` becomes `.` and
/// `@<domain>` is appended.
pub fn build(settings: &Settings, entity_name: &str) -> String {
    let (store, bare) = split_user_store(entity_name);
    let sep = settings.separator.as_str();
    let strip = |s: &str| s.replace(sep, "");
    let parts: Vec<String> = settings
        .pattern
        .tokens()
        .iter()
        .map(|t| match t {
            Token::UserName => bare.to_string(),
            Token::UserStoreDomain => strip(store.unwrap_or("PRIMARY")),
            Token::Tenant => strip(&settings.tenant),
            Token::Target => strip(&settings.target),
        })
        .collect();
    let username = parts.join(sep).to_lowercase();
    match &settings.prov_domain {
        Some(domain) if !username.ends_with(&format!("@{domain}")) => {
            format!("{}@{domain}", username.replace('@', "."))
        }
        _ => username,
    }
}

/// Checks that `username` is email-shaped and at most 80 characters, saying why not.
pub fn check(username: &str) -> Result<(), String> {
    let len = username.chars().count();
    if len > USERNAME_MAX {
        return Err(format!(
            "Username `{username}` is {len} characters; Salesforce allows {USERNAME_MAX}"
        ));
    }
    if !is_email(username) {
        return Err(format!(
            "Username `{username}` is not in the form of an email address; check the provisioning pattern, separator and domain"
        ));
    }
    Ok(())
}

/// The Username a deactivated user is renamed to, so its name can be provisioned again.
///
/// Shape: `deactivated.<local part, sanitized and trimmed>.<18-char id, lowercased>@<domain>`,
/// where the domain is the original username's, or `invalid.invalid` when the original is not an
/// email or its domain leaves no room. The 18-character id is unique case-insensitively, so the
/// result is unique; it depends only on its inputs, so a retried delete sends the same name.
/// The result is always an email of at most 80 characters.
pub fn deactivated(remote_id: &str, original: &str) -> String {
    const PREFIX: &str = "deactivated.";
    const FALLBACK_DOMAIN: &str = "invalid.invalid";
    let id = id18(remote_id).to_ascii_lowercase();
    let (local, domain) = match original.rsplit_once('@') {
        Some((l, d)) if is_email(original) => (l, d),
        _ => (original, FALLBACK_DOMAIN),
    };
    // The fixed part: prefix + "." + id + "@" + domain.
    let fixed = |domain: &str| PREFIX.len() + 1 + id.len() + 1 + domain.len();
    let domain = if fixed(domain) <= USERNAME_MAX {
        domain
    } else {
        FALLBACK_DOMAIN
    };
    // The local part of an email holds at most 64 characters.
    let budget = (USERNAME_MAX - fixed(domain)).min(64 - (PREFIX.len() + 1 + id.len()));
    let piece = sanitize_local(local, budget);
    if piece.is_empty() {
        format!("{PREFIX}{id}@{domain}")
    } else {
        format!("{PREFIX}{piece}.{id}@{domain}")
    }
}

/// Keeps `[a-z0-9+_-]` and single inner dots of `local`, at most `max` characters.
fn sanitize_local(local: &str, max: usize) -> String {
    let mut out = String::new();
    for c in local.to_lowercase().chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '+' | '_' | '-');
        if keep {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('.') {
            out.push('.');
        }
    }
    out.truncate(max.min(out.len()));
    out.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_bounds_the_length() {
        assert!(check("bob").is_err());
        assert!(check(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(check(&format!("{}@example.com", "a".repeat(64))).is_ok());
        assert!(check(&format!("a@{}.{}.com", "b".repeat(40), "c".repeat(40))).is_err());
    }

    #[test]
    fn deactivated_names_are_valid_bounded_and_deterministic() {
        let id = "005xx0000012345AAA";
        assert_eq!(
            deactivated(id, "alice@example.com"),
            "deactivated.alice.005xx0000012345aaa@example.com"
        );
        assert_eq!(
            deactivated(id, "bob"),
            "deactivated.bob.005xx0000012345aaa@invalid.invalid"
        );
        let long = format!("{}@{}.example.com", "x".repeat(60), "d".repeat(50));
        for original in [
            long.as_str(),
            "SECONDARY/Dave Smith@Example.com",
            "..@@..",
            "",
        ] {
            let name = deactivated(id, original);
            assert!(check(&name).is_ok(), "{name}");
            assert_eq!(name, deactivated(id, original));
        }
        assert_eq!(
            deactivated("005xx0000012345", "a@b.co"),
            deactivated("005xx0000012345AAA", "a@b.co")
        );
    }
}
