//! A small builder of [`Request`]s: URL joining with percent-encoding, headers, JSON bodies,
//! credentials by secret reference, and timeouts.
//!
//! ```
//! use provisioner_sdk::{Method, RequestBuilder};
//!
//! let request = RequestBuilder::get("https://api.example.com/v1")
//!     .segment("users")
//!     .query("userName", "ann smith/x")
//!     .bearer("api-token")
//!     .build();
//! assert_eq!(request.method, Method::Get);
//! assert_eq!(request.url, "https://api.example.com/v1/users?userName=ann%20smith%2Fx");
//! ```

use crate::{BasicCredential, Credential, Method, OauthGrant, Request, SecretHeader, SecretRef};

/// Builds a [`Request`]; convert it with [`RequestBuilder::build`] or pass it to
/// [`crate::Context::send`] as is.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    credential: Option<Credential>,
    timeout_ms: Option<u32>,
}

impl RequestBuilder {
    /// A `method` request to `url`, an absolute URL (a base to which segments are appended).
    pub fn new(method: Method, url: &str) -> Self {
        RequestBuilder {
            method,
            url: url.to_string(),
            query: vec![],
            headers: vec![],
            body: None,
            credential: None,
            timeout_ms: None,
        }
    }

    /// A GET request.
    pub fn get(url: &str) -> Self {
        Self::new(Method::Get, url)
    }

    /// A HEAD request.
    pub fn head(url: &str) -> Self {
        Self::new(Method::Head, url)
    }

    /// A POST request.
    pub fn post(url: &str) -> Self {
        Self::new(Method::Post, url)
    }

    /// A PUT request.
    pub fn put(url: &str) -> Self {
        Self::new(Method::Put, url)
    }

    /// A PATCH request.
    pub fn patch(url: &str) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A DELETE request.
    pub fn delete(url: &str) -> Self {
        Self::new(Method::Delete, url)
    }

    /// The request's method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Appends one path segment, percent-encoded (so `/`, `?`, `#` and spaces in ids are safe).
    pub fn segment(mut self, segment: &str) -> Self {
        if !self.url.ends_with('/') {
            self.url.push('/');
        }
        self.url.push_str(&encode(segment));
        self
    }

    /// Appends a query parameter; name and value are percent-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json(self, body: &serde_json::Value) -> Self {
        self.body(body.to_string().into_bytes(), "application/json")
    }

    /// Sets a body and its content type.
    pub fn body(mut self, body: Vec<u8>, content_type: &str) -> Self {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
        self.headers
            .push(("Content-Type".into(), content_type.to_string()));
        self.body = Some(body);
        self
    }

    /// `Authorization: Bearer <secret>`, the secret being the value of secret property
    /// `secret_key`; the host attaches it.
    pub fn bearer(self, secret_key: &str) -> Self {
        self.credential(Credential::Bearer(secret(secret_key)))
    }

    /// HTTP Basic with `username` and the secret property `password_key` as password.
    pub fn basic(self, username: &str, password_key: &str) -> Self {
        self.credential(Credential::Basic(BasicCredential {
            username: username.to_string(),
            password: secret(password_key),
        }))
    }

    /// A header `name` whose value is the secret property `secret_key`, e.g. an API key.
    pub fn secret_header(self, name: &str, secret_key: &str) -> Self {
        self.credential(Credential::Header(SecretHeader {
            name: name.to_string(),
            value: secret(secret_key),
        }))
    }

    /// `Authorization: Bearer <token>` with a token the host obtains by `grant` and caches.
    pub fn oauth(self, grant: OauthGrant) -> Self {
        self.credential(Credential::Oauth(grant))
    }

    /// Sets the credential the host attaches.
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Asks for a per-request timeout; the host caps it.
    pub fn timeout_ms(mut self, timeout_ms: u32) -> Self {
        self.timeout_ms = Some(timeout_ms);
        self
    }

    /// The request.
    pub fn build(self) -> Request {
        let mut url = self.url;
        for (i, (name, value)) in self.query.iter().enumerate() {
            let separator = if i == 0 && !url.contains('?') {
                '?'
            } else {
                '&'
            };
            url.push(separator);
            url.push_str(&encode(name));
            url.push('=');
            url.push_str(&encode(value));
        }
        Request {
            method: self.method,
            url,
            headers: self.headers,
            body: self.body,
            credential: self.credential,
            timeout_ms: self.timeout_ms,
        }
    }
}

impl From<RequestBuilder> for Request {
    fn from(builder: RequestBuilder) -> Self {
        builder.build()
    }
}

fn secret(key: &str) -> SecretRef {
    SecretRef {
        key: key.to_string(),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_queries_are_percent_encoded() {
        let r = RequestBuilder::delete("https://h/api/")
            .segment("a/b c")
            .segment("é?#")
            .query("q", "x&y=z")
            .query("n", "1")
            .build();
        assert_eq!(
            r.url,
            "https://h/api/a%2Fb%20c/%C3%A9%3F%23?q=x%26y%3Dz&n=1"
        );
        assert_eq!(r.method, Method::Delete);
        let existing = RequestBuilder::get("https://h/p?a=1")
            .query("b", "2")
            .build();
        assert_eq!(existing.url, "https://h/p?a=1&b=2");
    }

    #[test]
    fn json_sets_the_body_and_content_type_once() {
        let r = RequestBuilder::post("https://h")
            .header("content-type", "text/plain")
            .header("Accept", "application/json")
            .json(&serde_json::json!({"a": 1}))
            .timeout_ms(5000)
            .build();
        assert_eq!(r.body.as_deref(), Some(br#"{"a":1}"#.as_slice()));
        assert_eq!(
            r.headers,
            vec![
                ("Accept".to_string(), "application/json".to_string()),
                ("Content-Type".to_string(), "application/json".to_string()),
            ]
        );
        assert_eq!(r.timeout_ms, Some(5000));
    }

    #[test]
    fn credentials_name_secrets_by_key() {
        let bearer = RequestBuilder::get("https://h").bearer("api-token").build();
        assert_eq!(
            bearer.credential,
            Some(Credential::Bearer(SecretRef {
                key: "api-token".into()
            }))
        );
        match RequestBuilder::get("https://h")
            .basic("bob", "pw")
            .build()
            .credential
        {
            Some(Credential::Basic(b)) => assert_eq!(
                (b.username.as_str(), b.password.key.as_str()),
                ("bob", "pw")
            ),
            other => panic!("expected basic, got {other:?}"),
        }
        match RequestBuilder::get("https://h")
            .secret_header("X-Key", "k")
            .build()
            .credential
        {
            Some(Credential::Header(h)) => {
                assert_eq!((h.name.as_str(), h.value.key.as_str()), ("X-Key", "k"))
            }
            other => panic!("expected header, got {other:?}"),
        }
    }
}
