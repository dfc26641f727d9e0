//! Texts the queue stores for people to read: handler errors, discard reasons, why a row
//! was set aside. They come from arbitrary code, so they may hold anything; storing them
//! must never fail, or the nack that carries them fails and the job stays `running` with
//! the error lost.

use std::borrow::Cow;

/// Longest stored error text in bytes; longer ones are cut at a character boundary and
/// end in `…`. Enough for a message with a short backtrace; keeps rows small.
pub const MAX_ERROR_LEN: usize = 8 * 1024;

/// `text` as it can be stored on every backend: NUL characters (which Postgres rejects in
/// `text` columns) become U+FFFD, and the length is bounded by [`MAX_ERROR_LEN`].
pub(crate) fn stored_error(text: &str) -> Cow<'_, str> {
    if !text.contains('\0') && text.len() <= MAX_ERROR_LEN {
        return Cow::Borrowed(text);
    }
    const ELLIPSIS: char = '…';
    let mut out = String::with_capacity(text.len().min(MAX_ERROR_LEN));
    for c in text.chars() {
        let c = if c == '\0' {
            char::REPLACEMENT_CHARACTER
        } else {
            c
        };
        if out.len() + c.len_utf8() > MAX_ERROR_LEN - ELLIPSIS.len_utf8() {
            out.push(ELLIPSIS);
            break;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_replaced_and_length_bounded() {
        assert_eq!(stored_error("plain"), "plain");
        assert_eq!(stored_error("a\0b\0"), "a\u{FFFD}b\u{FFFD}");
        let long = "é".repeat(MAX_ERROR_LEN);
        let cut = stored_error(&long);
        assert!(cut.len() <= MAX_ERROR_LEN, "{}", cut.len());
        assert!(cut.ends_with('…') && cut.starts_with("éé"));
        let exact = "x".repeat(MAX_ERROR_LEN);
        assert_eq!(stored_error(&exact), exact);
    }
}
