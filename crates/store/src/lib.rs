//! Herald's persistence.
//!
//! One [`Store`] trait, assembled from one trait per area (accounts, packages, ...), and one
//! implementation, [`SqlStore`], that runs the same SQL on SQLite and PostgreSQL through
//! sqlx's `Any` driver. Backend differences (migrations, locking, transaction start) are
//! decided here, from the URL scheme, and nowhere else in Herald.
//!
//! Timestamps are stored as Unix milliseconds; the caller passes "now" in, so the clock
//! stays injectable.

mod accounts;
mod assets;
mod backend;
mod classifications;
mod crm;
mod delivery;
mod error;
mod migrate;
mod packages;
mod row;
mod send;
mod settings;
mod sql;
mod throttle;
mod timestamp;
mod tokens;

use std::sync::Arc;

pub use accounts::{Account, AccountStore};
pub use assets::{
    Asset, AssetDeleteError, AssetPage, AssetStore, AssetUpdate, AssetWriteError, Email, NewAsset,
};
pub use backend::{Backend, SqlStore};
pub use classifications::{
    Classification, ClassificationError, ClassificationStore, DEFAULT_COMMERCIAL_KEY,
    DEFAULT_PROFILE_KEY, DEFAULT_TRANSACTIONAL_KEY, DeliveryProfile, DeliveryProfileFields, Kind,
    Listing, MetaFields, ObjectMeta, PostalAddress, ProfileSummary, SendClassification,
    SendClassificationFields, SenderProfile, SenderProfileFields,
};
pub use crm::{
    Campaign, CampaignDefinition, Campaigns, CrmAudienceStore, CrmCampaignStore, CrmRecordStore,
    CrmStore, CrmTargetStore, CrmWriteError, MAX_CUSTOM_FIELDS, MAX_MEMBER_PAGE, MatchOn,
    MembershipChange, Page, Report, ReportDefinition, Reports, RowError, RowOutcome, Slice,
    StoredRecord, TargetSummary, TargetTable,
};
pub use delivery::{
    ActiveInstance, AsyncBounce, AttemptOutcome, BounceRecorded, BounceStore, BouncedMessage,
    BucketGrant, CapturedMessage, ClaimedRecipient, DeliveryTurn, DkimKeyRecord, DkimKeyStore,
    EngagementCounts, EngagementStore, EngineStore, Event, EventStore, LimitStore, LinkClicks,
    NewCapturedMessage, NewEvent, NewRecipient, NewWebhook, OutboxStore, Rate, Recipient,
    RecipientCounts, RecipientResults, RecipientStore, Settled, Suppression, SuppressionStore,
    Unsubscribed, Webhook, WebhookEvent, WebhookStore,
};
pub use error::StoreError;
pub use packages::{NewPackage, Package, PackageStore};
pub use send::{
    DeleteDefinitionError, NewSendDefinition, SendDefinition, SendDefinitionChanges,
    SendDefinitionStore, SendInstance, SendInstanceStore, SendPage, UpdateDefinitionError,
};
pub use settings::SettingStore;
pub use throttle::{ThrottleStore, ThrottleWindow};
pub use tokens::{NewToken, TokenGrant, TokenStore};

/// Everything Herald keeps. Handlers and the engine see only this trait.
#[async_trait::async_trait]
pub trait Store:
    AccountStore
    + PackageStore
    + TokenStore
    + ThrottleStore
    + SettingStore
    + AssetStore
    + ClassificationStore<SenderProfile>
    + ClassificationStore<DeliveryProfile>
    + ClassificationStore<SendClassification>
    + SendDefinitionStore
    + SendInstanceStore
    + RecipientStore
    + SuppressionStore
    + OutboxStore
    + EngineStore
    + EventStore
    + EngagementStore
    + BounceStore
    + WebhookStore
    + LimitStore
    + DkimKeyStore
    + CrmStore
    + Send
    + Sync
{
    /// Which backend this is (for logs and readiness output only).
    fn backend(&self) -> Backend;

    /// Answers when the database can be reached.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Opens the database named by `url` (`sqlite://PATH` or `postgres://…`), applies pending
/// migrations and returns the store.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore::open(url).await?))
}

#[async_trait::async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
