//! Opening a service: the database, the governor, the workers and the login of one data
//! directory. The faces open theirs through [`Endpoint::connect`](super::Endpoint::connect);
//! the core's tests (feature `testing`) choose the clock and credentials themselves.

use super::{ServiceError, UploadService};
use crate::auth::{AuthSession, SecretVault, VaultChoice};
use crate::clock::Clock;
#[cfg(feature = "testing")]
use crate::clock::SystemClock;
use crate::core_error::CoreError;
use crate::governor::{GovernorConfig, QuotaGovernor};
use crate::paths::AppPaths;
use crate::preflight::PreflightSettings;
#[cfg(feature = "testing")]
use crate::runner::NoAccounts;
use crate::runner::{Credentials, Runner, RunnerConfig};
use crate::spool::Spool;
use crate::store::Database;
use std::sync::{Arc, RwLock};
use upshot_imgur::{ClientConfig, ImgurClient};
use url::Url;

/// How a service logs in: where its tokens are kept, its client secret, the callbacks a login
/// may come back to ([`login_options`](super::login_options) reads them from the environment).
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// Keychain or file for the tokens and the client secret.
    pub vault: VaultChoice,
    /// The client secret given on the command line or in the environment.
    pub client_secret: Option<upshot_imgur::Secret>,
    /// The registered callbacks a login may come back to.
    pub callbacks: Vec<Url>,
}

impl UploadService {
    /// Opens (creating if needed) the database in the data directory and sets up the workers.
    /// For the core's tests: the faces open theirs through [`Endpoint::connect`](super::Endpoint::connect).
    #[cfg(feature = "testing")]
    pub fn open(
        paths: &AppPaths,
        api_base: Url,
        client_id: &str,
        config: RunnerConfig,
    ) -> Result<Self, ServiceError> {
        Self::open_with(
            paths,
            api_base,
            client_id,
            config,
            Arc::new(SystemClock),
            Arc::new(NoAccounts),
        )
    }

    /// The service with a clock and credentials of the caller's choosing, for the core's
    /// tests. `api` is the API base, or a whole [`ClientConfig`] (answer deadline, commercial
    /// key).
    #[cfg(feature = "testing")]
    pub fn open_with(
        paths: &AppPaths,
        api: impl Into<ClientConfig>,
        client_id: &str,
        config: RunnerConfig,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Self, ServiceError> {
        Self::assemble(paths, api, client_id, config, clock, credentials)
    }

    /// Opens (creating if needed) the database in the data directory and sets up the workers
    /// with a clock and credentials of the caller's choosing.
    fn assemble(
        paths: &AppPaths,
        api: impl Into<ClientConfig>,
        client_id: &str,
        config: RunnerConfig,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Self, ServiceError> {
        AppPaths::ensure_private_dir(&paths.data_dir)?;
        let db = Database::open_in(&paths.data_dir)?;
        let client = ImgurClient::new(api.into()).map_err(CoreError::from)?;
        let governor = Arc::new(QuotaGovernor::open(&db, clock, GovernorConfig::default())?);
        let runner = Runner::new(
            &db,
            governor.clone(),
            client.clone(),
            credentials,
            &paths.data_dir,
            config,
        );
        Ok(Self {
            db,
            client,
            client_id: client_id.to_owned(),
            governor,
            runner,
            spool: Spool::new(&paths.data_dir),
            prepared: Spool::prepared(&paths.data_dir),
            auth: None,
            preflight: Arc::new(RwLock::new(PreflightSettings::default())),
            notices: Arc::default(),
        })
    }

    /// [`assemble_with_login`](Self::assemble_with_login) for the core's tests (the faces
    /// open theirs through [`Endpoint::connect`](super::Endpoint::connect)).
    #[cfg(feature = "testing")]
    pub fn open_with_login(
        paths: &AppPaths,
        api: impl Into<ClientConfig>,
        client_id: &str,
        config: RunnerConfig,
        clock: Arc<dyn Clock>,
        login: LoginOptions,
    ) -> Result<Self, ServiceError> {
        Self::assemble_with_login(paths, api, client_id, config, clock, login)
    }

    /// The service whose credentials are the logged-in account of `client_id` (tokens in the
    /// keychain, refreshed when due). Uploads go to that account unless a file says
    /// `anonymous`.
    pub(crate) fn assemble_with_login(
        paths: &AppPaths,
        api: impl Into<ClientConfig>,
        client_id: &str,
        config: RunnerConfig,
        clock: Arc<dyn Clock>,
        login: LoginOptions,
    ) -> Result<Self, ServiceError> {
        AppPaths::ensure_private_dir(&paths.data_dir)?;
        let db = Database::open_in(&paths.data_dir)?;
        let api: ClientConfig = api.into();
        let client = ImgurClient::new(api.clone()).map_err(CoreError::from)?;
        let vault = Arc::new(SecretVault::open(&paths.data_dir, login.vault));
        let session = Arc::new(
            AuthSession::new(
                client,
                client_id,
                db,
                vault,
                clock.clone(),
                login.client_secret,
                login.callbacks,
            )
            .with_account_jobs(Arc::new(crate::runner::LoginHolds)),
        );
        let mut service = Self::assemble(paths, api, client_id, config, clock, session.clone())?;
        service.auth = Some(session);
        Ok(service)
    }
}
