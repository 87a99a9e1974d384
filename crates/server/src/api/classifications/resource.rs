//! What a kind adds to the generic handlers: its wire shapes and how a body becomes its
//! fields.

use herald_store::Classification;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::wire;
use crate::api::error::ApiError;

/// A classification kind as the API shows and takes it.
pub trait Resource: Classification {
    /// An object as a GET shows it.
    type Out: Serialize + for<'a> From<&'a Self> + Send;
    /// The body of a create or PUT (and a PATCH, merged over [`Resource::shown`]).
    type In: DeserializeOwned;

    /// Checks a body; `current` is the object a PUT or PATCH changes.
    fn parse(body: Self::In, current: Option<&Self>) -> Result<Self::Fields, ApiError>;

    /// What a PATCH merges over: the object as a GET shows it.
    fn shown(&self) -> Result<Value, ApiError> {
        wire::shown(&Self::Out::from(self))
    }
}
