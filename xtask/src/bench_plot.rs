//! The benchmark's charts, drawn as SVG next to docs/benchmarks.md from the results file:
//! socket-throughput's delivery latency against the offered rate, and history's p99 against
//! the amount of stored history.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench_results::{self, History, P99_LIMIT_MS, RESULTS, Throughput};
use crate::workspace::root;

/// Where the charts go, relative to the workspace root.
const CHARTS: &str = "docs/bench";

/// Chart size in pixels.
const SIZE: (u32, u32) = (900, 520);
/// The series' colours, in order (readable on white, told apart without colour vision).
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(90, 90, 90),
    RGBColor(0, 0, 0),
];

/// Draws the charts from the results file into docs/bench, saying what it drew.
pub(crate) fn redraw() -> Result<()> {
    let written = draw_all(&root().join(RESULTS), &root().join(CHARTS))?;
    if written.is_empty() {
        println!("==> no socket-throughput or history results in {RESULTS}: no charts drawn");
    }
    for path in written {
        println!("==> drew {}", path.display());
    }
    Ok(())
}

/// Draws every chart the results allow into `dir`; returns the files written.
pub(crate) fn draw_all(results: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let records = bench_results::read(results)?;
    let mut written = Vec::new();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(ramp) = bench_results::throughput(&records) {
        let path = dir.join("socket-throughput.svg");
        write(&path, &throughput_svg(&ramp)?)?;
        written.push(path);
    }
    if let Some(history) = bench_results::history(&records) {
        let path = dir.join("history-p99.svg");
        write(&path, &history_svg(&history)?)?;
        written.push(path);
    }
    Ok(written)
}

fn write(path: &Path, svg: &str) -> Result<()> {
    std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))
}

/// plotters' errors carry the backend's error type; text is all we need of them.
fn drawing<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T> {
    result.map_err(|e| anyhow!("drawing a chart: {e}"))
}

/// A white drawing area writing into `svg`, with `title` and, smaller, the run it shows at
/// the top; returns the area below them.
fn canvas<'a>(
    svg: &'a mut String,
    title: &str,
    run: &str,
) -> Result<DrawingArea<SVGBackend<'a>, Shift>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    drawing(root.fill(&WHITE))?;
    let (top, body) = root.split_vertically(52);
    drawing(top.draw(&Text::new(title.to_owned(), (16, 10), ("sans-serif", 18))))?;
    drawing(top.draw(&Text::new(
        run.to_owned(),
        (16, 32),
        ("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
    )))?;
    Ok(body)
}

/// The power of ten at or below `x` (for log axes that start on a labelled decade).
fn decade_below(x: f64) -> f64 {
    10f64.powf(x.log10().floor())
}

/// The power of ten at or above `x`.
fn decade_above(x: f64) -> f64 {
    10f64.powf(x.log10().ceil())
}

/// Latency (p50, p99; log scale) against offered rate, with the p99 limit and C marked and the
/// failed steps drawn hollow.
pub(crate) fn throughput_svg(ramp: &Throughput) -> Result<String> {
    let mut svg = String::new();
    {
        let root = canvas(
            &mut svg,
            "socket-throughput: delivery latency by offered rate",
            &ramp.run,
        )?;
        let top_rate = ramp.steps.iter().map(|s| s.rate).fold(0.0, f64::max);
        let x_max = top_rate.max(ramp.calibration_tps.unwrap_or(0.0)).max(1.0) * 1.08;
        let latencies = ramp.steps.iter().flat_map(|s| [s.p50_ms, s.p99_ms]);
        let y_min = decade_below(latencies.clone().fold(P99_LIMIT_MS, f64::min).max(0.01));
        let y_max = latencies.fold(P99_LIMIT_MS, f64::max) * 1.5;
        let mut chart = drawing(
            ChartBuilder::on(&root)
                .margin(16)
                .margin_bottom(28)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale()),
        )?;
        drawing(
            chart
                .configure_mesh()
                .x_desc("offered rate (messages/s, 50 sender/receiver pairs)")
                .y_desc("send to delivery (ms, log scale)")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| format!("{y}"))
                .light_line_style(WHITE.mix(0.0))
                .draw(),
        )?;
        let limit = RGBColor(120, 120, 120);
        drawing(chart.draw_series(DashedLineSeries::new(
            [(0.0, P99_LIMIT_MS), (x_max, P99_LIMIT_MS)],
            6,
            4,
            limit.stroke_width(1),
        )))?
        .label(format!("p99 limit of a passing step ({P99_LIMIT_MS} ms)"))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], limit));
        if let Some(c) = ramp.calibration_tps {
            drawing(chart.draw_series(DashedLineSeries::new(
                [(c, y_min), (c, y_max)],
                3,
                3,
                BLACK.stroke_width(1),
            )))?
            .label(format!("C = {c:.0} transactions/s (PostgreSQL alone)"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
        }
        for (name, colour, pick) in [
            (
                "p50",
                COLOURS[0],
                (|s| s.p50_ms) as fn(&bench_results::Step) -> f64,
            ),
            ("p99", COLOURS[1], |s| s.p99_ms),
        ] {
            let points: Vec<(f64, f64)> = ramp.steps.iter().map(|s| (s.rate, pick(s))).collect();
            drawing(chart.draw_series(LineSeries::new(points, colour.stroke_width(2))))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            drawing(chart.draw_series(ramp.steps.iter().map(|s| {
                let style = if s.passed {
                    colour.filled()
                } else {
                    colour.stroke_width(2)
                };
                Circle::new((s.rate, pick(s)), 4, style)
            })))?;
        }
        drawing(
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.4))
                .label_font(("sans-serif", 14))
                .draw(),
        )?;
        drawing(root.draw(&Text::new(
            "filled: the step passed; hollow: it failed (p99 over the limit, or messages lost)",
            (80, i32::try_from(SIZE.1).unwrap_or(520) - 52 - 20),
            ("sans-serif", 12),
        )))?;
        drawing(root.present())?;
    }
    Ok(svg)
}

/// p99 of each history query against the messages stored (log scale).
pub(crate) fn history_svg(history: &History) -> Result<String> {
    let mut svg = String::new();
    {
        let root = canvas(&mut svg, "history: p99 by stored messages", &history.run)?;
        let points = || {
            history
                .queries
                .iter()
                .flat_map(|q| q.points.iter().copied())
        };
        let x_min = points().map(|p| p.0).fold(f64::INFINITY, f64::min).min(1e4) / 2.0;
        // Room on the right, past the largest size, for the legend.
        let x_max = points().map(|p| p.0).fold(0.0, f64::max).max(1e5) * 12.0;
        let y_min = decade_below(
            points()
                .map(|p| p.1)
                .fold(f64::INFINITY, f64::min)
                .max(0.01),
        );
        let y_max = decade_above(points().map(|p| p.1).fold(1.0, f64::max) * 1.2);
        let mut chart = drawing(
            ChartBuilder::on(&root)
                .margin(16)
                .margin_right(24)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale()),
        )?;
        drawing(
            chart
                .configure_mesh()
                .x_desc("messages stored (log scale)")
                .y_desc("request latency, p99 (ms, log scale)")
                .x_label_formatter(&|x| messages_label(*x))
                .y_label_formatter(&|y| format!("{y}"))
                .light_line_style(WHITE.mix(0.0))
                .draw(),
        )?;
        for (query, colour) in history.queries.iter().zip(COLOURS.iter().cycle()) {
            let colour = *colour;
            drawing(chart.draw_series(LineSeries::new(
                query.points.iter().copied(),
                colour.stroke_width(2),
            )))?
            .label(query.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
            drawing(
                chart.draw_series(
                    query
                        .points
                        .iter()
                        .map(|p| Circle::new(*p, 4, colour.filled())),
                ),
            )?;
        }
        drawing(
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.4))
                .label_font(("sans-serif", 14))
                .draw(),
        )?;
        drawing(root.present())?;
    }
    Ok(svg)
}

/// 10000 as `10k`, 1000000 as `1M`.
fn messages_label(n: f64) -> String {
    if n >= 1e6 {
        format!("{}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{}k", n / 1e3)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::bench_results::{Query, Step};

    #[test]
    fn the_throughput_chart_has_its_axes_legend_and_marks() {
        let ramp = Throughput {
            run: "2026-11-30 18:08 UTC, cargo xtask bench".to_owned(),
            calibration_tps: Some(8968.0),
            steps: vec![
                Step {
                    rate: 897.0,
                    p50_ms: 1.7,
                    p99_ms: 3.3,
                    passed: true,
                },
                Step {
                    rate: 13452.0,
                    p50_ms: 707.4,
                    p99_ms: 947.3,
                    passed: false,
                },
            ],
        };
        let svg = throughput_svg(&ramp).unwrap();
        for text in [
            "offered rate (messages/s",
            "send to delivery (ms, log scale)",
            "p50",
            "p99",
            "C = 8968 transactions/s",
            "p99 limit of a passing step (100 ms)",
            "2026-11-30 18:08 UTC",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    }

    #[test]
    fn the_history_chart_names_each_query_and_reads_sizes() {
        let history = History {
            run: "2026-12-01 01:41 UTC, cargo xtask bench --scenario history".to_owned(),
            queries: vec![
                Query {
                    name: "first-page".to_owned(),
                    points: vec![(1e4, 3.15), (1e6, 5.41)],
                },
                Query {
                    name: "group-unread-count".to_owned(),
                    points: vec![(1e4, 39.96), (1e6, 10.93)],
                },
            ],
        };
        let svg = history_svg(&history).unwrap();
        for text in [
            "first-page",
            "group-unread-count",
            "messages stored",
            "p99 (ms, log scale)",
            "10k",
            "1M",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert_eq!(messages_label(1e5), "100k");
        assert_eq!(messages_label(500.0), "500");
    }
}
