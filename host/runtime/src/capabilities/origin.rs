//! Origins (scheme, host, port): the unit in which egress and secret bindings are granted.

use std::fmt;

use url::Url;

/// One origin: scheme, host and port, as in `https://login.salesforce.com`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(url::Origin);

impl Origin {
    /// The origin of an absolute `http`/`https` URL without user info.
    pub fn of(url: &Url) -> Result<Self, String> {
        check_url_shape(url)?;
        Ok(Self(url.origin()))
    }

    /// Parses `text` as a URL (an origin alone, such as `https://example.com`, is one) and
    /// returns its origin.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text.trim()).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        Self::of(&url)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.ascii_serialization())
    }
}

/// Checks what every URL the host sends to must look like.
pub(crate) fn check_url_shape(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "scheme `{other}` is not allowed; use http or https"
            ))
        }
    }
    if url.host().is_none() {
        return Err("the URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL may not carry user info; use a credential".into());
    }
    Ok(())
}
