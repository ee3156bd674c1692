//! [`Errors`]: every error of a `#[service]` block, collected instead of stopping at the first.

use proc_macro2::Span;

/// The errors found so far, combined into one `syn::Error` (which reports each at its span).
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Records the error of a naming rule, if it failed, at `span`.
    pub(crate) fn check(&mut self, result: Result<(), String>, span: Span) {
        if let Err(message) = result {
            self.push(syn::Error::new(span, message));
        }
    }

    /// How many `push`es so far (to tell whether a step added any).
    pub(crate) fn count(&self) -> usize {
        self.0.as_ref().map_or(0, |e| e.clone().into_iter().count())
    }

    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.0
    }
}
