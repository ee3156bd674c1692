//! The generated code names everything by absolute path.
#![no_implicit_prelude]

pub struct Echo;

#[::micro::service(name = "echo", version = "0.1.0")]
impl Echo {
    #[endpoint("echo")]
    async fn echo(&self, body: ::micro::Bytes) -> ::micro::Bytes {
        body
    }

    #[endpoint("fail")]
    async fn fail(&self) -> ::std::result::Result<(), ::micro::ServiceError> {
        ::std::result::Result::Err(::micro::ServiceError::bad_request("no"))
    }
}

fn main() {
    let _builder = Echo.service_builder();
    let _client: ::std::option::Option<EchoClient> = ::std::option::Option::None;
}
