//! The org's User records and the record-dependent rules of writes: references, uniqueness,
//! nicknames and licences.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::config::{EmulatorConfig, Profile, SYSTEM_ADMINISTRATOR_PROFILE_ID};
use crate::fields::{FieldType, USER_FIELDS};
use crate::ids::{self, IdGenerator};
use crate::response::ApiError;
use crate::time::{format_datetime, now_ms};
use crate::validation::{is_blank, Change};

/// One stored User record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRecord {
    /// The 18-character id.
    pub id: String,
    /// Writable field values by API name (strings, booleans or null).
    pub fields: Map<String, Value>,
    /// Creation time, epoch ms.
    pub created_ms: u64,
    /// Last modification time, epoch ms.
    pub modified_ms: u64,
    /// Id of the user who created the record.
    pub created_by: String,
    /// Id of the user who last modified the record.
    pub modified_by: String,
}

impl UserRecord {
    /// The value of any field, computed ones (Id, Name, dates) included; null when unset.
    pub fn get(&self, field: &str) -> Value {
        match field {
            "Id" => Value::String(self.id.clone()),
            "Name" => {
                let first = self.text("FirstName").unwrap_or("");
                let last = self.text("LastName").unwrap_or("");
                Value::String(if first.is_empty() {
                    last.to_string()
                } else {
                    format!("{first} {last}")
                })
            }
            "CreatedDate" => Value::String(format_datetime(self.created_ms)),
            "LastModifiedDate" | "SystemModstamp" => {
                Value::String(format_datetime(self.modified_ms))
            }
            "CreatedById" => Value::String(self.created_by.clone()),
            "LastModifiedById" => Value::String(self.modified_by.clone()),
            other => self.fields.get(other).cloned().unwrap_or(Value::Null),
        }
    }

    /// The value of a text field, if set.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// The Username.
    pub fn username(&self) -> &str {
        self.text("Username").unwrap_or("")
    }

    /// Whether the user is active (uses a licence).
    pub fn is_active(&self) -> bool {
        self.fields
            .get("IsActive")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// All fields as a JSON object (no `attributes`).
    pub fn all_fields(&self) -> Map<String, Value> {
        USER_FIELDS
            .iter()
            .map(|f| (f.name.to_string(), self.get(f.name)))
            .collect()
    }

    /// The REST representation: `attributes` plus the given fields (all when `None`).
    pub fn to_rest(&self, version: &str, fields: Option<&[&str]>) -> Value {
        let mut map = match fields {
            None => self.all_fields(),
            Some(names) => names.iter().map(|n| (n.to_string(), self.get(n))).collect(),
        };
        map.insert("attributes".into(), attributes(version, &self.id));
        Value::Object(map)
    }
}

/// The `attributes` object of a User record.
pub fn attributes(version: &str, id: &str) -> Value {
    json!({ "type": "User", "url": format!("/services/data/{version}/sobjects/User/{id}") })
}

/// The org's users together with the reference data writes are checked against.
#[derive(Debug, Clone)]
pub struct Directory {
    users: Vec<UserRecord>,
    index: HashMap<String, usize>,
    /// Users by lower-cased Username, so a uniqueness check does not scan the org.
    by_username: LowerIndex,
    /// Users by lower-cased CommunityNickname.
    by_nickname: LowerIndex,
    /// Active users (licences in use), kept on every write.
    active: u32,
    ids: IdGenerator,
    /// Profiles that exist.
    pub profiles: Vec<Profile>,
    /// Usernames taken in other orgs.
    pub other_org_usernames: Vec<String>,
    /// Total user licences.
    pub licences: u32,
    /// Id of the integration (API) user; the creator of records.
    pub integration_user_id: String,
}

impl Directory {
    /// Builds the directory of a fresh org from the configuration.
    pub fn new(config: &EmulatorConfig) -> Self {
        let mut ids = IdGenerator::default();
        let integration_user_id = ids.next_id(ids::USER_PREFIX);
        let mut dir = Self {
            users: Vec::new(),
            index: HashMap::new(),
            by_username: LowerIndex::default(),
            by_nickname: LowerIndex::default(),
            active: 0,
            ids,
            profiles: config.profiles.clone(),
            other_org_usernames: config.other_org_usernames.clone(),
            licences: config.licences,
            integration_user_id: integration_user_id.clone(),
        };
        if config.seed_integration_user {
            let mut fields = Map::new();
            for (k, v) in [
                ("Username", json!(config.username)),
                ("LastName", json!("Integration")),
                ("FirstName", json!("API")),
                ("Email", json!(config.username)),
                ("Alias", json!("integ")),
                ("CommunityNickname", json!("integration")),
                ("TimeZoneSidKey", json!("GMT")),
                ("LocaleSidKey", json!("en_US")),
                ("EmailEncodingKey", json!("UTF-8")),
                ("LanguageLocaleKey", json!("en_US")),
                (
                    "ProfileId",
                    json!(ids::to18(SYSTEM_ADMINISTRATOR_PROFILE_ID)),
                ),
                ("IsActive", json!(true)),
            ] {
                fields.insert(k.into(), v);
            }
            let now = now_ms();
            dir.insert(UserRecord {
                id: integration_user_id.clone(),
                fields,
                created_ms: now,
                modified_ms: now,
                created_by: integration_user_id.clone(),
                modified_by: integration_user_id,
            });
        }
        dir
    }

    fn insert(&mut self, user: UserRecord) {
        let key = user.id[..15].to_string();
        let at = self.users.len();
        self.index.insert(key, at);
        self.by_username.add(user.username(), at);
        if let Some(nick) = user.text("CommunityNickname") {
            self.by_nickname.add(nick, at);
        }
        if user.is_active() {
            self.active += 1;
        }
        self.users.push(user);
    }

    /// All users in creation order.
    pub fn users(&self) -> &[UserRecord] {
        &self.users
    }

    /// Finds a user by 15- or 18-character id.
    pub fn get(&self, id: &str) -> Option<&UserRecord> {
        let key = ids::to15(id)?;
        self.index.get(key).map(|i| &self.users[*i])
    }

    /// Number of active users.
    pub fn active_count(&self) -> u32 {
        self.active
    }

    /// Licences not in use (never negative).
    pub fn licences_remaining(&self) -> u32 {
        self.licences.saturating_sub(self.active_count())
    }

    /// Creates a user from validated changes; returns the new 18-character id.
    pub fn create(
        &mut self,
        changes: Vec<Change>,
        config: &EmulatorConfig,
    ) -> Result<String, ApiError> {
        let mut fields = Map::new();
        for (def, value) in changes {
            fields.insert(def.name.to_string(), value);
        }
        if fields.get("IsActive").is_none_or(Value::is_null) {
            fields.insert("IsActive".into(), Value::Bool(true));
        }
        self.check_references(&fields)?;
        self.check_unique(&fields, None, config)?;
        if config.auto_community_nickname && fields.get("CommunityNickname").is_none_or(is_blank) {
            let nick = self.generate_nickname(fields["Username"].as_str().unwrap_or("user"));
            fields.insert("CommunityNickname".into(), Value::String(nick));
        }
        if fields["IsActive"] == Value::Bool(true) && self.licences_remaining() == 0 {
            return Err(license_error(config));
        }
        normalise_references(&mut fields);
        let id = self.ids.next_id(ids::USER_PREFIX);
        let now = now_ms();
        self.insert(UserRecord {
            id: id.clone(),
            fields,
            created_ms: now,
            modified_ms: now,
            created_by: self.integration_user_id.clone(),
            modified_by: self.integration_user_id.clone(),
        });
        Ok(id)
    }

    /// Applies validated changes to an existing user. The caller has checked the id exists.
    pub fn update(
        &mut self,
        id: &str,
        changes: Vec<Change>,
        config: &EmulatorConfig,
    ) -> Result<(), ApiError> {
        let key = ids::to15(id).ok_or_else(invalid_cross_reference)?;
        let idx = *self.index.get(key).ok_or_else(invalid_cross_reference)?;
        let mut fields = Map::new();
        for (def, value) in changes {
            fields.insert(def.name.to_string(), value);
        }
        self.check_references(&fields)?;
        self.check_unique(&fields, Some(idx), config)?;
        let was_active = self.users[idx].is_active();
        let becomes_active = match fields.get("IsActive") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Null) => {
                fields.insert("IsActive".into(), Value::Bool(false));
                false
            }
            _ => was_active,
        };
        if becomes_active && !was_active && self.licences_remaining() == 0 {
            return Err(license_error(config));
        }
        normalise_references(&mut fields);
        let user = &mut self.users[idx];
        let old_username = user.username().to_owned();
        let old_nickname = user.text("CommunityNickname").map(str::to_owned);
        for (k, v) in fields {
            user.fields.insert(k, v);
        }
        let user = &self.users[idx];
        self.by_username.moved(&old_username, user.username(), idx);
        match (old_nickname.as_deref(), user.text("CommunityNickname")) {
            (Some(old), Some(new)) => self.by_nickname.moved(old, new, idx),
            (Some(old), None) => self.by_nickname.remove(old, idx),
            (None, Some(new)) => self.by_nickname.add(new, idx),
            (None, None) => {}
        }
        match (was_active, user.is_active()) {
            (false, true) => self.active += 1,
            (true, false) => self.active = self.active.saturating_sub(1),
            _ => {}
        }
        let user = &mut self.users[idx];
        user.modified_ms = now_ms().max(user.created_ms);
        user.modified_by = self.integration_user_id.clone();
        Ok(())
    }

    /// Replaces the seeded reference data.
    pub fn reseed(
        &mut self,
        profiles: Option<Vec<Profile>>,
        other: Option<Vec<String>>,
        licences: Option<u32>,
    ) {
        if let Some(p) = profiles {
            self.profiles = p;
        }
        if let Some(o) = other {
            self.other_org_usernames = o;
        }
        if let Some(l) = licences {
            self.licences = l;
        }
    }

    fn check_references(&self, fields: &Map<String, Value>) -> Result<(), ApiError> {
        for def in USER_FIELDS.iter().filter(|f| f.writable) {
            let FieldType::Reference(prefix) = def.ty else {
                continue;
            };
            let Some(Value::String(v)) = fields.get(def.name) else {
                continue;
            };
            if v.is_empty() {
                continue;
            }
            let exists = match prefix {
                ids::PROFILE_PREFIX => self
                    .profiles
                    .iter()
                    .any(|p| ids::to15(&p.id) == ids::to15(v)),
                ids::USER_PREFIX => self.get(v).is_some(),
                _ => false,
            };
            if !exists {
                return Err(ApiError::field(
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    &[def.name],
                ));
            }
        }
        Ok(())
    }

    fn check_unique(
        &self,
        fields: &Map<String, Value>,
        me: Option<usize>,
        config: &EmulatorConfig,
    ) -> Result<(), ApiError> {
        let eq = |a: &str, b: &str| {
            if config.case_insensitive_text {
                a.to_lowercase() == b.to_lowercase()
            } else {
                a == b
            }
        };
        // Candidates share the lower-cased key; `eq` then applies the org's case rule.
        let others = |index: &LowerIndex, key: &str| {
            index
                .get(key)
                .iter()
                .filter(move |i| Some(**i) != me)
                .map(|i| &self.users[*i])
                .collect::<Vec<_>>()
        };
        if let Some(Value::String(name)) = fields.get("Username") {
            let taken = others(&self.by_username, name)
                .iter()
                .any(|u| eq(u.username(), name))
                || self.other_org_usernames.iter().any(|o| eq(o, name));
            if taken {
                return Err(ApiError::field(
                    "DUPLICATE_USERNAME",
                    "Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations. To resolve, use a different username (it doesn't need to match the user's email address). ",
                    &["Username"],
                )
                .with_status(status(config.duplicate_username_status)));
            }
        }
        if let Some(Value::String(nick)) = fields.get("CommunityNickname") {
            if !nick.is_empty() && !others(&self.by_nickname, nick).is_empty() {
                return Err(ApiError::field(
                    "DUPLICATE_COMM_NICKNAME",
                    "Duplicate Nickname.<br>Another user has already selected this nickname.<br>Please select another.",
                    &["CommunityNickname"],
                ));
            }
        }
        Ok(())
    }

    fn generate_nickname(&self, username: &str) -> String {
        let base: String = username
            .split('@')
            .next()
            .unwrap_or("user")
            .chars()
            .take(40)
            .collect();
        let taken = |n: &str| !self.by_nickname.get(n).is_empty();
        if !taken(&base) {
            return base;
        }
        (1u64..)
            .map(|i| {
                let suffix = i.to_string();
                let head: String = base.chars().take(40 - suffix.len()).collect();
                format!("{head}{suffix}")
            })
            .find(|n| !taken(n))
            .expect("an unused nickname exists")
    }
}

/// 404 INVALID_CROSS_REFERENCE_KEY "invalid cross reference id" (PATCH on a missing id).
pub fn invalid_cross_reference() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "INVALID_CROSS_REFERENCE_KEY",
        "invalid cross reference id",
    )
}

fn license_error(config: &EmulatorConfig) -> ApiError {
    ApiError::field("LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded", &[])
        .with_status(status(config.license_limit_status))
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

/// Stores reference fields in their 18-character form.
fn normalise_references(fields: &mut Map<String, Value>) {
    for def in USER_FIELDS
        .iter()
        .filter(|f| matches!(f.ty, FieldType::Reference(_)))
    {
        if let Some(Value::String(v)) = fields.get_mut(def.name) {
            if let Some(long) = ids::to18(v) {
                *v = long;
            }
        }
    }
}

/// Positions of users by a lower-cased text field.
#[derive(Debug, Clone, Default)]
struct LowerIndex(HashMap<String, Vec<usize>>);

impl LowerIndex {
    fn get(&self, key: &str) -> &[usize] {
        self.0
            .get(&key.to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn add(&mut self, key: &str, at: usize) {
        self.0.entry(key.to_lowercase()).or_default().push(at);
    }

    fn remove(&mut self, key: &str, at: usize) {
        let key = key.to_lowercase();
        if let Some(positions) = self.0.get_mut(&key) {
            positions.retain(|p| *p != at);
            if positions.is_empty() {
                self.0.remove(&key);
            }
        }
    }

    fn moved(&mut self, old: &str, new: &str, at: usize) {
        if old.to_lowercase() != new.to_lowercase() {
            self.remove(old, at);
            self.add(new, at);
        }
    }
}
