//! The in-process remote control of a running server. `/_fake/*` exposes the same operations
//! over HTTP for tests that run the `fake-imgur` binary.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::app::App;
use crate::faults::{Fault, FaultRule};
use crate::quota::Charge;
use crate::records::StateSnapshot;

/// Where [`Controls::spend_client_credits`] pretends the other install is: a documentation
/// address (TEST-NET-3), so its spend never touches the hourly budgets of the tests' own IP.
const OTHER_INSTALL_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

/// A handle on a running server's clock, faults, state and tokens. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Controls {
    app: Arc<App>,
}

impl Controls {
    pub(crate) fn new(app: Arc<App>) -> Self {
        Self { app }
    }

    /// Moves the virtual clock forward: token expiry, quota windows, `datetime` and the
    /// rate-limit headers all follow it.
    pub fn advance_clock(&self, by: Duration) {
        self.app.clock.advance(by);
        self.app.persist();
    }

    /// The virtual time.
    pub fn now(&self) -> SystemTime {
        self.app.clock.now()
    }

    /// Answers the next `count` requests whose path starts with `path_prefix` (without one:
    /// every `/3/…` and `/oauth2/…` request) with `fault`. Faults queue up and are consumed in
    /// order. A `server_error` status outside 400–599 is replaced by 500.
    pub fn inject(&self, fault: Fault, count: u32, path_prefix: Option<String>) {
        let fault = match fault.validate() {
            Ok(()) => fault,
            Err(problem) => {
                tracing::warn!("{problem}; injecting a 500 instead");
                Fault::ServerError { status: 500 }
            }
        };
        self.app.faults().push(fault, count, path_prefix);
    }

    /// Forgets every pending fault.
    pub fn clear_faults(&self) {
        self.app.faults().clear();
    }

    /// The faults still pending, oldest first.
    pub fn pending_faults(&self) -> Vec<FaultRule> {
        self.app.faults().pending()
    }

    /// Everything observable about the server (the same JSON as `GET /_fake/state`).
    pub fn state(&self) -> StateSnapshot {
        self.app.snapshot()
    }

    /// Revokes one refresh token: refreshing with it then fails with 400 `Invalid refresh
    /// token`. Access tokens already issued stay valid until they expire. Returns how many
    /// tokens were revoked (0 or 1).
    pub fn revoke_refresh_token(&self, refresh_token: &str) -> usize {
        let revoked = self.app.records().store.revoke_refresh(refresh_token);
        self.app.persist();
        revoked
    }

    /// Revokes every access and refresh token of an account, as when a user removes the app
    /// from their Imgur settings. Returns how many tokens were revoked.
    pub fn revoke_account(&self, username: &str) -> usize {
        let revoked = self.app.records().store.revoke_account(username);
        self.app.persist();
        revoked
    }

    /// Charges `credits` to a Client ID's daily budget as another install of the same
    /// application (on another IP) would: the only trace the caller sees is a lower
    /// `X-RateLimit-ClientRemaining`. Like a real request it is refused, charged nothing and
    /// counted (`rate_limited`, `daily_limit_hits`) when the day's budget cannot cover it.
    ///
    /// Returns `None` for a Client ID that is not registered, else whether it was charged.
    pub fn spend_client_credits(&self, client_id: &str, credits: u32) -> Option<bool> {
        self.app.registered(client_id)?;
        let charged = self
            .app
            .records()
            .quota
            .admit(
                &self.app.config.limits,
                Charge {
                    client_id: Some(client_id),
                    ip: OTHER_INSTALL_IP,
                    credits,
                    post: false,
                },
                self.app.now(),
            )
            .is_ok();
        self.app.persist();
        Some(charged)
    }
}
