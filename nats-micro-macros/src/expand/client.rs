//! The typed client `<Type>Client`: one method per endpoint, over a tower stack of
//! `nats_micro::client::ClientCall`s (a `Caller` unless the user adds layers).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use crate::model::{token_params, ArgModel, EndpointModel, ServiceModel};

/// The client struct, its constructors and options, and its endpoint methods.
pub(super) fn client(model: &ServiceModel, krate: &TokenStream, type_name: &Ident) -> TokenStream {
    let client_name = format_ident!("{}Client", type_name);
    let doc = format!(
        "A typed client of the `{}` service: one method per endpoint of [`{}`].\n\n\
         Calls go through a tower stack of `nats_micro::client::ClientCall`s: a \
         `nats_micro::client::Caller` unless layers are added with \
         [`layer`](Self::layer) or [`with_service`](Self::with_service).",
        model.name, type_name
    );
    let core = quote!(#krate::client::ClientCore);
    let constructors = constructors(&client_name, krate);
    // An `impl Trait` reply cannot be named: the model reported it, no method is generated.
    let methods = model
        .endpoints
        .iter()
        .filter(|e| e.output.opaque().is_none())
        .map(|e| method(e, krate));
    quote! {
        #[doc = #doc]
        #[derive(::std::clone::Clone, ::std::fmt::Debug)]
        pub struct #client_name<S = #krate::client::Caller> {
            core: #core<S>,
        }

        #constructors

        impl<S> #client_name<S>
        where
            S: #krate::tower::Service<
                    #krate::client::ClientCall,
                    Response = ::std::option::Option<#krate::nats_core::Message>,
                > + ::std::clone::Clone,
            S::Error: ::std::convert::Into<#krate::CallError>,
        {
            #(#methods)*
        }
    }
}

/// `new`, `with_service`, `layer`, `core` and the per-call options.
fn constructors(client_name: &Ident, krate: &TokenStream) -> TokenStream {
    let core = quote!(#krate::client::ClientCore);
    quote! {
        impl #client_name {
            /// A client that sends its calls through `client`.
            pub fn new(client: &#krate::nats_core::Client) -> Self {
                #client_name { core: #core::new(client) }
            }
        }

        impl<S> #client_name<S> {
            /// A client whose calls go through `service`, such as a
            /// `nats_micro::client::Caller` wrapped in tower layers.
            pub fn with_service(service: S) -> Self {
                #client_name { core: #core::with_service(service) }
            }

            /// The same client with `layer` around its service: retries, timeouts,
            /// concurrency limits, load shedding on the calling side.
            pub fn layer<L: #krate::tower::Layer<S>>(self, layer: L) -> #client_name<L::Service> {
                #client_name { core: self.core.layer(layer) }
            }

            /// Its service and per-call options.
            pub fn core(&self) -> &#core<S> {
                &self.core
            }
        }

        impl<S: ::std::clone::Clone> #client_name<S> {
            /// A copy whose calls wait at most `timeout` for their reply.
            pub fn with_timeout(&self, timeout: ::std::time::Duration) -> Self {
                #client_name { core: ::std::clone::Clone::clone(&self.core).timeout(timeout) }
            }

            /// A copy whose calls send `headers`, instead of the headers set before.
            pub fn with_headers(&self, headers: #krate::nats_core::HeaderMap) -> Self {
                #client_name { core: ::std::clone::Clone::clone(&self.core).headers(headers) }
            }

            /// A copy whose calls also send the header `name: value` (replacing the values set
            /// before for `name`).
            pub fn with_header(
                &self,
                name: impl ::std::convert::Into<::std::string::String>,
                value: impl ::std::convert::Into<::std::string::String>,
            ) -> Self {
                #client_name {
                    core: ::std::clone::Clone::clone(&self.core).header(name, value),
                }
            }
        }
    }
}

/// One endpoint method: the wildcard tokens, then a parameter per argument the caller gives.
fn method(endpoint: &EndpointModel, krate: &TokenStream) -> TokenStream {
    let method = &endpoint.method;
    let name = &endpoint.name;
    let pattern = match &endpoint.group {
        Some(prefix) => format!("{prefix}.{}", endpoint.subject),
        None => endpoint.subject.clone(),
    };
    let doc = format!("Calls the `{name}` endpoint on `{pattern}`.");
    let tokens: Vec<Ident> = token_params(&pattern)
        .iter()
        .map(|t| format_ident!("{}", t))
        .collect();
    let subject = subject(&pattern, &tokens, krate);
    let params: Vec<TokenStream> = endpoint
        .args
        .iter()
        .filter_map(|arg| param(arg, krate))
        .collect();
    // The lifetime of borrowed inputs (`&T` for `Json<T>`), named: anonymous lifetimes in
    // `impl Trait` arguments are not stable.
    let lifetime = (!params.is_empty()).then(|| quote!(<'__input>));
    let writes = endpoint.args.iter().map(|arg| write(arg, krate));
    let output = endpoint.output.ty();
    quote! {
        #[doc = #doc]
        ///
        /// # Errors
        /// The service's error reply (`CallError::Service`), an argument that cannot be
        /// sent, or why the request failed.
        #[allow(clippy::too_many_arguments)]
        pub fn #method #lifetime(
            &self,
            #(#tokens: &str,)*
            #(#params,)*
        ) -> #krate::client::Pending<S, #output> {
            // The arguments go into the call now: the future holds only the call.
            let call = (|| {
                let subject = #subject;
                let mut call = self.core.call(#name, subject);
                #(#writes)*
                ::std::result::Result::<_, #krate::CallError>::Ok(call)
            })();
            self.core.send::<#output>(call)
        }
    }
}

/// The subject, its wildcards filled from the token parameters.
fn subject(pattern: &str, tokens: &[Ident], krate: &TokenStream) -> TokenStream {
    if tokens.is_empty() {
        return quote!(<::std::string::String as ::std::convert::From<&str>>::from(#pattern));
    }
    let tail = tokens.iter().find(|t| *t == "tail");
    let stars = tokens.iter().filter(|t| *t != "tail");
    let tail = match tail {
        Some(tail) => quote!(::std::option::Option::Some(#tail)),
        None => quote!(::std::option::Option::None),
    };
    quote!(#krate::client::fill_subject(#pattern, &[#(#stars),*], #tail)?)
}

/// `name: impl IntoInput<'__input, Ty>`, spanned on the argument's type.
fn param(arg: &ArgModel, krate: &TokenStream) -> Option<TokenStream> {
    let name = arg.param.as_ref()?;
    let ty = &arg.ty;
    Some(quote_spanned! {ty.span()=>
        #name: impl #krate::client::IntoInput<'__input, #ty>
    })
}

/// Puts one argument into the call (`()` for those the caller gives nothing for).
fn write(arg: &ArgModel, krate: &TokenStream) -> TokenStream {
    let ty = &arg.ty;
    let input = match &arg.param {
        Some(name) => quote!(#name),
        None => quote!(()),
    };
    quote_spanned! {ty.span()=>
        #krate::client::write_arg::<#ty>(#input, &mut call)?;
    }
}
