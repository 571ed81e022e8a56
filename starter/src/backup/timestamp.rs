//! Timestamps in file names: `20261201T192512.123Z`, UTC to the millisecond.
//!
//! A backup's name says when it was taken, in a form whose alphabetical order is its
//! chronological order: every field has a fixed width, the largest unit comes first, and the
//! time is UTC, so neither a time zone nor a change to summer time can reorder two names. Listing
//! a folder and sorting the names is then enough to find the newest backup, without trusting the
//! files' modification times (which a copy or a restore from an archive changes).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many characters a timestamp has: `YYYYMMDDTHHMMSS.mmmZ`.
pub const TIMESTAMP_LEN: usize = 20;

/// `time` as `YYYYMMDDTHHMMSS.mmmZ`, in UTC. A time before 1970 is written as 1970's first
/// millisecond: the clock of a machine that takes backups is not set that far back.
pub fn format_utc(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let in_day = seconds % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}.{:03}Z",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60,
        since_epoch.subsec_millis()
    )
}

/// Whether `text` has the shape [`format_utc`] writes: digits where digits go, `T`, `.` and
/// `Z` in their places. Only the shape: a name that merely looks like a timestamp is still one
/// of ours, since nobody else writes names of that shape beside our backups.
pub fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == TIMESTAMP_LEN
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 => b == b'T',
            15 => b == b'.',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

/// The calendar date of the `days`-th day after 1970-01-01, in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, for days after the epoch only).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Counted from 0000-03-01, so that the leap day is the last day of a "year".
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis)
    }

    #[test]
    fn known_instants_are_written_in_utc() {
        assert_eq!(format_utc(at(0, 0)), "19700101T000000.000Z");
        // 2000-02-29 (a leap day of a century year divisible by 400) 12:34:56.789.
        assert_eq!(format_utc(at(951_827_696, 789)), "20000229T123456.789Z");
        // 2026-12-01 19:25:12.123.
        assert_eq!(format_utc(at(1_796_153_112, 123)), "20261201T192512.123Z");
        assert_eq!(format_utc(at(4_107_542_399, 999)), "21000228T235959.999Z");
    }

    #[test]
    fn alphabetical_order_is_chronological_order() {
        let instants = [
            0,
            59_999,
            60_000,
            86_399_999,
            951_827_696_789,
            1_796_153_112_123,
        ];
        let names: Vec<String> = instants
            .iter()
            .map(|&ms| format_utc(UNIX_EPOCH + Duration::from_millis(ms)))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn only_the_written_shape_is_a_timestamp() {
        assert!(is_timestamp(&format_utc(SystemTime::now())));
        for not in [
            "",
            "20261201T192512.123",
            "20261201T192512.123Z0",
            "20261201-192512.123Z",
            "2026120xT192512.123Z",
            "20261201T192512,123Z",
        ] {
            assert!(!is_timestamp(not), "{not:?}");
        }
    }
}
