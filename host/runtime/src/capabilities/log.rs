//! The `log` import: guest log events into the host's `tracing`, tagged with tenant, target and
//! connector, with bounded sizes so a connector cannot flood the host's logs.

use provisioner_contract::Level;

use crate::answers::sanitize;

/// Longest message kept, in bytes; longer ones are cut (and the cut marked).
const MAX_MESSAGE_BYTES: usize = 2048;
/// Most fields kept per event.
const MAX_FIELDS: usize = 32;
/// Longest field name kept, in bytes.
const MAX_FIELD_NAME_BYTES: usize = 64;
/// Longest field value kept, in bytes.
const MAX_FIELD_VALUE_BYTES: usize = 512;
/// Most events accepted per call; later ones are counted and dropped.
const MAX_EVENTS_PER_CALL: u32 = 1000;
/// Most bytes (messages and fields, after cutting) emitted per call; later events are dropped.
const MAX_BYTES_PER_CALL: usize = 64 * 1024;

/// The `log` import as seen by one call.
#[derive(Clone, Debug)]
pub(crate) struct LogCapability {
    tenant: String,
    target: String,
    connector: String,
    events: u32,
    bytes: usize,
    dropped: bool,
}

impl LogCapability {
    /// Logging for a call of `connector` on behalf of a tenant's target.
    pub fn new(tenant: &str, target: &str, connector: &str) -> Self {
        Self {
            tenant: tenant.into(),
            target: target.into(),
            connector: connector.into(),
            events: 0,
            bytes: 0,
            dropped: false,
        }
    }

    /// Implements `log.log`. Control characters are escaped, so a guest cannot start a line of
    /// its own in the host's log.
    pub fn log(&mut self, level: Level, message: &str, fields: &[(String, String)]) {
        self.events += 1;
        if self.events > MAX_EVENTS_PER_CALL {
            self.drop_rest(&format!("{MAX_EVENTS_PER_CALL} events"));
            return;
        }
        let message = sanitize(message, MAX_MESSAGE_BYTES);
        let mut rendered = String::new();
        for (name, value) in fields.iter().take(MAX_FIELDS) {
            if !rendered.is_empty() {
                rendered.push(' ');
            }
            rendered.push_str(&sanitize(name, MAX_FIELD_NAME_BYTES));
            rendered.push_str("=\"");
            rendered.push_str(&sanitize(value, MAX_FIELD_VALUE_BYTES).replace('"', "\\\""));
            rendered.push('"');
        }
        if fields.len() > MAX_FIELDS {
            rendered.push_str(&format!(" …({} more fields)", fields.len() - MAX_FIELDS));
        }
        self.bytes += message.len() + rendered.len();
        if self.bytes > MAX_BYTES_PER_CALL {
            self.drop_rest(&format!("{MAX_BYTES_PER_CALL} bytes"));
            return;
        }
        self.emit(level, &message, &rendered);
    }

    /// Says once per call that the rest of the guest's log events are dropped.
    fn drop_rest(&mut self, limit: &str) {
        if !self.dropped {
            self.dropped = true;
            tracing::warn!(
                target: "provisioner::guest",
                tenant = %self.tenant, target_name = %self.target, connector = %self.connector,
                "connector log limit of {limit} per call reached; dropping the rest"
            );
        }
    }

    /// Emits one line of captured guest stdout/stderr (already bounded by the capture).
    pub fn output(&self, stream: &str, line: &str) {
        tracing::info!(
            target: "provisioner::guest",
            tenant = %self.tenant, target_name = %self.target, connector = %self.connector,
            stream, "{}", sanitize(line, MAX_MESSAGE_BYTES)
        );
    }

    fn emit(&self, level: Level, message: &str, fields: &str) {
        macro_rules! event {
            ($lvl:expr) => {
                tracing::event!(
                    target: "provisioner::guest",
                    $lvl,
                    tenant = %self.tenant, target_name = %self.target, connector = %self.connector,
                    fields = %fields, "{message}"
                )
            };
        }
        match level {
            Level::Trace => event!(tracing::Level::TRACE),
            Level::Debug => event!(tracing::Level::DEBUG),
            Level::Info => event!(tracing::Level::INFO),
            Level::Warn => event!(tracing::Level::WARN),
            Level::Error => event!(tracing::Level::ERROR),
        }
    }
}
