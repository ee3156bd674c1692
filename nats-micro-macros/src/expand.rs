//! Code generation: one function per generated item.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::ServiceModel;

/// Everything `#[service]` emits.
pub(crate) fn service(model: &ServiceModel) -> TokenStream {
    let item = &model.item;
    quote!(#item)
}
