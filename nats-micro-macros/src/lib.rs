//! Attribute macros for nats-micro: `#[service]` on an impl block turns its `#[endpoint]`
//! methods into tower services registered with the nats-micro runtime, and generates a typed
//! client. Their documentation is that of `nats_micro::service`, which re-exports them.
//!
//! The entry points are thin: `parse` reads the attribute arguments, `model` validates
//! them against the Service API's rules (errors point at the user's tokens), and `expand`
//! writes one item per generated piece.

use proc_macro::TokenStream;

mod expand;
mod model;
mod parse;
mod rules;

/// Turns an impl block into a NATS micro service: documented as `nats_micro::service`, which
/// re-exports it.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as syn::ItemImpl);
    let args = match syn::parse::<parse::ServiceArgs>(attr) {
        Ok(args) => args,
        Err(error) => return with_errors(model::without_attributes(item), Some(error)),
    };
    let (model, errors) = model::ServiceModel::new(args, item);
    match expand::service(&model) {
        Ok(tokens) => with_errors(tokens, errors),
        Err(error) => {
            let errors = combine(errors, error);
            with_errors(model::without_attributes(model.item), Some(errors))
        }
    }
}

/// Marks a method of a `#[service]` impl block as an endpoint; see
/// [`service`](macro@service) for its keys. Used anywhere else, it is an error.
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

/// `tokens` followed by the errors: the generated items stay, so the errors are the only
/// ones the user sees.
fn with_errors(tokens: impl quote::ToTokens, errors: Option<syn::Error>) -> TokenStream {
    let mut output = quote::ToTokens::into_token_stream(tokens);
    if let Some(errors) = errors {
        output.extend(errors.to_compile_error());
    }
    output.into()
}

fn combine(errors: Option<syn::Error>, error: syn::Error) -> syn::Error {
    match errors {
        Some(mut all) => {
            all.combine(error);
            all
        }
        None => error,
    }
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
