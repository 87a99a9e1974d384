//! Bearer authentication. A handler declares what it needs in its signature:
//! `auth: Authorized<EmailRead>` admits a valid token of any MID holding one of
//! `EmailRead::ANY_OF`; the handler then scopes everything to `auth.mid`.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use herald_domain::mid::Mid;
use herald_domain::scope::{Scope, ScopeSet};

use crate::api::error::ApiError;
use crate::auth::credentials::token_hash;
use crate::state::AppState;

/// What a route requires of a token: one of `ANY_OF` (none listed: any valid token).
pub trait Requirement: Send + Sync + 'static {
    const ANY_OF: &'static [Scope];
}

/// Any valid token, whatever its scopes.
pub struct AnyToken;
impl Requirement for AnyToken {
    const ANY_OF: &'static [Scope] = &[];
}

/// A request whose bearer token is valid and satisfies `R`.
pub struct Authorized<R: Requirement> {
    /// The account everything in this request is scoped to.
    pub mid: Mid,
    /// The package that obtained the token.
    pub client_id: String,
    pub scopes: ScopeSet,
    requirement: PhantomData<R>,
}

/// The token from `Authorization: Bearer <token>`, if the header has that form.
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    let plausible = !token.is_empty()
        && token.len() <= 512
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b));
    (scheme.eq_ignore_ascii_case("bearer") && plausible).then_some(token)
}

/// Refuses `scopes` that do not satisfy `R` (403).
fn check<R: Requirement>(scopes: &ScopeSet) -> Result<(), ApiError> {
    if !R::ANY_OF.is_empty() && !R::ANY_OF.iter().any(|s| scopes.contains(*s)) {
        return Err(ApiError::InsufficientPrivileges {
            needs_one_of: R::ANY_OF,
        });
    }
    Ok(())
}

impl<R: Requirement> Authorized<R> {
    /// Checks a second requirement that only the request's content reveals (a Send API
    /// create that also schedules needs `SendSchedule` besides `SendWrite`): 403 unless
    /// the token satisfies `Also` too.
    pub fn require<Also: Requirement>(&self) -> Result<(), ApiError> {
        check::<Also>(&self.scopes)
    }
}

impl<R: Requirement> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or(ApiError::NotAuthorized)?;
        let grant = state
            .store
            .find_token(&token_hash(token), state.clock.now())
            .await?
            .ok_or(ApiError::NotAuthorized)?;
        check::<R>(&grant.scopes)?;
        Ok(Authorized {
            mid: grant.mid,
            client_id: grant.client_id,
            scopes: grant.scopes,
            requirement: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut request = Request::builder();
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_scheme_case() {
        assert_eq!(bearer_token(&parts(Some("Bearer abc-_1"))), Some("abc-_1"));
        assert_eq!(bearer_token(&parts(Some("bearer abc"))), Some("abc"));
    }

    #[test]
    fn garbage_authorization_headers_carry_no_token() {
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Basic abc",
            "Bearer a b",
            "Bearer <script>",
        ] {
            assert_eq!(bearer_token(&parts(Some(value))), None, "{value:?}");
        }
        assert_eq!(bearer_token(&parts(None)), None);
    }
}
