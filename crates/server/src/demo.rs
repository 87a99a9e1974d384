//! `herald serve --demo`: a ready-to-try account and package, created once, and
//! instructions printed at every start.

use herald_domain::scope::ScopeSet;

use crate::packages::{CreatedPackage, create_package};
use crate::state::AppState;

const DEMO_SETTING: &str = "demo.package";

/// Creates the demo account and package on first use; prints how to use them.
pub async fn seed_and_print(state: &AppState) -> anyhow::Result<()> {
    let base = state.config.public_base();
    if let Some(client_id) = state.store.get_setting(DEMO_SETTING).await? {
        println!(
            "Herald demo: package client id {client_id} (its secret was printed when the demo was \
             first created).\nFor new credentials: herald package create --name \"My package\"\n\
             API at {base}"
        );
        return Ok(());
    }
    let account = state
        .store
        .create_account("Demo", state.clock.now())
        .await?;
    let created = create_package(
        state.store.as_ref(),
        state.clock.as_ref(),
        "Demo package",
        account.mid,
        ScopeSet::all(),
    )
    .await?;
    crate::api::assets::seed_demo(state, account.mid).await?;
    crate::api::classifications::seed::seed_demo(state, account.mid).await?;
    crate::crm::demo::seed(state.store.as_ref(), account.mid, state.clock.now()).await?;
    state
        .store
        .put_setting_if_absent(DEMO_SETTING, &created.client_id)
        .await?;
    print_credentials(&base, &created);
    Ok(())
}

fn print_credentials(base: &str, created: &CreatedPackage) {
    println!(
        "Herald demo account created (MID {mid}).\n\
         \n  client id:     {id}\n  client secret: {secret}\n\
         \nThe secret is shown only now; Herald keeps only a hash of it.\n\
         Get a token:\n\n  curl -s -X POST {base}v2/token -H 'Content-Type: application/json' \\\n    \
         -d '{{\"grant_type\":\"client_credentials\",\"client_id\":\"{id}\",\"client_secret\":\"{secret}\"}}'\n",
        mid = created.account_id,
        id = created.client_id,
        secret = created.client_secret,
    );
}
