//! The schema migrator: a database made before sqlx's migrator is taken over with its data,
//! and a database this Herald cannot vouch for is refused, on both backends.

use herald_store::StoreError;
use herald_test_support::{Db, TestDatabase, backend_tests};
use sqlx::any::install_default_drivers;
use sqlx::{AnyConnection, Connection, Row};

/// A database made by `herald serve --demo` of commit e0da2f3 (the last with its own
/// `herald_migrations` table), dumped by `pg_dump --inserts` and SQLite's `iterdump`.
const BEFORE_SQLITE: &str = include_str!("fixtures/before-sqlx-migrator.sqlite.sql");
const BEFORE_POSTGRES: &str = include_str!("fixtures/before-sqlx-migrator.postgres.sql");

/// How many migrations this Herald has (0009 was never written).
const MIGRATIONS: i64 = 19;

struct Harness {
    db: TestDatabase,
    backend: Db,
}

async fn setup(backend: Db) -> Option<Harness> {
    install_default_drivers();
    let db = TestDatabase::create(backend).await?;
    Some(Harness { db, backend })
}

impl Harness {
    /// A connection of its own (the dumps change session settings), creating the file.
    async fn connect(&self) -> AnyConnection {
        let url = match self.backend {
            Db::Sqlite => format!("{}?mode=rwc", self.db.url),
            Db::Postgres => self.db.url.clone(),
        };
        AnyConnection::connect(&url).await.expect("connect")
    }

    async fn load_database_made_before_the_sqlx_migrator(&self) {
        let mut conn = self.connect().await;
        let dump = match self.backend {
            // The dump lists tables alphabetically, some before the tables they reference.
            Db::Sqlite => format!("PRAGMA foreign_keys = OFF;\n{BEFORE_SQLITE}"),
            Db::Postgres => BEFORE_POSTGRES.to_owned(),
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
            .execute(&mut conn)
            .await
            .expect("load the dump");
        conn.close().await.expect("close");
    }

    async fn count(&self, sql: &'static str) -> i64 {
        let mut conn = self.connect().await;
        let count = sqlx::query(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql)
            .try_get(0)
            .expect("a count");
        conn.close().await.expect("close");
        count
    }

    async fn execute(&self, sql: &'static str) {
        let mut conn = self.connect().await;
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
    }

    async fn open_refusal(&self) -> String {
        match herald_store::open(&self.db.url).await {
            Ok(_) => panic!("the store opened"),
            Err(StoreError::Migration(message)) => message,
            Err(other) => panic!("not a migration error: {other}"),
        }
    }
}

async fn a_database_made_before_the_sqlx_migrator_is_taken_over_with_its_data(h: Harness) {
    h.load_database_made_before_the_sqlx_migrator().await;
    let store = herald_store::open(&h.db.url).await.expect("open");
    let accounts = store.list_accounts().await.expect("accounts");
    assert!(
        accounts.iter().any(|a| a.mid.get() == 100_000_002),
        "the demo account is still there: {accounts:?}"
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM crm_records").await, 50);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .await,
        MIGRATIONS
    );
    let old_table_left = match h.backend {
        Db::Sqlite => {
            h.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'herald_migrations'")
                .await
        }
        Db::Postgres => {
            h.count("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'herald_migrations'")
                .await
        }
    };
    assert_eq!(
        old_table_left, 0,
        "the old table is dropped once taken over"
    );
    drop(store);
    herald_store::open(&h.db.url)
        .await
        .expect("a second start finds nothing to do");
    assert_eq!(
        h.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        MIGRATIONS
    );
}

async fn an_old_history_naming_a_migration_otherwise_is_refused_and_changes_nothing(h: Harness) {
    h.load_database_made_before_the_sqlx_migrator().await;
    h.execute("UPDATE herald_migrations SET name = 'something_else' WHERE version = 3")
        .await;
    let message = h.open_refusal().await;
    assert!(
        message
            .contains("migration 3 is \"something_else\" in the database but \"classifications\""),
        "{message}"
    );
    assert_eq!(
        h.count("SELECT COUNT(*) FROM herald_migrations").await,
        MIGRATIONS
    );
}

async fn a_database_with_a_migration_this_herald_does_not_know_is_refused(h: Harness) {
    drop(herald_store::open(&h.db.url).await.expect("open"));
    h.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 9999, 'from_the_future', success, checksum, 0 FROM _sqlx_migrations \
         WHERE version = 1",
    )
    .await;
    let message = h.open_refusal().await;
    assert!(
        message.contains("migration 9999, which this Herald does not know"),
        "{message}"
    );
}

async fn a_migration_changed_after_it_was_applied_is_refused_by_its_checksum(h: Harness) {
    drop(herald_store::open(&h.db.url).await.expect("open"));
    h.execute(
        "UPDATE _sqlx_migrations SET checksum = (SELECT checksum FROM _sqlx_migrations \
         WHERE version = 2) WHERE version = 1",
    )
    .await;
    let message = h.open_refusal().await;
    assert!(
        message.contains("migration 1 applied to the database differs"),
        "{message}"
    );
}

backend_tests!(
    setup =>
    a_database_made_before_the_sqlx_migrator_is_taken_over_with_its_data,
    an_old_history_naming_a_migration_otherwise_is_refused_and_changes_nothing,
    a_database_with_a_migration_this_herald_does_not_know_is_refused,
    a_migration_changed_after_it_was_applied_is_refused_by_its_checksum,
);
