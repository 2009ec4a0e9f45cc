//! Sandbox and capability tests of the connector runtime, against real loopback HTTP servers and
//! the hostile guests in `tests/guests/`.

mod common;

mod cache;
mod egress;
mod exfiltration;
mod instances;
mod limits;
mod overreach;
mod tokens;
mod versions;
