//! The entry points of the fuzz targets (`fuzz/`, cargo-fuzz) and of the
//! tests that replay their corpus in the normal suite. Not part of rolo's
//! API: hidden from the docs, and free to change with the targets.
//!
//! Each function takes arbitrary bytes and must return whatever they hold.
//! A panic anywhere below is a bug the fuzzer found; a broken invariant
//! that is not a panic (a query that does not read back as itself, a
//! record that does not re-encode to the same bytes) comes back as `Err`
//! and the target turns it into a crash, so the fuzzer keeps the input.
//! The library itself never panics on purpose, here or elsewhere.

use chrono::{DateTime, NaiveDate};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ingest::ImportOptions;
use crate::ingest::headers::RecordKind;
use crate::ingest::import::prepare_only;
use crate::ingest::reader::{Encoding, Format};
use crate::model::{Customer, CustomerId, Stats};
use crate::search::{EvalContext, Figure, Query, SegmentKind, SegmentLookup};
use crate::store::codec::{self, Record};

/// The CSV importer (`rolo import customers|orders|notes FILE`) on `data`:
/// read, map columns, clean and parse every row as each record kind, with
/// the encoding detected and forced to GBK. Returns the rows read.
pub fn import_csv(data: &[u8]) -> u64 {
    import_as(data, Format::Csv, &[Encoding::Auto, Encoding::Gbk])
}

/// The JSON importer (`--format json`: an array of objects or JSON Lines).
pub fn import_json(data: &[u8]) -> u64 {
    import_as(data, Format::Json, &[Encoding::Auto])
}

fn import_as(data: &[u8], format: Format, encodings: &[Encoding]) -> u64 {
    let mut read = 0;
    for &encoding in encodings {
        for kind in [RecordKind::Customers, RecordKind::Orders, RecordKind::Notes] {
            let mut opts = ImportOptions::new(kind);
            opts.encoding = encoding;
            opts.format = format;
            if let Ok((rows, _rejected)) = prepare_only(data.to_vec(), &opts) {
                read += rows;
            }
        }
    }
    read
}

/// The query language on `data` (as UTF-8, lossily): parse it; when it
/// parses, its display must parse back to the same query, and it is
/// evaluated and ranked against a fixed customer with every figure,
/// segment label and saved segment present (a saved segment `self` refers
/// to the query itself, so reference cycles are exercised).
pub fn query(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let Ok(q) = crate::search::parse(&text) else {
        return Ok(());
    };
    let shown = q.to_string();
    match crate::search::parse(&shown) {
        Ok(back) if back == q => {}
        other => {
            return Err(format!(
                "{text:?} parsed, but its display {shown:?} reads back as {other:?}"
            ));
        }
    }
    let customer = fixed_customer();
    let stats = Stats {
        orders: 3,
        order_days: 2,
        spend_minor: 123_456,
        first_order: NaiveDate::from_ymd_opt(2023, 2, 1),
        last_order: NaiveDate::from_ymd_opt(2024, 5, 30),
    };
    let hay = crate::model::searchable::haystack(&customer);
    let lookup = FixedSegments { query: &q };
    let ctx = EvalContext {
        as_of: NaiveDate::from_ymd_opt(2024, 6, 30).unwrap_or_default(),
        segments: &lookup,
    };
    let _ = crate::search::matches(&q, &customer, Some(&stats), &hay, &ctx);
    let _ = crate::search::matches(&q, &Customer::default(), None, "", &ctx);
    let matcher = fuzzy_matcher::skim::SkimMatcherV2::default();
    let _ = crate::search::text_rank(&q, &hay, &matcher);
    Ok(())
}

/// A customer with every field filled, Chinese and Latin text, an invalid
/// value kept, tags and custom attributes.
fn fixed_customer() -> Customer {
    Customer {
        id: CustomerId(42),
        ext_id: Some("C-0042".into()),
        name: "张伟 Wei Zhang".into(),
        given_name: Some("伟".into()),
        family_name: Some("张".into()),
        emails: vec!["zhang.wei@example.cn".into(), "zw@gmail.com".into()],
        phones: vec!["+8613800138000".into(), "+14155550100".into()],
        company: Some("上海云杉科技有限公司".into()),
        title: Some("CTO".into()),
        street: Some("1 Nanjing Rd".into()),
        city: Some("上海".into()),
        region: Some("Shanghai".into()),
        postcode: Some("200000".into()),
        country: Some("CN".into()),
        birth_date: NaiveDate::from_ymd_opt(1988, 7, 1),
        gender: Some("m".into()),
        source: Some("fair".into()),
        created_at: DateTime::from_timestamp(1_700_000_000, 0),
        attrs: vec![("level".into(), "gold".into())],
        invalid: vec![("email".into(), "not-an-email".into())],
        tags: vec!["vip".into(), "interest/golf".into()],
        updated_at: DateTime::from_timestamp(1_700_000_100, 0).unwrap_or_default(),
        merged_into: None,
        trashed_at: None,
    }
}

/// Every segment label and prediction present; `segment:self` is the
/// query under test, `segment:big` is `spend>1000`.
struct FixedSegments<'a> {
    query: &'a Query,
}

impl SegmentLookup for FixedSegments<'_> {
    fn label(&self, _c: &Customer, kind: SegmentKind) -> Option<String> {
        Some(
            match kind {
                SegmentKind::Rfm => "Champions",
                SegmentKind::Lifecycle => "active",
                SegmentKind::Value => "high",
            }
            .to_owned(),
        )
    }

    fn saved(&self, name: &str) -> Option<&Query> {
        static BIG: std::sync::OnceLock<Option<Query>> = std::sync::OnceLock::new();
        match name {
            "self" => Some(self.query),
            "big" => BIG
                .get_or_init(|| crate::search::parse("spend>1000").ok())
                .as_ref(),
            _ => None,
        }
    }

    fn predicted(&self, _c: &Customer, f: Figure) -> Option<f64> {
        Some(match f {
            Figure::PAlive => 0.42,
            Figure::Clv => 1234.5,
            _ => 1.5,
        })
    }
}

/// The record decoder on `data`, for every record type: first `data` as a
/// whole stored value (envelope checks), then `data` as the payload of a
/// valid envelope of each type and each version it can read (so bincode
/// and the old-version converters see it past the checksum). Whatever
/// decodes must re-encode to bytes that decode and re-encode identically.
pub fn record_decode(data: &[u8]) -> Result<(), String> {
    for_each_record(&mut RoundTrip { data })
}

/// One stored type under test.
trait Visit {
    fn visit<T: Record + Serialize + DeserializeOwned>(&mut self) -> Result<(), String>;
}

struct RoundTrip<'a> {
    data: &'a [u8],
}

impl Visit for RoundTrip<'_> {
    fn visit<T: Record + Serialize + DeserializeOwned>(&mut self) -> Result<(), String> {
        round_trip::<T>(self.data)?;
        for version in 1..=T::VERSION {
            round_trip::<T>(&envelope(T::KIND, version, self.data))?;
        }
        Ok(())
    }
}

/// `[kind][version][crc32 LE][payload]`, the layout `store::codec` writes.
pub fn envelope(kind: u8, version: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![kind, version];
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn round_trip<T: Record + Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<(), String> {
    let Ok(value) = codec::decode::<T>(bytes) else {
        return Ok(());
    };
    let encoded = codec::encode(&value);
    let again = codec::decode::<T>(&encoded)
        .map_err(|e| format!("a decoded {} does not decode after encoding: {e}", T::NAME))?;
    if codec::encode(&again) != encoded {
        return Err(format!(
            "a decoded {} re-encodes to different bytes",
            T::NAME
        ));
    }
    Ok(())
}

/// Calls `v` with every stored record type (the `record!` list of
/// `store::codec`).
fn for_each_record(v: &mut impl Visit) -> Result<(), String> {
    use crate::model::{AuditEvent, Note, Order, TagInfo};
    use crate::store::{
        ClvModel, Erasure, IdentityChunk, ImportLog, MergeRecord, OrderBook, OrderIdChunk,
        QualityFigures, SavedSegment, SearchChunk, SnapshotChunk, TagChange, UndoBatch,
    };
    v.visit::<Customer>()?;
    v.visit::<Stats>()?;
    v.visit::<Order>()?;
    v.visit::<Note>()?;
    v.visit::<AuditEvent>()?;
    v.visit::<ImportLog>()?;
    v.visit::<UndoBatch>()?;
    v.visit::<SearchChunk>()?;
    v.visit::<IdentityChunk>()?;
    v.visit::<OrderBook>()?;
    v.visit::<OrderIdChunk>()?;
    v.visit::<TagInfo>()?;
    v.visit::<TagChange>()?;
    v.visit::<SavedSegment>()?;
    v.visit::<SnapshotChunk>()?;
    v.visit::<ClvModel>()?;
    v.visit::<QualityFigures>()?;
    v.visit::<Erasure>()?;
    v.visit::<MergeRecord>()?;
    v.visit::<crate::store::TagChunk>()?;
    v.visit::<crate::store::DedupState>()?;
    Ok(())
}

/// The kind byte of every record type the decoder target covers.
pub fn record_kinds() -> Vec<u8> {
    struct Kinds(Vec<u8>);
    impl Visit for Kinds {
        fn visit<T: Record + Serialize + DeserializeOwned>(&mut self) -> Result<(), String> {
            self.0.push(T::KIND);
            Ok(())
        }
    }
    let mut k = Kinds(Vec::new());
    let _ = for_each_record(&mut k);
    k.0
}

/// The fuzz targets' properties as proptests, so the normal suite checks
/// them on every run (the corpus itself is replayed by `tests/fuzz_corpus.rs`).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuditEvent, FieldChange, Note, NoteKind, Order};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,12}",
            any::<String>(),
            Just("\u{1b}]52;c;eA==\u{7}\r\u{85}\u{202e}".to_owned()),
        ]
    }

    fn customer() -> impl Strategy<Value = Customer> {
        (
            (any::<u64>(), text(), proptest::option::of(text())),
            prop::collection::vec(text(), 0..3),
            prop::collection::vec((text(), text()), 0..3),
            (proptest::option::of(-100_000i32..100_000), any::<i64>()),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(
                |((id, name, city), tags, attrs, (birth, secs), merged)| Customer {
                    id: CustomerId(id),
                    name,
                    city,
                    emails: tags.clone(),
                    tags,
                    attrs,
                    birth_date: birth.map(crate::model::days::to_date),
                    created_at: DateTime::from_timestamp(secs % 10_000_000_000, 0),
                    merged_into: merged.map(CustomerId),
                    ..Customer::default()
                },
            )
    }

    fn order() -> impl Strategy<Value = Order> {
        (
            text(),
            any::<u64>(),
            -100_000i32..100_000,
            any::<i64>(),
            any::<Option<u32>>(),
            proptest::option::of(text()),
        )
            .prop_map(
                |(order_id, c, day, amount_minor, quantity, channel)| Order {
                    order_id,
                    customer: CustomerId(c),
                    date: crate::model::days::to_date(day),
                    amount_minor,
                    quantity,
                    currency: Some("CNY".into()),
                    channel,
                    attrs: Vec::new(),
                },
            )
    }

    fn audit_event() -> impl Strategy<Value = AuditEvent> {
        (
            any::<u64>(),
            text(),
            proptest::option::of(customer()),
            any::<Option<u64>>(),
            0i64..4_000_000_000,
        )
            .prop_map(|(seq, summary, before, undoes, secs)| AuditEvent {
                seq,
                at: DateTime::from_timestamp(secs, 0).unwrap_or_default(),
                user: "ann".into(),
                op: "edit".into(),
                customers: vec![CustomerId(seq)],
                changes: vec![FieldChange {
                    field: "name".into(),
                    before: Some(summary.clone()),
                    after: None,
                }],
                summary,
                after: before.clone(),
                before,
                undoes,
            })
    }

    /// Each record in its envelope, with the type's name.
    fn encoded() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
        prop_oneof![
            customer().prop_map(|c| ("customer", codec::encode(&c))),
            order().prop_map(|o| ("order", codec::encode(&o))),
            audit_event().prop_map(|e| ("audit event", codec::encode(&e))),
            (text(), any::<Option<u8>>()).prop_map(|(text, satisfaction)| (
                "note",
                codec::encode(&Note {
                    customer: CustomerId(1),
                    at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
                    kind: NoteKind::Visit,
                    text,
                    satisfaction,
                })
            )),
        ]
    }

    fn decodes(name: &str, bytes: &[u8]) -> bool {
        match name {
            "customer" => codec::decode::<Customer>(bytes).is_ok(),
            "order" => codec::decode::<Order>(bytes).is_ok(),
            "audit event" => codec::decode::<AuditEvent>(bytes).is_ok(),
            _ => codec::decode::<Note>(bytes).is_ok(),
        }
    }

    proptest! {
        #[test]
        fn encoded_records_decode_and_re_encode_the_same((name, bytes) in encoded()) {
            prop_assert!(decodes(name, &bytes), "{name} does not decode");
            prop_assert_eq!(record_decode(&bytes), Ok(()));
            prop_assert_eq!(record_decode(&bytes[6..]), Ok(()));
        }

        /// CRC32 catches every error within 32 bits of the payload; the
        /// kind and version bytes are checked by value, and a payload read
        /// as the wrong version leaves bytes over or runs short.
        #[test]
        fn a_changed_byte_is_always_detected(
            (name, bytes) in encoded(),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut damaged = bytes.clone();
            let i = at.index(damaged.len());
            damaged[i] ^= flip;
            prop_assert!(!decodes(name, &damaged), "{name}: byte {i} ^ {flip:#x} went unnoticed");
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(record_decode(&bytes), Ok(()));
        }

        #[test]
        fn arbitrary_text_never_panics_the_query_language(s in any::<String>()) {
            prop_assert_eq!(query(s.as_bytes()), Ok(()));
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_importers(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            import_csv(&bytes);
            import_json(&bytes);
        }
    }

    /// Found by the decoder proptest: a name whose length prefix (a u64
    /// varint, marker 253) says 7e18 bytes made bincode allocate that much
    /// and abort the process, CRC notwithstanding.
    #[test]
    fn a_huge_length_with_a_valid_checksum_is_an_error_not_an_abort() {
        let mut payload = vec![0, 0, 253];
        payload.extend_from_slice(&7_114_833_715_855_937_963u64.to_le_bytes());
        let bytes = envelope(b'C', 1, &payload);
        assert!(matches!(
            codec::decode::<Customer>(&bytes),
            Err(codec::CodecError::Payload(_))
        ));
        assert_eq!(record_decode(&payload), Ok(()));
        // Legitimate long values still decode, in every size class.
        for len in [10, 70_000, 5_000_000] {
            let c = Customer {
                name: "x".repeat(len),
                ..Customer::default()
            };
            assert_eq!(codec::decode::<Customer>(&codec::encode(&c)), Ok(c));
        }
    }

    #[test]
    fn every_record_kind_is_covered() {
        let mut kinds = record_kinds();
        let n = kinds.len();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), n, "a kind listed twice");
        let source = include_str!("store/codec.rs");
        let declared =
            source.matches("\nrecord!(").count() + source.matches("\nimpl Record for ").count();
        assert_eq!(
            n, declared,
            "store/codec.rs declares {declared} record types; fuzzing covers {n}"
        );
    }

    #[test]
    fn the_importers_read_rows() {
        // As customers and as notes (the email names the note's customer;
        // orders lack a date), detected and as GBK.
        assert_eq!(import_csv(b"name,email\nAnn,a@b.com\n"), 4);
        assert_eq!(import_json(br#"[{"name":"Ann"},{"email":"b@c.d"}]"#), 4);
    }
}
