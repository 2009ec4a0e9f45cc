//! Egress policy: which origins a target may reach, and which resolved addresses it may use.
//!
//! Two layers, as in Spin and wasmCloud: the request URL's origin must be one of the target's
//! configured endpoints (the origins of its `url` properties), and every address the host name
//! resolves to must be public unless the tenant's [`EgressPolicy`] allows loopback or private
//! networks. The address check happens in the transport's resolver, on the very addresses it
//! connects to, so a host name cannot be re-pointed between check and use.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};
use url::Url;

use provisioner_contract::HttpError;

use super::origin::Origin;
use super::secrets::TargetSecrets;

/// Which non-public destinations a target may reach. The default allows neither.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct EgressPolicy {
    /// Allow loopback addresses (`127.0.0.0/8`, `::1`, `0.0.0.0`): tests and the quickstart.
    pub allow_loopback: bool,
    /// Allow private, shared and link-local networks (`10/8`, `172.16/12`, `192.168/16`,
    /// `100.64/10`, `169.254/16`, `fc00::/7`, `fe80::/10`): targets on an internal network.
    pub allow_private: bool,
}

impl EgressPolicy {
    /// A policy that allows loopback (and nothing else non-public); for tests and local runs.
    pub fn loopback() -> Self {
        Self {
            allow_loopback: true,
            allow_private: false,
        }
    }

    /// Why `ip` is refused under this policy, or `None` when it is allowed.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        match classify(ip) {
            AddressClass::Public => None,
            AddressClass::Loopback if self.allow_loopback => None,
            AddressClass::Loopback => Some("a loopback address"),
            AddressClass::Private if self.allow_private => None,
            AddressClass::Private => Some("a private or link-local address"),
            AddressClass::Never => Some("a multicast, broadcast or reserved address"),
        }
    }
}

/// Where an address points, for policy purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddressClass {
    Public,
    Loopback,
    Private,
    Never,
}

fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let seg = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its low bits.
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                return classify_v4(Ipv4Addr::new(a, b, c, d));
            }
            if v6.is_loopback() || v6.is_unspecified() {
                AddressClass::Loopback
            } else if v6.is_multicast() {
                AddressClass::Never
            } else if (seg[0] & 0xfe00) == 0xfc00 || (seg[0] & 0xffc0) == 0xfe80 {
                AddressClass::Private
            } else {
                AddressClass::Public
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() || ip.is_unspecified() || a == 0 {
        AddressClass::Loopback
    } else if ip.is_private() || ip.is_link_local() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        AddressClass::Never
    } else {
        AddressClass::Public
    }
}

/// The set of origins one target may reach: the origins of the `url` properties the operator
/// set. Origins of URL defaults the connector declared are remembered only to explain a denial.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    origins: Vec<Origin>,
    /// `(property key, origin)` of URL properties left at the connector's default.
    defaulted: Vec<(String, Origin)>,
}

impl AllowList {
    /// An allow-list of the given origins.
    pub fn new(origins: impl IntoIterator<Item = Origin>) -> Self {
        let mut list = Vec::new();
        for origin in origins {
            if !list.contains(&origin) {
                list.push(origin);
            }
        }
        Self {
            origins: list,
            defaulted: Vec::new(),
        }
    }

    /// Records URL properties left at the connector's default (builder style); they are not
    /// allowed, but a denial names the property the operator would have to set.
    pub fn with_defaulted(mut self, defaulted: Vec<(String, Origin)>) -> Self {
        self.defaulted = defaulted;
        self
    }

    /// The allowed origins.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// Whether `origin` is allowed.
    pub fn contains(&self, origin: &Origin) -> bool {
        self.origins.contains(origin)
    }

    /// Parses `url` and checks it against the list. The error is an `http-error` naming the rule.
    pub fn check(&self, url: &str) -> Result<(Url, Origin), HttpError> {
        let parsed = Url::parse(url)
            .map_err(|e| HttpError::InvalidRequest(format!("invalid URL `{url}`: {e}")))?;
        let origin = Origin::of(&parsed).map_err(|e| {
            HttpError::Denied(format!(
                "URL `{}` refused: {e}",
                parsed.origin().ascii_serialization()
            ))
        })?;
        if self.origins.contains(&origin) {
            return Ok((parsed, origin));
        }
        let allowed: Vec<String> = self.origins.iter().map(ToString::to_string).collect();
        let mut message = format!(
            "egress denied: origin {origin} is not among this target's configured endpoints: [{}]",
            allowed.join(", ")
        );
        if let Some((key, _)) = self.defaulted.iter().find(|(_, o)| *o == origin) {
            message.push_str(&format!(
                "; it is the connector's default for `{key}`, and defaults never widen egress: \
                 the operator must set `{key}` for this target to reach it"
            ));
        }
        Err(HttpError::Denied(message))
    }
}

/// What one target may reach and with which secrets; shared by all calls of the target.
#[derive(Debug)]
pub(crate) struct TargetEgress {
    pub tenant: String,
    pub target: String,
    pub connector: String,
    pub allow: AllowList,
    pub policy: EgressPolicy,
    pub secrets: TargetSecrets,
    /// CA certificates the target trusts besides the built-in roots.
    pub ca_bundle: Option<super::trust::CaBundle>,
}

impl TargetEgress {
    /// What the target may reach and where its secrets may go, for operators.
    pub fn report(&self) -> EgressReport {
        let strings = |origins: &[Origin]| origins.iter().map(ToString::to_string).collect();
        EgressReport {
            origins: strings(self.allow.origins()),
            defaulted: self
                .allow
                .defaulted
                .iter()
                .map(|(key, origin)| (key.clone(), origin.to_string()))
                .collect(),
            secrets: self
                .secrets
                .bindings()
                .map(|(key, origins)| (key.to_string(), strings(origins)))
                .collect(),
            secret_headers: std::iter::once("authorization")
                .chain(self.secrets.header_names())
                .map(str::to_string)
                .collect(),
            policy: self.policy,
        }
    }
}

/// A target's effective egress, as shown to operators before they enable it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EgressReport {
    /// Origins the connector may send requests to.
    pub origins: Vec<String>,
    /// `(property, origin)` of URL properties left at the connector's default: not reachable
    /// until the operator sets them.
    pub defaulted: Vec<(String, String)>,
    /// Each configured secret and the origins it may be sent to.
    pub secrets: Vec<(String, Vec<String>)>,
    /// Header names a secret may be injected into.
    pub secret_headers: Vec<String>,
    /// Which non-public addresses the target may reach.
    pub policy: EgressPolicy,
}

impl fmt::Display for EgressReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = |list: &[String]| {
            if list.is_empty() {
                "(none)".to_string()
            } else {
                list.join(", ")
            }
        };
        writeln!(f, "may reach: {}", none(&self.origins))?;
        for (key, origin) in &self.defaulted {
            writeln!(
                f,
                "not reachable: {origin} (connector default of `{key}`; set `{key}` to allow it)"
            )?;
        }
        for (key, origins) in &self.secrets {
            writeln!(f, "secret `{key}` may go to: {}", none(origins))?;
        }
        writeln!(
            f,
            "secrets may be injected into headers: {}",
            self.secret_headers.join(", ")
        )?;
        write!(
            f,
            "non-public addresses: loopback {}, private networks {}",
            if self.policy.allow_loopback {
                "allowed"
            } else {
                "refused"
            },
            if self.policy.allow_private {
                "allowed"
            } else {
                "refused"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let p = EgressPolicy::default();
        for ip in [
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "fe80::1",
            "fd00::1",
            "100.64.0.1",
            "224.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(
                p.refusal(ip.parse().unwrap()).is_some(),
                "{ip} should be refused"
            );
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(
                p.refusal(ip.parse().unwrap()).is_none(),
                "{ip} should be allowed"
            );
        }
        let lo = EgressPolicy::loopback();
        assert!(lo.refusal("127.0.0.1".parse().unwrap()).is_none());
        assert!(lo.refusal("10.0.0.1".parse().unwrap()).is_some());
    }

    #[test]
    fn allow_list_matches_origins() {
        let list =
            AllowList::new([Origin::of(&Url::parse("https://example.com/api").unwrap()).unwrap()]);
        assert!(list.check("https://example.com:443/x?y").is_ok());
        assert!(list.check("https://EXAMPLE.com/z").is_ok());
        assert!(matches!(
            list.check("http://example.com/x"),
            Err(HttpError::Denied(_))
        ));
        assert!(matches!(
            list.check("https://example.com:8443/x"),
            Err(HttpError::Denied(_))
        ));
        assert!(matches!(
            list.check("https://user:pw@example.com/x"),
            Err(HttpError::Denied(_))
        ));
        assert!(matches!(
            list.check("file:///etc/passwd"),
            Err(HttpError::Denied(_))
        ));
        assert!(matches!(
            list.check("not a url"),
            Err(HttpError::InvalidRequest(_))
        ));
        let Err(HttpError::Denied(msg)) = list.check("https://evil.test/") else {
            panic!()
        };
        assert!(
            msg.contains("https://evil.test") && msg.contains("[https://example.com]"),
            "{msg}"
        );
    }
}
