//! Parsing of the attribute arguments, before any validation.
//!
//! `#[service(name = "...", version = "...", description = "...", metadata(k = "v"),
//! queue_group = "..." | false, group(name = "...", queue_group = "..." | false),
//! client = false)]` and
//! `#[endpoint("subject")]` or `#[endpoint(subject = "...", name = "...", group = "...",
//! queue_group = "..." | false, metadata(k = "v"))]`.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitStr, Token};

/// A queue group setting: a name, or `false` to disable queue groups.
#[derive(Debug, Clone)]
pub(crate) enum QueueGroupArg {
    Name(LitStr),
    Disabled,
}

/// One `key = "value"` pair of `metadata(...)`; keys are identifiers or strings.
#[derive(Debug, Clone)]
pub(crate) struct MetadataPair {
    pub(crate) key: LitStr,
    pub(crate) value: LitStr,
}

/// The arguments of `#[service(...)]`.
#[derive(Debug, Default)]
pub(crate) struct ServiceArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) metadata: Vec<MetadataPair>,
    pub(crate) queue_group: Option<QueueGroupArg>,
    pub(crate) groups: Vec<GroupArgs>,
    /// `client = false`: no typed client.
    pub(crate) client: Option<LitBool>,
}

/// The arguments of one `group(...)` inside `#[service(...)]`.
#[derive(Debug)]
pub(crate) struct GroupArgs {
    pub(crate) name: LitStr,
    pub(crate) queue_group: Option<QueueGroupArg>,
}

/// The arguments of `#[endpoint(...)]`.
#[derive(Debug, Default)]
pub(crate) struct EndpointArgs {
    pub(crate) subject: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) group: Option<LitStr>,
    pub(crate) queue_group: Option<QueueGroupArg>,
    pub(crate) metadata: Vec<MetadataPair>,
}

const SERVICE_KEYS: &str = "name, version, description, metadata, queue_group, group, client";
const GROUP_KEYS: &str = "name, queue_group";
const ENDPOINT_KEYS: &str = "subject, name, group, queue_group, metadata";

impl Parse for ServiceArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = ServiceArgs::default();
        parse_keyed(input, |key, input| {
            match key.to_string().as_str() {
                "name" => set_once(&mut args.name, key, string_value(input)?)?,
                "version" => set_once(&mut args.version, key, string_value(input)?)?,
                "description" => set_once(&mut args.description, key, string_value(input)?)?,
                "metadata" => args.metadata.extend(metadata_list(input)?),
                "queue_group" => set_once(&mut args.queue_group, key, queue_group_value(input)?)?,
                "group" => args.groups.push(group_args(key, input)?),
                "client" => set_once(&mut args.client, key, bool_value(input)?)?,
                _ => return Err(unknown_key(key, "#[service]", SERVICE_KEYS)),
            }
            Ok(())
        })?;
        Ok(args)
    }
}

impl Parse for EndpointArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = EndpointArgs::default();
        if input.peek(LitStr) {
            args.subject = Some(input.parse()?);
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        parse_keyed(input, |key, input| {
            match key.to_string().as_str() {
                "subject" => set_once(&mut args.subject, key, string_value(input)?)?,
                "name" => set_once(&mut args.name, key, string_value(input)?)?,
                "group" => set_once(&mut args.group, key, string_value(input)?)?,
                "queue_group" => set_once(&mut args.queue_group, key, queue_group_value(input)?)?,
                "metadata" => args.metadata.extend(metadata_list(input)?),
                _ => return Err(unknown_key(key, "#[endpoint]", ENDPOINT_KEYS)),
            }
            Ok(())
        })?;
        Ok(args)
    }
}

/// Parses `key ...` entries separated by commas, handing each key to `entry`.
fn parse_keyed(
    input: ParseStream<'_>,
    mut entry: impl FnMut(&Ident, ParseStream<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        entry(&key, input)?;
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

fn group_args(key: &Ident, input: ParseStream<'_>) -> syn::Result<GroupArgs> {
    let content;
    syn::parenthesized!(content in input);
    let mut name = None;
    let mut queue_group = None;
    parse_keyed(&content, |key, input| {
        match key.to_string().as_str() {
            "name" => set_once(&mut name, key, string_value(input)?)?,
            "queue_group" => set_once(&mut queue_group, key, queue_group_value(input)?)?,
            _ => return Err(unknown_key(key, "group(...)", GROUP_KEYS)),
        }
        Ok(())
    })?;
    let name =
        name.ok_or_else(|| syn::Error::new(key.span(), "group(...) needs `name = \"...\"`"))?;
    Ok(GroupArgs { name, queue_group })
}

fn string_value(input: ParseStream<'_>) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    input.parse()
}

fn bool_value(input: ParseStream<'_>) -> syn::Result<LitBool> {
    input.parse::<Token![=]>()?;
    input.parse()
}

fn queue_group_value(input: ParseStream<'_>) -> syn::Result<QueueGroupArg> {
    input.parse::<Token![=]>()?;
    if input.peek(LitBool) {
        let flag: LitBool = input.parse()?;
        if flag.value {
            return Err(syn::Error::new(
                flag.span(),
                "queue_group takes a name, or `false` to disable queue groups",
            ));
        }
        return Ok(QueueGroupArg::Disabled);
    }
    Ok(QueueGroupArg::Name(input.parse()?))
}

fn metadata_list(input: ParseStream<'_>) -> syn::Result<Vec<MetadataPair>> {
    let content;
    syn::parenthesized!(content in input);
    let pairs = Punctuated::<MetadataPair, Token![,]>::parse_terminated(&content)?;
    Ok(pairs.into_iter().collect())
}

impl Parse for MetadataPair {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = if input.peek(LitStr) {
            input.parse()?
        } else {
            let ident: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            LitStr::new(&ident.to_string(), ident.span())
        };
        input.parse::<Token![=]>()?;
        Ok(MetadataPair {
            key,
            value: input.parse()?,
        })
    }
}

fn set_once<T>(slot: &mut Option<T>, key: &Ident, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` is given twice"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn unknown_key(key: &Ident, attribute: &str, expected: &str) -> syn::Error {
    syn::Error::new(
        key.span(),
        format!("unknown key `{key}` in {attribute}; expected one of: {expected}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_args() {
        let args: ServiceArgs = syn::parse_quote!(
            name = "users",
            version = "1.0.0",
            metadata(team = "core", "app-id" = "7"),
            queue_group = false,
            group(name = "admin", queue_group = "bulk")
        );
        assert_eq!(args.name.map(|n| n.value()).as_deref(), Some("users"));
        assert_eq!(args.metadata.len(), 2);
        assert_eq!(args.metadata[1].key.value(), "app-id");
        assert!(matches!(args.queue_group, Some(QueueGroupArg::Disabled)));
        assert_eq!(args.groups[0].name.value(), "admin");
    }

    #[test]
    fn endpoint_args_with_positional_subject() {
        let args: EndpointArgs = syn::parse_quote!("users.create", name = "create-user");
        assert_eq!(
            args.subject.map(|s| s.value()).as_deref(),
            Some("users.create")
        );
        assert_eq!(args.name.map(|s| s.value()).as_deref(), Some("create-user"));
        let args: EndpointArgs = syn::parse_quote!();
        assert!(args.subject.is_none());
    }

    #[test]
    fn unknown_and_repeated_keys_are_errors() {
        let err = syn::parse2::<ServiceArgs>(quote::quote!(nme = "x")).expect_err("unknown");
        assert!(err.to_string().contains("unknown key `nme`"), "{err}");
        let err =
            syn::parse2::<EndpointArgs>(quote::quote!(name = "a", name = "b")).expect_err("twice");
        assert!(err.to_string().contains("given twice"), "{err}");
        let err = syn::parse2::<ServiceArgs>(quote::quote!(queue_group = true)).expect_err("true");
        assert!(err.to_string().contains("false"), "{err}");
    }
}
