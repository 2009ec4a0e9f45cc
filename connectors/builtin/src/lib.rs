//! The connectors that travel inside the provisioner binary.
//!
//! Each is a component compiled from this repository's sources by the build script and embedded
//! as bytes, so an installed `provisioner` needs no source tree or component file: a target whose
//! connector is `builtin:<name>` loads these bytes (compiled on first use into the runtime's
//! artifact cache). This crate depends on nothing at run time.

/// The prefix of a built-in connector reference, e.g. `builtin:salesforce`.
pub const PREFIX: &str = "builtin:";

/// One embedded connector.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// Its name, as in `builtin:<name>`.
    pub name: &'static str,
    /// The component bytes.
    pub bytes: &'static [u8],
}

/// The Salesforce connector (contract 0.2.0).
pub const SALESFORCE: Builtin = Builtin {
    name: "salesforce",
    bytes: include_bytes!(concat!(env!("OUT_DIR"), "/salesforce.wasm")),
};

/// The generic SCIM 2.0 connector (contract 0.2.0): users and groups into any SCIM service.
pub const SCIM: Builtin = Builtin {
    name: "scim",
    bytes: include_bytes!(concat!(env!("OUT_DIR"), "/scim.wasm")),
};

/// Every built-in connector.
pub const ALL: &[Builtin] = &[SALESFORCE, SCIM];

/// The built-in connector named by `reference` (`builtin:<name>`), if there is one.
pub fn lookup(reference: &str) -> Option<Builtin> {
    let name = reference.strip_prefix(PREFIX)?;
    ALL.iter().copied().find(|builtin| builtin.name == name)
}

/// The names of every built-in connector as references, for error messages.
pub fn references() -> Vec<String> {
    ALL.iter().map(|b| format!("{PREFIX}{}", b.name)).collect()
}
