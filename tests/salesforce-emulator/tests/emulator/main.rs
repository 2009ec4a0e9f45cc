//! Integration tests of the Salesforce emulator over real loopback HTTP.

mod collections;
mod common;
mod composite;
mod control;
mod discovery;
mod faults;
mod https;
mod jwt;
mod limits;
mod oauth;
mod query;
mod users_create;
mod users_read_update;
mod versions;
