//! Code generation, one function per generated item. Every path is absolute and goes through
//! the `nats-micro` crate (found under whatever name the user's Cargo.toml gives it), so the
//! output works under `#![no_implicit_prelude]` and a renamed dependency.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::model::{EndpointModel, QueueGroup, ServiceModel};

mod client;
mod handler;

/// Everything `#[service]` emits: the user's impl block, the service builder, the extractor
/// checks and the typed client.
pub(crate) fn service(model: &ServiceModel) -> syn::Result<TokenStream> {
    let krate = crate_path();
    let type_name = type_ident(&model.self_ty)?;
    let item = &model.item;
    let builder = builder_methods(model, &krate);
    let client = model
        .client
        .then(|| client::client(model, &krate, &type_name));
    Ok(quote! {
        #item
        #builder
        #client
    })
}

/// The path of the `nats-micro` crate as the user's crate names it.
fn crate_path() -> TokenStream {
    use proc_macro_crate::{crate_name, FoundCrate};
    match crate_name("nats-micro") {
        Ok(FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        // Inside nats-micro itself (its tests and docs) or when it cannot be found.
        Ok(FoundCrate::Itself) | Err(_) => quote!(::nats_micro),
    }
}

/// The name of the type the service is implemented for.
fn type_ident(ty: &Type) -> syn::Result<Ident> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.clone())
            .ok_or_else(|| syn::Error::new(ty.span(), "#[service] needs a named type")),
        _ => Err(syn::Error::new(
            ty.span(),
            "#[service] must be on an impl block of a named type, such as `impl Users`",
        )),
    }
}

/// `service_builder(self)` and `serve(self, client)` on the user's type.
fn builder_methods(model: &ServiceModel, krate: &TokenStream) -> TokenStream {
    let self_ty = &model.self_ty;
    let (name, version) = (&model.name, &model.version);
    let description = model
        .description
        .as_ref()
        .map(|d| quote!(let builder = builder.description(#d);));
    let metadata = model
        .metadata
        .iter()
        .map(|(k, v)| quote!(let builder = builder.metadata(#k, #v);));
    let queue_group = queue_group_call(&model.queue_group, quote!(builder));
    let stats_handler = model.stats_handler.as_ref().map(|method| {
        quote! {
            let builder = builder.stats_handler({
                let this = ::std::clone::Clone::clone(&this);
                move |endpoint| this.#method(endpoint)
            });
        }
    });
    let endpoints = model
        .endpoints
        .iter()
        .map(|e| register_endpoint(model, e, krate));
    quote! {
        impl #self_ty {
            /// The service this impl block defines, ready for layers
            /// (`.layer(...)`, `.endpoint_layer(name, ...)`) and `.start(&client)`.
            pub fn service_builder(self) -> #krate::ServiceBuilder {
                let this = ::std::sync::Arc::new(self);
                let builder = #krate::ServiceBuilder::new(#name, #version);
                #description
                #(#metadata)*
                let builder = #queue_group;
                #stats_handler
                #(#endpoints)*
                builder
            }

            /// Starts the service on `client`.
            ///
            /// # Errors
            /// A start error when a subscription fails.
            pub async fn serve(
                self,
                client: &#krate::nats_core::Client,
            ) -> ::std::result::Result<#krate::Service, #krate::StartError> {
                self.service_builder().start(client).await
            }
        }
    }
}

/// `<target>.queue_group(...)`, `.disable_queue_group()`, or `<target>` unchanged.
fn queue_group_call(queue_group: &QueueGroup, target: TokenStream) -> TokenStream {
    match queue_group {
        QueueGroup::Inherit => target,
        QueueGroup::Name(name) => quote!(#target.queue_group(#name)),
        QueueGroup::Disabled => quote!(#target.disable_queue_group()),
    }
}

/// Adds one endpoint (in its group, if any) to `builder`.
fn register_endpoint(
    model: &ServiceModel,
    endpoint: &EndpointModel,
    krate: &TokenStream,
) -> TokenStream {
    let (name, subject) = (&endpoint.name, &endpoint.subject);
    let metadata = endpoint
        .metadata
        .iter()
        .map(|(k, v)| quote!(.metadata(#k, #v)));
    let config = queue_group_call(
        &endpoint.queue_group,
        quote!(#krate::EndpointConfig::new(#name).subject(#subject) #(#metadata)*),
    );
    let handler = handler::handler(endpoint, krate);
    match &endpoint.group {
        None => quote! {
            let builder = builder.endpoint(#config, #handler);
        },
        Some(prefix) => {
            let group_queue = model
                .groups
                .iter()
                .find(|g| g.prefix == *prefix)
                .map_or(QueueGroup::Inherit, |g| g.queue_group.clone());
            let group = queue_group_call(&group_queue, quote!(#krate::GroupConfig::new(#prefix)));
            quote! {
                let builder = builder.group_endpoint(&#group, #config, #handler);
            }
        }
    }
}
