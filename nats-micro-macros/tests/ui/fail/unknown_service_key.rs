use nats_micro_macros::service;

struct Users;

#[service(name = "users", version = "1.0.0", descripton = "typo")]
impl Users {}

fn main() {}
