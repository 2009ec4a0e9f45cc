//! Emulator configuration: credentials, seeded data and switches for the behaviours the reference marks unknown.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A Profile that exists in the emulated org (`ProfileId` values must name one of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// 15- or 18-character id with the `00e` prefix.
    pub id: String,
    /// Display name, e.g. "Standard User".
    pub name: String,
}

impl Profile {
    /// Creates a profile from an id and a name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// Everything that shapes one emulated org. `Default` gives a ready-to-use org.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmulatorConfig {
    /// The 15-character org id (`00D…`); access tokens start with it.
    pub org_id: String,
    /// Consumer key of the one connected app.
    pub client_id: String,
    /// Consumer secret of the connected app; also the HMAC key of token signatures.
    pub client_secret: String,
    /// Username of the integration user (password grant, and the "Run As" user of client credentials).
    pub username: String,
    /// Password of the integration user.
    pub password: String,
    /// Security token appended to the password in the password grant.
    pub security_token: String,
    /// When true the security token is not required (the caller's IP is "trusted").
    pub trusted_ip: bool,
    /// When true the username-password flow is blocked (answers invalid_grant "authentication failure").
    pub password_flow_blocked: bool,
    /// When true the token endpoint behaves like login/test.salesforce.com: client credentials
    /// answer invalid_grant "request not supported on this domain".
    pub login_host: bool,
    /// PEM RSA public key (`-----BEGIN PUBLIC KEY-----` or `RSA PUBLIC KEY`) of the connected
    /// app's certificate; verifies JWT bearer assertions (RS256). `None`: every assertion answers
    /// invalid_grant "invalid assertion".
    pub jwt_public_key_pem: Option<String>,
    /// Accepted JWT `aud` values besides the emulator's own base URL (its "My Domain"), which is
    /// always accepted. Defaults to the login and test URLs.
    pub jwt_audiences: Vec<String>,
    /// Usernames pre-authorised for the JWT bearer flow (`sub`); defaults to the integration user.
    pub jwt_approved_users: Vec<String>,
    /// Profiles that exist in the org.
    pub profiles: Vec<Profile>,
    /// Usernames taken in other Salesforce orgs (creating them gives DUPLICATE_USERNAME).
    pub other_org_usernames: Vec<String>,
    /// Number of Salesforce user licences; every active user (the integration user included) uses one.
    pub licences: u32,
    /// Whether the integration user exists as a User record (it then uses a licence and shows in queries).
    pub seed_integration_user: bool,
    /// Daily API request allocation (`Sforce-Limit-Info` max).
    pub api_max: u64,
    /// Sliding session timeout of access tokens.
    #[serde(with = "duration_secs")]
    pub token_lifetime: Duration,
    /// Default query batch size (records per page), 200..=2000.
    pub query_batch_size: usize,
    /// Newest API version (major number), e.g. 68 for 68.0.
    pub latest_api_version: u32,
    /// Oldest supported API version (major); versions from 7 up to below this answer 410 GONE.
    pub oldest_api_version: u32,
    /// Seed of the random generator used by probabilistic faults and token bodies.
    pub rng_seed: u64,
    /// Maximum number of entries kept in the request log.
    pub request_log_capacity: usize,
    /// HTTP status of DUPLICATE_USERNAME (unconfirmed in the reference; 400 by default).
    pub duplicate_username_status: u16,
    /// HTTP status of LICENSE_LIMIT_EXCEEDED (unconfirmed in the reference; 400 by default).
    pub license_limit_status: u16,
    /// Whether text equality in SOQL and Username uniqueness ignore case (unconfirmed; true by default).
    pub case_insensitive_text: bool,
    /// Whether JSON numbers and booleans are accepted for text fields (converted to strings).
    /// False by default: they give JSON_PARSER_ERROR.
    pub coerce_scalars_to_text: bool,
    /// Whether `CommunityNickname` is filled in automatically when a create omits it.
    pub auto_community_nickname: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            org_id: "00D5g000004AbCd".into(),
            client_id: "3MVG9emulatorConsumerKey".into(),
            client_secret: "emulator-consumer-secret".into(),
            username: "integration@emulator.example.com".into(),
            password: "emulator-password".into(),
            security_token: "SECURITYTOKEN".into(),
            trusted_ip: false,
            password_flow_blocked: false,
            login_host: false,
            jwt_public_key_pem: None,
            jwt_audiences: vec![
                "https://login.salesforce.com".into(),
                "https://test.salesforce.com".into(),
            ],
            jwt_approved_users: vec!["integration@emulator.example.com".into()],
            profiles: default_profiles(),
            other_org_usernames: vec![
                "taken@other-org.example.com".into(),
                "admin@salesforce.com".into(),
            ],
            licences: 1000,
            seed_integration_user: true,
            api_max: 15000,
            token_lifetime: Duration::from_secs(2 * 60 * 60),
            query_batch_size: 2000,
            latest_api_version: 68,
            oldest_api_version: 31,
            rng_seed: 0x5a1e_5f0c,
            request_log_capacity: 1000,
            duplicate_username_status: 400,
            license_limit_status: 400,
            case_insensitive_text: true,
            coerce_scalars_to_text: false,
            auto_community_nickname: true,
        }
    }
}

/// Id of the seeded "System Administrator" profile (the integration user's profile).
pub const SYSTEM_ADMINISTRATOR_PROFILE_ID: &str = "00e5g000001SyAd";
/// Id of the seeded "Standard User" profile.
pub const STANDARD_USER_PROFILE_ID: &str = "00e5g000001AbCd";
/// Id of the seeded "Chatter Free User" profile.
pub const CHATTER_FREE_PROFILE_ID: &str = "00e90000001aV2o";

/// The profiles a default org has.
pub fn default_profiles() -> Vec<Profile> {
    vec![
        Profile::new(SYSTEM_ADMINISTRATOR_PROFILE_ID, "System Administrator"),
        Profile::new(STANDARD_USER_PROFILE_ID, "Standard User"),
        Profile::new(CHATTER_FREE_PROFILE_ID, "Chatter Free User"),
        Profile::new("00e5g000002RdOn", "Read Only"),
        Profile::new("00e5g000003MkUs", "Marketing User"),
    ]
}

impl EmulatorConfig {
    /// The password the password grant expects: password + security token (or just the password
    /// when `trusted_ip`).
    pub fn expected_password(&self) -> String {
        if self.trusted_ip {
            self.password.clone()
        } else {
            format!("{}{}", self.password, self.security_token)
        }
    }
}

mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}
