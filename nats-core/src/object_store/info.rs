//! What an Object Store says about an object: [`ObjectInfo`] (the JSON every client writes to
//! the meta subject), [`ObjectMeta`] (what the caller gives) and links.

use std::collections::{BTreeMap, HashMap};

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What the caller says about an object it puts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's name: any non-empty text.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Headers kept with the object.
    pub headers: HashMap<String, Vec<String>>,
    /// Metadata kept with the object.
    pub metadata: BTreeMap<String, String>,
    /// Chunk size for this object (128 KiB when unset).
    pub chunk_size: Option<usize>,
}

impl ObjectMeta {
    /// Metadata with the name `name` and nothing else.
    pub fn new(name: impl Into<String>) -> Self {
        ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        }
    }
}

impl From<&str> for ObjectMeta {
    fn from(name: &str) -> Self {
        ObjectMeta::new(name)
    }
}

impl From<String> for ObjectMeta {
    fn from(name: String) -> Self {
        ObjectMeta::new(name)
    }
}

/// A link: to an object of a bucket, or (without a name) to a whole bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLink {
    /// The bucket linked to.
    pub bucket: String,
    /// The object linked to; `None` for a link to the whole bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The options of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectOptions {
    /// Set when the object is a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<ObjectLink>,
    /// The chunk size it was stored with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chunk_size: Option<usize>,
}

/// An object as the bucket describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// The object's name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Headers kept with the object.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub headers: HashMap<String, Vec<String>>,
    /// Metadata kept with the object.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Link and chunk size.
    #[serde(default, skip_serializing_if = "is_default_options")]
    pub options: ObjectOptions,
    /// The bucket.
    pub bucket: String,
    /// The identifier of its chunks' subject (fresh for each put).
    pub nuid: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: u64,
    /// When it was stored: the time of its metadata message (the JSON's `mtime` is not
    /// meaningful; other clients write a zero time).
    #[serde(
        default = "unix_epoch",
        with = "time::serde::rfc3339",
        rename = "mtime"
    )]
    pub modified: OffsetDateTime,
    /// How many chunks it was stored in.
    #[serde(default)]
    pub chunks: u64,
    /// `SHA-256=` and the padded base64url of its SHA-256.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Whether it was deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

fn is_default_options(options: &ObjectOptions) -> bool {
    *options == ObjectOptions::default()
}

fn unix_epoch() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
}

impl ObjectInfo {
    /// Whether the object is a link.
    pub fn is_link(&self) -> bool {
        self.options.link.is_some()
    }
}

/// The digest field of `sha256`: `SHA-256=` and its padded base64url.
pub(crate) fn digest_text(sha256: &[u8]) -> String {
    format!("SHA-256={}", URL_SAFE.encode(sha256))
}

/// The token of `name` in the meta subject: its padded base64url, as Go's
/// `base64.URLEncoding` writes it (unpadded names made objects invisible across clients).
pub(crate) fn encoded_name(name: &str) -> String {
    URL_SAFE.encode(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_digests_are_padded_base64url() {
        assert_eq!(encoded_name("a"), "YQ==");
        assert_eq!(encoded_name("dir/file?.txt"), "ZGlyL2ZpbGU_LnR4dA==");
        // SHA-256 of the empty input, as nats.go writes it.
        let empty = [
            0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
            0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
            0x78, 0x52, 0xb8, 0x55,
        ];
        assert_eq!(
            digest_text(&empty),
            "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn info_reads_what_nats_go_writes() {
        let json = r#"{"name":"a.txt","bucket":"files","nuid":"N1","size":5,"mtime":"0001-01-01T00:00:00Z","chunks":1,"digest":"SHA-256=abc=","options":{"max_chunk_size":131072},"headers":{"K":["v"]}}"#;
        let info: ObjectInfo = serde_json::from_str(json).expect("info");
        assert_eq!(
            (info.size, info.chunks, info.options.max_chunk_size),
            (5, 1, Some(131072))
        );
        assert_eq!(info.headers["K"], ["v"]);
        let link =
            r#"{"name":"l","bucket":"files","nuid":"N2","options":{"link":{"bucket":"other"}}}"#;
        let info: ObjectInfo = serde_json::from_str(link).expect("link");
        assert!(info.is_link() && info.options.link.as_ref().is_some_and(|l| l.name.is_none()));
    }
}
