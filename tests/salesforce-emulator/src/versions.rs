//! API versions: the `/services/data/` listing, `latest`, retired (410) and unknown (404) versions.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::config::EmulatorConfig;
use crate::response::ApiError;

/// Oldest version that ever existed; versions from here up to the supported floor are retired.
pub const FIRST_API_VERSION: u32 = 7;

/// The release label of a version (§6): `41` is "Winter '18", `68` is "Winter '27".
pub fn label(major: u32) -> String {
    let k = major.saturating_sub(31);
    let season = ["Summer", "Winter", "Spring"][(k % 3) as usize];
    let year = 14 + k.div_ceil(3);
    format!("{season} '{year:02}")
}

/// The body of `GET /services/data/`: supported versions, oldest first.
pub fn listing(config: &EmulatorConfig) -> Value {
    Value::Array(
        (config.oldest_api_version..=config.latest_api_version)
            .map(|v| {
                json!({
                    "label": label(v),
                    "url": format!("/services/data/v{v}.0"),
                    "version": format!("{v}.0"),
                })
            })
            .collect(),
    )
}

/// Resolves a path segment (`v62.0` or `latest`) to the canonical `vNN.0` string.
pub fn resolve(segment: &str, config: &EmulatorConfig) -> Result<String, ApiError> {
    if segment.eq_ignore_ascii_case("latest") {
        return Ok(format!("v{}.0", config.latest_api_version));
    }
    let parsed = segment
        .strip_prefix('v')
        .and_then(|s| s.split_once('.'))
        .filter(|(_, minor)| *minor == "0")
        .and_then(|(major, _)| major.parse::<u32>().ok());
    match parsed {
        Some(v) if (config.oldest_api_version..=config.latest_api_version).contains(&v) => {
            Ok(format!("v{v}.0"))
        }
        Some(v) if (FIRST_API_VERSION..config.oldest_api_version).contains(&v) => Err(ApiError::new(
            StatusCode::GONE,
            "API_VERSION_RETIRED",
            format!("API version {v}.0 has been retired and is no longer available. Use a supported API version."),
        )),
        _ => Err(ApiError::not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label(31), "Summer '14");
        assert_eq!(label(41), "Winter '18");
        assert_eq!(label(62), "Winter '25");
        assert_eq!(label(66), "Spring '26");
        assert_eq!(label(67), "Summer '26");
        assert_eq!(label(68), "Winter '27");
    }

    #[test]
    fn resolution() {
        let c = EmulatorConfig::default();
        assert_eq!(resolve("v62.0", &c).unwrap(), "v62.0");
        assert_eq!(resolve("latest", &c).unwrap(), "v68.0");
        assert_eq!(resolve("v30.0", &c).unwrap_err().status, StatusCode::GONE);
        assert_eq!(
            resolve("v1.0", &c).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            resolve("v69.0", &c).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            resolve("v62.5", &c).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
    }
}
