//! Authentication and authorisation: credentials, the token endpoint's throttle, and the
//! bearer extractor through which every protected route declares its scope.

pub mod bearer;
pub mod credentials;
pub mod requirements;
pub mod throttle;

pub use bearer::{AnyToken, Authorized, Requirement};
