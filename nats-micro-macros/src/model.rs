//! The validated model of a `#[service]` impl block: every rule of the Service API is checked
//! here, with errors spanned on the user's token.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, LitStr, PathArguments, ReturnType, Type,
};

use crate::parse::{EndpointArgs, GroupArgs, MetadataPair, QueueGroupArg, ServiceArgs};
use crate::rules;

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
    /// The impl block with the `#[endpoint]` attributes removed.
    pub(crate) item: ItemImpl,
}

/// A group: a subject prefix with its own queue group.
#[derive(Debug, Clone)]
pub(crate) struct GroupModel {
    pub(crate) prefix: String,
    pub(crate) queue_group: QueueGroup,
}

/// One endpoint method.
#[derive(Debug)]
pub(crate) struct EndpointModel {
    pub(crate) method: syn::Ident,
    pub(crate) name: String,
    pub(crate) subject: String,
    pub(crate) group: Option<String>,
    pub(crate) queue_group: QueueGroup,
    pub(crate) metadata: Vec<(String, String)>,
    /// The types of the arguments after `&self`: each must be an extractor.
    pub(crate) args: Vec<Type>,
    /// What the typed client sends.
    pub(crate) body: Body,
    /// What the typed client returns on success.
    pub(crate) output: Output,
}

/// The request body the typed client takes.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// No body argument: an empty payload.
    Empty,
    /// `Json<T>`: the client takes `&T` and sends it as JSON.
    Json(Box<Type>),
    /// Raw bytes (`Bytes`, `Vec<u8>`, `String`): the client takes `impl Into<Bytes>`.
    Raw,
}

/// The reply the typed client returns.
#[derive(Debug, Clone)]
pub(crate) enum Output {
    /// `()`.
    Unit,
    /// `Json<T>`: decoded from JSON into `T`.
    Json(Box<Type>),
    /// Any other reply type `T`: decoded with the runtime's `FromReply`.
    Other(Box<Type>),
}

impl ServiceModel {
    /// Validates the service arguments and every endpoint method of `item`.
    pub(crate) fn new(args: ServiceArgs, mut item: ItemImpl) -> syn::Result<Self> {
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
        let queue_group = queue_group(args.queue_group, &mut errors);
        let groups: Vec<GroupModel> = args
            .groups
            .into_iter()
            .map(|g| group(g, &mut errors))
            .collect();
        let mut endpoints: Vec<EndpointModel> = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut stats_handler: Option<syn::Ident> = None;
        for impl_item in &mut item.items {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            if take_stats_handler_attr(method) {
                if check_stats_handler(method, &mut errors) {
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
            let Some(endpoint_args) = take_endpoint_attr(method, &mut errors) else {
                continue;
            };
            if let Some(endpoint) = endpoint(endpoint_args, method, &mut errors) {
                if seen
                    .insert(endpoint.name.clone(), method.sig.ident.span())
                    .is_some()
                {
                    errors.push(syn::Error::new(
                        method.sig.ident.span(),
                        format!(
                            "two endpoints are named {:?}; give one a `name = \"...\"`",
                            endpoint.name
                        ),
                    ));
                }
                endpoints.push(endpoint);
            }
        }
        errors.finish()?;
        Ok(ServiceModel {
            self_ty: (*item.self_ty).clone(),
            name: name.map(|n| n.value()).unwrap_or_default(),
            version: version.map(|v| v.value()).unwrap_or_default(),
            description: args.description.map(|d| d.value()),
            metadata: metadata(args.metadata),
            queue_group,
            groups,
            endpoints,
            stats_handler,
            item,
        })
    }
}

/// Collects every error instead of stopping at the first one.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn check(&mut self, result: Result<(), String>, span: Span) {
        if let Err(message) = result {
            self.push(syn::Error::new(span, message));
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
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

/// Removes the `#[stats_handler]` attribute of `method`; whether it had one.
fn take_stats_handler_attr(method: &mut ImplItemFn) -> bool {
    let before = method.attrs.len();
    method.attrs.retain(|a| !a.path().is_ident("stats_handler"));
    before != method.attrs.len()
}

/// A stats handler is `fn(&self, &EndpointStats) -> Value`: called on every STATS request,
/// so it is a plain function, not `async`.
fn check_stats_handler(method: &ImplItemFn, errors: &mut Errors) -> bool {
    let sig = &method.sig;
    let before = errors.0.is_some();
    if let Some(asyncness) = sig.asyncness {
        errors.push(syn::Error::new(
            asyncness.span,
            "the #[stats_handler] is called on every STATS request and cannot be `async`",
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "the #[stats_handler] cannot be generic",
        ));
    }
    let takes_ref_self = matches!(
        sig.inputs.first(),
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none()
    );
    if !takes_ref_self || sig.inputs.len() != 2 {
        errors.push(syn::Error::new(
            sig.ident.span(),
            "the #[stats_handler] takes `&self` and the endpoint's stats: \
             `fn(&self, endpoint: &EndpointStats) -> serde_json::Value`",
        ));
    }
    errors.0.is_some() == before
}

/// Removes the `#[endpoint]` attribute of `method` and parses it; `None` if it has none.
fn take_endpoint_attr(method: &mut ImplItemFn, errors: &mut Errors) -> Option<EndpointArgs> {
    let position = method
        .attrs
        .iter()
        .position(|a| a.path().is_ident("endpoint"))?;
    let attr = method.attrs.remove(position);
    let parsed = match &attr.meta {
        syn::Meta::Path(_) => Ok(EndpointArgs::default()),
        _ => attr.parse_args::<EndpointArgs>(),
    };
    match parsed {
        Ok(args) => Some(args),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

fn endpoint(args: EndpointArgs, method: &ImplItemFn, errors: &mut Errors) -> Option<EndpointModel> {
    let sig = &method.sig;
    let before = errors.0.is_some();
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            "#[endpoint] methods must be `async fn`",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "#[endpoint] methods cannot be generic",
        ));
    }
    check_receiver(method, errors);
    let name = match &args.name {
        Some(name) => {
            errors.check(rules::check_name(&name.value()), name.span());
            name.value()
        }
        None => sig
            .ident
            .to_string()
            .trim_start_matches("r#")
            .replace('_', "-"),
    };
    let subject = match &args.subject {
        Some(subject) => {
            errors.check(rules::check_subject(&subject.value()), subject.span());
            subject.value()
        }
        None => {
            errors.check(rules::check_subject(&name), sig.ident.span());
            name.clone()
        }
    };
    if let Some(group) = &args.group {
        errors.check(rules::check_subject(&group.value()), group.span());
    }
    let queue_group = queue_group(args.queue_group, errors);
    let args_types: Vec<Type> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(pat) => Some((*pat.ty).clone()),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if errors.0.is_some() && !before {
        return None;
    }
    Some(EndpointModel {
        method: sig.ident.clone(),
        body: body_of(&args_types),
        output: output_of(&sig.output),
        name,
        subject,
        group: args.group.map(|g| g.value()),
        queue_group,
        metadata: metadata(args.metadata),
        args: args_types,
    })
}

fn check_receiver(method: &ImplItemFn, errors: &mut Errors) {
    match method.sig.inputs.first() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some() && receiver.mutability.is_none() => {}
        Some(FnArg::Receiver(receiver)) if receiver.mutability.is_some() => {
            errors.push(syn::Error::new(
                receiver.span(),
                "#[endpoint] methods take `&self`, not `&mut self`: requests run concurrently; \
             keep mutable state behind a lock",
            ))
        }
        Some(FnArg::Receiver(receiver)) => errors.push(syn::Error::new(
            receiver.span(),
            "#[endpoint] methods take `&self`",
        )),
        _ => errors.push(syn::Error::new(
            method.sig.ident.span(),
            "#[endpoint] methods take `&self` as their first argument",
        )),
    }
}

/// The last path segment of `ty` and its single generic type argument, if any.
fn last_segment(ty: &Type) -> Option<(String, Option<Type>)> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    let inner = match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    };
    Some((segment.ident.to_string(), inner))
}

fn body_of(args: &[Type]) -> Body {
    let segments: Vec<(String, Option<Type>)> = args.iter().filter_map(last_segment).collect();
    if let Some((_, Some(inner))) = segments.iter().find(|(name, _)| name == "Json") {
        return Body::Json(Box::new(inner.clone()));
    }
    if segments
        .iter()
        .any(|(name, _)| matches!(name.as_str(), "Bytes" | "String"))
        || args.iter().any(is_vec_u8)
    {
        return Body::Raw;
    }
    Body::Empty
}

fn is_vec_u8(ty: &Type) -> bool {
    matches!(last_segment(ty), Some((name, Some(Type::Path(inner)))) if name == "Vec" && inner.path.is_ident("u8"))
}

fn output_of(output: &ReturnType) -> Output {
    let ty = match output {
        ReturnType::Default => return Output::Unit,
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let ty = match last_segment(&ty) {
        Some((name, Some(ok))) if name == "Result" => ok,
        _ => ty,
    };
    match (&ty, last_segment(&ty)) {
        (Type::Tuple(t), _) if t.elems.is_empty() => Output::Unit,
        (_, Some((name, Some(inner)))) if name == "Json" => Output::Json(Box::new(inner)),
        _ => Output::Other(Box::new(ty)),
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
