//! The validated model of a `#[service]` impl block: every rule of the Service API is checked
//! here, with errors spanned on the user's token.
//!
//! Errors do not stop the model: it keeps what can still be generated (the impl block, the
//! builder, the client, every endpoint whose signature can be served), so that the user sees
//! the errors that matter and not a cascade of "no method `service_builder`" and unused
//! imports.

mod endpoint;
mod errors;
mod signature;

use std::collections::HashMap;

use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, LitStr, Type};

pub(crate) use endpoint::{token_params, EndpointModel};
pub(crate) use signature::{ArgModel, Output};

use crate::parse::{GroupArgs, MetadataPair, QueueGroupArg, ServiceArgs};
use crate::rules;
use errors::Errors;

/// A queue group as the runtime needs it.
#[derive(Debug, Clone)]
pub(crate) enum QueueGroup {
    /// Inherit from the parent.
    Inherit,
    /// This name.
    Name(String),
    /// No queue group: every instance receives every request.
    Disabled,
}

/// A whole service: its identity, groups and endpoints, and the impl block to emit.
#[derive(Debug)]
pub(crate) struct ServiceModel {
    pub(crate) self_ty: Type,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) queue_group: QueueGroup,
    pub(crate) groups: Vec<GroupModel>,
    pub(crate) endpoints: Vec<EndpointModel>,
    /// The method marked `#[stats_handler]`, whose value goes into each endpoint's `data`.
    pub(crate) stats_handler: Option<syn::Ident>,
    /// Whether to generate the typed client (`client = false` turns it off).
    pub(crate) client: bool,
    /// The impl block with the `#[endpoint]` attributes removed.
    pub(crate) item: ItemImpl,
}

/// A group: a subject prefix with its own queue group.
#[derive(Debug, Clone)]
pub(crate) struct GroupModel {
    pub(crate) prefix: String,
    pub(crate) queue_group: QueueGroup,
}

impl ServiceModel {
    /// Validates the service arguments and every endpoint method of `item`: the model of
    /// what can be generated, and the errors found, if any.
    pub(crate) fn new(args: ServiceArgs, mut item: ItemImpl) -> (Self, Option<syn::Error>) {
        let mut errors = Errors::default();
        if !item.generics.params.is_empty() {
            errors.push(syn::Error::new(
                item.generics.span(),
                "#[service] does not support generic impl blocks",
            ));
        }
        if let Some((_, path, _)) = &item.trait_ {
            errors.push(syn::Error::new(
                path.span(),
                "#[service] goes on an inherent impl block, not a trait impl",
            ));
        }
        let name = required(args.name, "name", &item, &mut errors);
        let version = required(args.version, "version", &item, &mut errors);
        if let Some(name) = &name {
            errors.check(rules::check_name(&name.value()), name.span());
        }
        if let Some(version) = &version {
            errors.check(rules::check_version(&version.value()), version.span());
        }
        let client = args.client.is_none_or(|flag| flag.value);
        let queue_group = queue_group(args.queue_group, &mut errors);
        let groups: Vec<GroupModel> = args
            .groups
            .into_iter()
            .map(|g| group(g, &mut errors))
            .collect();
        let (endpoints, stats_handler) = methods(&mut item, &mut errors);
        check_unique_names(&endpoints, &mut errors);
        if client {
            check_client_types(&endpoints, &mut errors);
        }
        let model = ServiceModel {
            self_ty: (*item.self_ty).clone(),
            name: name.map(|n| n.value()).unwrap_or_default(),
            version: version.map(|v| v.value()).unwrap_or_default(),
            description: args.description.map(|d| d.value()),
            metadata: metadata(args.metadata),
            queue_group,
            groups,
            endpoints,
            stats_handler,
            client,
            item,
        };
        (model, errors.into_error())
    }
}

/// The endpoints and the stats handler among the methods of `item`, whose attributes are
/// removed.
fn methods(item: &mut ItemImpl, errors: &mut Errors) -> (Vec<EndpointModel>, Option<syn::Ident>) {
    let mut endpoints = Vec::new();
    let mut stats_handler: Option<syn::Ident> = None;
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        if endpoint::take_stats_handler_attr(method) {
            if endpoint::check_stats_handler(method, errors) {
                if stats_handler.is_some() {
                    errors.push(syn::Error::new(
                        method.sig.ident.span(),
                        "only one method can be the #[stats_handler]",
                    ));
                }
                stats_handler = Some(method.sig.ident.clone());
            }
            continue;
        }
        let Some(args) = endpoint::take_endpoint_attr(method, errors) else {
            continue;
        };
        endpoints.extend(endpoint::endpoint(args, method, errors));
    }
    (endpoints, stats_handler)
}

/// Two endpoints with one name: an error at each, naming the other.
fn check_unique_names(endpoints: &[EndpointModel], errors: &mut Errors) {
    let mut seen: HashMap<&str, &EndpointModel> = HashMap::new();
    for endpoint in endpoints {
        let Some(first) = seen.insert(&endpoint.name, endpoint) else {
            continue;
        };
        seen.insert(&first.name, first);
        errors.push(syn::Error::new(
            first.name_span,
            format!(
                "endpoint name {:?} is used twice: here (method `{}`) and by method `{}`",
                endpoint.name, first.method, endpoint.method
            ),
        ));
        errors.push(syn::Error::new(
            endpoint.name_span,
            format!(
                "endpoint name {:?} is already the name of method `{}`; \
                 give this one a `name = \"...\"`",
                endpoint.name, first.method
            ),
        ));
    }
}

/// What the typed client cannot name: `impl Trait` return types.
fn check_client_types(endpoints: &[EndpointModel], errors: &mut Errors) {
    for endpoint in endpoints {
        if let Some(opaque) = endpoint.output.opaque() {
            errors.push(syn::Error::new(
                opaque.span(),
                "the typed client needs the reply type by name, not `impl ...`: name the \
                 type, or turn the client off with `#[service(client = false)]`",
            ));
        }
    }
}

/// `item` without the attributes only `#[service]` understands: what is emitted when the
/// service cannot be generated at all, so that the methods still exist.
pub(crate) fn without_attributes(mut item: ItemImpl) -> ItemImpl {
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            method
                .attrs
                .retain(|a| !a.path().is_ident("endpoint") && !a.path().is_ident("stats_handler"));
        }
    }
    item
}

fn required(
    value: Option<LitStr>,
    key: &str,
    item: &ItemImpl,
    errors: &mut Errors,
) -> Option<LitStr> {
    if value.is_none() {
        errors.push(syn::Error::new(
            item.impl_token.span,
            format!("#[service] needs `{key} = \"...\"`"),
        ));
    }
    value
}

fn queue_group(arg: Option<QueueGroupArg>, errors: &mut Errors) -> QueueGroup {
    match arg {
        None => QueueGroup::Inherit,
        Some(QueueGroupArg::Disabled) => QueueGroup::Disabled,
        Some(QueueGroupArg::Name(name)) => {
            errors.check(rules::check_queue_group(&name.value()), name.span());
            QueueGroup::Name(name.value())
        }
    }
}

fn group(args: GroupArgs, errors: &mut Errors) -> GroupModel {
    errors.check(rules::check_subject(&args.name.value()), args.name.span());
    GroupModel {
        prefix: args.name.value(),
        queue_group: queue_group(args.queue_group, errors),
    }
}

fn metadata(pairs: Vec<MetadataPair>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|p| (p.key.value(), p.value.value()))
        .collect()
}

#[cfg(test)]
mod tests;
