//! Facts about Salesforce itself: the shapes it accepts for record ids, field names and
//! Usernames, and the rules of the User object. Depends on nothing else in the crate.

/// Fields Salesforce requires when creating a User.
pub const REQUIRED_ON_CREATE: [&str; 9] = [
    "Username",
    "LastName",
    "Email",
    "Alias",
    "TimeZoneSidKey",
    "LocaleSidKey",
    "EmailEncodingKey",
    "ProfileId",
    "LanguageLocaleKey",
];

/// Salesforce's maximum Alias length.
pub const ALIAS_MAX: usize = 8;

/// Salesforce's maximum Username length.
pub const USERNAME_MAX: usize = 80;

/// Documented maximum lengths, in characters, of User text fields the connector checks.
pub const MAX_LENGTHS: [(&str, usize); 9] = [
    ("LastName", 80),
    ("FirstName", 40),
    ("Alias", ALIAS_MAX),
    ("CommunityNickname", 40),
    ("Email", 128),
    ("Title", 80),
    ("CompanyName", 80),
    ("Department", 80),
    ("City", 40),
];

/// Whether `id` has the shape of a Salesforce record id (15 or 18 letters and digits).
pub fn is_salesforce_id(id: &str) -> bool {
    (id.len() == 15 || id.len() == 18) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Extends a 15-character Salesforce id with its 3-character case checksum; other ids are
/// returned unchanged.
pub fn id18(id: &str) -> String {
    if id.len() != 15 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_string();
    }
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let mut out = id.to_string();
    for block in id.as_bytes().chunks(5) {
        let bits = block
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        out.push(ALPHABET[bits] as char);
    }
    out
}

/// Whether `name` has the shape of a Salesforce field API name.
pub fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `field` is one of User's boolean `UserPermissions*` fields.
pub fn is_permission_field(field: &str) -> bool {
    field.starts_with("UserPermissions")
}

/// Whether `s` has the shape of an email address (`local@domain.tld`, no spaces), as Salesforce
/// requires of a Username.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";
    !local.is_empty()
        && local.chars().count() <= 64
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || SPECIALS.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && is_domain(domain)
}

/// Whether `s` is a dotted host name with at least two labels.
pub fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id18_matches_the_reference_vectors() {
        assert_eq!(id18("001D000000IqhSL"), "001D000000IqhSLIAZ");
        assert_eq!(id18("00D50000000IZ3Z"), "00D50000000IZ3ZEAW");
        assert_eq!(id18("00558000001N0Ke"), "00558000001N0KeAAK");
        assert_eq!(id18("70130000001tcyI"), "70130000001tcyIAAQ");
        assert_eq!(id18("a0D30000001n7Pi"), "a0D30000001n7PiEAI");
        assert_eq!(id18("005xx0000012345AAA"), "005xx0000012345AAA");
    }

    #[test]
    fn email_shape() {
        assert!(is_email("alice@example.com"));
        assert!(is_email("primary-alex-carbon.super-salesforce@abc.com"));
        assert!(!is_email(
            "primary-alex-carbon.super-salesforce provisioning@abc.com"
        ));
        assert!(!is_email("bob"));
        assert!(!is_email("alex..@abc.com"));
        assert!(!is_email("a@localhost"));
    }
}
