//! What one send instance needs to build its messages, loaded once per instance and node:
//! the email's templates (with the delivery profile's header and footer), the sender,
//! the classification's rules, the postal address, the transport and the DKIM signer.

use std::collections::HashSet;
use std::sync::Arc;

use herald_domain::content::{ContentSource, ContentTemplates, MemberAddress};
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::relay::Relay;
use herald_mail::dkim::DkimSigner;
use herald_store::{
    DeliveryProfile, SendClassification, SendInstance, SenderProfile, Store, StoreError,
};

use super::transport::Transport;

/// The footer a delivery profile with a postal address and no footer of its own gets.
const ADDRESS_FOOTER_HTML: &str = "<p style=\"font-size:12px;color:#666\">%%Member_Busname%%, \
    %%Member_Addr%%, %%Member_City%%, %%Member_State%% %%Member_PostalCode%%, %%Member_Country%%</p>";
const ADDRESS_FOOTER_TEXT: &str = "%%Member_Busname%%, %%Member_Addr%%, %%Member_City%%, \
    %%Member_State%% %%Member_PostalCode%%, %%Member_Country%%";

/// Everything needed to render and deliver any recipient of one instance.
pub struct Plan {
    pub mid: Mid,
    pub instance_id: i64,
    pub job_id: i64,
    pub email_id: i64,
    pub email_name: String,
    pub templates: ContentTemplates,
    pub from_address: EmailAddress,
    /// The domain of the VERP envelope sender: the delivery profile's, else
    /// `HERALD_BOUNCE_DOMAIN`, else the From domain (which keeps SPF aligned with From).
    pub bounce_domain: String,
    pub reply_to: Option<(Option<String>, EmailAddress)>,
    /// Commercial (Marketing) mail: unsubscribes apply and List-Unsubscribe is added.
    pub commercial: bool,
    /// The delivery profile's switch: open pixel and tracked links in the HTML.
    pub tracking: bool,
    pub member: MemberAddress,
    pub transport: Transport,
    /// The DKIM key the delivery profile names, if any.
    pub dkim_key_id: Option<String>,
    /// Set by the engine once the key is found: the profile's, or the From domain's.
    pub signer: Option<Arc<DkimSigner>>,
}

/// Why an instance cannot be sent: something it refers to is gone or unusable. The text
/// becomes the instance's error message.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Plan {
    /// Loads the plan of `instance` (without its signer). `server_bounce_domain` is
    /// `HERALD_BOUNCE_DOMAIN`; `transport` picks the transport for the delivery profile's
    /// relays.
    pub async fn load(
        store: &dyn Store,
        instance: &SendInstance,
        server_bounce_domain: Option<&str>,
        transport: impl FnOnce(&[Relay]) -> Result<Transport, String>,
    ) -> Result<Plan, PlanError> {
        let mid = instance.mid;
        let gone = |what: String| PlanError::Unusable(format!("{what} no longer exists"));
        let email = store
            .get_email(mid, instance.email_id)
            .await?
            .ok_or_else(|| gone(format!("email {}", instance.email_id)))?;
        let id = instance.send_classification_id.to_string();
        let classification = store
            .classifications::<SendClassification>()
            .find(mid, &id)
            .await?
            .ok_or_else(|| gone(format!("send classification {id}")))?;
        let sender = store
            .classifications::<SenderProfile>()
            .get(mid, classification.sender_profile.id)
            .await?
            .ok_or_else(|| {
                gone(format!(
                    "sender profile {}",
                    classification.sender_profile.id
                ))
            })?;
        let delivery = store
            .classifications::<DeliveryProfile>()
            .get(mid, classification.delivery_profile.id)
            .await?
            .ok_or_else(|| {
                gone(format!(
                    "delivery profile {}",
                    classification.delivery_profile.id
                ))
            })?;
        let has_address = !delivery.address.street.is_empty() || !delivery.address.city.is_empty();
        // Bulk mail must show the sender's postal address (CAN-SPAM): a profile with an
        // address but no footer of its own gets one made of the Member_* strings.
        let footer_html = match delivery.footer_html.as_str() {
            "" if has_address => ADDRESS_FOOTER_HTML,
            footer => footer,
        };
        let footer_text = match delivery.footer_text.as_str() {
            "" if has_address => ADDRESS_FOOTER_TEXT,
            footer => footer,
        };
        let html = email
            .html
            .as_deref()
            .map(|html| format!("{}{html}{footer_html}", delivery.header_html));
        let text = match (&email.text, footer_text) {
            (Some(text), "") => Some(text.clone()),
            (Some(text), footer) => Some(format!("{text}\n\n{footer}")),
            (None, _) => None,
        };
        let templates = ContentTemplates::parse(ContentSource {
            subject: &email.subject,
            preheader: &email.preheader,
            html: html.as_deref(),
            text: text.as_deref(),
            from_name: &sender.from_name,
        })
        .map_err(|err| PlanError::Unusable(format!("email {}: {err}", email.id)))?;
        let transport = transport(&delivery.relays).map_err(PlanError::Unusable)?;
        let account = store.get_account(mid).await?;
        Ok(Plan {
            mid,
            instance_id: instance.id,
            job_id: instance.job_id.unwrap_or(instance.id),
            email_id: email.id,
            email_name: email.name,
            templates,
            bounce_domain: delivery
                .bounce_domain
                .or_else(|| server_bounce_domain.map(str::to_owned))
                .unwrap_or_else(|| sender.from_address.domain().to_owned()),
            from_address: sender.from_address,
            reply_to: sender
                .reply_to_address
                .map(|address| (sender.reply_to_display_name, address)),
            commercial: classification.classification_type.is_commercial(),
            tracking: delivery.tracking_enabled,
            member: MemberAddress {
                business_name: account.map(|a| a.name).unwrap_or_default(),
                street: delivery.address.street,
                city: delivery.address.city,
                state: delivery.address.state,
                postal_code: delivery.address.postal_code,
                country: delivery.address.country,
            },
            transport,
            dkim_key_id: delivery.dkim_key_id,
            signer: None,
        })
    }

    /// Personalization strings used by the email that neither `fields` (lower-case names
    /// the audience yields) nor the system define, described for the instance's error.
    pub fn undefined_names(&self, fields: &HashSet<String>) -> Option<String> {
        let undefined = self.templates.undefined_names(|key| fields.contains(key));
        if undefined.is_empty() {
            return None;
        }
        let described: Vec<String> = undefined.iter().map(ToString::to_string).collect();
        Some(described.join("; "))
    }
}
