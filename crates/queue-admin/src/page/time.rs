//! Times as people read them: "5 min ago" on the page, the exact instant on hover.

use time::macros::format_description;
use time::OffsetDateTime;

use crate::escape::html;

/// A `<time>` element: relative to `now` as text, exact (UTC) as its title, machine-readable
/// in `datetime` so that the script can keep the text current in the reader's time zone.
pub(crate) fn time_tag(now: OffsetDateTime, t: OffsetDateTime) -> String {
    let iso = t
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!(
        r#"<time datetime="{}" title="{}">{}</time>"#,
        html(&iso),
        html(&exact(t)),
        html(&relative(now, t))
    )
}

/// `2026-11-29 15:27:01 UTC`.
pub(crate) fn exact(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
    ))
    .unwrap_or_default()
}

/// "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "in 5 min" for the future.
pub(crate) fn relative(now: OffsetDateTime, t: OffsetDateTime) -> String {
    let secs = (t - now).as_seconds_f64();
    // Whole seconds: "1.7 s ago" is more precision than a list needs.
    let span = span(secs.abs().floor());
    if secs.abs() < 1.0 {
        "just now".to_owned()
    } else if secs > 0.0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// A length of time in its largest fitting unit: "0 s", "2.5 s", "42 s", "5 min", "3 h",
/// "2 d". Used for the lag too.
pub(crate) fn span(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs < 10.0 {
        let tenths = (secs * 10.0).round() / 10.0;
        if tenths.fract() == 0.0 {
            format!("{tenths:.0} s")
        } else {
            format!("{tenths:.1} s")
        }
    } else if secs < 60.0 {
        format!("{:.0} s", secs.floor())
    } else if secs < 3600.0 {
        format!("{:.0} min", (secs / 60.0).floor())
    } else if secs < 86_400.0 {
        format!("{:.0} h", (secs / 3600.0).floor())
    } else {
        format!("{:.0} d", (secs / 86_400.0).floor())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use time::macros::datetime;

    #[test]
    fn relative_times() {
        let now = datetime!(2026-11-29 12:00:00 UTC);
        let cases = [
            (datetime!(2026-11-29 12:00:00.4 UTC), "just now"),
            (datetime!(2026-11-29 11:59:18 UTC), "42 s ago"),
            (datetime!(2026-11-29 11:59:58.3 UTC), "1 s ago"),
            (datetime!(2026-11-29 11:54:30 UTC), "5 min ago"),
            (datetime!(2026-11-29 09:00:00 UTC), "3 h ago"),
            (datetime!(2026-11-27 11:00:00 UTC), "2 d ago"),
            (datetime!(2026-11-29 12:05:00 UTC), "in 5 min"),
        ];
        for (t, want) in cases {
            assert_eq!(relative(now, t), want, "{t}");
        }
    }

    #[test]
    fn spans() {
        assert_eq!(span(0.0), "0 s");
        assert_eq!(span(-3.0), "0 s");
        assert_eq!(span(2.46), "2.5 s");
        assert_eq!(span(9.96), "10 s");
        assert_eq!(span(59.9), "59 s");
        assert_eq!(span(61.0), "1 min");
        assert_eq!(span(7200.0), "2 h");
    }

    #[test]
    fn tags_carry_exact_and_machine_times() {
        let now = datetime!(2026-11-29 12:00:00 UTC);
        let tag = time_tag(now, datetime!(2026-11-29 13:00:00 +01:00));
        assert_eq!(
            tag,
            r#"<time datetime="2026-11-29T13:00:00+01:00" title="2026-11-29 12:00:00 UTC">just now</time>"#
        );
    }
}
