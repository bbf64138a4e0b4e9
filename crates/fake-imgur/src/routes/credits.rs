//! `GET /3/credits`: the budgets, as the headers also tell them.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;

use crate::app::App;
use crate::auth::Caller;
use crate::envelope::{ApiResult, Data};
use crate::models::CreditsModel;
use crate::server::PeerAddr;

/// The caller's budgets after this call has been charged (it costs 1 credit, like any call).
pub(super) async fn credits(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    peer: Option<Extension<PeerAddr>>,
) -> ApiResult<CreditsModel> {
    let ip = peer.map_or(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        |Extension(PeerAddr(addr))| addr.ip(),
    );
    let view = app
        .records()
        .quota
        .view(&app.config.limits, Some(&caller.client_id), ip, app.now());
    Ok(Data(CreditsModel {
        user_limit: view.user_limit,
        user_remaining: view.user_remaining,
        user_reset: view.user_reset_epoch,
        client_limit: view.client_limit,
        client_remaining: view.client_remaining,
    }))
}
