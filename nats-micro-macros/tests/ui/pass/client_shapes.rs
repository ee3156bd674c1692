//! What the typed client takes and returns for every kind of argument and reply.

use micro::extract::{Headers, State, Subject};
use micro::nats_core::{HeaderMap, Message};
use micro::{Bytes, Json, NoReply, Reply, Request, ServiceError};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
pub struct Item {
    pub id: u64,
}

type Answer<T> = Result<Json<T>, ServiceError>;
use Json as J;

#[derive(Clone, Default)]
pub struct Shop;

#[micro::service(name = "shop", version = "1.0.0")]
impl Shop {
    #[endpoint("shop.items.*.get")]
    async fn get(&self, Subject(_s): Subject, J(_item): J<Item>) -> Answer<Item> {
        Ok(Json(Item { id: 1 }))
    }

    #[endpoint("shop.*.*.move.>")]
    async fn relocate(&self, _state: State<()>) -> &'static str {
        "moved"
    }

    #[endpoint("shop.maybe")]
    async fn maybe(&self, item: Option<Json<Item>>) -> (HeaderMap, String) {
        (HeaderMap::new(), item.map_or(0, |i| i.0.id).to_string())
    }

    #[endpoint("shop.raw")]
    async fn raw(&self, request: Request) -> Reply {
        Reply::new(request.data().clone())
    }

    #[endpoint("shop.text")]
    async fn text(&self, text: String, Headers(_h): Headers) -> Vec<u8> {
        text.into_bytes()
    }

    #[endpoint("shop.fire")]
    async fn fire(&self, _body: Bytes) -> NoReply {
        NoReply
    }

    #[endpoint("shop.fail")]
    async fn fail(&self) -> ServiceError {
        ServiceError::new(503, "closed")
    }
}

/// A custom extractor without `ClientArg`: fine with `client = false`.
pub struct Tenant;

impl<S> micro::extract::FromRequest<S> for Tenant {
    type Rejection = ServiceError;
    fn from_request(_request: &Request, _state: &S) -> Result<Self, ServiceError> {
        Ok(Tenant)
    }
}

pub struct Internal;

#[micro::service(name = "internal", version = "1.0.0", client = false)]
impl Internal {
    #[endpoint("internal.who")]
    async fn who(&self, _tenant: Tenant) -> impl micro::IntoReply {
        "nobody"
    }
}

async fn _use_the_client(client: &micro::nats_core::Client) -> Result<(), micro::CallError> {
    let shop = ShopClient::new(client).with_timeout(std::time::Duration::from_secs(1));
    let item: Item = shop.get("42", &Item { id: 42 }).await?;
    let moved: String = shop.relocate("a", "b", "c.d").await?;
    let (_headers, text): (HeaderMap, String) = shop.maybe(None).await?;
    let (_, _): (HeaderMap, String) = shop.maybe(&item).await?;
    let whole: Message = shop.with_header("K", "v").raw("bytes").await?;
    let bytes: Vec<u8> = shop.text("hi", HeaderMap::new()).await?;
    shop.fire(Bytes::new()).await?;
    let never: Result<std::convert::Infallible, _> = shop.fail().await;
    let timeout = micro::tower::timeout::TimeoutLayer::new(std::time::Duration::from_secs(1));
    let limited = ShopClient::new(client).layer(timeout);
    let _: Item = limited.get("1", &item).await?;
    let _ = (moved, text, whole, bytes, never);
    Ok(())
}

fn main() {
    let _ = Shop.service_builder();
    let _ = Internal.service_builder();
}
