//! The user service built by hand with [`Service::builder`]: the same endpoints, subjects,
//! group and queue groups as the macro version, each endpoint a plain async function served
//! by [`handler_with_state`] with the [`UserStore`] as state.
//!
//! ```no_run
//! use examples::users::{manual_service, UserStore};
//!
//! # async fn demo(client: nats_core::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let service = manual_service::start(&client, UserStore::new()).await?;
//! println!("{} serving", service.id());
//! # Ok(()) }
//! ```

use nats_core::Client;
use nats_micro::extract::State;
use nats_micro::{
    handler_with_state, EndpointConfig, GroupConfig, Json, Service, ServiceBuilder, StartError,
};

use super::error::UserError;
use super::model::{ImportReport, NewUser, User, UserId, UserUpdate};
use super::store::UserStore;
use super::{DESCRIPTION, GROUP, IMPORT_QUEUE_GROUP, NAME, VERSION};

/// The service over `store`, with the stats data and middleware both versions share:
/// add layers of your own, then `.start(&client)`.
pub fn builder(store: UserStore) -> ServiceBuilder {
    let management = GroupConfig::new(GROUP).queue_group(IMPORT_QUEUE_GROUP);
    let state = || store.clone();
    let builder = Service::builder(NAME, VERSION)
        .description(DESCRIPTION)
        .metadata("team", "backend")
        .endpoint(
            EndpointConfig::new("create").subject("users.create"),
            handler_with_state(create, state()),
        )
        .endpoint(
            EndpointConfig::new("get").subject("users.get"),
            handler_with_state(get, state()),
        )
        .endpoint(
            EndpointConfig::new("update").subject("users.update"),
            handler_with_state(update, state()),
        )
        .endpoint(
            EndpointConfig::new("delete").subject("users.delete"),
            handler_with_state(delete, state()),
        )
        .group_endpoint(
            &management,
            EndpointConfig::new("import").subject("import"),
            handler_with_state(bulk_import, state()),
        )
        .stats_handler(move |_endpoint| super::stats_data(&store));
    super::with_middleware(builder)
}

/// Starts the service over `store` on `client`.
///
/// # Errors
/// A [`StartError`] when a subscription fails.
pub async fn start(client: &Client, store: UserStore) -> Result<Service, StartError> {
    builder(store).start(client).await
}

async fn create(
    State(store): State<UserStore>,
    Json(new): Json<NewUser>,
) -> Result<Json<User>, UserError> {
    store.create(new).map(Json)
}

async fn get(
    State(store): State<UserStore>,
    Json(user): Json<UserId>,
) -> Result<Json<User>, UserError> {
    store.get(user.id).map(Json)
}

async fn update(
    State(store): State<UserStore>,
    Json(update): Json<UserUpdate>,
) -> Result<Json<User>, UserError> {
    store.update(update).map(Json)
}

async fn delete(
    State(store): State<UserStore>,
    Json(user): Json<UserId>,
) -> Result<Json<User>, UserError> {
    store.delete(user.id).map(Json)
}

async fn bulk_import(
    State(store): State<UserStore>,
    Json(users): Json<Vec<NewUser>>,
) -> Result<Json<ImportReport>, UserError> {
    store.import(users).map(Json)
}
