//! Test harness shared by Herald's crates: throwaway databases on both backends, a
//! macro that runs one scenario on each, and the real SMTP peers ([`peers`]).
//!
//! PostgreSQL comes from `HERALD_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own database,
//! dropped when the test ends. When PostgreSQL cannot be reached the PostgreSQL variants
//! skip, unless `HERALD_REQUIRE_POSTGRES=1`, in which case they fail.

pub mod peers;

use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

/// The backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn postgres_admin_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

fn postgres_required() -> bool {
    std::env::var("HERALD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A fresh, empty, private folder under the system temp dir (removed by the guard owner).
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

impl TestDatabase {
    /// A new database on `db`, or `None` when PostgreSQL is unavailable and not required.
    pub async fn create(db: Db) -> Option<TestDatabase> {
        match db {
            Db::Sqlite => Some(TestDatabase::sqlite()),
            Db::Postgres => TestDatabase::postgres().await,
        }
    }

    fn sqlite() -> TestDatabase {
        let dir = temp_dir("herald-test");
        TestDatabase {
            url: format!("sqlite://{}", dir.join("herald.db").display()),
            cleanup: Cleanup::Directory(dir),
        }
    }

    async fn postgres() -> Option<TestDatabase> {
        let admin_url = postgres_admin_url();
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(err) if !postgres_required() => {
                eprintln!("SKIPPED: PostgreSQL at {admin_url} is unreachable ({err})");
                return None;
            }
            Err(err) => panic!(
                "PostgreSQL is required (HERALD_REQUIRE_POSTGRES=1) but {admin_url} is unreachable: {err}"
            ),
        };
        let name = format!("herald_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test database");
        Some(TestDatabase {
            url: url_with_database(&admin_url, &name),
            cleanup: Cleanup::PostgresDatabase { admin_url, name },
        })
    }
}

fn url_with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let server = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    format!("{server}/{name}{query}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a runtime; do the async work on a thread of its own.
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async move {
                        let mut admin = PgConnection::connect(&admin_url).await?;
                        admin
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await
                            .map(|_| ())
                    })
                })
                .join();
                if let Ok(Err(err)) = dropped {
                    eprintln!("could not drop test database: {err}");
                }
            }
        }
    }
}

/// Runs each named scenario once per backend: `on_sqlite::NAME` and `on_postgres::NAME`.
///
/// `$setup` is an async fn taking a [`Db`] and returning `Option<H>` (None: backend
/// unavailable, the test skips); each scenario is an async fn taking that `H`.
#[macro_export]
macro_rules! backend_tests {
    ($setup:ident => $($name:ident),+ $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let harness = super::$setup($crate::Db::Sqlite).await.expect("SQLite is always available");
                    super::$name(harness).await;
                }
            )+
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(harness) = super::$setup($crate::Db::Postgres).await else { return };
                    super::$name(harness).await;
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use super::url_with_database;

    #[test]
    fn the_test_database_replaces_the_admin_database_in_the_url() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            url_with_database("postgres://u:p@h/db?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
