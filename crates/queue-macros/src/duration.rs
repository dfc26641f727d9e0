//! Durations written in attributes: `"90s"`, `"1h30m"`, `"500ms"`, or whole seconds.

/// The longest delay or unique window a job may have, in milliseconds: about 1,000 years
/// (`queue_core::MAX_DELAY`).
const MAX_DELAY_MS: u64 = 1_000 * 366 * 24 * 3600 * 1_000;

/// Parses a duration such as `"1h30m"` into milliseconds.
///
/// Accepts one or more `<digits><unit>` parts (units `d`, `h`, `m`, `s`, `ms`),
/// optionally separated by spaces. The result must be longer than zero and at most about
/// 1,000 years.
pub(crate) fn parse(text: &str) -> Result<u64, String> {
    let shape = || {
        format!(
            "invalid duration {text:?}: write whole numbers with units d, h, m, s or ms, \
             like \"30s\", \"1h30m\" or \"500ms\""
        )
    };
    let mut total: u64 = 0;
    let mut rest = text.trim_start();
    if rest.is_empty() {
        return Err(shape());
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(shape());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| too_long(text))?;
        rest = &rest[digits..];
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let per_unit: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(shape()),
        };
        rest = rest[unit_len..].trim_start();
        total = number
            .checked_mul(per_unit)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| too_long(text))?;
    }
    check(total, text)
}

/// Whole seconds, as written in `unique_for = 3600`.
pub(crate) fn from_secs(secs: u64, text: &str) -> Result<u64, String> {
    check(secs.checked_mul(1_000).ok_or_else(|| too_long(text))?, text)
}

fn check(ms: u64, text: &str) -> Result<u64, String> {
    if ms == 0 {
        return Err(format!("the duration {text} must be longer than zero"));
    }
    if ms > MAX_DELAY_MS {
        return Err(too_long(text));
    }
    Ok(ms)
}

fn too_long(text: &str) -> String {
    format!(
        "the duration {text} is longer than the limit of about 1,000 years (queue_core::MAX_DELAY)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_sums() {
        assert_eq!(parse("500ms"), Ok(500));
        assert_eq!(parse("90s"), Ok(90_000));
        assert_eq!(parse("1h30m"), Ok(5_400_000));
        assert_eq!(parse("1h 30m"), Ok(5_400_000));
        assert_eq!(parse("2d"), Ok(172_800_000));
        assert_eq!(from_secs(3600, "3600"), Ok(3_600_000));
    }

    #[test]
    fn rejects() {
        for bad in ["", "1", "h", "1x", "1.5h", "-1s", "1h-", "0s", "400000d"] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse(&format!("{}ms", MAX_DELAY_MS)).is_ok());
        assert!(parse(&format!("{}ms", MAX_DELAY_MS + 1)).is_err());
        assert!(from_secs(0, "0").is_err());
        assert!(from_secs(u64::MAX, "big").is_err());
    }
}
