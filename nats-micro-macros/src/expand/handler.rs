//! The handler of one endpoint: a closure over the shared service value that takes the
//! request, extracts each argument and turns what the method returns into the reply.
//!
//! Each step goes through a function of `nats_micro::__private` called with the user's type
//! and spanned on it, so a type that is no extractor, no reply, or an error type that is no
//! service error is reported at that type with the missing trait named, and nothing else is.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::model::{EndpointModel, Output};

/// `handler_fn(closure)` serving `endpoint`.
pub(super) fn handler(endpoint: &EndpointModel, krate: &TokenStream) -> TokenStream {
    let method = &endpoint.method;
    let names: Vec<Ident> = (0..endpoint.args.len())
        .map(|i| format_ident!("__arg{}", i))
        .collect();
    let extracts = endpoint
        .args
        .iter()
        .zip(&names)
        .map(|(arg, name)| extract(&arg.ty, name, krate));
    let call = quote!(this.#method(#(#names),*).await);
    let reply = reply(&endpoint.output, call, krate);
    quote! {
        #krate::handler_fn({
            let this = ::std::clone::Clone::clone(&this);
            move |__request: #krate::Request| {
                let this = ::std::clone::Clone::clone(&this);
                async move {
                    #(#extracts)*
                    #reply
                }
            }
        })
    }
}

/// `let name = <extracted ty>`, or the rejection as the reply.
fn extract(ty: &Type, name: &Ident, krate: &TokenStream) -> TokenStream {
    let extracted = quote_spanned! {ty.span()=>
        #krate::__private::extract::<#ty>(&__request)
    };
    quote! {
        let #name = match #extracted {
            ::std::result::Result::Ok(value) => value,
            ::std::result::Result::Err(rejection) => return rejection,
        };
    }
}

/// The reply of what `call` returns.
fn reply(output: &Output, call: TokenStream, krate: &TokenStream) -> TokenStream {
    match output {
        Output::Unit => quote!(#krate::__private::reply::<()>(#call)),
        Output::Result { ok, err, .. } => {
            let ok_reply = quote_spanned!(ok.span()=> #krate::__private::reply::<#ok>(value));
            let err_reply =
                quote_spanned!(err.span()=> #krate::__private::error_reply::<#err>(error));
            quote! {
                match #call {
                    ::std::result::Result::Ok(value) => #ok_reply,
                    ::std::result::Result::Err(error) => #err_reply,
                }
            }
        }
        Output::Other(ty) if matches!(**ty, Type::ImplTrait(_)) => {
            quote_spanned!(ty.span()=> #krate::__private::reply(#call))
        }
        Output::Other(ty) => quote_spanned!(ty.span()=> #krate::__private::reply::<#ty>(#call)),
    }
}
