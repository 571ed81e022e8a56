//! From data coordinates to pixels, for the pictures of points in the plane (chapters 6, 13).
//!
//! Both axes get the same scale, so that distances, which both pictures are about, are not
//! distorted: a circle of points stays a circle.

/// A square view of `size × size` pixels onto the plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    min_x: f32,
    max_y: f32,
    /// Data units per pixel.
    step: f32,
    /// Pixels per side.
    pub size: u32,
}

impl Frame {
    /// A view of `size` pixels around `points` (a unit square when there is none), with
    /// `margin` more room than they span (1.1 is 10 %), and the points `lift` of the way down
    /// from the top (0.5 centres them; more leaves room above them for a label).
    pub fn around<'a>(
        points: impl IntoIterator<Item = &'a [f32]>,
        size: u32,
        margin: f32,
        lift: f32,
    ) -> Self {
        let (mut min_x, mut max_x, mut min_y, mut max_y) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        let mut any = false;
        for p in points {
            if let [x, y, ..] = *p {
                (min_x, max_x) = (min_x.min(x), max_x.max(x));
                (min_y, max_y) = (min_y.min(y), max_y.max(y));
                any = true;
            }
        }
        if !any {
            (min_x, max_x, min_y, max_y) = (-1.0, 1.0, -1.0, 1.0);
        }
        let span = (max_x - min_x).max(max_y - min_y).max(1e-3) * margin;
        let (centre_x, centre_y) = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
        Frame {
            min_x: centre_x - span / 2.0,
            max_y: centre_y + span * lift,
            step: span / size.max(1) as f32,
            size,
        }
    }

    /// The data point at the centre of pixel `(column, row)`.
    pub fn to_data(self, column: u32, row: u32) -> [f32; 2] {
        [
            self.min_x + (column as f32 + 0.5) * self.step,
            self.max_y - (row as f32 + 0.5) * self.step,
        ]
    }

    /// The pixel of a data point (its first two values).
    pub fn to_pixel(self, point: &[f32]) -> (i32, i32) {
        let (x, y) = (
            point.first().copied().unwrap_or(0.0),
            point.get(1).copied().unwrap_or(0.0),
        );
        (
            ((x - self.min_x) / self.step) as i32,
            ((self.max_y - y) / self.step) as i32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_map_inside_the_square_and_back() {
        let points: [&[f32]; 2] = [&[0.0, 0.0], &[2.0, 1.0]];
        let frame = Frame::around(points, 100, 1.1, 0.5);
        for p in points {
            let (x, y) = frame.to_pixel(p);
            assert!(
                (0..100).contains(&x) && (0..100).contains(&y),
                "{p:?} -> {x},{y}"
            );
            let back = frame.to_data(x as u32, y as u32);
            assert!((back[0] - p[0]).abs() < 0.05 && (back[1] - p[1]).abs() < 0.05);
        }
    }
}
