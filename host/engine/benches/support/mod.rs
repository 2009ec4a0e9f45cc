//! What the store benches share: sizes from the environment, a bench target, the median.
#![allow(dead_code)]

use std::collections::BTreeMap;

use provisioner_engine::store::{OutboundSettings, TargetSpec};

/// The comma-separated numbers in the environment variable `name`, else `default`.
pub fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// A target of tenant `t` with a connector no bench calls.
pub fn spec(name: &str) -> TargetSpec {
    TargetSpec {
        tenant: "t".into(),
        name: name.into(),
        connector: "fake".into(),
        properties: BTreeMap::new(),
        secret_refs: BTreeMap::new(),
        claim_mappings: vec![],
        settings: OutboundSettings::default(),
        egress: Default::default(),
    }
}

/// The median of `samples`.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
