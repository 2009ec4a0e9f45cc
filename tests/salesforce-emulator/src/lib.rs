//! A faithful local emulator of a Salesforce org's OAuth token endpoint and REST API for the
//! `User` object, with fault injection and a control API, for provisioning tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), salesforce_emulator::EmulatorError> {
//! use salesforce_emulator::{Emulator, EmulatorConfig, FaultKind, FaultSpec, Operation};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("token endpoint: {}", emu.token_url());
//! emu.arm_fault(FaultSpec::new(Operation::Create, FaultKind::UnableToLockRow).once());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`Emulator::start_with`] with [`ServeOptions::https`] serves HTTPS with a certificate from a CA
//! generated at start ([`Emulator::ca_certificate_pem`], [`tls`]).
//!
//! Behaviour follows Salesforce's documented REST and OAuth behaviour for `User` records; where the
//! documentation is silent the behaviour is configurable in [`EmulatorConfig`].
//!
//! Routes:
//! - `POST /services/oauth2/token`: password, client-credentials and JWT bearer grants
//!   ([`oauth`], [`jwt`]).
//! - `GET /id/{orgId}/{userId}`: the identity URL of a token ([`identity`]).
//! - `/services/data/…`: versions, User sObject, query (User and Profile), limits, sObject
//!   Collections and Composite ([`rest`], [`sobjects`], [`query`], [`collections`], [`composite`]).
//! - `/__emulator__/…`: the control API ([`control`]), behind a control token generated at start
//!   ([`Emulator::control_token`]) unless started with [`ServeOptions::open_control`]
//!   ([`control_auth`]): `GET info`, `GET users`,
//!   `GET users/{id}`, `GET counters`, `GET requests`, `POST reset`, `GET|POST|DELETE faults`,
//!   `DELETE faults/{id}`, `POST tokens`, `POST tokens/expire`, `GET|POST limits`, `POST seed`,
//!   `GET|POST settings`.

pub mod collections;
pub mod composite;
pub mod config;
pub mod conn;
pub mod control;
pub mod control_auth;
pub mod counters;
pub mod faults;
pub mod fields;
pub mod identity;
pub mod ids;
pub mod injection;
pub mod jwt;
pub mod limits;
pub mod oauth;
pub mod picklists;
pub mod query;
pub mod response;
pub mod rest;
pub mod server;
pub mod sessions;
pub mod sobjects;
pub mod soql;
pub mod state;
pub mod time;
pub mod tls;
pub mod users;
pub mod validation;
pub mod versions;

pub use config::{EmulatorConfig, Profile};
pub use control::{LimitsUpdate, Seed, Settings};
pub use control_auth::ControlAccess;
pub use counters::{Counters, RequestLogEntry};
pub use faults::{ArmedFault, FaultKind, FaultSpec, Operation};
pub use limits::ApiUsage;
pub use response::ApiError;
pub use server::{Emulator, EmulatorError, ServeOptions};
pub use users::UserRecord;
