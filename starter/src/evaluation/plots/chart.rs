//! A small line chart: labelled series of points on linear or logarithmic axes, saved as PNG.
//!
//! Every plot of the evaluators is one or a few of these [`Chart`]s, so the plotters details
//! (fonts, margins, legends, axis types) live in this one file.

use std::fmt::Display;
use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::evaluation::plots::font::{self, FAMILY};

// ANCHOR: chart
/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name in the legend.
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// A short note drawn beside each point (such as the n_probes it was measured at), if any.
    pub point_notes: Vec<String>,
    /// Dashed, for a reference line rather than a measured curve.
    pub dashed: bool,
}

/// How values are spread along an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Powers of ten equally spaced: for values spanning orders of magnitude (queries/s).
    Log10,
    /// Powers of two equally spaced, ticks at 1, 2, 4, 8…: for doubling settings (n_probes).
    Log2,
}

/// One axis: its title, scale and (optionally) a fixed range.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    /// Fixed bounds; by default the data's bounds with a little room around them.
    pub range: Option<(f64, f64)>,
}

/// Where the legend goes; the y axis gets extra room on top for an upper legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

/// A titled chart of line series.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    pub legend: Legend,
}
// ANCHOR_END: chart

impl Series {
    /// A plain measured line.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            point_notes: Vec::new(),
            dashed: false,
        }
    }
}

impl Axis {
    /// A linear axis fitted to the data.
    pub fn linear(label: impl Into<String>) -> Self {
        Axis {
            label: label.into(),
            scale: Scale::Linear,
            range: None,
        }
    }

    /// A base-10 logarithmic axis fitted to the data.
    pub fn log(label: impl Into<String>) -> Self {
        Axis {
            scale: Scale::Log10,
            ..Axis::linear(label)
        }
    }

    /// A base-2 logarithmic axis fitted to the data.
    pub fn log2(label: impl Into<String>) -> Self {
        Axis {
            scale: Scale::Log2,
            ..Axis::linear(label)
        }
    }
}

/// Colour-blind-friendly colours (Okabe and Ito), one per series in turn.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

// ANCHOR: save_charts
/// Saves `charts` side by side in one PNG of `width` × `height` pixels.
pub fn save_charts(path: &Path, charts: &[Chart], (width, height): (u32, u32)) -> Result<()> {
    font::register()?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let panels = root.split_evenly((1, charts.len().max(1)));
    for (chart, panel) in charts.iter().zip(&panels) {
        draw_chart(panel, chart)?;
    }
    root.present().map_err(plot_error)
}
// ANCHOR_END: save_charts

/// Draws `chart` on `area`, picking plotters' coordinate type for each axis's scale.
///
/// A base-2 axis is drawn as a linear axis of log2(value), with ticks labelled 2^v. A base-10
/// axis whose data spans less than a decade is drawn linear (a log axis would label a single
/// tick). The axis title says "(log scale)" whenever the scale is logarithmic.
fn draw_chart<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<()> {
    let mut shown = chart.clone();
    let points: Vec<(f64, f64)> = chart.series.iter().flat_map(|s| s.points.clone()).collect();
    shown.x.scale = effective_scale(&chart.x, points.iter().map(|p| p.0));
    shown.y.scale = effective_scale(&chart.y, points.iter().map(|p| p.1));
    for axis in [&mut shown.x, &mut shown.y] {
        if axis.scale != Scale::Linear {
            axis.label.push_str(" (log scale)");
        }
    }
    let (x_scale, y_scale) = (shown.x.scale, shown.y.scale);
    for series in &mut shown.series {
        for point in &mut series.points {
            *point = (placed(point.0, x_scale), placed(point.1, y_scale));
        }
    }
    let placed_points = || shown.series.iter().flat_map(|s| &s.points);
    let (x0, x1) = axis_bounds(&shown.x, placed_points().map(|p| p.0));
    let (y0, mut y1) = axis_bounds(&shown.y, placed_points().map(|p| p.1));
    if matches!(chart.legend, Legend::UpperLeft | Legend::UpperRight) {
        y1 = match y_scale {
            Scale::Log10 => y1 * (y1 / y0).powf(0.35),
            Scale::Linear | Scale::Log2 => y1 + (y1 - y0) * 0.35,
        };
    }
    match (x_scale == Scale::Log10, y_scale == Scale::Log10) {
        (false, false) => draw_on(area, &shown, x0..x1, y0..y1),
        (false, true) => draw_on(area, &shown, x0..x1, (y0..y1).log_scale()),
        (true, false) => draw_on(area, &shown, (x0..x1).log_scale(), y0..y1),
        (true, true) => draw_on(area, &shown, (x0..x1).log_scale(), (y0..y1).log_scale()),
    }
}

/// The axis's scale, or linear for a base-10 axis over less than a decade of positive data.
fn effective_scale(axis: &Axis, values: impl Iterator<Item = f64>) -> Scale {
    if axis.scale != Scale::Log10 || axis.range.is_some() {
        return axis.scale;
    }
    let (low, high) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if high / low >= 10.0 {
        Scale::Log10
    } else {
        Scale::Linear
    }
}

/// Where a value sits on an axis of `scale`: base-2 axes are drawn in log2 units.
fn placed(value: f64, scale: Scale) -> f64 {
    match scale {
        Scale::Log2 => value.log2(),
        Scale::Linear | Scale::Log10 => value,
    }
}

fn draw_on<DB, X, Y>(area: &DrawingArea<DB, Shift>, chart: &Chart, x: X, y: Y) -> Result<()>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut context = ChartBuilder::on(area)
        .caption(
            &chart.title,
            (FAMILY, 22).into_font().style(FontStyle::Bold),
        )
        .margin(18)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)
        .map_err(plot_error)?;
    context
        .configure_mesh()
        .x_desc(chart.x.label.as_str())
        .y_desc(chart.y.label.as_str())
        .axis_desc_style((FAMILY, 17))
        .label_style((FAMILY, 14))
        .x_labels(8)
        .y_labels(8)
        .light_line_style(RGBColor(235, 235, 235))
        .x_label_formatter(&|v| tick_label(*v, chart.x.scale))
        .y_label_formatter(&|v| tick_label(*v, chart.y.scale))
        .draw()
        .map_err(plot_error)?;
    for (index, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        let line_style = colour.stroke_width(2);
        let points = series.points.iter().copied();
        let drawn = if series.dashed {
            context.draw_series(DashedLineSeries::new(points, 8, 5, line_style))
        } else {
            context.draw_series(LineSeries::new(points, line_style))
        };
        drawn
            .map_err(plot_error)?
            .label(series.label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        if !series.dashed {
            context
                .draw_series(
                    series
                        .points
                        .iter()
                        .map(|&p| Circle::new(p, 4, colour.filled())),
                )
                .map_err(plot_error)?;
        }
        let notes = series.points.iter().zip(&series.point_notes);
        context
            .draw_series(notes.map(|(&p, note)| {
                // Above and to the right of the point, clear of the marker.
                EmptyElement::at(p)
                    + Text::new(
                        note.clone(),
                        (4, -20),
                        (FAMILY, 15).into_font().color(&colour),
                    )
            }))
            .map_err(plot_error)?;
    }
    context
        .configure_series_labels()
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .position(match chart.legend {
            Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
            Legend::UpperRight => SeriesLabelPosition::UpperRight,
            Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
        })
        .draw()
        .map_err(plot_error)
}

/// The axis's fixed range, or the data's with 6% room on each side (a factor on a log axis).
fn axis_bounds(axis: &Axis, values: impl Iterator<Item = f64>) -> (f64, f64) {
    if let Some(range) = axis.range {
        return range;
    }
    let (low, high) = values
        .filter(|v| v.is_finite() && (axis.scale != Scale::Log10 || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !(low.is_finite() && high.is_finite()) {
        return (1.0, 10.0);
    }
    if axis.scale == Scale::Log10 {
        return (low / 1.3, high * 1.3);
    }
    let room = ((high - low) * 0.06).max(high.abs() * 0.01).max(1e-6);
    (low - room, high + room)
}

/// The label of a tick at `value`: on a base-2 axis 2^value at whole powers and nothing between.
fn tick_label(value: f64, scale: Scale) -> String {
    match scale {
        Scale::Log2 if (value - value.round()).abs() < 1e-9 => short_number(value.round().exp2()),
        Scale::Log2 => String::new(),
        Scale::Linear | Scale::Log10 => short_number(value),
    }
}

/// A tick label without needless digits: 12000 → "12k", 0.95 → "0.95".
fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{}M", trim(value / 1e6))
    } else if magnitude >= 1e4 {
        format!("{}k", trim(value / 1e3))
    } else {
        trim(value)
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

fn plot_error<E: Display>(error: E) -> Error {
    Error::Plot(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(short_number(12000.0), "12k");
        assert_eq!(short_number(2_500_000.0), "2.5M");
        assert_eq!(short_number(0.95), "0.95");
        assert_eq!(short_number(3.0), "3");
        assert_eq!(short_number(-0.0001), "0");
        assert_eq!(tick_label(3.0, Scale::Log2), "8");
        assert_eq!(tick_label(2.5, Scale::Log2), "");
        assert_eq!(tick_label(2.5, Scale::Linear), "2.5");
    }

    #[test]
    fn bounds_leave_room_around_the_data() {
        let (lo, hi) = axis_bounds(&Axis::linear("x"), [1.0, 2.0].into_iter());
        assert!(lo < 1.0 && hi > 2.0);
        let (lo, hi) = axis_bounds(&Axis::log("y"), [0.0, 10.0, 1000.0].into_iter());
        assert!(
            lo > 0.0 && lo < 10.0 && hi > 1000.0,
            "zero is skipped on a log axis"
        );
        let fixed = Axis {
            range: Some((0.0, 1.0)),
            ..Axis::linear("recall")
        };
        assert_eq!(axis_bounds(&fixed, [5.0].into_iter()), (0.0, 1.0));
    }

    #[test]
    fn a_log_axis_over_less_than_a_decade_is_drawn_linear() {
        let log = Axis::log("qps");
        assert_eq!(
            effective_scale(&log, [100.0, 900.0].into_iter()),
            Scale::Linear
        );
        assert_eq!(
            effective_scale(&log, [100.0, 1000.0].into_iter()),
            Scale::Log10
        );
        let log2 = Axis::log2("n_probes");
        assert_eq!(effective_scale(&log2, [1.0, 2.0].into_iter()), Scale::Log2);
    }

    #[test]
    fn saves_a_png_with_two_panels() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("chart.png");
        let mut measured = Series::new("measured", vec![(1.0, 10.0), (2.0, 100.0)]);
        measured.point_notes = vec!["a".into(), "b".into()];
        let chart = Chart {
            title: "test".to_string(),
            x: Axis::log2("x"),
            y: Axis::log("y"),
            legend: Legend::UpperRight,
            series: vec![
                measured,
                Series {
                    dashed: true,
                    ..Series::new("reference", vec![(1.0, 50.0), (2.0, 50.0)])
                },
            ],
        };
        save_charts(&path, &[chart.clone(), chart], (600, 300)).expect("draws");
        let bytes = std::fs::read(&path).expect("written");
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
