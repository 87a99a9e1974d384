//! What stops an email or a send classification from being deleted: the send
//! definitions that name it, and the live instances that were scheduled with it (an
//! instance keeps its own copy, so a definition edited since no longer names it).

use herald_domain::mid::Mid;
use herald_domain::send::status::InstanceStatus;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::sql::placeholders;

/// A column of both send tables that refers to another object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendReference {
    /// `email_id`: an email asset.
    Email,
    /// `send_classification_id`: a send classification.
    SendClassification,
}

impl SendReference {
    fn column(self) -> &'static str {
        match self {
            SendReference::Email => "email_id",
            SendReference::SendClassification => "send_classification_id",
        }
    }
}

/// The send definitions and live instances of `mid` whose `reference` is `id`, each
/// named for a client (`send definition 10000001 "Spring"`, `send instance 70000001
/// (Scheduled)`), definitions first, oldest first.
pub(crate) async fn sends_using(
    conn: &mut AnyConnection,
    mid: Mid,
    reference: SendReference,
    id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let column = reference.column();
    let definitions = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, name FROM send_definitions WHERE mid = $1 AND {column} = $2 ORDER BY id"
    )))
    .bind(mid.get())
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut users = definitions
        .iter()
        .map(|row| {
            let (id, name): (i64, String) = (row.try_get("id")?, row.try_get("name")?);
            Ok(format!("send definition {id} {name:?}"))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let live = InstanceStatus::LIVE;
    let sql = format!(
        "SELECT id, status FROM send_instances
         WHERE mid = $1 AND {column} = $2 AND status IN ({}) ORDER BY id",
        placeholders(3, live.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(mid.get()).bind(id);
    for status in live {
        query = query.bind(status.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let (id, status): (i64, String) = (row.try_get("id")?, row.try_get("status")?);
        users.push(format!("send instance {id} ({status})"));
    }
    Ok(users)
}
