//! Attributes: named, typed values beside each vector (a price, a colour, the digit a picture
//! shows), which filters select on.
//!
//! They live in ordinary SQLite columns, so that SQLite evaluates a filter with its own
//! machinery, and an index on each column makes a selective filter a range lookup instead of a
//! scan. Two tables, created by the first batch that brings attributes:
//!
//! - `attribute_columns (position, name, type)`: the schema, in the order of the columns;
//! - `attributes (id, <one column per attribute>)`: one row per vector that has attributes.
//!
//! A vector stored without attributes has no row: every comparison on it is false, as SQL's
//! `NULL` makes it, so no filter selects it.

use rusqlite::{params_from_iter, Connection};

use crate::error::{Error, Result};
use crate::filter::sql::SqlFilter;
use crate::filter::{AttributeType, Value};

/// Attribute columns in order: each name and type.
pub type Schema = Vec<(String, AttributeType)>;

// ANCHOR: attributes
/// The attributes of a batch of vectors: the columns, then one row per vector, in the batch's
/// order (`None` where a vector has no value for a column).
#[derive(Debug, Clone, PartialEq)]
pub struct Attributes {
    pub columns: Schema,
    pub rows: Vec<Vec<Option<Value>>>,
}
// ANCHOR_END: attributes

impl Attributes {
    /// Checks the columns' names and that every row has one value per column, of its type.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAttribute`] naming the column or the row.
    pub fn check(&self) -> Result<()> {
        for (i, (name, _)) in self.columns.iter().enumerate() {
            check_attribute_name(name)?;
            if self.columns[..i].iter().any(|(other, _)| other == name) {
                return Err(invalid(name, "is named twice"));
            }
        }
        for (row, values) in self.rows.iter().enumerate() {
            if values.len() != self.columns.len() {
                return Err(invalid(
                    "",
                    &format!(
                        "row {row} has {} values for {} columns",
                        values.len(),
                        self.columns.len()
                    ),
                ));
            }
            for ((name, kind), value) in self.columns.iter().zip(values) {
                if let Some(value) = value {
                    if !value.fits(*kind)
                        || (*kind == AttributeType::Integer
                            && value.kind() != AttributeType::Integer)
                    {
                        return Err(invalid(
                            name,
                            &format!(
                                "row {row} holds a {} value in a {kind} column",
                                value.kind()
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Checks that `name` can name an attribute column: a lower-case letter or `_`, then up to 63
/// lower-case letters, digits or `_`; `id` is the vector's own.
///
/// # Errors
///
/// [`Error::InvalidAttribute`] saying what is wrong.
pub fn check_attribute_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if !first_ok || name.len() > 64 {
        return Err(invalid(
            name,
            "must start with a-z or _ and be at most 64 characters",
        ));
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(invalid(name, "use only a-z, 0-9 and _"));
    }
    if name == "id" {
        return Err(invalid(name, "is the vector's id, not an attribute"));
    }
    Ok(())
}

fn invalid(name: &str, reason: &str) -> Error {
    Error::InvalidAttribute {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

/// The collection's attribute columns; empty when no vector has attributes yet.
///
/// # Errors
///
/// [`Error::BadData`] for a schema row with an unknown type or a bad name.
pub fn read_schema(connection: &Connection) -> Result<Schema> {
    let exists: bool = connection.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'attribute_columns'",
        [],
        |row| row.get(0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut statement =
        connection.prepare("SELECT name, type FROM attribute_columns ORDER BY position")?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(name, kind)| {
            let bad = |reason: String| Error::BadData {
                path: "table attribute_columns".to_string(),
                reason,
            };
            check_attribute_name(&name).map_err(|e| bad(e.to_string()))?;
            let kind = match kind.as_str() {
                "integer" => AttributeType::Integer,
                "real" => AttributeType::Real,
                "text" => AttributeType::Text,
                other => return Err(bad(format!("column {name} has unknown type {other:?}"))),
            };
            Ok((name, kind))
        })
        .collect()
}

// ANCHOR: store_attributes
/// Stores the attributes of the vectors `ids`, inside the caller's transaction. The first
/// batch with attributes fixes the schema (and creates the tables and an index per column);
/// later batches must bring the same columns.
///
/// # Errors
///
/// [`Error::InvalidAttribute`] for a bad batch; [`Error::AttributeSchemaMismatch`] for
/// columns other than the stored ones; [`Error::IdCountMismatch`].
pub fn store(connection: &Connection, ids: &[i64], attributes: &Attributes) -> Result<()> {
    attributes.check()?;
    if attributes.rows.len() != ids.len() {
        return Err(Error::IdCountMismatch {
            ids: ids.len(),
            vectors: attributes.rows.len(),
        });
    }
    let stored = read_schema(connection)?;
    if stored.is_empty() {
        create_tables(connection, &attributes.columns)?;
    } else if stored != attributes.columns {
        return Err(Error::AttributeSchemaMismatch {
            stored: describe(&stored),
            given: describe(&attributes.columns),
        });
    }
    // The names were checked against the rules of `check_attribute_name`: safe in SQL.
    let names: Vec<String> = attributes
        .columns
        .iter()
        .map(|(n, _)| format!("\"{n}\""))
        .collect();
    let marks = vec!["?"; names.len() + 1].join(", ");
    let mut insert = connection.prepare(&format!(
        "INSERT INTO attributes (id, {}) VALUES ({marks})",
        names.join(", ")
    ))?;
    for (&id, values) in ids.iter().zip(&attributes.rows) {
        let row = std::iter::once(Some(Value::Integer(id))).chain(values.iter().cloned());
        insert
            .execute(params_from_iter(row))
            .map_err(|e| super::rows::duplicate_or_other(e, id))?;
    }
    Ok(())
}
// ANCHOR_END: store_attributes

/// Deletes the attribute rows of `ids`, if the collection has attributes at all.
///
/// # Errors
///
/// An SQLite error.
pub fn delete(connection: &Connection, ids: &[i64]) -> Result<()> {
    if read_schema(connection)?.is_empty() {
        return Ok(());
    }
    let mut statement = connection.prepare_cached("DELETE FROM attributes WHERE id = ?1")?;
    for &id in ids {
        statement.execute([id])?;
    }
    Ok(())
}

/// The attributes of `ids`, in their order (a vector without a row has no value in any
/// column); `None` when the collection has no attributes.
///
/// # Errors
///
/// [`Error::BadData`] for a value of the wrong type in a column; an SQLite error.
pub fn read_rows(connection: &Connection, ids: &[i64]) -> Result<Option<Attributes>> {
    let columns = read_schema(connection)?;
    if columns.is_empty() {
        return Ok(None);
    }
    // The names were checked against the rules of `check_attribute_name`: safe in SQL.
    let names: Vec<String> = columns.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    let mut select = connection.prepare_cached(&format!(
        "SELECT {} FROM attributes WHERE id = ?1",
        names.join(", ")
    ))?;
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        let mut found = select.query([id])?;
        let values = match found.next()? {
            None => vec![None; columns.len()],
            Some(row) => columns
                .iter()
                .enumerate()
                .map(|(i, (name, kind))| value_at(row, i, *kind, name, id))
                .collect::<Result<_>>()?,
        };
        rows.push(values);
    }
    Ok(Some(Attributes { columns, rows }))
}

/// Column `i` of `row`, read as `kind`.
fn value_at(
    row: &rusqlite::Row<'_>,
    i: usize,
    kind: AttributeType,
    name: &str,
    id: i64,
) -> Result<Option<Value>> {
    let value = match kind {
        AttributeType::Integer => row.get::<_, Option<i64>>(i).map(|v| v.map(Value::Integer)),
        AttributeType::Real => row.get::<_, Option<f64>>(i).map(|v| v.map(Value::Real)),
        AttributeType::Text => row.get::<_, Option<String>>(i).map(|v| v.map(Value::Text)),
    };
    value.map_err(|e| Error::BadData {
        path: "table attributes".to_string(),
        reason: format!("id {id}, column {name}: {e}"),
    })
}

fn create_tables(connection: &Connection, columns: &Schema) -> Result<()> {
    connection.execute_batch(
        "CREATE TABLE attribute_columns (
             position INTEGER PRIMARY KEY,
             name     TEXT NOT NULL UNIQUE,
             type     TEXT NOT NULL CHECK (type IN ('integer', 'real', 'text'))
         );",
    )?;
    let definitions: Vec<String> = columns
        .iter()
        .map(|(name, kind)| format!("\"{name}\" {}", kind.as_str().to_uppercase()))
        .collect();
    connection.execute_batch(&format!(
        "CREATE TABLE attributes (id INTEGER PRIMARY KEY, {});",
        definitions.join(", ")
    ))?;
    for (position, (name, kind)) in columns.iter().enumerate() {
        connection.execute(
            "INSERT INTO attribute_columns (position, name, type) VALUES (?1, ?2, ?3)",
            rusqlite::params![position as i64, name, kind.as_str()],
        )?;
        connection.execute_batch(&format!(
            "CREATE INDEX attributes_by_{name} ON attributes (\"{name}\");"
        ))?;
    }
    Ok(())
}

fn describe(schema: &Schema) -> String {
    schema
        .iter()
        .map(|(n, k)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ANCHOR: matching_ids
/// The ids of the vectors whose attributes pass `filter`, in id order.
///
/// # Errors
///
/// A storage error.
pub fn matching_ids(connection: &Connection, filter: &SqlFilter) -> Result<Vec<i64>> {
    let mut statement = connection.prepare(&format!(
        "SELECT id FROM attributes WHERE {} ORDER BY id",
        filter.clause
    ))?;
    let ids = statement
        .query_map(params_from_iter(&filter.params), |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}
// ANCHOR_END: matching_ids

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Attributes {
        Attributes {
            columns: vec![
                ("price".into(), AttributeType::Real),
                ("color".into(), AttributeType::Text),
            ],
            rows: vec![
                vec![Some(Value::Real(50.0)), Some(Value::from("red"))],
                vec![Some(Value::Integer(150)), None],
            ],
        }
    }

    #[test]
    fn the_first_batch_fixes_the_schema_and_others_must_match() {
        let connection = Connection::open_in_memory().expect("memory");
        assert!(read_schema(&connection).expect("readable").is_empty());
        store(&connection, &[1, 2], &batch()).expect("stored");
        assert_eq!(read_schema(&connection).expect("readable"), batch().columns);
        let other = Attributes {
            columns: vec![("size".into(), AttributeType::Integer)],
            rows: vec![vec![None]],
        };
        assert!(matches!(
            store(&connection, &[3], &other),
            Err(Error::AttributeSchemaMismatch { .. })
        ));
        assert!(matches!(
            store(
                &connection,
                &[1],
                &Attributes {
                    rows: vec![batch().rows[0].clone()],
                    ..batch()
                }
            ),
            Err(Error::DuplicateId(1))
        ));
        let cheap = crate::filter::sql::to_sql(
            &crate::filter::parse("price < 100").expect("valid"),
            &read_schema(&connection).expect("readable"),
        )
        .expect("checked");
        assert_eq!(matching_ids(&connection, &cheap).expect("runs"), [1]);
    }

    #[test]
    fn bad_batches_are_refused() {
        for name in ["Price", "1a", "id", "a-b", ""] {
            let bad = Attributes {
                columns: vec![(name.into(), AttributeType::Text)],
                rows: vec![],
            };
            assert!(
                matches!(bad.check(), Err(Error::InvalidAttribute { .. })),
                "{name:?}"
            );
        }
        let wrong_type = Attributes {
            rows: vec![vec![Some(Value::from("cheap")), None]],
            ..batch()
        };
        assert!(wrong_type.check().is_err());
        let short = Attributes {
            rows: vec![vec![None]],
            ..batch()
        };
        assert!(short.check().is_err());
    }
}
