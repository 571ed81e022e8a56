//! Parsing a filter's tokens into a [`Filter`], by recursive descent: one function per rule of
//! the grammar (see the module above), each calling the rule that binds tighter.

use super::ast::{Comparison, Filter, Value};
use super::lexer::{syntax, tokens, Spanned, Token};
use crate::error::Result;

// ANCHOR: parse
/// The filter written in `text`.
///
/// # Errors
///
/// [`Error::FilterSyntax`](crate::Error::FilterSyntax) with the 1-based position of the first
/// token that does not fit the grammar (or of the end of the text).
pub fn parse(text: &str) -> Result<Filter> {
    let tokens = tokens(text)?;
    let end = text.chars().count() + 1;
    let mut parser = Parser {
        tokens: &tokens,
        next: 0,
        end,
    };
    let filter = parser.or()?;
    match parser.peek() {
        None => Ok(filter),
        Some(extra) => Err(syntax(
            extra.at,
            "expected AND, OR or the end of the filter".to_string(),
        )),
    }
}
// ANCHOR_END: parse

struct Parser<'t> {
    tokens: &'t [Spanned],
    next: usize,
    /// The position just past the text, for "expected ... at the end".
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.next)
    }

    fn position(&self) -> usize {
        self.peek().map_or(self.end, |t| t.at)
    }

    fn advance(&mut self) -> Option<&Spanned> {
        let token = self.tokens.get(self.next);
        self.next += 1;
        token
    }

    /// `true`, consuming it, when the next token is the keyword `word` (in any case).
    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Spanned { token: Token::Word(w), .. }) if w.eq_ignore_ascii_case(word));
        if found {
            self.next += 1;
        }
        found
    }

    fn expect(&mut self, wanted: &Token, what: &str) -> Result<()> {
        let at = self.position();
        match self.advance() {
            Some(s) if &s.token == wanted => Ok(()),
            _ => Err(syntax(at, format!("expected {what}"))),
        }
    }

    // ANCHOR: rules
    fn or(&mut self) -> Result<Filter> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = left.or(self.and()?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            left = left.and(self.not()?);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Filter> {
        if self.keyword("NOT") {
            return Ok(self.not()?.not());
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Filter> {
        let at = self.position();
        match self.advance().map(|s| s.token.clone()) {
            Some(Token::Open) => {
                let inner = self.or()?;
                self.expect(&Token::Close, "a closing parenthesis")?;
                Ok(inner)
            }
            Some(Token::Word(column)) if !is_keyword(&column) => self.condition(column, at),
            _ => Err(syntax(
                at,
                "expected a column name, NOT or a parenthesis".to_string(),
            )),
        }
    }
    // ANCHOR_END: rules

    /// What follows a column: an operator and a value, or `[NOT] IN (values)`.
    fn condition(&mut self, column: String, at: usize) -> Result<Filter> {
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            self.expect(&Token::Open, "( after IN")?;
            let mut values = vec![self.value()?];
            while self.peek().map(|s| &s.token) == Some(&Token::Comma) {
                self.next += 1;
                values.push(self.value()?);
            }
            self.expect(&Token::Close, "a comma or a closing parenthesis")?;
            return Ok(Filter::In {
                column,
                values,
                negated,
                at,
            });
        }
        if negated {
            return Err(syntax(self.position(), "expected IN after NOT".to_string()));
        }
        let op_at = self.position();
        let op = match self.advance().map(|s| &s.token) {
            Some(Token::Operator(op)) => comparison(op),
            _ => None,
        }
        .ok_or_else(|| {
            syntax(
                op_at,
                "expected a comparison (=, !=, <, <=, >, >=) or IN".to_string(),
            )
        })?;
        Ok(Filter::Compare {
            column,
            op,
            value: self.value()?,
            at,
        })
    }

    fn value(&mut self) -> Result<Value> {
        let at = self.position();
        match self.advance().map(|s| s.token.clone()) {
            Some(Token::Integer(i)) => Ok(Value::Integer(i)),
            Some(Token::Real(r)) => Ok(Value::Real(r)),
            Some(Token::Text(t)) => Ok(Value::Text(t)),
            _ => Err(syntax(
                at,
                "expected a value: a number or 'text'".to_string(),
            )),
        }
    }
}

fn comparison(op: &str) -> Option<Comparison> {
    Some(match op {
        "=" => Comparison::Equal,
        "!=" => Comparison::NotEqual,
        "<" => Comparison::Less,
        "<=" => Comparison::LessOrEqual,
        ">" => Comparison::Greater,
        ">=" => Comparison::GreaterOrEqual,
        _ => return None,
    })
}

fn is_keyword(word: &str) -> bool {
    ["AND", "OR", "NOT", "IN"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_override() {
        let parsed = parse("a = 1 OR b = 2 AND NOT c IN (3, 4.5, 'x')").expect("valid");
        let expected = Filter::column("a").eq(1).or(Filter::column("b").eq(2).and(
            Filter::column("c")
                .one_of([Value::Integer(3), Value::Real(4.5), Value::from("x")])
                .not(),
        ));
        assert_eq!(strip(parsed), expected);
        let grouped = parse("(a = 1 or b = 2) and c not in (3)").expect("valid");
        let expected = Filter::column("a")
            .eq(1)
            .or(Filter::column("b").eq(2))
            .and(Filter::In {
                column: "c".into(),
                values: vec![Value::Integer(3)],
                negated: true,
                at: 0,
            });
        assert_eq!(strip(grouped), expected);
    }

    #[test]
    fn syntax_errors_point_at_the_token() {
        for (text, position) in [
            ("", 1),
            ("price <", 8),
            ("price < 100 AND", 16),
            ("(a = 1", 7),
            ("a = 1 b = 2", 7),
            ("a == 1", 4),
            ("AND a = 1", 1),
            ("a NOT = 1", 7),
            ("a IN ()", 7),
            ("a = b", 5),
        ] {
            match parse(text) {
                Err(Error::FilterSyntax { position: p, .. }) => assert_eq!(p, position, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    /// The filter with every position set to 0, as the builder makes it.
    fn strip(filter: Filter) -> Filter {
        match filter {
            Filter::Compare {
                column, op, value, ..
            } => Filter::Compare {
                column,
                op,
                value,
                at: 0,
            },
            Filter::In {
                column,
                values,
                negated,
                ..
            } => Filter::In {
                column,
                values,
                negated,
                at: 0,
            },
            Filter::And(a, b) => strip(*a).and(strip(*b)),
            Filter::Or(a, b) => strip(*a).or(strip(*b)),
            Filter::Not(a) => strip(*a).not(),
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::filter::sql::to_sql;
    use crate::filter::AttributeType;
    use proptest::prelude::*;

    proptest! {
        /// Any text at all: a filter or a syntax error, never a panic; and a parsed filter
        /// always becomes SQL or a typed error.
        #[test]
        fn any_text_parses_or_is_refused(text in "[a-c0-9 '()=!<>,.\\-ANDORTIN]{0,40}") {
            if let Ok(filter) = parse(&text) {
                let schema = [("a".to_string(), AttributeType::Integer), ("b".to_string(), AttributeType::Text)];
                let _ = to_sql(&filter, &schema);
            }
        }
    }
}
