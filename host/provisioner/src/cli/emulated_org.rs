//! The embedded Salesforce emulator seen as a Salesforce org (quickstart commands only).

use provisioner_server::tutorial::SalesforceOrg;
use salesforce_emulator::Emulator;

/// The org facts of a running emulator: its URLs and the credentials it accepts.
pub fn salesforce_org(emulator: &Emulator) -> SalesforceOrg {
    let config = emulator.config();
    SalesforceOrg {
        domain: emulator.base_url().to_string(),
        token_endpoint: emulator.token_url(),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        username: config.username.clone(),
        password_and_token: config.expected_password(),
    }
}

/// A curl that lists the emulated org's users through the emulator's control API, with its
/// control token.
pub fn users_curl(emulator: &Emulator) -> String {
    let auth = emulator
        .control_token()
        .map(|token| format!("-H \"Authorization: Bearer {token}\" "))
        .unwrap_or_default();
    format!("curl {auth}{}/__emulator__/users", emulator.base_url())
}
