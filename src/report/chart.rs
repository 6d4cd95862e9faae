//! The report's charts, drawn as SVG when the report is written (no chart
//! library, nothing fetched): findings per day stacked by level, and
//! horizontal bars for the top values of a column. Every label is escaped.
//!
//! It imports nothing of trailsql outside `report/`.

use std::fmt::Write;

use super::escape;

/// The levels, highest first, and their colours.
pub const LEVELS: [(&str, &str); 5] = [
    ("critical", "#7f1d1d"),
    ("high", "#dc2626"),
    ("medium", "#f59e0b"),
    ("low", "#3b82f6"),
    ("info", "#9ca3af"),
];

/// Findings per day (`day` as YYYY-MM-DD, level, count), one stacked bar
/// per day from the first day to the last, with the days between empty.
pub fn per_day(counts: &[(String, String, u64)]) -> String {
    let mut days: Vec<&str> = counts.iter().map(|(d, _, _)| d.as_str()).collect();
    days.sort();
    days.dedup();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return String::from("<p>No findings.</p>");
    };
    let parse = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let (Some(first), Some(last)) = (parse(first), parse(last)) else {
        return String::from("<p>No findings.</p>");
    };
    let n = ((last - first).num_days() + 1).clamp(1, 3660) as usize;
    let mut totals = vec![0u64; n];
    for (d, _, c) in counts {
        if let Some(i) = parse(d).map(|d| (d - first).num_days() as usize) {
            if i < n {
                totals[i] += c;
            }
        }
    }
    let most = totals.iter().copied().max().unwrap_or(1).max(1);
    let (width, height, left, bottom) = (900.0, 220.0, 48.0, 24.0);
    let plot_w = width - left - 8.0;
    let plot_h = height - bottom - 8.0;
    let bar = plot_w / n as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" id=\"per-day\" role=\"img\" aria-label=\"findings per day\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">"
    );
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"14\" text-anchor=\"end\" class=\"axis\">{most}</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"axis\">0</text>",
        left - 6.0,
        left - 6.0,
        8.0 + plot_h
    );
    let mut stacked = vec![0u64; n];
    for (level, fill) in LEVELS.iter().rev() {
        for (d, l, c) in counts.iter().filter(|(_, l, _)| l == level) {
            let Some(i) = parse(d).map(|d| (d - first).num_days() as usize) else {
                continue;
            };
            if i >= n {
                continue;
            }
            let h = *c as f64 / most as f64 * plot_h;
            let y = 8.0 + plot_h - (stacked[i] as f64 / most as f64 * plot_h) - h;
            stacked[i] += c;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" \
                 fill=\"{fill}\"><title>{} {}: {c}</title></rect>",
                left + i as f64 * bar + 0.5,
                (bar - 1.0).max(0.5),
                escape(d),
                escape(l)
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{left}\" y=\"{}\" class=\"axis\">{}</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"axis\">{}</text></svg>",
        height - 6.0,
        first.format("%Y-%m-%d"),
        width - 8.0,
        height - 6.0,
        last.format("%Y-%m-%d")
    );
    svg.push_str("<p class=\"legend\">");
    for (level, fill) in LEVELS {
        if counts.iter().any(|(_, l, _)| l == level) {
            let _ = write!(
                svg,
                "<span><i style=\"background:{fill}\"></i>{level}</span> "
            );
        }
    }
    svg.push_str("</p>");
    svg
}

/// Horizontal bars for (label, count), largest first as given.
pub fn bars(id: &str, rows: &[(String, u64)]) -> String {
    if rows.is_empty() {
        return String::from("<p>None.</p>");
    }
    let most = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let (width, row_h, label_w) = (900.0, 22.0, 470.0);
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" id=\"{id}\" role=\"img\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\">"
    );
    for (i, (label, count)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 2.0;
        let w = (*count as f64 / most as f64 * (width - label_w - 70.0)).max(1.0);
        let shown: String = if label.chars().count() > 64 {
            label.chars().take(63).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" class=\"label\">{}<title>{}</title></text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"#2563eb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"count\">{count}</text>",
            label_w - 8.0,
            y + 15.0,
            escape(&shown),
            escape(label),
            row_h - 6.0,
            label_w + w + 6.0,
            y + 15.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_stacked_by_level_and_labels_escaped() {
        let counts = vec![
            ("2025-10-01".to_string(), "high".to_string(), 2),
            ("2025-10-01".to_string(), "low".to_string(), 1),
            ("2025-10-03".to_string(), "high".to_string(), 4),
        ];
        let svg = per_day(&counts);
        // Three rectangles, the tallest day (4) full height.
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains(">4</text>"), "{svg}");
        assert!(svg.contains("2025-10-03"), "{svg}");
        let bars = bars("actors", &[("<script>alert(1)</script>".to_string(), 3)]);
        assert!(!bars.contains("<script>"), "{bars}");
        assert!(bars.contains("&lt;script&gt;"), "{bars}");
    }
}
