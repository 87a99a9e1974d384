//! The Send API (contract section 2): definitions, instances, schedule, status, cancel.
//!
//! [`wire`] holds the request and response bodies, PascalCase as Marketing Cloud writes
//! them. The rules live in `herald_domain::send`, the records in `herald_store`'s
//! `SendDefinitionStore` and `SendInstanceStore`.

pub mod wire;
