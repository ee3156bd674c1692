//! Attribute macros for nats-micro: `#[service]` on an impl block turns its `#[endpoint]`
//! methods into tower services registered with the nats-micro runtime, and generates a typed
//! client.
//!
//! The entry points are thin: `parse` reads the attribute arguments, `model` validates
//! them against the Service API's rules (errors point at the user's tokens), and `expand`
//! writes one item per generated piece.

use proc_macro::TokenStream;

mod expand;
mod model;
mod parse;
mod rules;

/// Turns an impl block into a NATS micro service. See the `nats-micro` crate's documentation.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(attr as parse::ServiceArgs);
    let item = syn::parse_macro_input!(item as syn::ItemImpl);
    match model::ServiceModel::new(args, item).and_then(|model| expand::service(&model)) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// Marks a method of a `#[service]` impl block as an endpoint. Used anywhere else, it is an
/// error.
#[proc_macro_attribute]
pub fn endpoint(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_service("#[endpoint]", item)
}

/// Marks the method of a `#[service]` impl block whose value goes into every endpoint's `data`
/// in STATS replies: `fn(&self, endpoint: &EndpointStats) -> serde_json::Value`. Used anywhere
/// else, it is an error.
#[proc_macro_attribute]
pub fn stats_handler(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_service("#[stats_handler]", item)
}

/// The error for an attribute that only `#[service]` understands, followed by the item.
fn outside_service(attribute: &str, item: TokenStream) -> TokenStream {
    let message = format!("{attribute} must be on a method of an impl block marked #[service]");
    let mut output = TokenStream::from(
        syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error(),
    );
    output.extend(item);
    output
}
