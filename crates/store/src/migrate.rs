//! Schema migrations, embedded in the binary. Each backend has its own SQL under
//! `migrations/{sqlite,postgres}/`, with the same numbers and names, changed in lockstep.

use sqlx::Row;

use crate::timestamp::to_millis;
use crate::{Backend, SqlStore, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! sql_file {
    ($backend:literal, $file:literal) => {
        include_str!(concat!(
            "../../../migrations/",
            $backend,
            "/",
            $file,
            ".sql"
        ))
    };
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: sql_file!("sqlite", "0001_foundation"),
        postgres: sql_file!("postgres", "0001_foundation"),
    },
    Migration {
        version: 2,
        name: "assets",
        sqlite: sql_file!("sqlite", "0002_assets"),
        postgres: sql_file!("postgres", "0002_assets"),
    },
    Migration {
        version: 3,
        name: "classifications",
        sqlite: sql_file!("sqlite", "0003_classifications"),
        postgres: sql_file!("postgres", "0003_classifications"),
    },
    Migration {
        version: 4,
        name: "crm",
        sqlite: sql_file!("sqlite", "0004_crm"),
        postgres: sql_file!("postgres", "0004_crm"),
    },
    Migration {
        version: 5,
        name: "send_api",
        sqlite: sql_file!("sqlite", "0005_send_api"),
        postgres: sql_file!("postgres", "0005_send_api"),
    },
    Migration {
        version: 6,
        name: "delivery",
        sqlite: sql_file!("sqlite", "0006_delivery"),
        postgres: sql_file!("postgres", "0006_delivery"),
    },
    Migration {
        version: 7,
        name: "outbox",
        sqlite: sql_file!("sqlite", "0007_outbox"),
        postgres: sql_file!("postgres", "0007_outbox"),
    },
    Migration {
        version: 8,
        name: "engine",
        sqlite: sql_file!("sqlite", "0008_engine"),
        postgres: sql_file!("postgres", "0008_engine"),
    },
    Migration {
        version: 10,
        name: "dkim",
        sqlite: sql_file!("sqlite", "0010_dkim"),
        postgres: sql_file!("postgres", "0010_dkim"),
    },
    Migration {
        version: 11,
        name: "events",
        sqlite: sql_file!("sqlite", "0011_events"),
        postgres: sql_file!("postgres", "0011_events"),
    },
    Migration {
        version: 12,
        name: "engagement",
        sqlite: sql_file!("sqlite", "0012_engagement"),
        postgres: sql_file!("postgres", "0012_engagement"),
    },
    Migration {
        version: 13,
        name: "bounces_webhooks",
        sqlite: sql_file!("sqlite", "0013_bounces_webhooks"),
        postgres: sql_file!("postgres", "0013_bounces_webhooks"),
    },
    Migration {
        version: 14,
        name: "cluster_limits",
        sqlite: sql_file!("sqlite", "0014_cluster_limits"),
        postgres: sql_file!("postgres", "0014_cluster_limits"),
    },
    Migration {
        version: 15,
        name: "pending_index",
        sqlite: sql_file!("sqlite", "0015_pending_index"),
        postgres: sql_file!("postgres", "0015_pending_index"),
    },
    Migration {
        version: 16,
        name: "drop_due_index",
        sqlite: sql_file!("sqlite", "0016_drop_due_index"),
        postgres: sql_file!("postgres", "0016_drop_due_index"),
    },
    Migration {
        version: 17,
        name: "drop_lease_index",
        sqlite: sql_file!("sqlite", "0017_drop_lease_index"),
        postgres: sql_file!("postgres", "0017_drop_lease_index"),
    },
    Migration {
        version: 18,
        name: "events_instance_engagement",
        sqlite: sql_file!("sqlite", "0018_events_instance_engagement"),
        postgres: sql_file!("postgres", "0018_events_instance_engagement"),
    },
    Migration {
        version: 19,
        name: "limit_wants",
        sqlite: sql_file!("sqlite", "0019_limit_wants"),
        postgres: sql_file!("postgres", "0019_limit_wants"),
    },
    Migration {
        version: 20,
        name: "versions",
        sqlite: sql_file!("sqlite", "0020_versions"),
        postgres: sql_file!("postgres", "0020_versions"),
    },
];

/// Serialises concurrent migrators on PostgreSQL (several nodes starting at once).
const PG_MIGRATION_LOCK: i64 = 0x4845_5241_4c44; // "HERALD"

pub(crate) async fn run(store: &SqlStore) -> Result<(), StoreError> {
    let mut conn = store.pool.acquire().await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS herald_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let outcome = apply_pending(store, &mut conn).await;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    outcome
}

async fn apply_pending(
    store: &SqlStore,
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<(), StoreError> {
    let applied: Vec<(i64, String)> =
        sqlx::query("SELECT version, name FROM herald_migrations ORDER BY version")
            .fetch_all(&mut **conn)
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
    for (version, name) in &applied {
        match MIGRATIONS.iter().find(|m| m.version == *version) {
            Some(known) if known.name == name => {}
            Some(known) => {
                return Err(StoreError::Migration(format!(
                    "migration {version} is {name:?} in the database but {:?} in this Herald",
                    known.name
                )));
            }
            None => {
                return Err(StoreError::Migration(format!(
                    "the database has migration {version} ({name}), which this Herald does not \
                     know: it was written by a newer version"
                )));
            }
        }
    }
    for migration in MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
    {
        let sql = match store.backend {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        let mut tx = sqlx::Connection::begin_with(&mut **conn, store.begin_write()).await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|err| {
            StoreError::Migration(format!(
                "{:04}_{}: {err}",
                migration.version, migration.name
            ))
        })?;
        sqlx::query(
            "INSERT INTO herald_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(to_millis(time::OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    Ok(())
}
