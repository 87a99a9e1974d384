//! Creating installed packages (shared by the CLI and the demo).

use herald_domain::clock::Clock;
use herald_domain::mid::Mid;
use herald_domain::scope::ScopeSet;
use herald_store::{NewPackage, Store};

use crate::auth::credentials::{hash_secret, new_client_id, new_client_secret};

/// A package just created: the only moment its secret is known.
#[derive(Debug, serde::Serialize)]
pub struct CreatedPackage {
    pub client_id: String,
    pub client_secret: String,
    pub account_id: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CreatePackageError {
    #[error("there is no account with MID {0}; `herald account list` shows them")]
    UnknownAccount(Mid),
    #[error("a package needs a name")]
    EmptyName,
    #[error(transparent)]
    Store(#[from] herald_store::StoreError),
}

/// Creates a package in `mid` granting `scopes`, returning its secret once.
pub async fn create_package(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    mid: Mid,
    scopes: ScopeSet,
) -> Result<CreatedPackage, CreatePackageError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CreatePackageError::EmptyName);
    }
    if store.get_account(mid).await?.is_none() {
        return Err(CreatePackageError::UnknownAccount(mid));
    }
    let client_secret = new_client_secret();
    let secret_for_hash = client_secret.clone();
    let secret_hash = tokio::task::spawn_blocking(move || hash_secret(&secret_for_hash))
        .await
        .expect("hashing does not panic");
    let package = store
        .create_package(NewPackage {
            client_id: new_client_id(),
            mid,
            name: name.to_owned(),
            secret_hash,
            scopes,
            created_at: clock.now(),
        })
        .await?;
    Ok(CreatedPackage {
        client_id: package.client_id,
        client_secret,
        account_id: mid.get(),
    })
}
