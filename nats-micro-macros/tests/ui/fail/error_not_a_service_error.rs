use micro::service;

pub struct Users;

/// An error type without `From<StoreError> for ServiceError`.
#[derive(Debug)]
pub struct StoreError;

#[service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.get")]
    async fn get(&self) -> Result<String, StoreError> {
        Err(StoreError)
    }
}

fn main() {}
