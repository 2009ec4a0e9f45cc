//! Test support: the Salesforce emulator seen as the org a Salesforce target points at.

use provisioner_server::tutorial::SalesforceOrg;
use salesforce_emulator::Emulator;

/// The org facts of a running emulator: its URLs and the credentials it accepts.
pub fn org(emulator: &Emulator) -> SalesforceOrg {
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
