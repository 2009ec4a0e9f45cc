//! Where and how the command logs: to standard error, filtered by `RUST_LOG` (default `warn`),
//! as human-readable text or, for log collectors, one JSON object per line
//! (`provisioner serve --log-format json`, or `PROVISIONER_LOG_FORMAT=json` for any command).
//! A JSON line carries the event's fields flattened at the top level and the spans it happened
//! in (`spans`), so a request's `request_id` and a job's `job` and `request_id` are on every
//! line logged inside them.

use clap::ValueEnum;

/// The environment variable that chooses the log format when no flag does.
pub const ENV_LOG_FORMAT: &str = "PROVISIONER_LOG_FORMAT";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The format a flag asks for, else the one [`ENV_LOG_FORMAT`] names, else text.
pub fn choose(flag: Option<LogFormat>, env: Option<String>) -> anyhow::Result<LogFormat> {
    if let Some(format) = flag {
        return Ok(format);
    }
    match env.as_deref().map(str::trim) {
        None | Some("") => Ok(LogFormat::Text),
        Some(value) => LogFormat::from_str(value, true).map_err(|_| {
            anyhow::anyhow!("{ENV_LOG_FORMAT}=`{value}` is not a log format; use `text` or `json`")
        }),
    }
}

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_environment_then_text() {
        let json = Some("json".to_owned());
        assert_eq!(
            choose(Some(LogFormat::Text), json.clone()).unwrap(),
            LogFormat::Text
        );
        assert_eq!(choose(None, json).unwrap(), LogFormat::Json);
        assert_eq!(choose(None, Some("JSON".into())).unwrap(), LogFormat::Json);
        assert_eq!(choose(None, None).unwrap(), LogFormat::Text);
        let error = choose(None, Some("yaml".into())).unwrap_err().to_string();
        assert!(error.contains("PROVISIONER_LOG_FORMAT=`yaml`") && error.contains("json"));
    }
}
