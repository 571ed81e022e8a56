//! A ceiling on the memory a data set may take, checked before anything is allocated.
//!
//! Sizes often come from outside: the shape in a `.npy` file's header, the `N,DIM,CLUSTERS` of
//! `--generate`. Allocating whatever they say is how a 192-byte file or a typo gets a process
//! killed: `--generate 1000000000000,1,1` asks for 24 TB, and an allocation that large either
//! fails (Rust then aborts, without a word about why) or succeeds lazily and drives the machine
//! into swap. So a size from outside is first multiplied out in wide, saturating arithmetic
//! (a product of two `usize` can overflow a `usize`, never a `u128`) and compared with
//! [`MEMORY_BUDGET`]; only then is anything allocated.
//!
//! The budget is a fixed, generous constant rather than a guess at the machine's free memory:
//! the point is to turn an absurd request into a clear [`Error::OverMemoryBudget`], not to
//! predict exactly what fits. Raise it here to load larger sets.

use crate::error::{Error, Result};

/// The most memory one data set may take: 16 GiB.
pub const MEMORY_BUDGET: u64 = 16 << 30;

/// The bytes `n` vectors of `dimension` values take in memory as `Vec<Vec<f32>>`: the values,
/// and each row's own `Vec` (a pointer, a length and a capacity). Saturates instead of
/// overflowing, which is far above any budget anyway.
pub fn vectors_bytes(n: usize, dimension: usize) -> u128 {
    let row = (dimension as u128) * 4 + std::mem::size_of::<Vec<f32>>() as u128;
    (n as u128).saturating_mul(row)
}

/// Checks that `bytes` fits in [`MEMORY_BUDGET`]; `what` names the request in the error (a flag,
/// a file) and is only built when the check fails.
///
/// # Errors
///
/// [`Error::OverMemoryBudget`] when `bytes` is more than the budget.
pub fn check_budget(what: impl FnOnce() -> String, bytes: u128) -> Result<()> {
    if bytes > u128::from(MEMORY_BUDGET) {
        return Err(Error::OverMemoryBudget {
            what: what(),
            bytes,
            budget: MEMORY_BUDGET,
        });
    }
    Ok(())
}

/// A byte count for people: `512 bytes`, `4.0 KiB`, `21.8 TiB`.
pub fn human_bytes(bytes: u128) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    for unit in UNITS {
        if value < 1024.0 {
            return format!("{value:.1} {unit}");
        }
        value /= 1024.0;
    }
    format!("{:.1e} bytes", bytes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_multiplied_without_overflow() {
        assert_eq!(vectors_bytes(10, 4), 10 * (16 + 24));
        assert_eq!(vectors_bytes(usize::MAX, usize::MAX), u128::MAX);
        assert!(vectors_bytes(1_000_000_000_000, 1) > u128::from(MEMORY_BUDGET));
    }

    #[test]
    fn the_budget_refuses_with_what_and_how_much() {
        assert!(check_budget(|| unreachable!("built only on failure"), 1 << 20).is_ok());
        let err = check_budget(|| "--generate 1000000000000,1,1".into(), 24 << 40).unwrap_err();
        assert!(matches!(err, Error::OverMemoryBudget { bytes, .. } if bytes == 24 << 40));
        let message = err.to_string();
        assert!(
            message.contains("--generate 1000000000000,1,1")
                && message.contains("24.0 TiB")
                && message.contains("16.0 GiB"),
            "{message}"
        );
    }

    #[test]
    fn byte_counts_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(4096), "4.0 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(human_bytes(u128::MAX), "3.4e38 bytes");
    }
}
