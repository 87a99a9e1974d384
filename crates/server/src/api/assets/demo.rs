//! The demo account's email: a personalized HTML email named "Welcome".

use herald_domain::asset::{AssetStatus, AssetType, CustomerKey, EmailContent, EmailFields};
use herald_domain::mid::Mid;
use herald_store::NewAsset;

use crate::state::AppState;

const HTML: &str = r#"<!DOCTYPE html>
<html>
  <body style="font-family: sans-serif">
    <h1>Welcome, %%FirstName%%!</h1>
    <p>Dear %%FirstName%% %%LastName%%, this message was sent by Herald to %%Email%%.</p>
    <p><a href="https://example.com/guide?from=herald-demo&amp;name=%%FirstName%%">Read the guide</a></p>
    <p><a href="%%view_email_url%%">View online</a> · <a href="%%unsub_center_url%%">Unsubscribe</a></p>
  </body>
</html>
"#;

const TEXT: &str = "Welcome, %%FirstName%%!

Dear %%FirstName%% %%LastName%%, this message was sent by Herald to %%Email%%.

Unsubscribe: %%unsub_center_url%%
";

/// Creates the demo email in `mid`. Prints nothing.
pub async fn seed_demo(state: &AppState, mid: Mid) -> anyhow::Result<()> {
    let content = EmailContent::parse(
        AssetType::HtmlEmail,
        EmailFields {
            name: "Welcome".into(),
            description: "A personalized welcome email (Herald demo)".into(),
            subject: "Hello %%FirstName%%".into(),
            preheader: "Your Herald demo is ready".into(),
            html: Some(HTML.into()),
            text: Some(TEXT.into()),
        },
    )?;
    state
        .store
        .create_asset(NewAsset {
            mid,
            customer_key: CustomerKey::parse("welcome")?,
            object_id: uuid::Uuid::new_v4().to_string(),
            status: AssetStatus::Published,
            content,
            created_at: state.clock.now(),
        })
        .await?;
    Ok(())
}
