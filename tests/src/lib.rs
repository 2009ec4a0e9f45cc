//! End-to-end tests (`tests/`) and benchmarks (`benches/`) of the provisioning host, run against
//! real components: the Salesforce connector compiled to wasm, the sandbox runtime, and the
//! Salesforce emulator over loopback HTTP.
