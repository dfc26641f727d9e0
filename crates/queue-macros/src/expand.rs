//! The `JobArgs` impl a derive writes.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Data, DeriveInput, Error, Fields, Index, LitStr, Member, Result};

use crate::attrs::{self, JobAttrs};
use crate::template::Piece;

/// The impl for `input`, or the errors that stop it.
pub(crate) fn derive(input: &DeriveInput) -> Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(s) => Some(&s.fields),
        Data::Enum(_) => None,
        Data::Union(u) => {
            return Err(Error::new(
                u.union_token.span,
                "JobArgs cannot be derived for a union: use a struct or an enum",
            ))
        }
    };
    let attrs = attrs::parse(&input.attrs, &input.ident)?;
    let krate = match &attrs.krate {
        Some(path) => quote!(#path),
        None => quote!(::queue_core),
    };
    let steps = steps(&attrs, fields, &input.ident)?;
    let ty = &input.ident;
    let kind = &attrs.kind;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let defaults = (!steps.is_empty()).then(|| {
        quote! {
            fn defaults(&self, job: #krate::NewJob) -> #krate::NewJob {
                #(let job = #steps;)*
                job
            }
        }
    });
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::JobArgs for #ty #ty_generics #where_clause {
            const KIND: &'static str = #kind;
            #defaults
        }
    })
}

/// One builder call on `job` per default asked for.
fn steps(attrs: &JobAttrs, fields: Option<&Fields>, ty: &syn::Ident) -> Result<Vec<TokenStream>> {
    let mut steps = Vec::new();
    if let Some(p) = attrs.priority {
        steps.push(quote!(job.priority(#p)));
    }
    if let Some(n) = attrs.max_attempts {
        steps.push(quote!(job.max_attempts(#n)));
    }
    if let Some(ms) = attrs.delay {
        steps.push(quote!(job.delay(::core::time::Duration::from_millis(#ms))));
    }
    if let Some((lit, pieces)) = &attrs.unique {
        let key = key(lit, pieces, fields, ty)?;
        steps.push(match attrs.unique_for {
            Some(ms) => {
                quote!(job.unique_for(#key, ::core::time::Duration::from_millis(#ms)))
            }
            None => quote!(job.unique(#key)),
        });
    }
    Ok(steps)
}

/// The expression that builds the unique key from `self`.
fn key(
    lit: &LitStr,
    pieces: &[Piece],
    fields: Option<&Fields>,
    ty: &syn::Ident,
) -> Result<TokenStream> {
    let mut format = String::new();
    let mut args = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Piece::Field(name) => {
                let member =
                    member(name, fields, ty, lit.span()).map_err(|e| Error::new(lit.span(), e))?;
                format.push_str("{}");
                // Spanned at the template, so a field that is not `Display` is reported there.
                args.push(quote_spanned!(lit.span()=> self.#member));
            }
        }
    }
    if args.is_empty() {
        let fixed: String = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text(text) => Some(text.as_str()),
                Piece::Field(_) => None,
            })
            .collect();
        let fixed = LitStr::new(&fixed, lit.span());
        return Ok(quote!(::std::string::String::from(#fixed)));
    }
    let format = LitStr::new(&format, lit.span());
    Ok(quote!(::std::format!(#format, #(#args),*)))
}

/// The field `name` of the struct, or why there is none.
fn member(
    name: &str,
    fields: Option<&Fields>,
    ty: &syn::Ident,
    span: Span,
) -> std::result::Result<Member, String> {
    let Some(fields) = fields else {
        return Err(format!(
            "`{{{name}}}`: a unique key of an enum cannot name fields; use a fixed key or a struct"
        ));
    };
    let known: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.ident
                .as_ref()
                .map_or_else(|| i.to_string(), ToString::to_string)
        })
        .collect();
    match known.iter().position(|k| k == name) {
        // Spanned at the template rather than the field, for errors about its type.
        Some(i) => Ok(match fields.iter().nth(i).and_then(|f| f.ident.as_ref()) {
            Some(ident) => {
                let mut ident = ident.clone();
                ident.set_span(span);
                Member::Named(ident)
            }
            None => Member::Unnamed(Index {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                span,
            }),
        }),
        None if known.is_empty() => Err(format!("`{ty}` has no fields; `{{{name}}}` names one")),
        None => Err(format!(
            "`{ty}` has no field `{name}` (fields: {})",
            known.join(", ")
        )),
    }
}
