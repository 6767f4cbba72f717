//! Charts drawn on the server as SVG, so pages work without JavaScript and print as they look.
//! This module only does the geometry; the templates draw it, and every chart has its numbers in
//! a table beside it.

/// A number written with a fixed count of decimals by integer arithmetic: Rust's float
/// formatting was a visible share of a chart page's time (perf), and a coordinate needs no
/// more than a tenth of a pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed {
    value: f64,
    places: u8,
}

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = 10i64.pow(u32::from(self.places));
        let scaled = (self.value * scale as f64).round() as i64;
        let (whole, part) = (scaled.abs() / scale, scaled.abs() % scale);
        let sign = if scaled < 0 { "-" } else { "" };
        if self.places == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(
                f,
                "{sign}{whole}.{part:0width$}",
                width = usize::from(self.places)
            )
        }
    }
}

/// A number, or a reference to one: templates hand over either.
pub trait Number {
    fn value(&self) -> f64;
}

impl Number for f64 {
    fn value(&self) -> f64 {
        *self
    }
}

impl<T: Number + ?Sized> Number for &T {
    fn value(&self) -> f64 {
        (**self).value()
    }
}

/// `value` with `places` decimals (halves rounded away from zero).
pub fn fixed(value: impl Number, places: u8) -> Fixed {
    Fixed {
        value: value.value(),
        places,
    }
}

/// A coordinate in a chart, to a tenth of a pixel.
pub fn px(value: impl Number) -> Fixed {
    fixed(value, 1)
}

/// A rectangle of a bar chart, with what it shows (its tooltip and accessible name).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// CSS class: the series or the score it is coloured by.
    pub class: String,
    pub title: String,
    /// Text drawn in the bar when it is wide enough.
    pub label: Option<String>,
}

/// A label on an axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

/// A line of a line chart with its name at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub points: String,
    pub class: String,
    pub dots: Vec<(f64, f64, String)>,
    pub name: String,
    pub name_x: f64,
    pub name_y: f64,
}

/// A key entry: the class of its swatch and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub class: String,
    pub text: String,
}

/// A chart ready to draw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    pub lines: Vec<Line>,
    /// Horizontal grid lines (y) with their labels.
    pub grid: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub key: Vec<Key>,
}

const LEFT: f64 = 36.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

/// A score on a 1-5 scale as a height in a plot `plot_h` high.
fn y_of(score: f64, plot_h: f64) -> f64 {
    TOP + plot_h - plot_h * score / 5.0
}

fn score_grid(width: f64, plot_h: f64) -> Vec<Tick> {
    (0..=5)
        .map(|s| Tick {
            x: width,
            y: y_of(f64::from(s), plot_h),
            text: s.to_string(),
        })
        .collect()
}

/// A cycle's scores: its label, and per benchmark the score with whether it is only proposed.
pub type CycleScores = (String, Vec<Option<(i16, bool)>>);

/// One bar per cycle for each benchmark, oldest cycle first.
pub fn grouped_scores(benchmarks: usize, series: &[CycleScores]) -> Chart {
    let (width, height) = (720.0, 280.0);
    let plot_w = width - LEFT - 8.0;
    let plot_h = height - TOP - BOTTOM;
    let group_w = plot_w / benchmarks.max(1) as f64;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    let newest = series.len().saturating_sub(1);
    let mut bars = Vec::new();
    for (i, (cycle, scores)) in series.iter().enumerate() {
        let class = if i == newest {
            "chart__series--now".to_owned()
        } else {
            format!("chart__series--{}", (newest - i).min(3))
        };
        for (b, score) in scores.iter().enumerate() {
            let Some((score, proposed)) = score else {
                continue;
            };
            let y = y_of(f64::from(*score), plot_h);
            bars.push(Bar {
                x: LEFT + group_w * b as f64 + group_w * 0.1 + bar_w * i as f64,
                y,
                w: bar_w - 1.0,
                h: TOP + plot_h - y,
                class: if *proposed {
                    format!("{class} chart__bar--proposed")
                } else {
                    class.clone()
                },
                title: format!(
                    "Benchmark {}, {cycle}: {score}{}",
                    b + 1,
                    if *proposed { " (proposed)" } else { "" }
                ),
                label: None,
            });
        }
    }
    Chart {
        width,
        height,
        bars,
        lines: Vec::new(),
        grid: score_grid(LEFT + plot_w, plot_h),
        x_ticks: (0..benchmarks)
            .map(|b| Tick {
                x: LEFT + group_w * (b as f64 + 0.5),
                y: height - BOTTOM + 18.0,
                text: (b + 1).to_string(),
            })
            .collect(),
        key: series
            .iter()
            .enumerate()
            .map(|(i, (cycle, _))| Key {
                class: if i == newest {
                    "chart__series--now".to_owned()
                } else {
                    format!("chart__series--{}", (newest - i).min(3))
                },
                text: cycle.clone(),
            })
            .collect(),
    }
}

/// For each benchmark a bar across the width, split by how many councils got each score 1-5.
/// `counts[b][s - 1]` is the number of councils agreed score `s` on benchmark `b + 1`.
pub fn distribution(counts: &[[i64; 5]]) -> Chart {
    let (width, row_h, left) = (720.0, 26.0, 110.0);
    let plot_w = width - left - 8.0;
    let mut bars = Vec::new();
    let mut x_ticks = Vec::new();
    for (b, row) in counts.iter().enumerate() {
        let total: i64 = row.iter().sum();
        let y = TOP + row_h * b as f64;
        x_ticks.push(Tick {
            x: left - 8.0,
            y: y + row_h * 0.65,
            text: format!("Benchmark {}", b + 1),
        });
        if total == 0 {
            continue;
        }
        let mut x = left;
        for (s, n) in row.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let w = plot_w * *n as f64 / total as f64;
            bars.push(Bar {
                x,
                y,
                w,
                h: row_h - 4.0,
                class: format!("chart__score--{}", s + 1),
                title: format!(
                    "Benchmark {}: {n} of {total} councils scored {}",
                    b + 1,
                    s + 1
                ),
                label: (w >= 22.0).then(|| n.to_string()),
            });
            x += w;
        }
    }
    Chart {
        width,
        height: TOP + row_h * counts.len() as f64 + 8.0,
        bars,
        lines: Vec::new(),
        grid: Vec::new(),
        x_ticks,
        key: (1..=5)
            .map(|s| Key {
                class: format!("chart__score--{s}"),
                text: format!("Score {s}"),
            })
            .collect(),
    }
}

/// One line per series across the cycles: `series` is (name, mean score per cycle or None).
pub fn trend(cycles: &[String], series: &[(String, Vec<Option<f64>>)]) -> Chart {
    let (width, height) = (720.0, 300.0);
    let right = 150.0;
    let plot_w = width - LEFT - right;
    let plot_h = height - TOP - BOTTOM;
    let step = if cycles.len() > 1 {
        plot_w / (cycles.len() - 1) as f64
    } else {
        0.0
    };
    let x_of = |i: usize| LEFT + 10.0 + step * i as f64;
    let mut lines = Vec::new();
    for (n, (name, values)) in series.iter().enumerate() {
        let dots: Vec<(f64, f64, String)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|v| {
                    (
                        x_of(i),
                        y_of(v, plot_h),
                        format!("{name}, {}: {v:.2}", cycles[i]),
                    )
                })
            })
            .collect();
        let Some(last) = dots.last() else {
            continue;
        };
        lines.push(Line {
            points: dots
                .iter()
                .map(|(x, y, _)| format!("{},{}", px(*x), px(*y)))
                .collect::<Vec<_>>()
                .join(" "),
            class: format!("chart__line--{}", n % 9),
            name: name.clone(),
            name_x: last.0 + 8.0,
            name_y: last.1 + 4.0,
            dots,
        });
    }
    // Names at the end of the lines must not sit on top of each other.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|a, b| lines[*a].name_y.total_cmp(&lines[*b].name_y));
    let mut floor = f64::MIN;
    for i in order {
        if lines[i].name_y < floor + 13.0 {
            lines[i].name_y = floor + 13.0;
        }
        floor = lines[i].name_y;
    }
    Chart {
        width,
        height: height.max(floor + 8.0),
        bars: Vec::new(),
        lines,
        grid: score_grid(LEFT + plot_w + 20.0, plot_h),
        x_ticks: cycles
            .iter()
            .enumerate()
            .map(|(i, c)| Tick {
                x: x_of(i),
                y: height - BOTTOM + 18.0,
                text: c.clone(),
            })
            .collect(),
        key: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_of_five_reaches_the_top_and_a_missing_score_draws_nothing() {
        let chart = grouped_scores(2, &[("2025/26".into(), vec![Some((5, false)), None])]);
        assert_eq!(chart.bars.len(), 1);
        assert!((chart.bars[0].y - TOP).abs() < 1e-9);
        assert_eq!(chart.bars[0].title, "Benchmark 1, 2025/26: 5");
    }

    #[test]
    fn a_proposed_score_is_marked_as_such() {
        let chart = grouped_scores(1, &[("2026/27".into(), vec![Some((3, true))])]);
        assert!(chart.bars[0].class.contains("chart__bar--proposed"));
        assert!(chart.bars[0].title.ends_with("(proposed)"));
    }

    #[test]
    fn a_distribution_bar_is_split_in_proportion_to_the_counts() {
        let chart = distribution(&[[1, 0, 3, 0, 0]]);
        assert_eq!(chart.bars.len(), 2);
        assert!((chart.bars[1].w - 3.0 * chart.bars[0].w).abs() < 1e-9);
    }

    #[test]
    fn fixed_decimals_are_within_half_a_unit_of_the_number() {
        assert_eq!(fixed(3.456, 2).to_string(), "3.46");
        assert_eq!(fixed(12.0, 1).to_string(), "12.0");
        assert_eq!(fixed(719.96, 1).to_string(), "720.0");
        assert_eq!(fixed(-0.3, 1).to_string(), "-0.3");
        assert_eq!(fixed(100.0 / 3.0, 0).to_string(), "33");
        for i in -2000..2000 {
            let v = f64::from(i) * 0.0137;
            for places in 0..=2u8 {
                let written: f64 = fixed(v, places).to_string().parse().expect("a number");
                assert!(
                    (written - v).abs() <= 0.5 / 10f64.powi(i32::from(places)) + 1e-9,
                    "{v}"
                );
            }
        }
    }

    #[test]
    fn line_names_never_overlap() {
        let cycles = vec!["2024/25".to_owned(), "2025/26".to_owned()];
        let chart = trend(
            &cycles,
            &[
                ("North".into(), vec![Some(3.0), Some(3.5)]),
                ("South".into(), vec![Some(3.0), Some(3.5)]),
            ],
        );
        assert!((chart.lines[0].name_y - chart.lines[1].name_y).abs() >= 13.0);
    }
}
