//! Sender profiles, delivery profiles and send classifications (send-api.md section 4):
//! REST with camelCase keys under `/email/v1/`.
//!
//! Each kind has list (`$page`, `$pagesize`), get, create (201), update (PUT, and PATCH for
//! the fields given) and delete (200 with a body). A path names an object by id (digits)
//! or customer key. Reads need `email_read`, writes `email_write`.
//!
//! Relay passwords never leave Herald: they are shown as `****`, and a `****` sent back
//! for the same relay keeps the stored password.

mod delivery_profiles;
mod fields;
pub mod seed;
mod send_classifications;
mod sender_profiles;
mod wire;

use axum::Router;
use axum::routing::get;
use herald_store::ClassificationError;

use crate::api::error::ApiError;
use crate::state::AppState;

/// The routes of the three kinds.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/email/v1/senderProfiles",
            get(sender_profiles::list).post(sender_profiles::create),
        )
        .route(
            "/email/v1/senderProfiles/{id}",
            get(sender_profiles::get)
                .put(sender_profiles::replace)
                .patch(sender_profiles::patch)
                .delete(sender_profiles::delete),
        )
        .route(
            "/email/v1/deliveryProfiles",
            get(delivery_profiles::list).post(delivery_profiles::create),
        )
        .route(
            "/email/v1/deliveryProfiles/{id}",
            get(delivery_profiles::get)
                .put(delivery_profiles::replace)
                .patch(delivery_profiles::patch)
                .delete(delivery_profiles::delete),
        )
        .route(
            "/email/v1/sendClassifications",
            get(send_classifications::list).post(send_classifications::create),
        )
        .route(
            "/email/v1/sendClassifications/{id}",
            get(send_classifications::get)
                .put(send_classifications::replace)
                .patch(send_classifications::patch)
                .delete(send_classifications::delete),
        )
}

impl From<ClassificationError> for ApiError {
    fn from(err: ClassificationError) -> Self {
        match err {
            ClassificationError::NotFound { .. } => ApiError::NotFound(err.to_string()),
            ClassificationError::UnknownReference { .. } => ApiError::invalid(err.to_string()),
            ClassificationError::DuplicateKey { .. }
            | ClassificationError::InUse { .. }
            | ClassificationError::DefaultUndeletable { .. }
            | ClassificationError::DefaultKeyFixed { .. }
            | ClassificationError::DefaultTypeFixed { .. }
            | ClassificationError::Stale { .. } => ApiError::Conflict(err.to_string()),
            ClassificationError::Store(cause) => cause.into(),
        }
    }
}
