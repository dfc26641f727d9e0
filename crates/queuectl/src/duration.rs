//! Durations as people type them (`30s`, `5m`, `2h`, `7d`, `1h30m`) and as the tool shows
//! them.

use std::time::Duration;

/// The units, longest name first where one is a prefix of another (`ms` before `m`).
const UNITS: [(&str, u64); 6] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

/// Parses `30s`, `5m`, `2h`, `7d`, `2w`, `250ms`, or a sum of them written together
/// (`1h30m`); a bare number is seconds. Used as a clap value parser, so the error is the
/// whole message clap shows.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| format!("{why} (use e.g. 30s, 5m, 2h, 7d or 1h30m)");
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("empty duration"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| bad("too long"));
    }
    let mut total_ms: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad(&format!("expected a number at {rest:?}")));
        }
        let (number, after) = rest.split_at(digits);
        let letters = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(letters);
        let Some(&(_, unit_ms)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(bad(&format!("unknown unit {unit:?}")));
        };
        let n: u64 = number.parse().map_err(|_| bad("too long"))?;
        total_ms = n
            .checked_mul(unit_ms)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| bad("too long"))?;
        rest = after;
    }
    Ok(Duration::from_millis(total_ms))
}

/// A duration in its two largest units, rounded down: `0s`, `250ms`, `45s`, `3m12s`, `2h5m`,
/// `7d`, `30d`. Meant for people; scripts get seconds in the JSON output.
pub fn format(d: Duration) -> String {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let mut parts = Vec::new();
    let mut rest = ms;
    // Up to days: `7d` reads better than `1w`.
    for &(name, unit_ms) in UNITS[1..5].iter().rev() {
        let n = rest / unit_ms;
        rest %= unit_ms;
        if n > 0 || !parts.is_empty() {
            parts.push((n, name));
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n}{name}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_sums_parse() {
        for (text, secs) in [
            ("30s", 30),
            ("5m", 300),
            ("2h", 7_200),
            ("7d", 604_800),
            ("2w", 1_209_600),
            ("1h30m", 5_400),
            ("1d12h", 129_600),
            ("90", 90),
            (" 10s ", 10),
            ("0s", 0),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1s500ms"), Ok(Duration::from_millis(1_500)));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        for (text, says) in [
            ("", "empty"),
            ("s", "expected a number"),
            ("5x", "unknown unit \"x\""),
            ("5 m", "unknown unit \"\""),
            ("-5s", "expected a number"),
            ("1.5h", "unknown unit \"\""),
            ("99999999999999999999d", "too long"),
            ("999999999999999w", "too long"),
        ] {
            match parse(text) {
                Ok(d) => panic!("{text:?} parsed as {d:?}"),
                Err(e) => assert!(e.contains(says) && e.contains("30s"), "{text:?}: {e}"),
            }
        }
    }

    #[test]
    fn formatting_keeps_the_two_largest_units() {
        for (d, text) in [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(45), "45s"),
            (Duration::from_secs(192), "3m12s"),
            (Duration::from_secs(3_600), "1h"),
            (Duration::from_secs(7_530), "2h5m"),
            (Duration::from_secs(3_601), "1h"),
            (Duration::from_secs(604_800), "7d"),
            (Duration::from_secs(8 * 86_400 + 3_600), "8d1h"),
        ] {
            assert_eq!(format(d), text, "{d:?}");
        }
    }

    #[test]
    fn formatted_durations_parse_back_within_their_precision() {
        for secs in [1, 59, 61, 3_599, 86_399, 1_000_000] {
            let d = Duration::from_secs(secs);
            let back = parse(&format(d)).unwrap_or_default();
            assert!(
                back <= d && d - back < d / 10 + Duration::from_secs(1),
                "{secs}"
            );
        }
    }
}
