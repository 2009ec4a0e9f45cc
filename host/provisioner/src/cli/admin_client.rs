//! A client of a running server's admin API (`/admin/v1`), for the operational commands.
//!
//! Credentials come from the environment, never from the command line (where other users of
//! the machine could read them): `PROVISIONER_ADMIN_TOKEN` (Bearer), or
//! `PROVISIONER_ADMIN_USER` with `PROVISIONER_ADMIN_PASSWORD` (Basic).

use anyhow::{anyhow, bail, Context};
use provisioner_server::admin::ErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The environment variable holding an admin API Bearer token.
pub const TOKEN_ENV: &str = "PROVISIONER_ADMIN_TOKEN";
/// The environment variable holding an admin user name (with [`PASSWORD_ENV`]).
pub const USER_ENV: &str = "PROVISIONER_ADMIN_USER";
/// The environment variable holding that admin user's password.
pub const PASSWORD_ENV: &str = "PROVISIONER_ADMIN_PASSWORD";

enum Credential {
    Bearer(String),
    Basic { user: String, password: String },
}

/// A client of one server's admin API.
pub struct AdminClient {
    base: url::Url,
    http: reqwest::Client,
    credential: Credential,
}

impl AdminClient {
    /// A client of the server at `server` (e.g. `http://127.0.0.1:9443`), with credentials
    /// from the environment.
    pub fn from_env(server: &str) -> anyhow::Result<Self> {
        let credential = match (
            std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()),
            std::env::var(USER_ENV).ok().filter(|u| !u.is_empty()),
        ) {
            (Some(token), _) => Credential::Bearer(token),
            (None, Some(user)) => Credential::Basic {
                user,
                password: std::env::var(PASSWORD_ENV).with_context(|| {
                    format!("{USER_ENV} is set but {PASSWORD_ENV} is not: set the admin user's password there")
                })?,
            },
            (None, None) => bail!(
                "no admin API credentials: set {TOKEN_ENV} (a token of `[[admin.tokens]]`), or \
                 {USER_ENV} and {PASSWORD_ENV} (an `[[admin.users]]` entry; the quickstart \
                 server prints one)"
            ),
        };
        let mut base = url::Url::parse(server).with_context(|| {
            format!("--server {server} is not a URL, e.g. http://127.0.0.1:9443")
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            bail!("--server {server}: give an http:// or https:// URL");
        }
        base.set_query(None);
        base.set_fragment(None);
        Ok(AdminClient {
            base,
            http: reqwest::Client::new(),
            credential,
        })
    }

    /// The URL of the admin API path made of `segments` (each percent-encoded).
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> url::Url {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().expect("http(s) URLs have paths");
            path.pop_if_empty().extend(["admin", "v1"]).extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        what: &url::Url,
    ) -> anyhow::Result<T> {
        let request = match &self.credential {
            Credential::Bearer(token) => request.bearer_auth(token),
            Credential::Basic { user, password } => request.basic_auth(user, Some(password)),
        };
        let response = request.send().await.with_context(|| {
            format!("cannot reach the admin API at {what}: is the server running there?")
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("reading {what}"))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                anyhow!(
                    "{what} answered {status} with a body this command cannot read ({e}); is the \
                     server the same version as this command?"
                )
            });
        }
        let detail = serde_json::from_slice::<ErrorBody>(&body)
            .map(|e| e.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).chars().take(300).collect());
        Err(match status.as_u16() {
            401 => anyhow!(
                "the admin API refused the credentials ({detail}): check {TOKEN_ENV}, or {USER_ENV} and {PASSWORD_ENV}"
            ),
            _ => anyhow!("the admin API answered {status}: {detail}"),
        })
    }

    /// `GET` a JSON resource.
    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let url = self.url(segments, query);
        self.send(self.http.get(url.clone()), &url).await
    }

    /// `DELETE` a resource and read the JSON answer.
    pub async fn delete<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let url = self.url(segments, query);
        self.send(self.http.delete(url.clone()), &url).await
    }

    /// `POST` a JSON body and read the JSON answer.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> anyhow::Result<T> {
        let url = self.url(segments, &[]);
        self.send(self.http.post(url.clone()).json(body), &url)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_under_the_admin_prefix() {
        let client = AdminClient {
            base: url::Url::parse("http://127.0.0.1:8080/").unwrap(),
            http: reqwest::Client::new(),
            credential: Credential::Bearer("t".into()),
        };
        let url = client.url(
            &["tenants", "carbon.super", "targets", "a b/c"],
            &[("state", "dead".into())],
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/admin/v1/tenants/carbon.super/targets/a%20b%2Fc?state=dead"
        );
    }
}
