//! One `#[endpoint]` method (and the `#[stats_handler]` one): attribute, signature, naming
//! rules.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItemFn};

use super::errors::Errors;
use super::signature::{self, ArgModel, Output};
use super::{metadata, queue_group, QueueGroup};
use crate::parse::EndpointArgs;
use crate::rules;

/// One endpoint method.
#[derive(Debug)]
pub(crate) struct EndpointModel {
    pub(crate) method: syn::Ident,
    pub(crate) name: String,
    /// Where the name comes from: the `name = "..."` literal, or the method's name.
    pub(crate) name_span: Span,
    pub(crate) subject: String,
    pub(crate) group: Option<String>,
    pub(crate) queue_group: QueueGroup,
    pub(crate) metadata: Vec<(String, String)>,
    /// The arguments after `&self`: each must be an extractor.
    pub(crate) args: Vec<ArgModel>,
    /// The return type: it must be a reply.
    pub(crate) output: Output,
}

/// Removes the `#[endpoint]` attribute of `method` and parses it; `None` if it has none or
/// it does not parse (then the error is in `errors`).
pub(crate) fn take_endpoint_attr(
    method: &mut ImplItemFn,
    errors: &mut Errors,
) -> Option<EndpointArgs> {
    let position = method
        .attrs
        .iter()
        .position(|a| a.path().is_ident("endpoint"))?;
    let attr = method.attrs.remove(position);
    let parsed = match &attr.meta {
        syn::Meta::Path(_) => Ok(EndpointArgs::default()),
        _ => attr.parse_args::<EndpointArgs>(),
    };
    parsed.map_err(|error| errors.push(error)).ok()
}

/// The endpoint of `method`. `None` when its signature cannot be served (not `async`,
/// generic, no `&self`): the errors say why, and the rest of the service is still generated.
/// Errors of naming rules leave the endpoint in, so that they are the only errors.
pub(crate) fn endpoint(
    args: EndpointArgs,
    method: &ImplItemFn,
    errors: &mut Errors,
) -> Option<EndpointModel> {
    let signature_ok = check_signature(method, errors);
    let sig = &method.sig;
    let mut name_ok = true;
    let (name, name_span) = match &args.name {
        Some(name) => {
            name_ok = rules::check_name(&name.value()).is_ok();
            errors.check(rules::check_name(&name.value()), name.span());
            (name.value(), name.span())
        }
        None => (
            sig.ident
                .to_string()
                .trim_start_matches("r#")
                .replace('_', "-"),
            sig.ident.span(),
        ),
    };
    let subject = match &args.subject {
        Some(subject) => {
            errors.check(rules::check_subject(&subject.value()), subject.span());
            subject.value()
        }
        // The name is the subject: a bad name was reported already.
        None => {
            if name_ok {
                errors.check(rules::check_subject(&name), sig.ident.span());
            }
            name.clone()
        }
    };
    if let Some(group) = &args.group {
        errors.check(rules::check_subject(&group.value()), group.span());
    }
    let queue_group = queue_group(args.queue_group, errors);
    let full_subject = match &args.group {
        Some(group) => format!("{}.{subject}", group.value()),
        None => subject.clone(),
    };
    let inputs: Vec<&FnArg> = sig.inputs.iter().collect();
    let args_models = signature::args(&inputs, &token_params(&full_subject));
    if !signature_ok {
        return None;
    }
    Some(EndpointModel {
        method: sig.ident.clone(),
        output: signature::output(&sig.output),
        args: args_models,
        name,
        name_span,
        subject,
        group: args.group.map(|g| g.value()),
        queue_group,
        metadata: metadata(args.metadata),
    })
}

/// The typed client's parameters for the wildcards of `subject`: `token` for a single `*`,
/// `token_1`, `token_2`, ... for several, and `tail` for a final `>`.
pub(crate) fn token_params(subject: &str) -> Vec<String> {
    let stars = subject.split('.').filter(|t| *t == "*").count();
    let mut params: Vec<String> = match stars {
        0 => Vec::new(),
        1 => vec!["token".to_owned()],
        n => (1..=n).map(|i| format!("token_{i}")).collect(),
    };
    if subject == ">" || subject.ends_with(".>") {
        params.push("tail".to_owned());
    }
    params
}

/// `async`, not generic, `&self`: whether the method can be served.
fn check_signature(method: &ImplItemFn, errors: &mut Errors) -> bool {
    let before = errors.count();
    let sig = &method.sig;
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
    errors.count() == before
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

/// Removes the `#[stats_handler]` attribute of `method`; whether it had one.
pub(crate) fn take_stats_handler_attr(method: &mut ImplItemFn) -> bool {
    let before = method.attrs.len();
    method.attrs.retain(|a| !a.path().is_ident("stats_handler"));
    before != method.attrs.len()
}

/// A stats handler is `fn(&self, &EndpointStats) -> Value`: called on every STATS request,
/// so it is a plain function, not `async`.
pub(crate) fn check_stats_handler(method: &ImplItemFn, errors: &mut Errors) -> bool {
    let sig = &method.sig;
    let before = errors.count();
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
    errors.count() == before
}
