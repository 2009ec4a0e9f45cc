//! The `log` import: guest log events into the host's `tracing`, tagged with tenant, target and
//! connector, with bounded sizes so a connector cannot flood the host's logs.

use provisioner_contract::Level;

/// Longest message kept, in bytes; longer ones are cut.
const MAX_MESSAGE_BYTES: usize = 4096;
/// Most fields kept per event.
const MAX_FIELDS: usize = 32;
/// Longest field name or value kept, in bytes.
const MAX_FIELD_BYTES: usize = 1024;
/// Most events accepted per call; later ones are counted and dropped.
const MAX_EVENTS_PER_CALL: u32 = 1000;

/// The `log` import as seen by one call.
#[derive(Clone, Debug)]
pub(crate) struct LogCapability {
    tenant: String,
    target: String,
    connector: String,
    events: u32,
}

impl LogCapability {
    /// Logging for a call of `connector` on behalf of a tenant's target.
    pub fn new(tenant: &str, target: &str, connector: &str) -> Self {
        Self {
            tenant: tenant.into(),
            target: target.into(),
            connector: connector.into(),
            events: 0,
        }
    }

    /// Implements `log.log`.
    pub fn log(&mut self, level: Level, message: &str, fields: &[(String, String)]) {
        self.events += 1;
        if self.events > MAX_EVENTS_PER_CALL {
            if self.events == MAX_EVENTS_PER_CALL + 1 {
                tracing::warn!(
                    target: "provisioner::guest",
                    tenant = %self.tenant, target_name = %self.target, connector = %self.connector,
                    "connector log limit of {MAX_EVENTS_PER_CALL} events per call reached; dropping the rest"
                );
            }
            return;
        }
        let message = truncate(message, MAX_MESSAGE_BYTES);
        let mut rendered = String::new();
        for (name, value) in fields.iter().take(MAX_FIELDS) {
            if !rendered.is_empty() {
                rendered.push(' ');
            }
            rendered.push_str(truncate(name, MAX_FIELD_BYTES));
            rendered.push('=');
            rendered.push_str(&format!("{:?}", truncate(value, MAX_FIELD_BYTES)));
        }
        if fields.len() > MAX_FIELDS {
            rendered.push_str(&format!(" …({} more fields)", fields.len() - MAX_FIELDS));
        }
        self.emit(level, message, &rendered);
    }

    /// Emits one line of captured guest stdout/stderr.
    pub fn output(&self, stream: &str, line: &str) {
        tracing::info!(
            target: "provisioner::guest",
            tenant = %self.tenant, target_name = %self.target, connector = %self.connector,
            stream, "{}", truncate(line, MAX_MESSAGE_BYTES)
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

/// `text` cut to at most `max` bytes on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
