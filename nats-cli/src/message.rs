//! Messages on the command line: `-H K:V` headers, `{{Count}}` templates, and a received
//! message shown as text or as one JSON object.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use nats_core::{HeaderMap, Message};
use serde::Serialize;

use crate::error::CliError;

/// A `-H K:V` header, read by clap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) name: String,
    pub(crate) value: String,
}

/// Reads `K:V` (spaces around either trimmed), as the NATS CLI does.
pub(crate) fn parse_header(text: &str) -> Result<Header, String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!("{text:?} is not a header: write it as NAME:VALUE"));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(format!(
            "{text:?} has no header name: write it as NAME:VALUE"
        ));
    }
    Ok(Header {
        name: name.to_owned(),
        value: value.trim().to_owned(),
    })
}

/// The headers of the flags; `None` when there are none, so the message goes without a
/// header block.
pub(crate) fn header_map(headers: &[Header]) -> Option<HeaderMap> {
    if headers.is_empty() {
        return None;
    }
    let mut map = HeaderMap::new();
    for header in headers {
        map.append(header.name.as_str(), header.value.as_str());
    }
    Some(map)
}

/// `template` with the NATS CLI's simple placeholders filled in: `{{Count}}` (the message's
/// number, from 1), `{{Unix}}` and `{{UnixNano}}` (the time since 1970). Spaces inside the
/// braces are allowed; other placeholders are left as they are.
pub(crate) fn fill_template(template: &str, count: u64) -> String {
    if !template.contains("{{") {
        return template.to_owned();
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let since_epoch = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
        };
        match after[..end].trim() {
            "Count" => out.push_str(&count.to_string()),
            "Unix" => out.push_str(&since_epoch().as_secs().to_string()),
            "UnixNano" => out.push_str(&since_epoch().as_nanos().to_string()),
            _ => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Writes `message`, the `number`th received, for people:
///
/// ```text
/// [#1] received on "orders.new" with reply "_INBOX.x"
/// Source: web
///
/// {"sku":"tea"}
///
/// ```
pub(crate) fn print_text(
    out: &mut impl Write,
    number: u64,
    message: &Message,
) -> Result<(), CliError> {
    write!(
        out,
        "[#{number}] received on {:?}",
        message.subject.as_str()
    )?;
    if let Some(reply) = &message.reply {
        write!(out, " with reply {:?}", reply.as_str())?;
    }
    writeln!(out)?;
    if let Some(headers) = message.headers.as_ref().filter(|h| !h.is_empty()) {
        print_headers(out, headers)?;
        writeln!(out)?;
    }
    print_body(out, &message.payload)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Writes each header as `Name: value`, one a line.
pub(crate) fn print_headers(out: &mut impl Write, headers: &HeaderMap) -> Result<(), CliError> {
    for (name, value) in headers.iter() {
        writeln!(out, "{name}: {value}")?;
    }
    Ok(())
}

/// Writes `body` as it is, and a newline when it does not end with one.
pub(crate) fn print_body(out: &mut impl Write, body: &[u8]) -> Result<(), CliError> {
    out.write_all(body)?;
    if !body.ends_with(b"\n") {
        writeln!(out)?;
    }
    Ok(())
}

/// A received message as JSON: `{"subject", "reply", "headers", "data"}`. Headers map each
/// name to its values (as Go encodes `nats.Header`); a body that is not UTF-8 is in
/// `data_base64` instead of `data`.
#[derive(Debug, Serialize)]
pub(crate) struct MessageJson<'a> {
    subject: &'a str,
    reply: Option<&'a str>,
    headers: BTreeMap<&'a str, Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_base64: Option<String>,
}

impl<'a> MessageJson<'a> {
    /// The JSON form of `message`.
    pub(crate) fn new(message: &'a Message) -> Self {
        let mut headers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, value) in message.headers.iter().flat_map(HeaderMap::iter) {
            headers.entry(name).or_default().push(value);
        }
        let text = message.payload_str();
        MessageJson {
            subject: message.subject.as_str(),
            reply: message.reply.as_deref(),
            headers,
            data: text,
            data_base64: text
                .is_none()
                .then(|| base64::engine::general_purpose::STANDARD.encode(&message.payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value() {
        let header = parse_header("Content-Type: application/json").expect("header");
        assert_eq!(header.name, "Content-Type");
        assert_eq!(header.value, "application/json");
        let header = parse_header("Url:http://x:1").expect("header");
        assert_eq!(header.value, "http://x:1");
        assert!(parse_header("novalue").is_err());
        assert!(parse_header(" :v").is_err());
        assert_eq!(header_map(&[]), None);
    }

    #[test]
    fn templates_fill_count_and_keep_the_rest() {
        assert_eq!(fill_template("msg {{Count}}", 3), "msg 3");
        assert_eq!(fill_template("{{ Count }}-{{Count}}", 12), "12-12");
        assert_eq!(fill_template("{{Other}} {{Count", 1), "{{Other}} {{Count");
        assert_eq!(fill_template("plain", 1), "plain");
        let unix: u64 = fill_template("{{Unix}}", 1).parse().expect("a number");
        assert!(unix > 1_600_000_000);
    }
}
