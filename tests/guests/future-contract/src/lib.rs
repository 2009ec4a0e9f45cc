//! Test component built for a contract version this host does not support: it exports
//! `provisioning:connector/provisioning@0.3.0` (an inline WIT, not a real contract) with a single
//! `metadata` function. It is only a fixture: the host must refuse it at load, from the contract
//! version it exports, without instantiating or calling it.

wit_bindgen::generate!({
    inline: r#"
        package provisioning:connector@0.3.0;

        interface provisioning {
            metadata: func() -> string;
        }

        world connector {
            export provisioning;
        }
    "#,
});

use exports::provisioning::connector::provisioning::Guest;

struct Future;

impl Guest for Future {
    fn metadata() -> String {
        "future-contract".into()
    }
}

#[cfg(target_arch = "wasm32")]
export!(Future);
