//! Unique-key templates: `"email:{to}"` puts the `to` field (by `Display`) in the key.

/// One part of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text copied as it is (`{{` and `}}` already turned into braces).
    Text(String),
    /// A field, by name or tuple index, written as `{name}` or `{0}`.
    Field(String),
}

/// Splits a template into text and fields.
pub(crate) fn parse(template: &str) -> Result<Vec<Piece>, String> {
    if template.is_empty() {
        return Err("the unique key template is empty".into());
    }
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => {
                            return Err(format!(
                                "`{{` without a closing `}}` in {template:?} (write `{{{{` for a brace)"
                            ))
                        }
                    }
                }
                let name = name.trim().to_owned();
                if !is_field_name(&name) {
                    return Err(format!(
                        "`{{{name}}}` in {template:?} is not a field: write a field name like \
                         `{{to}}` or a tuple index like `{{0}}` (and `{{{{` for a brace)"
                    ));
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Field(name));
            }
            '}' => {
                return Err(format!(
                    "`}}` without an opening `{{` in {template:?} (write `}}}}` for a brace)"
                ))
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// An identifier (raw ones as `r#type`) or a tuple index.
fn is_field_name(name: &str) -> bool {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_digit()) {
        return name == "0" || !name.starts_with('0');
    }
    let ident = name.strip_prefix("r#").unwrap_or(name);
    let mut chars = ident.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && ident != "_"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Piece {
        Piece::Text(s.into())
    }

    fn field(s: &str) -> Piece {
        Piece::Field(s.into())
    }

    #[test]
    fn pieces() {
        assert_eq!(parse("fixed"), Ok(vec![text("fixed")]));
        assert_eq!(
            parse("email:{to}/{ id }"),
            Ok(vec![text("email:"), field("to"), text("/"), field("id")])
        );
        assert_eq!(parse("{0}{1}"), Ok(vec![field("0"), field("1")]));
        assert_eq!(parse("{{x}}:{x}"), Ok(vec![text("{x}:"), field("x")]));
        assert_eq!(parse("{r#type}"), Ok(vec![field("r#type")]));
    }

    #[test]
    fn rejects() {
        for bad in [
            "", "{", "}", "a{b", "{}", "{a b}", "{1a}", "{01}", "{_}", "{a.b}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
