//! The user service written with `#[nats_micro::service]`: one method per endpoint, each
//! forwarding to the [`UserStore`]. The macro also generates [`UserServiceClient`], the typed
//! client (one method per endpoint), and `UserService::service_builder`, to which
//! [`UserService::builder`] adds the middleware.
//!
//! ```no_run
//! use std::time::Duration;
//! use examples::users::{NewUser, UserService, UserServiceClient, UserStore};
//!
//! # async fn demo(client: nats_core::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let service = UserService::new(UserStore::new()).start(&client).await?;
//! // At most 8 calls in flight (a tower layer on the calling side), 2 s per call.
//! let users = UserServiceClient::new(&client)
//!     .layer(tower::limit::ConcurrencyLimitLayer::new(8))
//!     .with_timeout(Duration::from_secs(2));
//! let ann = users.create(&NewUser::new("Ann", "ann@example.com")).await?;
//! println!("{} has id {}", ann.name, ann.id);
//! service.stop().await;
//! # Ok(()) }
//! ```

use nats_core::Client;
use nats_micro::schema::EndpointStats;
use nats_micro::{Json, Service, ServiceBuilder, StartError};

use super::error::UserError;
use super::model::{ImportReport, NewUser, User, UserId, UserUpdate};
use super::store::UserStore;

/// The user service: its endpoints are the `#[endpoint]` methods below.
#[derive(Debug, Clone, Default)]
pub struct UserService {
    store: UserStore,
}

// The name, version and the rest must be literals here; the hand-built version uses the
// constants of `users`, and the tests check that both describe themselves identically.
#[nats_micro::service(
    name = "user-service",
    version = "1.2.0",
    description = "User management service",
    metadata(team = "backend"),
    group(name = "user-management", queue_group = "bulk-import")
)]
impl UserService {
    /// Adds a user.
    #[endpoint("users.create")]
    async fn create(&self, Json(new): Json<NewUser>) -> Result<Json<User>, UserError> {
        self.store.create(new).map(Json)
    }

    /// Reads a user.
    #[endpoint("users.get")]
    async fn get(&self, Json(user): Json<UserId>) -> Result<Json<User>, UserError> {
        self.store.get(user.id).map(Json)
    }

    /// Changes a user's name or email.
    #[endpoint("users.update")]
    async fn update(&self, Json(update): Json<UserUpdate>) -> Result<Json<User>, UserError> {
        self.store.update(update).map(Json)
    }

    /// Removes a user; answers with what it was.
    #[endpoint("users.delete")]
    async fn delete(&self, Json(user): Json<UserId>) -> Result<Json<User>, UserError> {
        self.store.delete(user.id).map(Json)
    }

    /// Adds many users at once, all or none, on its own queue group.
    #[endpoint(name = "import", group = "user-management", subject = "import")]
    async fn bulk_import(
        &self,
        Json(users): Json<Vec<NewUser>>,
    ) -> Result<Json<ImportReport>, UserError> {
        self.store.import(users).map(Json)
    }

    /// Every endpoint's `data` in STATS replies.
    #[stats_handler]
    fn stats(&self, _endpoint: &EndpointStats) -> serde_json::Value {
        super::stats_data(&self.store)
    }
}

impl UserService {
    /// The service over `store`.
    pub fn new(store: UserStore) -> Self {
        UserService { store }
    }

    /// Its users.
    pub fn store(&self) -> &UserStore {
        &self.store
    }

    /// The generated builder with the middleware of [`super::with_middleware`]: add layers of
    /// your own, then `.start(&client)`.
    pub fn builder(self) -> ServiceBuilder {
        super::with_middleware(self.service_builder())
    }

    /// Starts the service on `client` with its middleware (the generated `serve` starts it
    /// without).
    ///
    /// # Errors
    /// A [`StartError`] when a subscription fails.
    pub async fn start(self, client: &Client) -> Result<Service, StartError> {
        self.builder().start(client).await
    }
}
