//! [`ClientArg`]: how a typed client supplies what each extractor of an endpoint reads.

use bytes::Bytes;
use nats_core::HeaderMap;
use serde::Serialize;

use super::call::ClientCall;
use crate::call::encode_json;
use crate::error::CallError;
use crate::extract::{Headers, State, Subject};
use crate::json::Json;
use crate::request::Request;

/// The calling-side counterpart of an extractor: what the typed client's method takes for an
/// endpoint argument of this type ([`Input`](Self::Input)), and how that goes into the call.
///
/// | argument of the endpoint | the client method takes | and sends |
/// |---|---|---|
/// | `Json<T>` | `&T` | its JSON as the body |
/// | `Bytes`, `Request` | `impl Into<Bytes>` | the body |
/// | `String` | `impl Into<String>` | the body |
/// | `Vec<u8>` | `impl Into<Vec<u8>>` | the body |
/// | `Headers` | `HeaderMap` | the headers |
/// | `Option<T>` | `Option<T's input>` | `T`'s part, or nothing |
/// | `Subject`, `State<T>` | nothing (`()`) | nothing: the subject comes from the wildcard tokens, the state lives in the service |
///
/// Implement it for your own extractors to use them in `#[service]` impl blocks with the
/// generated client, or turn the client off with `#[service(client = false)]`.
///
/// ```
/// use nats_micro::client::{ClientArg, ClientCall};
/// use nats_micro::CallError;
///
/// /// An extractor reading the `Tenant` header.
/// struct Tenant(String);
///
/// impl ClientArg for Tenant {
///     type Input<'a> = &'a str;
///     fn write(tenant: &str, call: &mut ClientCall) -> Result<(), CallError> {
///         let mut headers = nats_core::HeaderMap::new();
///         headers.insert("Tenant", tenant);
///         call.merge_headers(&headers);
///         Ok(())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "the typed client cannot send what the extractor `{Self}` reads",
    label = "no `ClientArg` for this argument",
    note = "implement `nats_micro::client::ClientArg` for it, or turn the typed client off with `#[service(client = false)]`"
)]
pub trait ClientArg {
    /// What the client method takes for this argument.
    type Input<'a>
    where
        Self: 'a;

    /// Puts `input` into `call`.
    ///
    /// # Errors
    /// Why `input` cannot be sent: [`CallError::Encode`] when it does not serialize,
    /// [`CallError::InvalidArgument`] when the body is set twice.
    fn write(input: Self::Input<'_>, call: &mut ClientCall) -> Result<(), CallError>;
}

/// What a typed client's method takes for an endpoint argument of type `A`: anything that
/// converts into `A`'s [`ClientArg::Input`] (`&T` for `Json<T>`, `&str` or `Vec<u8>` for
/// `Bytes`, ...).
///
/// Generated methods take `impl IntoInput<'_, A>` rather than naming `A::Input`, so that an
/// argument type without [`ClientArg`] is an error only where its method is called, and
/// never a second error beside the extractor's own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not what the typed client takes for an argument of type `{A}`",
    label = "expected the input of `{A}`",
    note = "`Json<T>` takes `&T`; `Bytes` and `Request` take `impl Into<Bytes>`; `String` takes `impl Into<String>`; `Headers` takes a `HeaderMap`; `Option<T>` takes an `Option` of `T`'s input"
)]
pub trait IntoInput<'a, A> {
    /// Puts `self` into `call` as `A` says.
    ///
    /// # Errors
    /// As [`ClientArg::write`].
    fn write_into(self, call: &mut ClientCall) -> Result<(), CallError>;
}

impl<'a, A, T> IntoInput<'a, A> for T
where
    A: ClientArg + 'a,
    T: Into<A::Input<'a>>,
{
    fn write_into(self, call: &mut ClientCall) -> Result<(), CallError> {
        A::write(self.into(), call)
    }
}

/// Writes `input` for an argument of type `A` into `call`.
///
/// # Errors
/// As [`ClientArg::write`].
pub fn write_arg<'a, A>(
    input: impl IntoInput<'a, A>,
    call: &mut ClientCall,
) -> Result<(), CallError> {
    input.write_into(call)
}

impl<T: Serialize> ClientArg for Json<T> {
    type Input<'a>
        = &'a T
    where
        T: 'a;

    fn write(input: &T, call: &mut ClientCall) -> Result<(), CallError> {
        call.set_body(encode_json(input)?)
    }
}

impl ClientArg for Bytes {
    type Input<'a> = Bytes;

    fn write(input: Bytes, call: &mut ClientCall) -> Result<(), CallError> {
        call.set_body(input)
    }
}

impl ClientArg for Request {
    type Input<'a> = Bytes;

    fn write(input: Bytes, call: &mut ClientCall) -> Result<(), CallError> {
        call.set_body(input)
    }
}

impl ClientArg for String {
    type Input<'a> = String;

    fn write(input: String, call: &mut ClientCall) -> Result<(), CallError> {
        call.set_body(input.into())
    }
}

impl ClientArg for Vec<u8> {
    type Input<'a> = Vec<u8>;

    fn write(input: Vec<u8>, call: &mut ClientCall) -> Result<(), CallError> {
        call.set_body(input.into())
    }
}

impl ClientArg for Headers {
    type Input<'a> = HeaderMap;

    fn write(input: HeaderMap, call: &mut ClientCall) -> Result<(), CallError> {
        call.merge_headers(&input);
        Ok(())
    }
}

impl<T: ClientArg> ClientArg for Option<T> {
    type Input<'a>
        = Option<T::Input<'a>>
    where
        T: 'a;

    fn write(input: Self::Input<'_>, call: &mut ClientCall) -> Result<(), CallError> {
        match input {
            Some(input) => T::write(input, call),
            None => Ok(()),
        }
    }
}

impl ClientArg for Subject {
    type Input<'a> = ();

    fn write((): (), _call: &mut ClientCall) -> Result<(), CallError> {
        Ok(())
    }
}

impl<T> ClientArg for State<T> {
    type Input<'a>
        = ()
    where
        T: 'a;

    fn write((): (), _call: &mut ClientCall) -> Result<(), CallError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_argument_puts_its_part() {
        let mut call = ClientCall::new("e", "s");
        write_arg::<Json<Vec<u8>>>(&vec![1, 2], &mut call).expect("json");
        assert_eq!(call.payload.as_deref(), Some(&b"[1,2]"[..]));

        let mut call = ClientCall::new("e", "s");
        write_arg::<Option<Json<u8>>>(None, &mut call).expect("none");
        assert!(call.payload.is_none());
        write_arg::<Option<Json<u8>>>(&7, &mut call).expect("some");
        assert_eq!(call.payload.as_deref(), Some(&b"7"[..]));

        let mut call = ClientCall::new("e", "s");
        write_arg::<String>("text", &mut call).expect("string");
        write_arg::<Subject>((), &mut call).expect("subject");
        let mut headers = HeaderMap::new();
        headers.insert("K", "v");
        write_arg::<Headers>(headers, &mut call).expect("headers");
        assert_eq!(call.payload.as_deref(), Some(&b"text"[..]));
        assert_eq!(
            call.headers
                .and_then(|h| h.get("K").map(str::to_owned))
                .as_deref(),
            Some("v")
        );
    }

    #[test]
    fn two_bodies_are_an_error() {
        let mut call = ClientCall::new("twice", "s");
        write_arg::<Bytes>("a", &mut call).expect("first");
        assert!(write_arg::<Request>("b", &mut call).is_err());
    }
}
