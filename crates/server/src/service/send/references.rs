//! What a definition names must exist in the account: its email, its send
//! classification and every target and exclusion in the CRM. Checked when a definition
//! is created or updated, and again when it is scheduled (any of them may have been
//! deleted since).

use herald_domain::mid::Mid;
use herald_domain::send::definition::TargetList;
use herald_domain::send::message::{self, Verb};
use herald_domain::send::target::Target;
use herald_store::SendClassification;

use super::refused;
use crate::crm::CrmError;
use crate::service::Error;
use crate::state::AppState;

/// The references of one definition.
pub struct References<'a> {
    pub email_id: i64,
    /// The classification's id (digits) or customer key.
    pub send_classification: &'a str,
    pub targets: &'a [Target],
    pub exclusions: &'a [Target],
}

impl References<'_> {
    /// Checks every reference in account `mid`, in the order of the body, and returns
    /// the classification. The first one missing is a business error for `verb`.
    pub async fn check(
        &self,
        state: &AppState,
        mid: Mid,
        verb: Verb,
    ) -> Result<SendClassification, Error> {
        if state.store.get_email(mid, self.email_id).await?.is_none() {
            return Err(refused(verb, message::email_not_found(self.email_id)));
        }
        let Some(classification) = state
            .store
            .classifications::<SendClassification>()
            .find(mid, self.send_classification)
            .await?
        else {
            return Err(refused(
                verb,
                message::classification_not_found(self.send_classification),
            ));
        };
        let lists = [
            (TargetList::Targets, self.targets),
            (TargetList::Exclusions, self.exclusions),
        ];
        for (list, targets) in lists {
            for (index, target) in targets.iter().enumerate() {
                check_target(state, mid, verb, list, index, target).await?;
            }
        }
        Ok(classification)
    }
}

async fn check_target(
    state: &AppState,
    mid: Mid,
    verb: Verb,
    list: TargetList,
    index: usize,
    target: &Target,
) -> Result<(), Error> {
    match state.crm.target(mid, target.crm_ref()).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) | Err(CrmError::UnknownTarget(_) | CrmError::UnknownRecord(_)) => Err(refused(
            verb,
            message::target_not_found(list, index, target),
        )),
        Err(CrmError::Unavailable(cause)) => {
            tracing::warn!(error = %format!("{cause:#}"), "the CRM could not check a send target");
            Err(refused(verb, message::crm_unavailable(list, index, target)))
        }
    }
}
