//! The OAuth grant the host uses for every data request, built from the settings.
//!
//! The connector never sees secret values or tokens: it names the secret properties and the host
//! obtains, caches and attaches the access token.

use crate::schema;
use crate::settings::{AuthFlow, Settings};
use provisioner_sdk::{
    ClientCredentialsGrant, Credential, JwtBearerGrant, OauthGrant, PasswordGrant, SecretRef,
};

/// Lifetime of JWT bearer assertions; Salesforce expects about three minutes.
pub const JWT_LIFETIME_SECONDS: u32 = 180;

/// The grant for the configured flow.
pub fn grant(settings: &Settings) -> OauthGrant {
    let secret = |r: &Option<SecretRef>, key: &str| {
        r.clone().unwrap_or_else(|| SecretRef { key: key.into() })
    };
    match settings.auth_flow {
        AuthFlow::ClientCredentials => OauthGrant::ClientCredentials(ClientCredentialsGrant {
            token_url: settings.token_endpoint.clone(),
            client_id: settings.client_id.clone(),
            client_secret: secret(&settings.client_secret, schema::CLIENT_SECRET),
            use_basic_auth: false,
        }),
        AuthFlow::Password => OauthGrant::Password(PasswordGrant {
            token_url: settings.token_endpoint.clone(),
            client_id: settings.client_id.clone(),
            client_secret: secret(&settings.client_secret, schema::CLIENT_SECRET),
            username: settings.username.clone().unwrap_or_default(),
            password: secret(&settings.password, schema::PASSWORD),
        }),
        AuthFlow::JwtBearer => OauthGrant::JwtBearer(JwtBearerGrant {
            token_url: settings.token_endpoint.clone(),
            issuer: settings.client_id.clone(),
            subject: settings.username.clone().unwrap_or_default(),
            audience: settings.jwt_audience.clone(),
            private_key: secret(&settings.private_key, schema::PRIVATE_KEY),
            lifetime_seconds: JWT_LIFETIME_SECONDS,
        }),
    }
}

/// The credential attached to every data request.
pub fn credential(grant: &OauthGrant) -> Credential {
    Credential::Oauth(grant.clone())
}
