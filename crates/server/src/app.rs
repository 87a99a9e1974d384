//! Starting and stopping Herald: open the store, build the router, serve until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::ServiceExt;
use axum::extract::Request;
use herald_domain::clock::Clock;
use tokio::net::TcpListener;
use tower::Layer;
use tower::util::MapRequestLayer;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_domain::signed_link::LinkKey;
use herald_store::Store;
use rand::Rng;
use tokio::sync::watch;

use crate::api;
use crate::bounces;
use crate::config::Config;
use crate::crm::BuiltinCrm;
use crate::engine::Engine;
use crate::state::AppState;
use crate::webhooks::Dispatcher;

/// Opens the database (applying migrations) and assembles the shared state.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let store = herald_store::open(config.database_url.expose())
        .await
        .context("cannot open the database")?;
    let link_key = link_key(store.as_ref()).await?;
    Ok(AppState {
        crm: Arc::new(BuiltinCrm::new(store.clone(), clock.clone())),
        link_key,
        metrics: Arc::default(),
        store,
        clock,
        config: Arc::new(config),
    })
}

/// The installation's link-signing key: made once, kept in the database so that every
/// node signs alike and links survive restarts.
async fn link_key(store: &dyn Store) -> anyhow::Result<LinkKey> {
    const NAME: &str = "links.key";
    let fresh: [u8; 32] = rand::rng().random();
    store
        .put_setting_if_absent(NAME, &URL_SAFE_NO_PAD.encode(fresh))
        .await?;
    let stored = store
        .get_setting(NAME)
        .await?
        .context("the link key vanished")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(stored)
        .context("the stored link key is not base64")?;
    Ok(LinkKey::new(bytes))
}

/// Serves the API on `listener` and runs the send engine until `shutdown` completes;
/// then lets in-flight requests and messages finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_engine, engine_stopped) = watch::channel(false);
    let bounce_listener = match state.config.bounce_smtp_listen {
        Some(address) => {
            let listener = TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot bind the bounce SMTP listener to {address}"))?;
            let stopped = engine_stopped.clone();
            Some(tokio::spawn(bounces::smtp::serve(
                listener,
                state.clone(),
                stopped,
            )))
        }
        None => None,
    };
    // The webhook dispatcher runs with the engine, as its own task: a slow receiver
    // never holds up sending.
    let webhooks = match state.config.engine {
        true => Some(tokio::spawn(
            Dispatcher::new(state.clone())?.run(engine_stopped.clone()),
        )),
        false => None,
    };
    let engine = state
        .config
        .engine
        .then(|| tokio::spawn(Engine::new(state.clone()).run(engine_stopped)));
    // Path rewriting must happen before routing, so it wraps the whole router.
    let app =
        MapRequestLayer::new(api::collapse_slashes::<axum::body::Body>).layer(api::router(state));
    let served = axum::serve(
        listener,
        ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop_engine.send(true);
    })
    .await
    .context("HTTP server failed");
    if let Some(engine) = engine {
        engine.await.context("the send engine panicked")?;
    }
    if let Some(listener) = bounce_listener {
        listener
            .await
            .context("the bounce SMTP listener panicked")?;
    }
    if let Some(webhooks) = webhooks {
        webhooks.await.context("the webhook dispatcher panicked")?;
    }
    served
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
