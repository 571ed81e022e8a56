//! Reading vectors' attributes from a CSV file: a header row of column names, then one row per
//! vector, in the order of the vectors.
//!
//! Each column's type is read off its values: integer when every value is one, real when every
//! value is a number, text otherwise. An empty cell is no value. Parsing is the `csv` crate's;
//! what the columns mean, and every check on them, is ours.

use std::path::Path;

use crate::datasets::regular_file;
use crate::error::{Error, Result};
use crate::filter::{AttributeType, Value};
use crate::sqlite_store::attributes::{check_attribute_name, Attributes};

// ANCHOR: load_attributes
/// The attributes in the CSV file at `path`.
///
/// # Errors
///
/// [`Error::BadData`] naming the file, and the line and column where it matters: no header, a
/// bad column name, a row of another length than the header.
pub fn load_attributes(path: &Path) -> Result<Attributes> {
    let bad = |reason: String| Error::BadData {
        path: path.display().to_string(),
        reason,
    };
    let (file, _) = regular_file::open(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| bad(format!("the header row: {e}")))?
        .iter()
        .map(|name| name.trim().to_string())
        .collect();
    if names.is_empty() || names.iter().all(String::is_empty) {
        return Err(bad("no header row naming the columns".to_string()));
    }
    for (i, name) in names.iter().enumerate() {
        check_attribute_name(name).map_err(|e| bad(format!("header: {e}")))?;
        if names[..i].contains(name) {
            return Err(bad(format!("header: column {name:?} is named twice")));
        }
    }
    let mut cells: Vec<Vec<String>> = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("line {}: {e}", row + 2)))?;
        if record.len() != names.len() {
            return Err(bad(format!(
                "line {} has {} cells for {} columns",
                row + 2,
                record.len(),
                names.len()
            )));
        }
        cells.push(record.iter().map(|c| c.trim().to_string()).collect());
    }
    let columns: Vec<(String, AttributeType)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                name.clone(),
                column_type(cells.iter().map(|row| row[i].as_str())),
            )
        })
        .collect();
    let rows = cells
        .iter()
        .map(|row| {
            row.iter()
                .zip(&columns)
                .map(|(cell, (_, kind))| value_of(cell, *kind))
                .collect()
        })
        .collect();
    Ok(Attributes { columns, rows })
}
// ANCHOR_END: load_attributes

/// The narrowest type every non-empty cell of a column fits.
fn column_type<'a>(cells: impl Iterator<Item = &'a str> + Clone) -> AttributeType {
    let filled = cells.filter(|c| !c.is_empty());
    if filled.clone().all(|c| c.parse::<i64>().is_ok()) {
        AttributeType::Integer
    } else if filled
        .clone()
        .all(|c| c.parse::<f64>().is_ok_and(f64::is_finite))
    {
        AttributeType::Real
    } else {
        AttributeType::Text
    }
}

/// A cell as a value of its column's type (`None` when empty).
fn value_of(cell: &str, kind: AttributeType) -> Option<Value> {
    if cell.is_empty() {
        return None;
    }
    Some(match kind {
        AttributeType::Integer => Value::Integer(cell.parse().ok()?),
        AttributeType::Real => Value::Real(cell.parse().ok()?),
        AttributeType::Text => Value::Text(cell.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Attributes> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.csv");
        std::fs::write(&path, text).expect("written");
        load_attributes(&path)
    }

    #[test]
    fn types_are_read_off_the_values() {
        let attributes =
            load("digit,price,color\n3,9.5,red\n7,10,\n,1e3,\"blue, dark\"\n").expect("valid");
        assert_eq!(
            attributes.columns,
            [
                ("digit".to_string(), AttributeType::Integer),
                ("price".to_string(), AttributeType::Real),
                ("color".to_string(), AttributeType::Text)
            ]
        );
        assert_eq!(
            attributes.rows[1],
            [Some(Value::Integer(7)), Some(Value::Real(10.0)), None]
        );
        assert_eq!(attributes.rows[2][2], Some(Value::from("blue, dark")));
        assert_eq!(attributes.rows[2][0], None);
    }

    #[test]
    fn bad_files_are_refused_naming_the_line() {
        for (text, needle) in [
            ("", "header"),
            ("Price\n1\n", "header"),
            ("a,b\n1,2\n3\n", "line 3"),
            ("a,a\n1,2\n", "header"),
        ] {
            match load(text) {
                Err(Error::BadData { reason, .. }) => {
                    assert!(reason.contains(needle), "{text:?}: {reason}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
