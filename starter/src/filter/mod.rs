//! Filters: "only red, and under 100 euros", as a value the engine can check and SQLite can run.
//!
//! A filtered search asks for the k nearest vectors *among those whose attributes pass a
//! condition*. The condition arrives as text from the command line (`price < 100 AND color =
//! 'red'`) or is built in code ([`Filter::column`]); either way it becomes a [`Filter`]: a small
//! tree of comparisons joined by `AND`, `OR` and `NOT`. The text is parsed here, by hand
//! ([`parse`]), never pasted into SQL: a filter reaches SQLite as a clause of our own making
//! whose every value is a bound parameter ([`sql`]), so no input can change what the query does.
//!
//! Mistakes are caught before any search, each with its position in the text: a syntax error
//! ([`Error::FilterSyntax`](crate::Error::FilterSyntax)), a column the collection does not have
//! ([`Error::UnknownAttribute`](crate::Error::UnknownAttribute)), a value of the wrong type for
//! its column ([`Error::FilterTypeMismatch`](crate::Error::FilterTypeMismatch)).
//!
//! The grammar, loosest binding first:
//!
//! ```text
//! filter     := or
//! or         := and ("OR" and)*
//! and        := not ("AND" not)*
//! not        := "NOT" not | primary
//! primary    := "(" or ")" | column op value | column ["NOT"] "IN" "(" value ("," value)* ")"
//! op         := "=" | "!=" | "<" | "<=" | ">" | ">="
//! value      := integer | real | 'text' (a quote inside doubled: 'it''s')
//! column     := a letter or _, then letters, digits or _
//! ```
//!
//! Keywords are case-insensitive; column names are as written.

mod ast;
mod lexer;
mod parse;
pub mod sql;

pub use ast::{AttributeType, Comparison, Filter, Value};
pub use parse::parse;
