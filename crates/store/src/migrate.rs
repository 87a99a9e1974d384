//! Schema migrations, embedded in the binary by `sqlx::migrate!`: one checksummed migrator
//! per backend over `migrations/{sqlite,postgres}/`, whose files have the same numbers and
//! names and change in lockstep. sqlx records what it applied in `_sqlx_migrations`
//! (version, name, SHA-384 checksum) and refuses a database whose applied migrations are
//! unknown to this Herald (written by a newer one) or differ from its files.
//!
//! Herald before sqlx's migrator kept its own table, `herald_migrations` (version, name,
//! no checksum). A database that has it is taken over once: each migration listed there is
//! checked against this Herald's by number and name, recorded in `_sqlx_migrations` as
//! applied (not run again), and the old table is dropped last, so an interrupted takeover
//! simply runs again at the next start.

use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::{AnyConnection, Row};

use crate::{Backend, SqlStore, StoreError};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The table sqlx's migrator keeps.
const TABLE: &str = "_sqlx_migrations";

/// Serialises concurrent migrators on PostgreSQL (several nodes starting at once) across
/// the takeover as well as sqlx's own run (which takes a lock of its own inside this one).
const PG_MIGRATION_LOCK: i64 = 0x4845_5241_4c44; // "HERALD"

pub(crate) async fn run(store: &SqlStore) -> Result<(), StoreError> {
    let migrator = match store.backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    let mut conn = store.pool.acquire().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let outcome = match take_over_old_table(store.backend, migrator, &mut conn).await {
        Ok(()) => migrator
            .run_direct(None, &mut *conn, false)
            .await
            .map_err(explain),
        Err(err) => Err(err),
    };
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    outcome
}

/// Records the migrations of a pre-sqlx `herald_migrations` table as applied, then drops it.
async fn take_over_old_table(
    backend: Backend,
    migrator: &Migrator,
    conn: &mut AnyConnection,
) -> Result<(), StoreError> {
    let exists = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'herald_migrations'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'herald_migrations' \
             AND schemaname = current_schema()"
        }
    };
    let found: i64 = sqlx::query(exists)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    if found == 0 {
        // A new database, or one taken over already.
        return Ok(());
    }
    let old: Vec<(i64, String)> =
        sqlx::query("SELECT version, name FROM herald_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
    conn.ensure_migrations_table(TABLE).await.map_err(explain)?;
    let recorded = conn.list_applied_migrations(TABLE).await.map_err(explain)?;
    for (version, name) in &old {
        let Some(known) = migrator.iter().find(|m| m.version == *version) else {
            return Err(explain(MigrateError::VersionMissing(*version)));
        };
        // sqlx names a migration by its file name with spaces for underscores.
        if known.description != name.replace('_', " ") {
            return Err(StoreError::Migration(format!(
                "migration {version} is {name:?} in the database but {:?} in this Herald",
                known.description.replace(' ', "_")
            )));
        }
        if !recorded.iter().any(|m| m.version == *version) {
            conn.skip(TABLE, known).await.map_err(explain)?;
        }
    }
    sqlx::query("DROP TABLE herald_migrations")
        .execute(&mut *conn)
        .await?;
    tracing::info!(
        migrations = old.len(),
        "took over the migration history from herald_migrations"
    );
    Ok(())
}

/// sqlx's refusals in words an operator can act on.
fn explain(err: MigrateError) -> StoreError {
    StoreError::Migration(match err {
        MigrateError::VersionMissing(version) => format!(
            "the database has migration {version}, which this Herald does not know: it was \
             written by a newer version"
        ),
        MigrateError::VersionMismatch(version) => format!(
            "migration {version} applied to the database differs from this Herald's (its \
             checksum): the migration file was changed after it was applied"
        ),
        MigrateError::Dirty(version) => format!(
            "migration {version} failed partway in an earlier start; restore the database \
             from a backup taken before it"
        ),
        other => other.to_string(),
    })
}
