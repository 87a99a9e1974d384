//! `herald dkim generate` and `herald dkim list`: signing keys and the DNS records to
//! publish for them.

use herald_domain::clock::Clock;
use herald_mail::dkim::{DkimKey, DkimSigner, KeyAlgorithm};
use herald_store::{DkimKeyRecord, Store};

/// A key just made: what to publish in DNS.
#[derive(Debug, serde::Serialize)]
pub struct GeneratedKey {
    /// The key's id, also the DNS name to publish the record at.
    pub id: String,
    pub algorithm: &'static str,
    pub dns_record: String,
}

/// Makes and stores a key for `domain` under `selector`.
pub async fn generate(
    store: &dyn Store,
    clock: &dyn Clock,
    domain: &str,
    selector: &str,
    algorithm: KeyAlgorithm,
) -> anyhow::Result<GeneratedKey> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let selector = selector.trim().to_ascii_lowercase();
    let key = tokio::task::spawn_blocking(move || DkimKey::generate(algorithm)).await??;
    // Refuses bad domains and selectors with a clear message before anything is stored.
    DkimSigner::new(DkimKey::from_pem(&key.to_pem())?, &domain, &selector)?;
    let id = format!("{selector}._domainkey.{domain}");
    let dns_record = key.dns_txt_record();
    let stored = store
        .insert_dkim_key(DkimKeyRecord {
            id: id.clone(),
            domain,
            selector,
            algorithm: algorithm.dns_name().to_owned(),
            private_pem: key.to_pem(),
            dns_record: dns_record.clone(),
            created_at: clock.now(),
        })
        .await?;
    anyhow::ensure!(
        stored,
        "a key named {id} exists already; choose another selector (keys are never replaced)"
    );
    Ok(GeneratedKey {
        id,
        algorithm: algorithm.dns_name(),
        dns_record,
    })
}

/// How `generate` prints for people.
pub fn describe(key: &GeneratedKey) -> String {
    format!(
        "Created {} DKIM key {id}.\nPublish this TXT record, then name the key in a delivery \
         profile (\"dkimKeyId\": \"{id}\") or let it sign all mail from its domain:\n\n{id}. IN TXT \"{}\"\n\n\
         (DNS strings hold 255 characters at most: split a longer value into several quoted strings.)",
        key.algorithm,
        key.dns_record,
        id = key.id
    )
}
