//! Cutting a filter's text into tokens, each with the position it starts at.

use crate::error::{Error, Result};

/// One token of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A name: a column, or a keyword (`AND`, `OR`, `NOT`, `IN`), told apart by the parser.
    Word(String),
    Integer(i64),
    Real(f64),
    Text(String),
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Operator(&'static str),
    Open,
    Close,
    Comma,
}

/// A token and the 1-based position of its first character in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub token: Token,
    pub at: usize,
}

// ANCHOR: tokens
/// The tokens of `text`, in order.
///
/// # Errors
///
/// [`Error::FilterSyntax`] at the first character that starts no token, an unterminated text
/// or a number out of range.
pub fn tokens(text: &str) -> Result<Vec<Spanned>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        let (token, next) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Token::Open, i + 1),
            ')' => (Token::Close, i + 1),
            ',' => (Token::Comma, i + 1),
            '=' => (Token::Operator("="), i + 1),
            '!' if chars.get(i + 1) == Some(&'=') => (Token::Operator("!="), i + 2),
            '<' if chars.get(i + 1) == Some(&'>') => (Token::Operator("!="), i + 2),
            '<' | '>' if chars.get(i + 1) == Some(&'=') => {
                (Token::Operator(if c == '<' { "<=" } else { ">=" }), i + 2)
            }
            '<' => (Token::Operator("<"), i + 1),
            '>' => (Token::Operator(">"), i + 1),
            '\'' => text_literal(&chars, i)?,
            c if c.is_ascii_digit() || c == '-' || c == '.' => number(&chars, i)?,
            c if c.is_alphabetic() || c == '_' => {
                let end = (i..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                (Token::Word(chars[i..end].iter().collect()), end)
            }
            other => return Err(syntax(at, format!("unexpected character {other:?}"))),
        };
        out.push(Spanned { token, at });
        i = next;
    }
    Ok(out)
}
// ANCHOR_END: tokens

/// A `'...'` literal starting at `start`, a doubled quote standing for one.
fn text_literal(chars: &[char], start: usize) -> Result<(Token, usize)> {
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(syntax(
                    start + 1,
                    "this text is never closed: a ' is missing".to_string(),
                ))
            }
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                value.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((Token::Text(value), i + 1)),
            Some(&c) => {
                value.push(c);
                i += 1;
            }
        }
    }
}

/// An integer or a real starting at `start` (a leading `-` allowed).
fn number(chars: &[char], start: usize) -> Result<(Token, usize)> {
    let end = (start + 1..chars.len())
        .find(|&j| {
            !(chars[j].is_ascii_alphanumeric()
                || chars[j] == '.'
                || chars[j] == '_'
                || ((chars[j] == '-' || chars[j] == '+') && matches!(chars[j - 1], 'e' | 'E')))
        })
        .unwrap_or(chars.len());
    let text: String = chars[start..end].iter().collect();
    if let Ok(integer) = text.parse::<i64>() {
        return Ok((Token::Integer(integer), end));
    }
    match text.parse::<f64>() {
        Ok(real) if real.is_finite() => Ok((Token::Real(real), end)),
        _ => Err(syntax(
            start + 1,
            format!("{text:?} is not a number (or is out of range)"),
        )),
    }
}

pub(super) fn syntax(position: usize, reason: String) -> Error {
    Error::FilterSyntax { position, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_positions() {
        let found = tokens("price <= 9.5 AND name != 'it''s'").expect("valid");
        let summary: Vec<(Token, usize)> = found.into_iter().map(|s| (s.token, s.at)).collect();
        assert_eq!(
            summary,
            [
                (Token::Word("price".into()), 1),
                (Token::Operator("<="), 7),
                (Token::Real(9.5), 10),
                (Token::Word("AND".into()), 14),
                (Token::Word("name".into()), 18),
                (Token::Operator("!="), 23),
                (Token::Text("it's".into()), 26),
            ]
        );
        assert_eq!(
            tokens("n = -3").expect("valid")[2].token,
            Token::Integer(-3)
        );
    }

    #[test]
    fn bad_text_is_refused_at_its_position() {
        for (text, position) in [
            ("a = 'open", 5),
            ("a ; b", 3),
            ("a = 1x", 5),
            ("a = 1e999", 5),
        ] {
            match tokens(text) {
                Err(Error::FilterSyntax { position: p, .. }) => assert_eq!(p, position, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
