use nats_micro_macros::service;

struct Users;

#[service(name = "users", version = "1.0")]
impl Users {}

fn main() {}
