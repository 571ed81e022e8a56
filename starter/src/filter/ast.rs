//! What a filter is once parsed: values, comparisons, and the tree that joins them.

use std::fmt;

/// The type of an attribute column, as SQLite stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    Integer,
    Real,
    Text,
}

impl AttributeType {
    /// The name used in errors and in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::Integer => "integer",
            AttributeType::Real => "real",
            AttributeType::Text => "text",
        }
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A literal of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Value {
    /// The type of the literal itself.
    pub fn kind(&self) -> AttributeType {
        match self {
            Value::Integer(_) => AttributeType::Integer,
            Value::Real(_) => AttributeType::Real,
            Value::Text(_) => AttributeType::Text,
        }
    }

    /// `true` when a column of `column` type can be compared with this value: a number with a
    /// number (an integer column with a real bound is fine, `age < 30.5`), text with text.
    pub fn fits(&self, column: AttributeType) -> bool {
        matches!(
            (self.kind(), column),
            (AttributeType::Text, AttributeType::Text)
                | (
                    AttributeType::Integer | AttributeType::Real,
                    AttributeType::Integer | AttributeType::Real
                )
        )
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Integer(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Real(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_string())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    /// The operator as SQL writes it.
    pub fn as_sql(self) -> &'static str {
        match self {
            Comparison::Equal => "=",
            Comparison::NotEqual => "!=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }
}

// ANCHOR: filter
/// A condition on a vector's attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `column op value`; `at` is where the column's name starts in the text (0 when built in
    /// code), for errors.
    Compare {
        column: String,
        op: Comparison,
        value: Value,
        at: usize,
    },
    /// `column IN (values)`, or `NOT IN` when `negated`.
    In {
        column: String,
        values: Vec<Value>,
        negated: bool,
        at: usize,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}
// ANCHOR_END: filter

/// The first half of a comparison built in code: `Filter::column("price").lt(100)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef(String);

impl Filter {
    /// Starts a comparison on `name`.
    pub fn column(name: &str) -> ColumnRef {
        ColumnRef(name.to_string())
    }

    /// Both this and `other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter::And(Box::new(self), Box::new(other))
    }

    /// This or `other`.
    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }

    /// Not this.
    #[allow(clippy::should_implement_trait)] // `!filter` would read as a bool
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}

impl ColumnRef {
    fn compare(self, op: Comparison, value: impl Into<Value>) -> Filter {
        Filter::Compare {
            column: self.0,
            op,
            value: value.into(),
            at: 0,
        }
    }

    pub fn eq(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Equal, value)
    }

    pub fn ne(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::NotEqual, value)
    }

    pub fn lt(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Less, value)
    }

    pub fn le(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::LessOrEqual, value)
    }

    pub fn gt(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Greater, value)
    }

    pub fn ge(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::GreaterOrEqual, value)
    }

    /// `column IN (values)`.
    pub fn one_of<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Filter {
        Filter::In {
            column: self.0,
            values: values.into_iter().map(Into::into).collect(),
            negated: false,
            at: 0,
        }
    }
}
