//! Access tokens. Only a hash of each token is stored; a token is valid while it has not
//! expired and its package is not revoked.

use herald_domain::mid::Mid;
use herald_domain::scope::ScopeSet;
use sqlx::Row;
use time::OffsetDateTime;

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// A token about to be stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token_hash: String,
    pub client_id: String,
    pub mid: Mid,
    pub scopes: ScopeSet,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub client_id: String,
    pub mid: Mid,
    pub scopes: ScopeSet,
    pub expires_at: OffsetDateTime,
}

/// Expired tokens are kept this long (for support questions) before they are purged.
const EXPIRED_TOKEN_RETENTION_MS: i64 = 60 * 60 * 1000;

#[async_trait::async_trait]
pub trait TokenStore {
    /// Stores a token, and purges tokens that expired long ago.
    async fn insert_token(&self, token: NewToken) -> Result<(), StoreError>;
    /// The grant of a token that is still valid at `now`, if any.
    async fn find_token(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TokenGrant>, StoreError>;
}

#[async_trait::async_trait]
impl TokenStore for SqlStore {
    async fn insert_token(&self, token: NewToken) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM access_tokens WHERE expires_at < $1")
            .bind(to_millis(token.issued_at) - EXPIRED_TOKEN_RETENTION_MS)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO access_tokens (token_hash, client_id, mid, scopes, issued_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token.token_hash)
        .bind(&token.client_id)
        .bind(token.mid.get())
        .bind(token.scopes.to_string())
        .bind(to_millis(token.issued_at))
        .bind(to_millis(token.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_token(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TokenGrant>, StoreError> {
        let row = sqlx::query(
            "SELECT t.client_id, t.mid, t.scopes, t.expires_at
             FROM access_tokens t JOIN packages p ON p.client_id = t.client_id
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND p.revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let scopes: String = row.try_get("scopes")?;
        Ok(Some(TokenGrant {
            client_id: row.try_get("client_id")?,
            mid: Mid::from_stored(row.try_get("mid")?),
            scopes: ScopeSet::parse(&scopes).map_err(|err| sqlx::Error::Decode(err.into()))?,
            expires_at: from_millis(row.try_get("expires_at")?),
        }))
    }
}
