//! `GET /platform/v1/tokenContext`: who a token belongs to (as Marketing Cloud answers it).

use axum::Json;
use axum::extract::State;
use herald_domain::mid::Mid;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiError, ErrorResponse};
use crate::auth::{AnyToken, Authorized};
use crate::state::AppState;

/// A token's context. (Every object's keys are declared in the order they are written:
/// alphabetical.)
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenContext {
    /// The package the token was issued to.
    application: Application,
    /// The account (MID).
    enterprise: Enterprise,
    /// The account (MID) again, as Marketing Cloud's organization.
    organization: Organization,
    /// Where the REST and SOAP APIs are.
    rest: Endpoints,
    /// The token's scopes, space-separated.
    scope: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct Application {
    /// The package's client id.
    id: String,
    /// The package's name.
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct Enterprise {
    #[schema(value_type = i64)]
    id: Mid,
}

#[derive(Debug, Serialize, ToSchema)]
struct Organization {
    #[schema(value_type = i64)]
    enterprise_id: Mid,
    #[schema(value_type = i64)]
    id: Mid,
}

#[derive(Debug, Serialize, ToSchema)]
struct Endpoints {
    rest_instance_url: String,
    soap_instance_url: String,
}

/// Who a token belongs to
///
/// Any valid token. Answers as Marketing Cloud does: the enterprise and organization (the
/// MID), the application (the package) and the token's scopes.
#[utoipa::path(
    get,
    path = "/platform/v1/tokenContext",
    tag = "Authentication",
    operation_id = "tokenContext",
    responses(
        (status = 200, description = "The token's context", body = TokenContext),
        (status = 401, response = ErrorResponse),
    )
)]
pub async fn token_context(
    State(state): State<AppState>,
    auth: Authorized<AnyToken>,
) -> Result<Json<TokenContext>, ApiError> {
    let package_name = state
        .store
        .get_package(&auth.client_id)
        .await?
        .map(|package| package.name)
        .unwrap_or_default();
    let base = state.config.public_base();
    Ok(Json(TokenContext {
        application: Application {
            id: auth.client_id,
            name: package_name,
        },
        enterprise: Enterprise { id: auth.mid },
        organization: Organization {
            enterprise_id: auth.mid,
            id: auth.mid,
        },
        rest: Endpoints {
            rest_instance_url: base.clone(),
            soap_instance_url: base,
        },
        scope: auth.scopes.to_string(),
    }))
}
