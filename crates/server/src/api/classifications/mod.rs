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
mod handlers;
mod resource;
pub mod seed;
mod send_classifications;
mod sender_profiles;
mod wire;

use axum::Router;
use axum::routing::get;
use herald_store::{DeliveryProfile, SendClassification, SenderProfile};

use self::handlers::{create, delete, list, patch, replace};
use self::resource::Resource;
use crate::state::AppState;

/// The routes of the three kinds.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(kind::<SenderProfile>("/email/v1/senderProfiles"))
        .merge(kind::<DeliveryProfile>("/email/v1/deliveryProfiles"))
        .merge(kind::<SendClassification>("/email/v1/sendClassifications"))
}

/// The routes of kind `C`, its objects listed at `collection`.
fn kind<C: Resource>(collection: &str) -> Router<AppState> {
    Router::new()
        .route(collection, get(list::<C>).post(create::<C>))
        .route(
            &format!("{collection}/{{id}}"),
            get(handlers::get::<C>)
                .put(replace::<C>)
                .patch(patch::<C>)
                .delete(delete::<C>),
        )
}
