//! The `indexes` table: which indexes a collection has, and what each was built for.
//!
//! An index is derived data: it can always be rebuilt from the collection. What makes it
//! trustworthy is knowing what it was built *for*: the metric its cells or codes were computed
//! with, and the generation of the collection it reflects. A search through an index whose
//! record disagrees with the collection is refused ([`Error::StaleIndex`]), never answered from
//! data that no longer matches.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use crate::distances::Metric;
use crate::engine::IndexKind;
use crate::error::{Error, Result};

// ANCHOR: index_record
/// One row of the `indexes` table.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRecord {
    /// The name a search asks for; the index's tables are named `<name>_...`.
    pub name: String,
    pub kind: IndexKind,
    /// The metric the index's tables were built for.
    pub metric: Metric,
    /// The generation of the collection the index reflects.
    pub built_on: i64,
    /// The settings it was built with (`nlist`, `m`, `seed`, …), as text.
    pub settings: Settings,
}
// ANCHOR_END: index_record

/// An index's settings: `key=value` pairs, stored space-separated (`nlist=16 seed=42`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings(BTreeMap<String, String>);

impl Settings {
    /// Settings from `(key, value)` pairs.
    pub fn from_pairs<K: Into<String>, V: ToString>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Settings(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.to_string()))
                .collect(),
        )
    }

    /// Parses the stored text form.
    ///
    /// # Errors
    ///
    /// [`Error::BadIndexRecord`] naming the index when a pair has no `=`.
    pub fn parse(text: &str, index: &str) -> Result<Self> {
        text.split_whitespace()
            .map(|pair| {
                pair.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| Error::BadIndexRecord {
                        index: index.to_string(),
                        reason: format!("setting {pair:?} is not key=value"),
                    })
            })
            .collect::<Result<BTreeMap<_, _>>>()
            .map(Settings)
    }

    /// The number stored under `key`.
    ///
    /// # Errors
    ///
    /// [`Error::BadIndexRecord`] when it is missing or not a number.
    pub fn number<T: std::str::FromStr>(&self, key: &str, index: &str) -> Result<T> {
        self.0
            .get(key)
            .and_then(|v| v.parse::<T>().ok())
            .ok_or_else(|| Error::BadIndexRecord {
                index: index.to_string(),
                reason: format!("setting {key:?} is missing or not a number"),
            })
    }

    /// The text stored under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The text form, `key=value` pairs in key order.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Checks that `name` can name an index and its tables: a lower-case letter, then up to 31
/// lower-case letters, digits or underscores. `flat` is taken: it means "no index".
///
/// # Errors
///
/// [`Error::InvalidIndexName`] saying what is wrong.
pub fn check_index_name(name: &str) -> Result<()> {
    let bad = |reason: &str| Error::InvalidIndexName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() => {}
        _ => return Err(bad("it must start with a lower-case letter")),
    }
    if name.len() > 32 {
        return Err(bad("it is longer than 32 characters"));
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(bad("use only a-z, 0-9 and _"));
    }
    if name == "flat" {
        return Err(bad(
            "\"flat\" means brute force over the collection, not an index",
        ));
    }
    Ok(())
}

/// Every record, by name.
///
/// # Errors
///
/// [`Error::BadIndexRecord`] for a record with an unknown kind, metric or setting.
pub fn read_all(connection: &Connection) -> Result<Vec<IndexRecord>> {
    let mut statement = connection
        .prepare("SELECT name, kind, metric, built_on, settings FROM indexes ORDER BY name")?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(name, kind, metric, built_on, settings)| {
            let bad = |reason: String| Error::BadIndexRecord {
                index: name.clone(),
                reason,
            };
            check_index_name(&name).map_err(|e| bad(e.to_string()))?;
            Ok(IndexRecord {
                kind: kind.parse().map_err(|e: Error| bad(e.to_string()))?,
                metric: metric.parse().map_err(|e: Error| bad(e.to_string()))?,
                built_on,
                settings: Settings::parse(&settings, &name)?,
                name,
            })
        })
        .collect()
}

/// Writes `record`, replacing the record of the same name.
pub fn write(connection: &Connection, record: &IndexRecord) -> Result<()> {
    connection.execute(
        "INSERT INTO indexes (name, kind, metric, built_on, settings) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, metric = excluded.metric,
             built_on = excluded.built_on, settings = excluded.settings",
        params![
            record.name,
            record.kind.as_str(),
            record.metric.as_str(),
            record.built_on,
            record.settings.to_text()
        ],
    )?;
    Ok(())
}

/// Removes the record of `name`.
pub fn remove(connection: &Connection, name: &str) -> Result<()> {
    connection.execute("DELETE FROM indexes WHERE name = ?1", [name])?;
    Ok(())
}

/// Moves every index that was up to date with generation `from` on to `to`: the write that
/// took the collection from one to the other kept them up to date.
pub fn advance(connection: &Connection, from: i64, to: i64) -> Result<()> {
    connection.execute(
        "UPDATE indexes SET built_on = ?2 WHERE built_on = ?1",
        params![from, to],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_text() {
        let settings = Settings::from_pairs([("nlist", 16), ("seed", 42)]);
        assert_eq!(settings.to_text(), "nlist=16 seed=42");
        let back = Settings::parse("nlist=16 seed=42", "ivf").expect("valid");
        assert_eq!(back, settings);
        assert_eq!(back.number::<usize>("nlist", "ivf").expect("stored"), 16);
        assert!(back.number::<usize>("m", "ivf").is_err());
        assert!(Settings::parse("nlist16", "ivf").is_err());
    }

    #[test]
    fn index_names_are_checked() {
        assert!(check_index_name("ivf").is_ok());
        assert!(check_index_name("ivf_256").is_ok());
        for bad in [
            "",
            "Ivf",
            "1ivf",
            "ivf-2",
            "ivf;drop",
            "flat",
            &"a".repeat(33),
        ] {
            assert!(
                matches!(check_index_name(bad), Err(Error::InvalidIndexName { .. })),
                "{bad:?}"
            );
        }
    }
}
