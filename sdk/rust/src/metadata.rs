//! Short builders for the connector's metadata and configuration schema.
//!
//! ```
//! use provisioner_sdk::{ConfigProperty, ConnectorMetadata};
//!
//! let metadata = ConnectorMetadata::new("acme", "Acme", "0.1.0", "Provisions users into Acme.")
//!     .property(
//!         ConfigProperty::url("endpoint")
//!             .label("Endpoint")
//!             .description("Base URL of Acme's REST API.")
//!             .required(),
//!     )
//!     .property(ConfigProperty::secret("api-token").description("Acme API token."));
//! assert_eq!(metadata.properties.len(), 2);
//! assert!(metadata.properties[0].required && !metadata.properties[0].secret);
//! assert!(metadata.properties[1].secret);
//!
//! let key = ConfigProperty::multiline("private-key").as_secret();
//! assert!(key.secret && key.kind == provisioner_sdk::PropertyKind::MultilineText);
//! let mode = ConfigProperty::choice("mode", &["a", "b"]).default_value("a");
//! assert_eq!((mode.options.len(), mode.default_value.as_deref()), (2, Some("a")));
//! ```

use crate::{ConfigProperty, ConnectorMetadata, EntityKind, PropertyKind};

impl ConnectorMetadata {
    /// Metadata for a connector of users only, taking one change per call and no properties
    /// yet; chain the other builders to change that.
    pub fn new(id: &str, name: &str, version: &str, description: &str) -> Self {
        ConnectorMetadata {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            description: description.into(),
            entity_kinds: vec![EntityKind::User],
            properties: vec![],
            max_batch_size: 1,
        }
    }

    /// Sets the entity kinds provisioned; others are answered `unsupported`.
    pub fn entity_kinds(mut self, kinds: &[EntityKind]) -> Self {
        self.entity_kinds = kinds.to_vec();
        self
    }

    /// Adds a configuration property.
    pub fn property(mut self, property: ConfigProperty) -> Self {
        self.properties.push(property);
        self
    }

    /// Sets the most changes accepted in one `provision-batch` call.
    pub fn max_batch_size(mut self, size: u32) -> Self {
        self.max_batch_size = size;
        self
    }
}

impl ConfigProperty {
    /// An optional, non-secret property of `kind`, labelled with its key.
    pub fn new(key: &str, kind: PropertyKind) -> Self {
        ConfigProperty {
            key: key.into(),
            label: key.into(),
            description: String::new(),
            kind,
            required: false,
            secret: false,
            default_value: None,
            options: vec![],
        }
    }

    /// A single-line text property.
    pub fn text(key: &str) -> Self {
        Self::new(key, PropertyKind::Text)
    }

    /// A multi-line text property, such as a PEM document.
    pub fn multiline(key: &str) -> Self {
        Self::new(key, PropertyKind::MultilineText)
    }

    /// A boolean property.
    pub fn boolean(key: &str) -> Self {
        Self::new(key, PropertyKind::Boolean)
    }

    /// An integer property.
    pub fn integer(key: &str) -> Self {
        Self::new(key, PropertyKind::Integer)
    }

    /// An absolute http(s) URL property. The origins of URL properties the operator sets form
    /// the target's egress allow-list.
    pub fn url(key: &str) -> Self {
        Self::new(key, PropertyKind::Url)
    }

    /// A property whose value is one of `options`.
    pub fn choice(key: &str, options: &[&str]) -> Self {
        Self::new(key, PropertyKind::Choice).options(options)
    }

    /// A secret text property: the connector only ever sees a reference to it.
    pub fn secret(key: &str) -> Self {
        Self::new(key, PropertyKind::Text).as_secret()
    }

    /// A table of claim mappings.
    pub fn claim_mappings(key: &str) -> Self {
        Self::new(key, PropertyKind::ClaimMappings)
    }

    /// Sets the human-readable label.
    pub fn label(mut self, label: &str) -> Self {
        self.label = label.into();
        self
    }

    /// Sets what the property does and how to fill it.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }

    /// Marks the property as required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Sets the allowed values of a `choice` property.
    pub fn options(mut self, options: &[&str]) -> Self {
        self.options = options.iter().map(|o| o.to_string()).collect();
        self
    }

    /// Marks the property as secret, whatever its kind (e.g. a multi-line PEM key): the
    /// connector only ever sees a reference to it.
    pub fn as_secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Sets the value used when none is configured, as text. A default URL never widens egress:
    /// only URLs the operator sets do.
    pub fn default_value(mut self, value: &str) -> Self {
        self.default_value = Some(value.into());
        self
    }
}
