//! Choosing and opening a backend from its URL.

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::{StoreError, migrate};

/// The database engine behind a [`SqlStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (WAL mode): the single-node default.
    Sqlite,
    /// A PostgreSQL server: for several nodes.
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL scheme; anything else is refused.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme);
        match scheme {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl(redact(url))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The store: one connection pool and the backend it talks to.
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// SQLite only: this process's writers take turns here, in order, before they ask
    /// SQLite for its write lock. SQLite makes a writer that finds the lock taken sleep
    /// 1, 2, 5, 10… ms before it looks again, while a write holds the lock for well under
    /// a millisecond: left to SQLite, every collision of the delivery writer with another
    /// write (a domain slot, a settle) stalled all deliveries for milliseconds.
    writes: Option<tokio::sync::Mutex<()>>,
    /// Where this store's claims of each delivering instance stopped (`claims.rs`).
    pub(crate) claim_cursors: crate::delivery::ClaimCursors,
}

/// A write transaction that holds this process's write turn (SQLite) until it ends.
pub(crate) struct WriteTx<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl WriteTx<'_> {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl SqlStore {
    /// Opens the database and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let pool = match backend {
            Backend::Sqlite => open_sqlite(url).await?,
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .connect(url)
                    .await?
            }
        };
        let writes = (backend == Backend::Sqlite).then(|| tokio::sync::Mutex::new(()));
        let store = SqlStore {
            pool,
            backend,
            writes,
            claim_cursors: Default::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The statement that starts a write transaction. On SQLite a deferred transaction that
    /// later writes can fail with SQLITE_BUSY instead of waiting; IMMEDIATE takes the write
    /// lock up front and waits for it (busy timeout).
    pub(crate) fn begin_write(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// Starts a write transaction, after this process's earlier writes (SQLite).
    pub(crate) async fn write_tx(&self) -> Result<WriteTx<'_>, sqlx::Error> {
        let turn = self.write_turn().await;
        let tx = self.pool.begin_with(self.begin_write()).await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// Brings PostgreSQL's statistics of `tables` (a comma-separated list) up to date;
    /// SQLite plans without them, so there it does nothing.
    pub(crate) async fn analyze(&self, tables: &'static str) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {tables}")))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// This process's turn to write (SQLite), for a write statement outside a
    /// transaction; hold it until the statement is done.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.writes {
            Some(writes) => Some(writes.lock().await),
            None => None,
        }
    }
}

async fn open_sqlite(url: &str) -> Result<AnyPool, StoreError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|err| {
            StoreError::Migration(format!("cannot create {}: {err}", parent.display()))
        })?;
    }
    let url = if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    };
    // Check the URL parses as SQLite before handing it to the pool, for a clear error.
    sqlx::sqlite::SqliteConnectOptions::from_str(&url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                    .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    // WAL is a property of the database file: set once, it stays.
    pool.execute("PRAGMA journal_mode = WAL").await?;
    Ok(pool)
}

/// The URL without its password, fit for logs and error messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_is_chosen_by_url_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://u@h/db").is_err());
        assert!(Backend::from_url("herald.db").is_err());
    }

    #[test]
    fn a_refused_url_does_not_reveal_its_password() {
        let err = Backend::from_url("mysql://user:hunter2@host/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
