//! A filter as an SQL condition with bound parameters, checked against the attribute columns.
//!
//! The clause is built from the filter's tree: each comparison becomes `"column" op ?`, each
//! value a parameter bound by SQLite. Column names come from the collection's own schema, never
//! from the filter's text (a name the schema lacks is refused before any SQL exists), and are
//! quoted all the same.

use rusqlite::types::{ToSql, ToSqlOutput};

use super::ast::{AttributeType, Filter, Value};
use crate::error::{Error, Result};

/// A `WHERE` condition and the values it binds, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFilter {
    pub clause: String,
    pub params: Vec<Value>,
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Integer(i) => ToSqlOutput::from(*i),
            Value::Real(r) => ToSqlOutput::from(*r),
            Value::Text(t) => ToSqlOutput::from(t.as_str()),
        })
    }
}

// ANCHOR: to_sql
/// `filter` as an SQL condition over the columns of `schema` (name and type of each).
///
/// # Errors
///
/// [`Error::UnknownAttribute`] for a column the schema lacks; [`Error::FilterTypeMismatch`]
/// for a value that cannot be compared with its column (text with a number, or a number with
/// text). Both give the position of the comparison in the filter's text.
pub fn to_sql(filter: &Filter, schema: &[(String, AttributeType)]) -> Result<SqlFilter> {
    let mut params = Vec::new();
    let clause = clause(filter, schema, &mut params)?;
    Ok(SqlFilter { clause, params })
}

fn clause(
    filter: &Filter,
    schema: &[(String, AttributeType)],
    params: &mut Vec<Value>,
) -> Result<String> {
    Ok(match filter {
        Filter::Compare {
            column,
            op,
            value,
            at,
        } => {
            let name = checked_column(column, std::slice::from_ref(value), *at, schema)?;
            params.push(value.clone());
            format!("\"{name}\" {} ?", op.as_sql())
        }
        Filter::In {
            column,
            values,
            negated,
            at,
        } => {
            let name = checked_column(column, values, *at, schema)?;
            params.extend(values.iter().cloned());
            let marks = vec!["?"; values.len()].join(", ");
            let not = if *negated { "NOT " } else { "" };
            format!("\"{name}\" {not}IN ({marks})")
        }
        Filter::And(a, b) => format!(
            "({} AND {})",
            clause(a, schema, params)?,
            clause(b, schema, params)?
        ),
        Filter::Or(a, b) => format!(
            "({} OR {})",
            clause(a, schema, params)?,
            clause(b, schema, params)?
        ),
        Filter::Not(a) => format!("(NOT {})", clause(a, schema, params)?),
    })
}
// ANCHOR_END: to_sql

/// The schema's name for `column`, once every value fits its type.
fn checked_column<'s>(
    column: &str,
    values: &[Value],
    at: usize,
    schema: &'s [(String, AttributeType)],
) -> Result<&'s str> {
    let (name, kind) = schema
        .iter()
        .find(|(name, _)| name == column)
        .ok_or_else(|| Error::UnknownAttribute {
            name: column.to_string(),
            position: at,
            available: schema.iter().map(|(n, _)| n.clone()).collect(),
        })?;
    if let Some(bad) = values.iter().find(|v| !v.fits(*kind)) {
        return Err(Error::FilterTypeMismatch {
            column: column.to_string(),
            expected: *kind,
            found: bad.kind(),
            position: at,
        });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;
    use rusqlite::Connection;

    fn schema() -> Vec<(String, AttributeType)> {
        vec![
            ("price".into(), AttributeType::Real),
            ("stock".into(), AttributeType::Integer),
            ("color".into(), AttributeType::Text),
        ]
    }

    /// The ids of a small table that pass `text`, evaluated by SQLite.
    fn matching(text: &str) -> Vec<i64> {
        let connection = Connection::open_in_memory().expect("memory");
        connection
            .execute_batch(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, price REAL, stock INTEGER, color TEXT);
                 INSERT INTO t VALUES (1, 50.0, 3, 'red'), (2, 150.0, 0, 'red'),
                                      (3, 80.0, 7, 'blue'), (4, 99.5, 1, 'it''s');",
            )
            .expect("table");
        let filter = to_sql(&parse(text).expect("valid"), &schema()).expect("checked");
        let sql = format!("SELECT id FROM t WHERE {} ORDER BY id", filter.clause);
        let mut statement = connection.prepare(&sql).expect("valid SQL");
        let ids = statement
            .query_map(rusqlite::params_from_iter(&filter.params), |row| row.get(0))
            .expect("runs");
        ids.collect::<rusqlite::Result<Vec<i64>>>().expect("ids")
    }

    #[test]
    fn filters_select_what_they_say() {
        assert_eq!(matching("price < 100 AND color = 'red'"), [1]);
        assert_eq!(
            matching("color IN ('blue', 'it''s') OR stock = 0"),
            [2, 3, 4]
        );
        assert_eq!(matching("NOT (price >= 80) "), [1]);
        assert_eq!(matching("stock NOT IN (0, 1) AND price != 50"), [3]);
        assert_eq!(
            matching("stock < 2.5"),
            [2, 4],
            "an integer column against a real"
        );
    }

    #[test]
    fn values_are_bound_never_pasted() {
        let sql = to_sql(&parse("color = 'x'' OR 1=1 --'").expect("valid"), &schema()).expect("ok");
        assert_eq!(sql.clause, "\"color\" = ?");
        assert_eq!(sql.params, [Value::from("x' OR 1=1 --")]);
        assert!(matching("color = 'red'' OR 1=1 --'").is_empty());
    }

    #[test]
    fn unknown_columns_and_type_mismatches_point_at_the_comparison() {
        let parsed = parse("price < 100 AND size = 3").expect("valid");
        match to_sql(&parsed, &schema()) {
            Err(Error::UnknownAttribute {
                name,
                position,
                available,
            }) => {
                assert_eq!((name.as_str(), position), ("size", 17));
                assert_eq!(available, ["price", "stock", "color"]);
            }
            other => panic!("{other:?}"),
        }
        let parsed = parse("stock = 1 OR color IN ('red', 3)").expect("valid");
        assert!(matches!(
            to_sql(&parsed, &schema()),
            Err(Error::FilterTypeMismatch {
                position: 14,
                expected: AttributeType::Text,
                found: AttributeType::Integer,
                ..
            })
        ));
        let built = Filter::column("price").lt("cheap");
        assert!(matches!(
            to_sql(&built, &schema()),
            Err(Error::FilterTypeMismatch { .. })
        ));
    }
}
