//! Geometry of the report's inline SVG charts, in integer tenths of a pixel.
//!
//! Why not a chart crate: plotters, charts-rs and poloto were considered. plotters lays out
//! text through a font backend (system fonts through font-kit with its `ttf` feature), so
//! bytes could differ between machines; charts-rs embeds or loads fonts for its text
//! measurement; poloto is lightly maintained. The charts needed here are rectangles and
//! labels, so the geometry is computed here and the SVG written by the same minijinja
//! template as the page (every label escaped). No float is used: positions are integer
//! shares (`value × width / total`) in tenths of a pixel, so the `float_arithmetic` lint
//! needs no exception and money never passes through a float.

use serde::Serialize;

/// Tenths of a pixel as SVG text (`12.3`).
pub fn px(tenths: i128) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    let a = tenths.unsigned_abs();
    if a % 10 == 0 {
        format!("{sign}{}", a / 10)
    } else {
        format!("{sign}{}.{}", a / 10, a % 10)
    }
}

/// `part / whole` of `span` pixels, in tenths of a pixel (0 when `whole` is 0).
pub fn share(part: i128, whole: i128, span: i128) -> i128 {
    if whole <= 0 {
        return 0;
    }
    part.max(0).saturating_mul(span * 10) / whole
}

#[derive(Debug, Serialize)]
pub struct Seg {
    pub x: String,
    pub w: String,
    pub fill: &'static str,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub y: String,
    pub ty: String,
    pub label: String,
    pub total: String,
    pub segs: Vec<Seg>,
}

#[derive(Debug, Serialize)]
pub struct Legend {
    pub name: &'static str,
    pub fill: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Stacked {
    pub title: String,
    pub height: String,
    pub rows: Vec<Row>,
    pub legend: Vec<Legend>,
    pub note: String,
}

/// A bar row: label, total text, and (value, tooltip) per part.
pub type BarInput = (String, String, Vec<(i128, String)>);

pub const LABEL_W: i128 = 200;
pub const BAR_W: i128 = 420;
pub const ROW_H: i128 = 22;

/// One 100% stacked bar per row: `parts[k]` of `total`, each drawn with `fills[k]`.
pub fn stacked(
    title: String,
    rows: Vec<BarInput>,
    fills: &[&'static str],
    names: &[&'static str],
    note: String,
) -> Stacked {
    let mut out = Vec::new();
    for (r, (label, total_text, parts)) in rows.into_iter().enumerate() {
        let total: i128 = parts.iter().map(|p| p.0.max(0)).sum();
        let mut acc = 0i128;
        let mut segs = Vec::new();
        for (k, (v, t)) in parts.into_iter().enumerate() {
            if v <= 0 {
                continue;
            }
            let x0 = share(acc, total, BAR_W);
            acc += v;
            let x1 = share(acc, total, BAR_W);
            segs.push(Seg {
                x: px(LABEL_W * 10 + x0),
                w: px((x1 - x0).max(1)),
                fill: fills[k],
                title: format!("{}: {t}", names[k]),
            });
        }
        let y = r as i128 * ROW_H;
        out.push(Row {
            y: px(y * 10 + 20),
            ty: px(y * 10 + 150),
            label,
            total: total_text,
            segs,
        });
    }
    Stacked {
        title,
        height: px((out.len() as i128 * ROW_H + 4) * 10),
        rows: out,
        legend: names
            .iter()
            .zip(fills)
            .map(|(&name, &fill)| Legend { name, fill })
            .collect(),
        note,
    }
}

#[derive(Debug, Serialize)]
pub struct Bar {
    pub x: String,
    pub w: String,
    pub y: String,
    pub h: String,
    pub oy: String,
    pub oh: String,
    /// Baseline of the outlier marker above the bar.
    pub my: String,
    pub label: String,
    pub lx: String,
    pub title: String,
    pub outliers: u64,
}

#[derive(Debug, Serialize)]
pub struct Histogram {
    pub title: String,
    pub width: String,
    pub bars: Vec<Bar>,
    pub note: String,
}

pub const HIST_H: i128 = 140;
pub const HIST_BAR: i128 = 34;

/// Vertical bars of `(label, count, outliers, title)`; the outlier part drawn on top.
pub fn histogram(title: String, bins: Vec<(String, u64, u64, String)>, note: String) -> Histogram {
    let max = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1) as i128;
    let bars = bins
        .into_iter()
        .enumerate()
        .map(|(i, (label, n, o, t))| {
            let h = share(n as i128, max, HIST_H).max(if n > 0 { 30 } else { 0 });
            let oh = if o > 0 {
                share(o as i128, n as i128, h / 10).max(20)
            } else {
                0
            };
            let x = 10 * (i as i128 * HIST_BAR + 4);
            Bar {
                x: px(x),
                w: px((HIST_BAR - 4) * 10),
                y: px(HIST_H * 10 + 100 - h),
                h: px(h),
                oy: px(HIST_H * 10 + 100 - h),
                oh: px(oh.min(h)),
                my: px(HIST_H * 10 + 100 - h - 30),
                label,
                lx: px(x + (HIST_BAR - 4) * 5),
                title: t,
                outliers: o,
            }
        })
        .collect::<Vec<_>>();
    Histogram {
        title,
        width: px((bars.len() as i128 * HIST_BAR + 8) * 10),
        bars,
        note,
    }
}

#[derive(Debug, Serialize)]
pub struct Strip {
    pub label: String,
    pub y: String,
    pub ty: String,
    pub total: String,
    pub cells: Vec<DayBar>,
}

#[derive(Debug, Serialize)]
pub struct DayBar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub fill: &'static str,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct Delays {
    pub height: String,
    pub rows: Vec<Strip>,
    pub zero_x: String,
    pub late_x: String,
    pub axis: Vec<(String, String)>,
    pub axis_y: String,
}

pub const DAY_W: i128 = 7;
pub const STRIP_H: i128 = 26;

/// One strip per provider: a bar per day of delay, height by its share of the row's peak.
/// `counts[k]` is the count at day `from + k` (the end days hold everything beyond).
pub fn delays(rows: Vec<(String, String, Vec<u64>)>, from: i64, late_days: i64) -> Delays {
    let mut out = Vec::new();
    for (r, (label, total, counts)) in rows.into_iter().enumerate() {
        let peak = counts.iter().copied().max().unwrap_or(0).max(1) as i128;
        let base = r as i128 * STRIP_H;
        let cells = counts
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(k, &n)| {
                let h = share(n as i128, peak, STRIP_H - 6).max(10);
                let day = from + k as i64;
                DayBar {
                    x: px(10 * (LABEL_W + k as i128 * DAY_W)),
                    y: px(10 * (base + STRIP_H - 2) - h),
                    w: px((DAY_W - 1) * 10),
                    h: px(h),
                    fill: if day > late_days {
                        "#c0392b"
                    } else {
                        "#2e86c1"
                    },
                    title: format!(
                        "{n} settlements at {} days",
                        day_text(day, from, counts.len())
                    ),
                }
            })
            .collect();
        out.push(Strip {
            label,
            y: px(10 * base),
            ty: px(10 * base + 160),
            total,
            cells,
        });
    }
    let x_of = |day: i64| px(10 * (LABEL_W + (day - from) as i128 * DAY_W) + DAY_W * 5);
    let mut axis = Vec::new();
    for d in [from, -20, -10, 0, 10, 20, -from] {
        let label = if d == from {
            format!("≤{d}")
        } else if d == -from {
            format!("≥{d}")
        } else {
            d.to_string()
        };
        axis.push((x_of(d), label));
    }
    Delays {
        height: px(10 * (out.len() as i128 * STRIP_H + 20)),
        axis_y: px(10 * (out.len() as i128 * STRIP_H + 14)),
        rows: out,
        zero_x: x_of(0),
        late_x: x_of(late_days.min(-from)),
        axis,
    }
}

fn day_text(day: i64, from: i64, n: usize) -> String {
    if day == from {
        format!("≤{day}")
    } else if day == from + n as i64 - 1 {
        format!("≥{day}")
    } else {
        day.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths() {
        assert_eq!(px(0), "0");
        assert_eq!(px(123), "12.3");
        assert_eq!(px(-5), "-0.5");
        assert_eq!(share(1, 3, 420), 1400);
        assert_eq!(share(5, 0, 420), 0);
    }
}
