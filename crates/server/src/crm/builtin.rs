//! The built-in connector: Herald's own CRM, read from the store.

use std::sync::Arc;

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use herald_domain::clock::Clock;
use herald_domain::crm::{CrmRecord, TargetRef};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{Store, StoreError};

use super::{CrmConnector, CrmError, TargetInfo};

/// Records fetched per page while streaming members.
const PAGE: u32 = 500;

/// Herald's own CRM as an audience source.
pub struct BuiltinCrm {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl BuiltinCrm {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        BuiltinCrm { store, clock }
    }
}

fn unavailable(err: StoreError) -> CrmError {
    CrmError::Unavailable(err.into())
}

#[async_trait::async_trait]
impl CrmConnector for BuiltinCrm {
    async fn target(&self, mid: Mid, target: TargetRef) -> Result<Option<TargetInfo>, CrmError> {
        let name = self
            .store
            .target_name(mid, target)
            .await
            .map_err(unavailable)?;
        Ok(name.map(|name| TargetInfo { target, name }))
    }

    fn members(&self, mid: Mid, target: TargetRef) -> BoxStream<'_, Result<CrmRecord, CrmError>> {
        // The cursor is the last id read; `None` once a short page shows the end.
        let start: Option<Option<SalesforceId>> = Some(None);
        stream::try_unfold(start, move |cursor| async move {
            let Some(after) = cursor else {
                return Ok(None);
            };
            let page = self
                .store
                .members_page(mid, target, after, PAGE)
                .await
                .map_err(|err| match err {
                    StoreError::NotFound(_) => CrmError::UnknownTarget(target),
                    other => unavailable(other),
                })?;
            let next = match page.last() {
                Some(last) if page.len() == PAGE as usize => Some(Some(last.id)),
                Some(_) => None,
                None => return Ok(None),
            };
            Ok(Some((stream::iter(page.into_iter().map(Ok)), next)))
        })
        .try_flatten()
        .boxed()
    }

    async fn fields(&self, mid: Mid, target: TargetRef) -> Result<Vec<String>, CrmError> {
        self.store
            .target_fields(mid, target)
            .await
            .map_err(unavailable)?
            .ok_or(CrmError::UnknownTarget(target))
    }

    async fn set_opted_out(
        &self,
        mid: Mid,
        record: SalesforceId,
        opted_out: bool,
    ) -> Result<(), CrmError> {
        let found = self
            .store
            .set_opted_out(mid, record, opted_out, self.clock.now())
            .await
            .map_err(unavailable)?;
        if found {
            Ok(())
        } else {
            Err(CrmError::UnknownRecord(record))
        }
    }
}
