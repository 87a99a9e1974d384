//! The demo account's classifications: its default profiles get a sender and a postal
//! address that look real, so that demo messages do too.

use anyhow::Context;
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_store::{
    DEFAULT_PROFILE_KEY, DeliveryProfile, DeliveryProfileFields, MetaFields, ObjectMeta,
    PostalAddress, SenderProfile, SenderProfileFields,
};

use crate::state::AppState;

/// Gives the default sender profile of `mid` the demo's from name and address, and its
/// default delivery profile a postal address.
pub async fn seed_demo(state: &AppState, mid: Mid) -> anyhow::Result<()> {
    let (store, now) = (state.store.as_ref(), state.clock.now());
    let sender = store
        .classifications::<SenderProfile>()
        .find(mid, DEFAULT_PROFILE_KEY)
        .await?
        .context("the demo account has no default sender profile")?;
    let fields = SenderProfileFields {
        meta: unchanged(&sender.meta),
        from_name: "Herald Demo".into(),
        from_address: EmailAddress::parse("demo@herald.example")?,
        reply_to_address: sender.reply_to_address,
        reply_to_display_name: sender.reply_to_display_name,
    };
    store
        .classifications::<SenderProfile>()
        .update(mid, sender.meta.id, sender.meta.version, fields, now)
        .await?;
    let delivery = store
        .classifications::<DeliveryProfile>()
        .find(mid, DEFAULT_PROFILE_KEY)
        .await?
        .context("the demo account has no default delivery profile")?;
    let fields = DeliveryProfileFields {
        meta: unchanged(&delivery.meta),
        header_html: delivery.header_html,
        footer_html: delivery.footer_html,
        footer_text: delivery.footer_text,
        address: PostalAddress {
            street: "1 Demo Way".into(),
            city: "Springfield".into(),
            state: "OR".into(),
            postal_code: "97477".into(),
            country: "US".into(),
        },
        relays: delivery.relays,
        dkim_key_id: delivery.dkim_key_id,
        tracking_enabled: delivery.tracking_enabled,
        bounce_domain: delivery.bounce_domain,
    };
    store
        .classifications::<DeliveryProfile>()
        .update(mid, delivery.meta.id, delivery.meta.version, fields, now)
        .await?;
    Ok(())
}

fn unchanged(meta: &ObjectMeta) -> MetaFields {
    MetaFields {
        customer_key: None,
        name: meta.name.clone(),
        description: meta.description.clone(),
    }
}
