//! The header of a NumPy `.npy` file: read it, and write it the way NumPy does.
//!
//! A `.npy` file starts with a short preamble and a text header, then the raw values:
//!
//! ```text
//! \x93NUMPY            6 bytes of magic
//! 1 0                  the format version, major and minor (1.0, 2.0 or 3.0)
//! HL                   the header's length: 2 bytes (version 1) or 4 (versions 2 and 3), little-endian
//! {'descr': '<f4', 'fortran_order': False, 'shape': (1797, 64), }    …spaces…\n
//! the values           shape[0] × shape[1] × … values of the type in `descr`
//! ```
//!
//! The header is a Python dictionary literal with three keys: `descr`, the element type (`<f4` is
//! a little-endian 4-byte float, `>i8` a big-endian 8-byte integer); `fortran_order`, whether the
//! values are stored column by column instead of row by row; and `shape`, a tuple of sizes.
//! NumPy pads it with spaces so that the values start at a multiple of 64 bytes.
//!
//! Everything in it comes from the file, so nothing in it is trusted: [`parse`] is a small
//! hand-written parser for exactly that literal (strings, `True`/`False`, tuples of
//! non-negative whole numbers) that refuses anything else with a sentence saying what and where,
//! and that never allocates more than the header's own length. Reading the header does not read
//! the values, so a caller can check the shape against the file's real length *before* it
//! allocates anything for them; the shape of a 192-byte file can claim 10^15 values.
//!
//! [`encode`] writes the header NumPy's own `np.save` writes, byte for byte.

/// The magic string every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header read. NumPy's own reader refuses longer ones by default (its
/// `max_header_size` is 10,000 bytes): a real header, even padded, is about 128.
pub const MAX_HEADER_LEN: usize = 10_000;

/// The most bytes [`parse`] needs from the start of a file: the longest preamble (magic,
/// version, a 4-byte length) and the longest header.
pub const MAX_PREFIX_LEN: usize = MAGIC.len() + 2 + 4 + MAX_HEADER_LEN;

/// Values start at a multiple of this many bytes (NumPy's `ARRAY_ALIGN`).
const ALIGNMENT: usize = 64;

/// NumPy leaves room after the header for the first size to grow to this many digits, so the
/// header can be rewritten in place when an array grows (its `GROWTH_AXIS_MAX_DIGITS`).
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// What the header of a `.npy` file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The element type, such as `<f4`.
    pub descr: String,
    /// `true` when the values are stored column by column (Fortran order).
    pub fortran_order: bool,
    /// The size of each dimension.
    pub shape: Vec<usize>,
    /// Where the values start: the length of the preamble and the header.
    pub data_offset: usize,
}

/// Parses the preamble and header at the start of a `.npy` file.
///
/// `prefix` is the start of the file: the whole file, or its first [`MAX_PREFIX_LEN`] bytes.
///
/// # Errors
///
/// A sentence saying what is wrong: not a `.npy` file, a version other than 1.0, 2.0 or 3.0, a
/// header longer than [`MAX_HEADER_LEN`] or than the file, or a header that is not the
/// dictionary described in the module documentation.
pub fn parse(prefix: &[u8]) -> Result<NpyHeader, String> {
    let Some(rest) = prefix.strip_prefix(MAGIC) else {
        return Err("it does not start with the .npy magic string \\x93NUMPY".to_string());
    };
    let (length_bytes, rest) = match rest {
        [1, 0, rest @ ..] => (2, rest),
        [2 | 3, 0, rest @ ..] => (4, rest),
        [major, minor, ..] => {
            return Err(format!(
                "format version {major}.{minor} is not one of 1.0, 2.0 and 3.0"
            ))
        }
        _ => return Err("the file ends inside its preamble".to_string()),
    };
    if rest.len() < length_bytes {
        return Err("the file ends inside its preamble".to_string());
    }
    let (length, rest) = rest.split_at(length_bytes);
    let header_len = length
        .iter()
        .rev()
        .fold(0usize, |total, &byte| (total << 8) | usize::from(byte));
    if header_len > MAX_HEADER_LEN {
        return Err(format!(
            "the header claims {header_len} bytes, more than the {MAX_HEADER_LEN} NumPy reads"
        ));
    }
    let Some(text) = rest.get(..header_len) else {
        return Err(format!(
            "the file ends inside its header: the header claims {header_len} bytes, {} follow",
            rest.len()
        ));
    };
    let data_offset = MAGIC.len() + 2 + length_bytes + header_len;
    let header = Parser { text, at: 0 }
        .header()
        .map_err(|reason| format!("bad header: {reason}"))?;
    Ok(NpyHeader {
        data_offset,
        ..header
    })
}

/// The preamble and header NumPy writes for a C-order array of `descr` values of `shape`.
///
/// Like `np.save`: keys in sorted order, `repr`-style values, room for the first size to grow,
/// then spaces and a newline up to a multiple of 64 bytes; version 1.0 unless the header is too
/// long for its 2-byte length.
pub fn encode(descr: &str, shape: &[usize]) -> Vec<u8> {
    let sizes: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match sizes.as_slice() {
        [one] => format!("({one},)"), // Python's one-element tuple
        _ => format!("({})", sizes.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    if let Some(first) = sizes.first() {
        header.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(first.len())));
    }
    let (version, length_bytes) = if header.len() + ALIGNMENT < usize::from(u16::MAX) {
        (1u8, 2)
    } else {
        (2u8, 4)
    };
    let preamble = MAGIC.len() + 2 + length_bytes;
    let unpadded = preamble + header.len() + 1; // the final newline
    let padding = ALIGNMENT - unpadded % ALIGNMENT; // NumPy pads a full 64 when already aligned
    let header_len = header.len() + padding + 1;

    let mut bytes = Vec::with_capacity(preamble + header_len);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[version, 0]);
    bytes.extend_from_slice(&header_len.to_le_bytes()[..length_bytes]);
    bytes.extend_from_slice(header.as_bytes());
    bytes.resize(bytes.len() + padding, b' ');
    bytes.push(b'\n');
    bytes
}

/// A value of the header's dictionary.
enum Value {
    Text(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// A cursor over the header's text, one method per piece of the grammar.
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    /// `{ 'key': value, … }`, then only spaces (NumPy's padding) and the final newline.
    fn header(mut self) -> Result<NpyHeader, String> {
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        self.expect(b'{')?;
        while self.peek() != Some(b'}') {
            let key = self.string()?;
            if !matches!(key.as_str(), "descr" | "fortran_order" | "shape") {
                return Err(format!("unexpected key '{key}'"));
            }
            self.expect(b':')?;
            let seen_before = match (key.as_str(), self.value()?) {
                ("descr", Value::Text(t)) => descr.replace(t).is_some(),
                ("fortran_order", Value::Bool(b)) => fortran_order.replace(b).is_some(),
                ("shape", Value::Tuple(s)) => shape.replace(s).is_some(),
                _ => return Err(format!("'{key}' has a value of the wrong kind")),
            };
            if seen_before {
                return Err(format!("'{key}' appears twice"));
            }
            // Entries are separated by commas; one more after the last is allowed (NumPy
            // writes it).
            if self.peek() == Some(b',') {
                self.at += 1;
            } else if self.peek() != Some(b'}') {
                return Err(self.unexpected("',' or '}'"));
            }
        }
        self.expect(b'}')?;
        if self.peek().is_some() {
            return Err(self.unexpected("only spaces after the '}'"));
        }
        let missing = |key: &str| format!("the key '{key}' is missing");
        Ok(NpyHeader {
            descr: descr.ok_or_else(|| missing("descr"))?,
            fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
            shape: shape.ok_or_else(|| missing("shape"))?,
            data_offset: 0,
        })
    }

    /// A string, a boolean or a tuple.
    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'\'' | b'"') => self.string().map(Value::Text),
            Some(b'(') => self.tuple().map(Value::Tuple),
            Some(b) if b.is_ascii_alphabetic() => {
                let word = self.word();
                match word {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    _ => Err(format!("unexpected word '{word}'")),
                }
            }
            _ => Err(self.unexpected("a string, True, False or a tuple")),
        }
    }

    /// `'text'` or `"text"`, printable ASCII without escapes (every valid key and `descr`).
    fn string(&mut self) -> Result<String, String> {
        let Some(quote @ (b'\'' | b'"')) = self.peek() else {
            return Err(self.unexpected("a quoted string"));
        };
        let start = self.at + 1;
        let Some(length) = self.text[start..].iter().position(|&b| b == quote) else {
            return Err("a string is not closed".to_string());
        };
        let content = &self.text[start..start + length];
        if let Some(&bad) = content
            .iter()
            .find(|b| !(b' '..=b'~').contains(*b) || **b == b'\\')
        {
            return Err(format!("a string holds the byte 0x{bad:02x}"));
        }
        self.at = start + length + 1;
        self.skip_spaces();
        Ok(content.iter().map(|&b| char::from(b)).collect())
    }

    /// `(a, b, …)` of whole numbers: `()`, `(5,)` and, leniently, `(5)`.
    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut sizes = Vec::new();
        while self.peek() != Some(b')') {
            sizes.push(self.size()?);
            if self.peek() == Some(b',') {
                self.at += 1;
                self.skip_spaces();
            } else if self.peek() != Some(b')') {
                return Err(self.unexpected("',' or ')' in the shape"));
            }
        }
        self.expect(b')')?;
        Ok(sizes)
    }

    /// A non-negative whole number (with the `L` of Python 2's long integers, which old files
    /// have).
    fn size(&mut self) -> Result<usize, String> {
        if self.peek() == Some(b'-') {
            return Err("the shape holds a negative size".to_string());
        }
        let word = self.word();
        if word.is_empty() {
            return Err(self.unexpected("a size in the shape"));
        }
        let digits = word.strip_suffix('L').unwrap_or(word);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{word}' in the shape is not a whole number"));
        }
        digits
            .parse()
            .map_err(|_| format!("the size {digits} in the shape is too large"))
    }

    /// The run of letters and digits at the cursor.
    fn word(&mut self) -> &'a str {
        let (text, start) = (self.text, self.at);
        while self.peek_raw().is_some_and(|b| b.is_ascii_alphanumeric()) {
            self.at += 1;
        }
        // Letters and digits only, so always UTF-8.
        let word = std::str::from_utf8(&text[start..self.at]).unwrap_or_default();
        self.skip_spaces();
        word
    }

    /// Consumes `byte` (and the spaces after it).
    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_spaces();
        if self.peek_raw() != Some(byte) {
            return Err(self.unexpected(&format!("'{}'", char::from(byte))));
        }
        self.at += 1;
        self.skip_spaces();
        Ok(())
    }

    /// The next byte that is not white space.
    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.peek_raw()
    }

    fn peek_raw(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek_raw().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    /// "expected …, found … at byte N".
    fn unexpected(&self, expected: &str) -> String {
        match self.peek_raw() {
            Some(byte) if (b' '..=b'~').contains(&byte) => format!(
                "expected {expected}, found '{}' at byte {} of the header",
                char::from(byte),
                self.at
            ),
            Some(byte) => format!(
                "expected {expected}, found the byte 0x{byte:02x} at byte {} of the header",
                self.at
            ),
            None => format!("expected {expected}, but the header ends"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 1.0 preamble and `header`, as a file would hold them.
    fn file_with(header: &str) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes
    }

    #[test]
    fn encode_writes_numpys_header_byte_for_byte() {
        // What `np.save` writes for np.zeros((2, 3), dtype='<i8'): 128 bytes in all, so the
        // values start on a 64-byte boundary.
        let mut expected = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        expected.extend_from_slice(b"{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }");
        expected.extend_from_slice(&[b' '; 58]);
        expected.push(b'\n');
        assert_eq!(encode("<i8", &[2, 3]), expected);
        for shape in [&[][..], &[5], &[1797, 64], &[123_456_789, 1, 1]] {
            let bytes = encode("<f4", shape);
            assert_eq!(bytes.len() % ALIGNMENT, 0, "{shape:?}");
            assert_eq!(bytes.last(), Some(&b'\n'));
            let header = parse(&bytes).expect("our own header parses");
            assert_eq!(header.shape, shape);
            assert_eq!(header.data_offset, bytes.len());
        }
        assert!(String::from_utf8_lossy(&encode("<f4", &[5])).contains("'shape': (5,)"));
    }

    #[test]
    fn parses_what_numpy_writes_in_every_version() {
        let mut bytes = encode("<f8", &[3, 4]);
        let header = parse(&bytes).expect("valid");
        assert_eq!(
            header,
            NpyHeader {
                descr: "<f8".into(),
                fortran_order: false,
                shape: vec![3, 4],
                data_offset: 128,
            }
        );
        // The same header as version 2.0 and 3.0: a 4-byte length, two bytes further on.
        for major in [2u8, 3] {
            let mut longer = MAGIC.to_vec();
            longer.extend_from_slice(&[major, 0]);
            longer.extend_from_slice(&118u32.to_le_bytes());
            longer.extend_from_slice(&bytes[10..]);
            assert_eq!(parse(&longer).map(|h| h.data_offset), Ok(130));
        }
        // A prefix that holds more than the header (the start of the values) parses the same.
        bytes.extend_from_slice(&[0; 100]);
        assert_eq!(parse(&bytes).map(|h| h.shape), Ok(vec![3, 4]));
    }

    #[test]
    fn accepts_any_spacing_quotes_order_and_python2_longs() {
        let header = parse(&file_with(
            "{ \"shape\" : ( 7L , 2 ) ,'fortran_order':True,\n 'descr':'>f4' }  \n",
        ))
        .expect("valid");
        assert_eq!(
            (header.descr.as_str(), header.fortran_order, header.shape),
            (">f4", true, vec![7, 2])
        );
        let empty = parse(&file_with(
            "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
        ));
        assert_eq!(empty.map(|h| h.shape), Ok(vec![]));
    }

    #[test]
    fn refuses_every_malformed_header_with_a_reason() {
        let cases: [(&[u8], &str); 6] = [
            (b"", "magic"),
            (b"PK\x03\x04 a zip file", "magic"),
            (b"\x93NUMPY", "preamble"),
            (b"\x93NUMPY\x04\x00\x10\x00", "version 4.0"),
            (b"\x93NUMPY\x01\x00\xff\x00{}", "ends inside its header"),
            (b"\x93NUMPY\x02\x00\xff\xff\xff\xff", "more than the 10000"),
        ];
        for (bytes, needle) in cases {
            let reason = parse(bytes).expect_err("malformed");
            assert!(reason.contains(needle), "{bytes:?}: {reason}");
        }
        let headers = [
            (
                "{'descr': '<f4', 'fortran_order': False}",
                "'shape' is missing",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 2)}",
                "negative",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                "too large",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}",
                "'.'",
            ),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
                "a string, True",
            ),
            (
                "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}",
                "'Maybe'",
            ),
            (
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
                "a string, True",
            ),
            (
                "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}",
                "twice",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
                "'extra'",
            ),
            (
                "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}",
                "',' or '}'",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} trailing",
                "only spaces",
            ),
            (
                "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}",
                "',' or '}'",
            ),
            (
                "{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}",
                "expected ':'",
            ),
            (
                "{'descr': 'caf\u{e9}', 'fortran_order': False, 'shape': (2,)}",
                "0xc3",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
                "header ends",
            ),
            (
                "{'shape': 'x', 'descr': '<f4', 'fortran_order': False}",
                "wrong kind",
            ),
        ];
        for (header, needle) in headers {
            let reason = parse(&file_with(header)).expect_err("malformed");
            assert!(reason.contains(needle), "{header}: {reason}");
        }
    }
}
