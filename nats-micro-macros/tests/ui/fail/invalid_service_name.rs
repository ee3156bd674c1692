use nats_micro_macros::service;

struct Users;

#[service(name = "user service", version = "1.0.0")]
impl Users {}

fn main() {}
