//! JSON written byte for byte as Go's `encoding/json` writes it, which is how nats.go's
//! services answer `$SRV` requests.
//!
//! serde_json already agrees with Go on compact output, fields in declaration order, map keys
//! sorted (our maps are `BTreeMap`s) and the short escapes. Go's `json.Marshal` also escapes
//! `<`, `>` and `&` (so JSON can sit in HTML) and U+2028 and U+2029 (line terminators in
//! JavaScript) as `\u` sequences with lowercase hex; this formatter adds exactly those.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// serde_json's compact formatter with Go's extra escapes in strings and keys.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain_from = 0;
        for (at, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[plain_from..at])?;
            writer.write_all(escaped.as_bytes())?;
            plain_from = at + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain_from..])
    }
}

/// Serializes `value` as Go's `json.Marshal` would.
///
/// # Errors
/// When `value`'s `Serialize` implementation fails (a map with non-string keys, say).
pub(crate) fn to_vec<T: ?Sized + Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out,
        GoFormatter,
    ))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::to_vec;

    fn text(value: &serde_json::Value) -> String {
        String::from_utf8(to_vec(value).expect("serializes")).expect("utf8")
    }

    #[test]
    fn escapes_what_go_escapes_in_values_and_keys() {
        let value = json!({"a<b": "x < y && z > w \u{2028}\u{2029} é ✓"});
        assert_eq!(
            text(&value),
            r#"{"a\u003cb":"x \u003c y \u0026\u0026 z \u003e w \u2028\u2029 é ✓"}"#
        );
    }

    #[test]
    fn agrees_with_serde_json_everywhere_else() {
        let value = json!({
            "quote": "\"", "backslash": "\\", "controls": "\u{8}\u{c}\n\r\t\u{1}\u{1f}",
            "number": 12, "list": [true, null, 1.5], "nested": {"k": "v"}, "empty": ""
        });
        assert_eq!(text(&value), serde_json::to_string(&value).expect("json"));
        let metadata: BTreeMap<String, String> = [("b", "2"), ("a", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(
            String::from_utf8(to_vec(&metadata).expect("map")).expect("utf8"),
            r#"{"a":"1","b":"2"}"#
        );
    }

    #[test]
    fn escapes_at_every_position_of_a_fragment() {
        assert_eq!(text(&json!("<")), r#""\u003c""#);
        assert_eq!(text(&json!("<>")), r#""\u003c\u003e""#);
        assert_eq!(text(&json!("a&")), r#""a\u0026""#);
        assert_eq!(text(&json!("&a")), r#""\u0026a""#);
        assert_eq!(text(&json!("\n<\n")), r#""\n\u003c\n""#);
    }
}
