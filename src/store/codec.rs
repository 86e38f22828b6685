//! The versioned, checksummed envelope every stored value travels in.
//!
//! bincode is not self-describing: bytes of an older struct decoded as a
//! newer one fail, and newer bytes decoded as an older struct can succeed
//! while silently dropping fields. So every value is written as
//!
//! ```text
//! [kind: u8][version: u8][crc32 of payload: u32 LE][payload: bincode]
//! ```
//!
//! A decoder looks at `(kind, version)`, decodes that frozen shape, checks
//! that it consumed the whole payload, and converts it to the current type.
//! The CRC catches a flipped bit before bincode ever sees it.

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

const HEADER: usize = 6;

/// Why a stored value could not be read back.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CodecError {
    #[error("value too short ({0} bytes)")]
    Short(usize),
    #[error("expected a {expected} record, found kind {found}")]
    Kind { expected: &'static str, found: u8 },
    #[error("{kind} record of unknown format version {version} (written by a newer rolo?)")]
    Version { kind: &'static str, version: u8 },
    #[error("checksum mismatch: the bytes were damaged")]
    Checksum,
    #[error("undecodable payload: {0}")]
    Payload(String),
    #[error("payload has {0} trailing bytes")]
    Trailing(usize),
}

/// A type stored in the database. `KIND` names the record type in the
/// envelope; `VERSION` is the shape written today. Older versions are read by
/// `decode_old`, which must stay able to read every version ever written.
pub trait Record: Sized {
    const KIND: u8;
    const NAME: &'static str;
    const VERSION: u8;

    /// Reads a payload of an older `version`. The default knows none.
    fn decode_old(version: u8, _payload: &[u8]) -> Result<Self, CodecError> {
        Err(CodecError::Version {
            kind: Self::NAME,
            version,
        })
    }
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes `value` in its envelope.
pub fn encode<T: Record + Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![T::KIND, T::VERSION, 0, 0, 0, 0];
    // Encoding plain data into a Vec cannot fail; an error here would be a
    // bug in a Serialize impl, so fall back to an empty payload that the
    // decoder will reject loudly rather than panic in the writer.
    if let Ok(payload) = bincode::serde::encode_to_vec(value, config()) {
        out.extend_from_slice(&payload);
    }
    let crc = crc32fast::hash(&out[HEADER..]);
    out[2..HEADER].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes a payload of exactly the type `P` (one frozen version).
///
/// bincode allocates a string of the length its prefix states before it
/// reads the bytes, so one damaged (or crafted) length that passed the CRC
/// asked for exabytes and aborted the process (found by fuzzing). A limit
/// on the bytes a decode may claim, 64 times the payload's size class,
/// keeps that an error: a decode claims at most 8 bytes per byte read
/// (each varint claims its full width).
pub fn decode_payload<P: DeserializeOwned>(payload: &[u8]) -> Result<P, CodecError> {
    let base = config();
    match payload.len() {
        0..=0xFFFF => decode_limited(payload, base.with_limit::<{ 4 << 20 }>()),
        0x1_0000..=0x3F_FFFF => decode_limited(payload, base.with_limit::<{ 256 << 20 }>()),
        0x40_0000..=0x3FF_FFFF => decode_limited(payload, base.with_limit::<{ 4 << 30 }>()),
        _ => decode_limited(payload, base),
    }
}

fn decode_limited<P: DeserializeOwned>(
    payload: &[u8],
    config: impl bincode::config::Config,
) -> Result<P, CodecError> {
    let (value, read) = bincode::serde::decode_from_slice::<P, _>(payload, config)
        .map_err(|e| CodecError::Payload(e.to_string()))?;
    if read != payload.len() {
        return Err(CodecError::Trailing(payload.len() - read));
    }
    Ok(value)
}

/// Decodes an envelope written by [`encode`] (of this or an older version).
pub fn decode<T: Record + DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() < HEADER {
        return Err(CodecError::Short(bytes.len()));
    }
    if bytes[0] != T::KIND {
        return Err(CodecError::Kind {
            expected: T::NAME,
            found: bytes[0],
        });
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&bytes[2..HEADER]);
    let payload = &bytes[HEADER..];
    if crc32fast::hash(payload) != u32::from_le_bytes(crc) {
        return Err(CodecError::Checksum);
    }
    match bytes[1] {
        v if v == T::VERSION => decode_payload(payload),
        v if v < T::VERSION => T::decode_old(v, payload),
        v => Err(CodecError::Version {
            kind: T::NAME,
            version: v,
        }),
    }
}

macro_rules! record {
    ($ty:ty, $kind:expr, $name:expr, $version:expr) => {
        impl Record for $ty {
            const KIND: u8 = $kind;
            const NAME: &'static str = $name;
            const VERSION: u8 = $version;
        }
    };
}

record!(crate::model::Customer, b'C', "customer", 1);
record!(crate::model::Stats, b'S', "stats", 1);
record!(crate::model::Order, b'O', "order", 1);
record!(crate::model::Note, b'N', "note", 1);
impl Record for crate::model::AuditEvent {
    const KIND: u8 = b'A';
    const NAME: &'static str = "audit event";
    /// 2 added `undoes`.
    const VERSION: u8 = 2;

    fn decode_old(version: u8, payload: &[u8]) -> Result<Self, CodecError> {
        match version {
            1 => Ok(decode_payload::<super::legacy::AuditEventV1>(payload)?.into()),
            v => Err(CodecError::Version {
                kind: Self::NAME,
                version: v,
            }),
        }
    }
}
record!(super::imports::ImportLog, b'I', "import log", 1);
record!(super::imports::UndoBatch, b'U', "undo batch", 1);
// Version 1 (format 1) was a list of (id, haystack); format 2 rebuilds
// every chunk on migration, so version 1 is never read.
record!(super::search_chunk::SearchChunk, b'G', "search chunk", 2);
record!(super::identity::IdentityChunk, b'K', "identity chunk", 1);
record!(super::orders::OrderBook, b'B', "order book", 1);
record!(super::orders::OrderIdChunk, b'J', "order-id chunk", 1);
record!(crate::model::TagInfo, b'T', "tag info", 1);
record!(super::tags::TagChange, b'X', "tag change", 1);
record!(super::segments::SavedSegment, b'V', "saved segment", 1);
record!(super::segments::SnapshotChunk, b'W', "segment snapshot", 1);
record!(super::segments::ClvModel, b'L', "clv model", 1);
record!(super::quality::QualityFigures, b'Q', "quality figures", 1);
record!(super::erase::Erasure, b'E', "erasure", 1);
record!(super::merge::MergeRecord, b'M', "merge record", 1);
record!(super::tag_index::TagChunk, b'Y', "tag chunk", 1);
record!(super::dedup::DedupState, b'P', "dedup scan", 1);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Customer, CustomerId};
    use chrono::{DateTime, NaiveDate};
    use proptest::prelude::*;

    fn sample() -> Customer {
        Customer {
            id: CustomerId(42),
            ext_id: Some("C-0042".into()),
            name: "张伟".into(),
            given_name: Some("伟".into()),
            family_name: Some("张".into()),
            emails: vec!["zhang.wei@example.cn".into()],
            phones: vec!["+8613800138000".into()],
            company: Some("上海云杉科技有限公司".into()),
            city: Some("上海".into()),
            birth_date: NaiveDate::from_ymd_opt(1988, 7, 1),
            created_at: DateTime::from_timestamp(1_700_000_000, 0),
            attrs: vec![("会员等级".into(), "金卡".into())],
            invalid: vec![("email".into(), "not-an-email".into())],
            tags: vec!["vip".into()],
            updated_at: DateTime::from_timestamp(1_700_000_100, 0).unwrap_or_default(),
            ..Customer::default()
        }
    }

    /// Format v1 as it shipped. If this fails, a stored type changed shape:
    /// freeze the old one and add a version instead of editing the fixture.
    #[test]
    fn customer_v1_golden_bytes() {
        let golden = include_bytes!("../../tests/fixtures/customer_v1.bin");
        if std::env::var_os("ROLO_BLESS_GOLDEN").is_some() {
            std::fs::write("tests/fixtures/customer_v1.bin", encode(&sample())).unwrap();
            return;
        }
        assert_eq!(decode::<Customer>(golden), Ok(sample()));
        assert_eq!(encode(&sample()), golden.to_vec());
    }

    #[test]
    fn flipped_bit_is_caught() {
        let mut bytes = encode(&sample());
        let last = bytes.len() - 1;
        bytes[last] ^= 0x10;
        assert_eq!(decode::<Customer>(&bytes), Err(CodecError::Checksum));
    }

    #[test]
    fn wrong_kind_and_newer_version_are_refused() {
        let bytes = encode(&sample());
        assert!(matches!(
            decode::<crate::model::Order>(&bytes),
            Err(CodecError::Kind { .. })
        ));
        let mut newer = bytes.clone();
        newer[1] = 99;
        assert!(matches!(
            decode::<Customer>(&newer),
            Err(CodecError::Version { version: 99, .. })
        ));
        assert_eq!(decode::<Customer>(&bytes[..3]), Err(CodecError::Short(3)));
    }

    proptest! {
        #[test]
        fn customer_round_trips(name in "\\PC{0,40}", emails in proptest::collection::vec("[a-z]{1,8}@[a-z]{1,8}\\.com", 0..3),
                                tags in proptest::collection::btree_set("[a-z/]{1,10}", 0..4), days in -30000i32..30000) {
            let c = Customer {
                id: CustomerId(7),
                name,
                emails,
                tags: tags.into_iter().collect(),
                birth_date: Some(crate::model::days::to_date(days)),
                ..Customer::default()
            };
            prop_assert_eq!(decode::<Customer>(&encode(&c)), Ok(c));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode::<Customer>(&bytes);
            let _ = decode::<crate::model::AuditEvent>(&bytes);
        }
    }
}
