//! The font the charts are labelled with, shipped with the crate.
//!
//! plotters draws text with `ab_glyph`, which needs a font given as bytes: we embed DejaVu Sans
//! (`assets/fonts/DejaVuSans.ttf`, licence beside it) so charts render the same on any machine,
//! with no system font installed.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::error::{Error, Result};

/// The family name charts ask for.
pub const FAMILY: &str = "sans-serif";

const DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

// ANCHOR: register
/// Registers the embedded font under [`FAMILY`]; later calls reuse the first outcome.
pub fn register() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
            && register_font(FAMILY, FontStyle::Bold, DEJAVU_SANS).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Plot(
            "the embedded DejaVu Sans font could not be loaded".to_string(),
        ))
    }
}
// ANCHOR_END: register

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_registers_twice() {
        assert!(register().is_ok());
        assert!(register().is_ok());
    }
}
