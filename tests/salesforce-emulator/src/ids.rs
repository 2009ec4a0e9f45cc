//! Salesforce record ids: the 15-to-18 character case checksum, id-shape checks and an id generator.

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Key prefix of User records.
pub const USER_PREFIX: &str = "005";
/// Key prefix of Profile records.
pub const PROFILE_PREFIX: &str = "00e";
/// Key prefix of Organization records.
pub const ORG_PREFIX: &str = "00D";
/// Key prefix of UserRole records.
pub const ROLE_PREFIX: &str = "00E";
/// Key prefix used for query locators (`nextRecordsUrl`).
pub const QUERY_LOCATOR_PREFIX: &str = "01g";

/// Computes the 3-character case checksum of a 15-character id (§3.4 of the reference).
///
/// Returns `None` when `id15` is not 15 ASCII alphanumeric characters.
pub fn checksum(id15: &str) -> Option<String> {
    if id15.len() != 15 || !id15.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let bytes = id15.as_bytes();
    let mut out = String::with_capacity(3);
    for block in bytes.chunks(5) {
        let mut value = 0usize;
        for (i, b) in block.iter().enumerate() {
            if b.is_ascii_uppercase() {
                value |= 1 << i;
            }
        }
        out.push(CHECKSUM_ALPHABET[value] as char);
    }
    Some(out)
}

/// Turns a 15-character id into its 18-character form; an 18-character id is returned unchanged
/// when its checksum is correct.
pub fn to18(id: &str) -> Option<String> {
    match id.len() {
        15 => checksum(id).map(|c| format!("{id}{c}")),
        18 => {
            let (head, tail) = id.split_at(15);
            (checksum(head)? == tail).then(|| id.to_string())
        }
        _ => None,
    }
}

/// The 15-character (case-sensitive) form of a 15- or 18-character id.
pub fn to15(id: &str) -> Option<&str> {
    is_id_shaped(id).then(|| &id[..15])
}

/// True when `s` looks like a Salesforce id: 15 or 18 ASCII alphanumeric characters.
pub fn is_id_shaped(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// True when `s` is id-shaped and, if it has 18 characters, its checksum is correct.
pub fn is_valid_id(s: &str) -> bool {
    to18(s).is_some()
}

/// Generates fresh, unique, 18-character ids of one org.
#[derive(Debug, Clone)]
pub struct IdGenerator {
    next: u64,
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new(1000)
    }
}

impl IdGenerator {
    /// Creates a generator whose first id uses the counter value `start`.
    pub fn new(start: u64) -> Self {
        Self { next: start }
    }

    /// Returns a new 18-character id with the given 3-character key prefix.
    pub fn next_id(&mut self, prefix: &str) -> String {
        let n = self.next;
        self.next += 1;
        let mut counter = [b'0'; 6];
        let mut v = n;
        for slot in counter.iter_mut().rev() {
            *slot = BASE62[(v % 62) as usize];
            v /= 62;
        }
        // 3 (prefix) + 6 (instance and reserved) + 6 (counter) = 15.
        let id15 = format!(
            "{prefix}5g0000{}",
            std::str::from_utf8(&counter).expect("ascii")
        );
        to18(&id15).expect("generated ids are well formed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_vectors_from_the_reference() {
        assert_eq!(checksum("001D000000IqhSL").unwrap(), "IAZ");
        assert_eq!(checksum("00D50000000IZ3Z").unwrap(), "EAW");
        assert_eq!(checksum("00558000001N0Ke").unwrap(), "AAK");
        assert_eq!(checksum("70130000001tcyI").unwrap(), "AAQ");
        assert_eq!(checksum("a0D30000001n7Pi").unwrap(), "EAI");
    }

    #[test]
    fn to18_and_validation() {
        assert_eq!(to18("001D000000IqhSL").unwrap(), "001D000000IqhSLIAZ");
        assert_eq!(to18("001D000000IqhSLIAZ").unwrap(), "001D000000IqhSLIAZ");
        assert!(to18("001D000000IqhSLIAC").is_none());
        assert!(to18("short").is_none());
        assert!(!is_id_shaped("123"));
        assert!(is_id_shaped("001D000000IqhSL"));
        assert_eq!(to15("001D000000IqhSLIAZ"), Some("001D000000IqhSL"));
    }

    #[test]
    fn generated_ids_are_unique_and_prefixed() {
        let mut g = IdGenerator::default();
        let a = g.next_id(USER_PREFIX);
        let b = g.next_id(USER_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("005"));
        assert_eq!(a.len(), 18);
        assert!(is_valid_id(&a));
    }
}
