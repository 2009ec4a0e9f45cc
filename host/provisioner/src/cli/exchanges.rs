//! Printing the HTTP exchanges a connector causes, as they happen (secrets already redacted by
//! the runtime): the quickstart and `connector invoke` show them.

use provisioner_runtime::{Exchange, ExchangeKind, HttpObserver};

/// Prints each exchange to stdout, every line after `indent`.
pub struct ExchangePrinter {
    /// Put before every line.
    pub indent: &'static str,
}

impl HttpObserver for ExchangePrinter {
    fn on_exchange(&self, exchange: &Exchange) {
        let i = self.indent;
        let kind = match exchange.kind {
            ExchangeKind::Api => "connector",
            ExchangeKind::Token => "host token request",
        };
        println!("{i}-> {} {}   ({kind})", exchange.method, exchange.url);
        for (name, value) in &exchange.request_headers {
            println!("{i}     {name}: {value}");
        }
        if !exchange.request_body.is_empty() {
            println!(
                "{i}     {}",
                String::from_utf8_lossy(&exchange.request_body)
            );
        }
        match (exchange.status, &exchange.error) {
            (Some(status), _) => println!(
                "{i}<- {status} ({} bytes, {} ms)",
                exchange.response_bytes,
                exchange.duration.as_millis()
            ),
            (None, Some(error)) => println!("{i}<- no response: {error}"),
            (None, None) => println!("{i}<- no response"),
        }
    }
}
