//! The four objects every account has from its creation: sender profile and delivery
//! profile `Default`, and send classifications `Default Commercial` (Marketing) and
//! `Default Transactional` (Operational) that use them.
//!
//! Accounts that existed before these tables got theirs from migration 0003, which repeats
//! these texts in SQL; a contract test checks that both give the same defaults.

use herald_domain::classification::SendClassificationType;
use herald_domain::mid::Mid;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::new_object_id;
use crate::timestamp::to_millis;

/// The customer key (and name) of the default sender and delivery profiles.
pub const DEFAULT_PROFILE_KEY: &str = "Default";
/// The customer key (and name) of the default commercial classification.
pub const DEFAULT_COMMERCIAL_KEY: &str = "Default Commercial";
/// The customer key (and name) of the default transactional classification.
pub const DEFAULT_TRANSACTIONAL_KEY: &str = "Default Transactional";

/// A placeholder the account's users are expected to replace with an address their relay
/// may send from.
const FROM_ADDRESS: &str = "no-reply@example.com";
const SENDER_DESCRIPTION: &str =
    "The account's default sender. Update fromAddress to an address your relay may send from.";
const DELIVERY_DESCRIPTION: &str =
    "The account's default delivery: the server's relay, no header or footer.";
const CLASSIFICATIONS: [(&str, SendClassificationType, &str); 2] = [
    (
        DEFAULT_COMMERCIAL_KEY,
        SendClassificationType::Marketing,
        "Commercial sends: opted-out, unsubscribed and hard-bounced addresses are skipped.",
    ),
    (
        DEFAULT_TRANSACTIONAL_KEY,
        SendClassificationType::Operational,
        "Transactional sends: unsubscribes do not apply; hard-bounced addresses are skipped.",
    ),
];

/// The default from name: the account's name, made fit for a header and a personalization
/// template (control characters become spaces, `%%` becomes `%`).
pub(crate) fn from_name(account_name: &str) -> String {
    let mut name: String = account_name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    while name.contains("%%") {
        name = name.replace("%%", "%");
    }
    name
}

/// Inserts the defaults of the new account `mid` (inside the transaction creating it).
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    mid: Mid,
    account_name: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let now = to_millis(now);
    let sender: i64 = sqlx::query(
        "INSERT INTO sender_profiles (mid, object_id, customer_key, name, description, from_name,
             from_address, is_default, created_at, modified_at)
         VALUES ($1, $2, $3, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
    )
    .bind(mid.get())
    .bind(new_object_id())
    .bind(DEFAULT_PROFILE_KEY)
    .bind(SENDER_DESCRIPTION)
    .bind(from_name(account_name))
    .bind(FROM_ADDRESS)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    let delivery: i64 = sqlx::query(
        "INSERT INTO delivery_profiles (mid, object_id, customer_key, name, description,
             header_html, footer_html, footer_text, street, city, state, postal_code, country,
             relays, tracking_enabled, is_default, created_at, modified_at)
         VALUES ($1, $2, $3, $3, $4, '', '', '', '', '', '', '', '', '', 1, 1, $5, $5)
         RETURNING id",
    )
    .bind(mid.get())
    .bind(new_object_id())
    .bind(DEFAULT_PROFILE_KEY)
    .bind(DELIVERY_DESCRIPTION)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    for (key, kind, description) in CLASSIFICATIONS {
        sqlx::query(
            "INSERT INTO send_classifications (mid, object_id, customer_key, name, description,
                 classification_type, sender_profile_id, delivery_profile_id,
                 honor_list_opt_outs, is_default, created_at, modified_at)
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, 0, 1, $8, $8)",
        )
        .bind(mid.get())
        .bind(new_object_id())
        .bind(key)
        .bind(description)
        .bind(kind.name())
        .bind(sender)
        .bind(delivery)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::from_name;
    use herald_domain::header_text::header_safe;
    use herald_domain::personalization::Template;

    #[test]
    fn the_default_from_name_is_the_account_name_made_header_and_template_safe() {
        assert_eq!(from_name("Acme Corp"), "Acme Corp");
        assert_eq!(from_name("100% Deals"), "100% Deals");
        for name in ["Acme\r\nBcc: x@example.com", "50%%%% off", "%%oops"] {
            let made = from_name(name);
            assert!(header_safe(&made).is_ok(), "{made:?}");
            assert!(Template::parse(&made).is_ok(), "{made:?}");
        }
    }
}
