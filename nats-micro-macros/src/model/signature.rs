//! What an endpoint method's signature means for the generated code: each argument's
//! extractor type and the typed client's parameter for it, and the return type's reply.

use std::collections::HashSet;

use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, Pat, PathArguments, ReturnType, Type};

/// One argument after `&self`.
#[derive(Debug, Clone)]
pub(crate) struct ArgModel {
    /// Its type: an extractor.
    pub(crate) ty: Type,
    /// The typed client's parameter for it, `None` for arguments the caller has nothing to
    /// give for (`Subject`, `State<T>`).
    pub(crate) param: Option<Ident>,
}

/// The return type of an endpoint method.
#[derive(Debug, Clone)]
pub(crate) enum Output {
    /// No return type: `()`.
    Unit,
    /// `Result<T, E>` spelled out: `T` is the reply, `E` must become a service error.
    Result {
        ty: Box<Type>,
        ok: Box<Type>,
        err: Box<Type>,
    },
    /// Any other type: it must be a reply.
    Other(Box<Type>),
}

impl Output {
    /// The whole return type, `()` for none.
    pub(crate) fn ty(&self) -> Type {
        match self {
            Output::Unit => syn::parse_quote!(()),
            Output::Result { ty, .. } | Output::Other(ty) => (**ty).clone(),
        }
    }

    /// The type `impl Trait` return types cannot be named by the typed client: the `impl`.
    pub(crate) fn opaque(&self) -> Option<&Type> {
        match self {
            Output::Other(ty) if matches!(**ty, Type::ImplTrait(_)) => Some(ty),
            _ => None,
        }
    }
}

/// The arguments after `&self`, with the client's parameter names: the argument's own name
/// (`body: Bytes`, `Json(user): Json<User>`, `_headers: Headers` give `body`, `user`,
/// `headers`), `arg<N>` for other patterns; never one of `reserved` or a repeat.
pub(crate) fn args(inputs: &[&FnArg], reserved: &[String]) -> Vec<ArgModel> {
    let mut taken: HashSet<String> = reserved.iter().cloned().collect();
    taken.insert("self".to_owned());
    inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(pat) => Some(pat),
            FnArg::Receiver(_) => None,
        })
        .enumerate()
        .map(|(i, pat)| {
            let ty = (*pat.ty).clone();
            let param = (!caller_gives_nothing(&ty)).then(|| {
                let wanted = pattern_name(&pat.pat).unwrap_or_else(|| format!("arg{i}"));
                let name = unique(wanted, &mut taken);
                Ident::new(&name, pat.pat.span())
            });
            ArgModel { ty, param }
        })
        .collect()
}

/// `Subject` and `State<..>`: what the endpoint reads comes from the subject (the wildcard
/// tokens) or the service itself. The generated client still checks, through `ClientArg`,
/// that the type's input is `()`, so a type of another kind with one of these names is an
/// error rather than a silently dropped argument.
fn caller_gives_nothing(ty: &Type) -> bool {
    matches!(last_segment(ty), Some((name, _)) if name == "Subject" || name == "State")
}

fn pattern_name(pat: &Pat) -> Option<String> {
    let ident = match pat {
        Pat::Ident(p) => &p.ident,
        Pat::TupleStruct(p) if p.elems.len() == 1 => match p.elems.first() {
            Some(Pat::Ident(inner)) => &inner.ident,
            _ => return None,
        },
        _ => return None,
    };
    let name = ident.to_string();
    let name = name.trim_start_matches("r#").trim_start_matches('_');
    (!name.is_empty() && !is_keyword(name)).then(|| name.to_owned())
}

fn is_keyword(name: &str) -> bool {
    syn::parse_str::<Ident>(name).is_err()
}

fn unique(wanted: String, taken: &mut HashSet<String>) -> String {
    let mut name = wanted.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{wanted}_{n}");
        n += 1;
    }
    name
}

/// The last path segment of `ty` and its generic type arguments.
fn last_segment(ty: &Type) -> Option<(String, Vec<Type>)> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    let args = match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((segment.ident.to_string(), args))
}

/// The return type. Only a spelled-out two-argument `Result` is split (for errors that name
/// the half at fault); aliases and one-argument `Result`s are checked whole.
pub(crate) fn output(output: &ReturnType) -> Output {
    let ty = match output {
        ReturnType::Default => return Output::Unit,
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    match last_segment(&ty) {
        Some((name, args)) if name == "Result" && args.len() == 2 => {
            let mut args = args.into_iter();
            match (args.next(), args.next()) {
                (Some(ok), Some(err)) => Output::Result {
                    ty: Box::new(ty),
                    ok: Box::new(ok),
                    err: Box::new(err),
                },
                _ => Output::Other(Box::new(ty)),
            }
        }
        _ => Output::Other(Box::new(ty)),
    }
}
