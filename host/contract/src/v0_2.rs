//! Contract 0.2.0 (`wit/v0.2`), the newest: generated bindings used as they are.
//!
//! The generated records and variants also derive `serde` and `PartialEq`, so the rest of the
//! host (the engine, the CLI) can store and print entities and outcomes as they are.

// Generated items carry the WIT documentation, but not every one has some.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "connector",
    path: "../../wit/v0.2",
    imports: { default: async },
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});
