//! The built-in SCIM connector end to end, between two real `provisioner serve` processes:
//! a source server whose target is `builtin:scim`, and a second server whose own SCIM API is
//! that target. Users and groups written to the source over SCIM (as Microsoft Entra ID writes
//! them) appear, change and are deactivated (users) or renamed (groups) in the second server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const SOURCE_TOKEN: &str = "source-client-token-0123456789";
const TARGET_TOKEN: &str = "target-client-token-9876543210";
const USER_NAME: &str = "ann.lee@contoso.example";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A `provisioner serve` process, killed when dropped.
struct Server {
    child: Child,
    /// `host:port` it listens on.
    addr: String,
    /// Its stderr, for failure messages.
    log: PathBuf,
}

impl Server {
    /// Starts `provisioner serve --config <dir>/<name>.toml` with `config` and waits until it
    /// prints its address.
    fn start(dir: &Path, name: &str, config: &str) -> Server {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, config).unwrap();
        let log = dir.join(format!("{name}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_provisioner"))
            .arg("serve")
            .arg("--config")
            .arg(&path)
            .env_remove("PROVISIONER_LISTEN")
            .env_remove("PROVISIONER_DATABASE_URL")
            .env_remove("PROVISIONER_CACHE_DIR")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the provisioner binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name} exited before listening:\n{}", tail(&log));
            };
            if let Some(base) = line.strip_prefix("SCIM API listening on http://") {
                break base.trim().to_string();
            }
        };
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, addr, log }
    }

    /// A SCIM request with the bearer `token`; the status and the JSON body (`null` if none).
    fn call(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).expect("the server accepts connections");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Accept: application/scim+json\r\nContent-Type: application/scim+json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8(raw).expect("a UTF-8 response");
        let (head, payload) = raw
            .split_once("\r\n\r\n")
            .expect("a complete HTTP response");
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let payload = if chunked {
            dechunk(payload)
        } else {
            payload.to_string()
        };
        let json = if payload.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{e}: {payload}"))
        };
        (status, json)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a chunked transfer coding.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

/// The last lines of a log file.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// `text` percent-encoded for a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `check` every 100 ms for up to 60 s until it gives a value; on timeout, fails with
/// the last state seen and the source's log.
fn eventually<T>(what: &str, source: &Server, mut check: impl FnMut() -> Result<T, String>) -> T {
    let mut last = String::new();
    for _ in 0..600 {
        match check() {
            Ok(value) => return value,
            Err(state) => last = state,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "timed out waiting for {what}; last seen: {last}\nsource log:\n{}",
        tail(&source.log)
    );
}

/// The configuration of a server on a free loopback port with its database and component
/// cache in `dir`, one tenant, and `rest` appended.
fn config(dir: &Path, name: &str, tenant: &str, token: &str, rest: &str) -> String {
    let dir = dir.display();
    format!(
        r#"[server]
listen = "127.0.0.1:0"

[database]
url = "sqlite:{dir}/{name}.db"

[runtime]
cache_dir = "{dir}/{name}-components"

[dispatcher]
poll_ms = 50

[[tenants]]
name = "{tenant}"

[[tenants.bearer]]
label = "client"
token = "literal:{token}"
{rest}"#
    )
}

/// The one user of the target server named `USER_NAME`, once it is there.
fn target_user(target: &Server) -> Result<Value, String> {
    let filter = encode(&format!("userName eq \"{USER_NAME}\""));
    let (status, body) = target.call(
        TARGET_TOKEN,
        "GET",
        &format!("/scim/v2/Users?filter={filter}"),
        None,
    );
    match body["Resources"].as_array().map(Vec::as_slice) {
        Some([user]) if status == 200 => Ok(user.clone()),
        _ => Err(format!("HTTP {status}: {body}")),
    }
}

#[test]
fn users_and_groups_written_to_one_server_reach_another_through_builtin_scim() {
    let dir = tempfile::tempdir().unwrap();
    let target = Server::start(
        dir.path(),
        "target",
        &config(dir.path(), "target", "downstream", TARGET_TOKEN, ""),
    );
    let outbound = format!(
        r#"
[[tenants.targets]]
name = "downstream-scim"
connector = "builtin:scim"

[tenants.targets.properties]
base-url = "http://{}/scim/v2"

[tenants.targets.secrets]
bearer-token = "literal:{TARGET_TOKEN}"

[tenants.targets.outbound]
backoff_base_ms = 100
backoff_cap_ms = 1000

[tenants.targets.egress]
allow_loopback = true
"#,
        target.addr
    );
    let source = Server::start(
        dir.path(),
        "source",
        &config(
            dir.path(),
            "source",
            "carbon.super",
            SOURCE_TOKEN,
            &outbound,
        ),
    );

    // Create, as Entra ID does.
    let (status, created) = source.call(
        SOURCE_TOKEN,
        "POST",
        "/scim/v2/Users",
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "externalId": "0b7c3c5e-entra",
            "userName": USER_NAME,
            "active": true,
            "displayName": "Ann Lee",
            "title": "Engineer",
            "name": {"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee"},
            "emails": [{"primary": true, "type": "work", "value": USER_NAME}]
        })),
    );
    assert_eq!(status, 201, "{created}");
    let source_id = created["id"].as_str().unwrap().to_string();

    let user = eventually("the user in the target", &source, || target_user(&target));
    let target_id = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["externalId"], source_id.as_str(), "{user}");
    assert_eq!(user["name"]["givenName"], "Ann", "{user}");
    assert_eq!(user["name"]["familyName"], "Lee", "{user}");
    assert_eq!(user["name"]["formatted"], "Ann Lee", "{user}");
    assert_eq!(user["displayName"], "Ann Lee", "{user}");
    assert_eq!(user["title"], "Engineer", "{user}");
    assert_eq!(user["active"], true, "{user}");
    let emails = user["emails"].as_array().expect("emails");
    assert_eq!(emails.len(), 1, "{user}");
    assert_eq!(emails[0]["type"], "work");
    assert_eq!(emails[0]["value"], USER_NAME);

    // Change the given name.
    let (status, body) = source.call(
        SOURCE_TOKEN,
        "PATCH",
        &format!("/scim/v2/Users/{source_id}"),
        Some(&json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": "name.givenName", "value": "Anne"}
        ]})),
    );
    assert_eq!(status, 200, "{body}");
    let user = eventually("the new given name in the target", &source, || {
        let user = target_user(&target)?;
        match user["name"]["givenName"].as_str() {
            Some("Anne") => Ok(user),
            _ => Err(user.to_string()),
        }
    });
    assert_eq!(
        user["id"],
        target_id.as_str(),
        "the same resource was patched"
    );
    assert_eq!(
        user["name"]["familyName"], "Lee",
        "untouched attributes stay"
    );
    assert_eq!(user["title"], "Engineer");

    // A group with the user.
    let (status, source_group) = source.call(
        SOURCE_TOKEN,
        "POST",
        "/scim/v2/Groups",
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineers",
            "members": [{"value": source_id}]
        })),
    );
    assert_eq!(status, 201, "{source_group}");
    let filter = encode("displayName eq \"Engineers\"");
    let group = eventually("the group with its member in the target", &source, || {
        let (status, body) = target.call(
            TARGET_TOKEN,
            "GET",
            &format!("/scim/v2/Groups?filter={filter}"),
            None,
        );
        match body["Resources"].as_array().map(Vec::as_slice) {
            Some([group]) if group["members"].as_array().is_some_and(|m| !m.is_empty()) => {
                Ok(group.clone())
            }
            _ => Err(format!("HTTP {status}: {body}")),
        }
    });
    let members = group["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{group}");
    assert_eq!(members[0]["value"], target_id.as_str(), "{group}");
    let target_group_id = group["id"].as_str().unwrap().to_string();

    // Rename the group: the same target group, renamed, its member kept.
    let (status, body) = source.call(
        SOURCE_TOKEN,
        "PATCH",
        &format!("/scim/v2/Groups/{}", source_group["id"].as_str().unwrap()),
        Some(&json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "displayName", "value": "Platform Engineers"}
        ]})),
    );
    assert_eq!(status, 200, "{body}");
    let renamed = eventually("the group renamed in the target", &source, || {
        let (status, body) = target.call(
            TARGET_TOKEN,
            "GET",
            &format!("/scim/v2/Groups/{target_group_id}"),
            None,
        );
        match body["displayName"].as_str() {
            Some("Platform Engineers") => Ok(body),
            _ => Err(format!("HTTP {status}: {body}")),
        }
    });
    assert_eq!(
        renamed["members"][0]["value"],
        target_id.as_str(),
        "{renamed}"
    );

    // Delete the user: deactivated in the target, not deleted.
    let (status, body) = source.call(
        SOURCE_TOKEN,
        "DELETE",
        &format!("/scim/v2/Users/{source_id}"),
        None,
    );
    assert_eq!(status, 204, "{body}");
    let user = eventually("the user inactive in the target", &source, || {
        let user = target_user(&target)?;
        match user["active"].as_bool() {
            Some(false) => Ok(user),
            _ => Err(user.to_string()),
        }
    });
    assert_eq!(user["id"], target_id.as_str());
    assert_eq!(user["name"]["givenName"], "Anne");
}
