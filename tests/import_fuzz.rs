//! Hostile input, generated: whatever bytes a file holds, reading and
//! importing it never panics, never loses a row silently
//! (read = inserted + updated + rejected), and leaves a database that passes
//! `check`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure should stop the test loudly"
)]

use proptest::prelude::*;
use rolo::ingest::headers::RecordKind;
use rolo::ingest::reader::{self, Encoding, Format};
use rolo::ingest::{ImportOptions, import_file};
use rolo::store::{OpenOptions, Store};
use std::sync::atomic::AtomicBool;

/// Cells drawn from what real exports get wrong.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z张伟王芳 ]{1,12}",
        "[0-9+ ()-]{3,16}",
        "[a-z]{1,6}@[a-z]{1,6}\\.(com|cn)",
        Just("\"".to_string()),
        Just("\"quoted, with comma\"".to_string()),
        Just("\"multi\nline\"".to_string()),
        Just("\u{1b}[31mred\u{202e}".to_string()),
        Just("１３８００１３８０００".to_string()),
        Just("2024年3月5日".to_string()),
        Just("=HYPERLINK(1)".to_string()),
        "\\PC{0,8}",
    ]
}

fn file() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just("name,phone,email,city".to_string()),
        Just("姓名,手机,邮箱,城市".to_string()),
        Just("ext_id;name;mobile".to_string()),
        Just("\u{feff}Name\tE-mail\tTel".to_string()),
    ];
    (
        header,
        proptest::collection::vec(proptest::collection::vec(cell(), 0..6), 0..12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(header, rows, crlf, gbk)| {
            let delim = if header.contains(';') {
                ";"
            } else if header.contains('\t') {
                "\t"
            } else {
                ","
            };
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = header.clone();
            for r in rows {
                text.push_str(nl);
                text.push_str(&r.join(delim));
            }
            if gbk {
                let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
                bytes.into_owned()
            } else {
                text.into_bytes()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn reading_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = reader::read(&bytes, Encoding::Auto, Format::Auto);
        let _ = reader::read(&bytes, Encoding::Gbk, Format::Csv);
        let _ = reader::read(&bytes, Encoding::Utf8, Format::Json);
    }

    #[test]
    fn importing_hostile_files_accounts_for_every_row(bytes in file()) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("in.csv");
        std::fs::write(&path, &bytes).unwrap();
        let store = Store::open(&tmp.path().join("db"), &OpenOptions::default()).unwrap();
        let stream_rows = reader::read(&bytes, Encoding::Auto, Format::Auto).map(|s| s.rows.len() as u64).ok();
        match import_file(&store, &path, &ImportOptions::new(RecordKind::Customers), &mut |_, _| {}, &AtomicBool::new(false)) {
            Ok(r) => {
                prop_assert_eq!(r.read, r.inserted + r.updated + r.rejected);
                prop_assert_eq!(Some(r.read), stream_rows);
                if r.rejected > 0 {
                    let rejects = r.rejects_file.clone().unwrap();
                    let mut rd = csv::ReaderBuilder::new().flexible(true).from_path(&rejects).unwrap();
                    let n = rd.records().count() as u64;
                    prop_assert_eq!(n, r.rejected, "every rejected row is in the rejects file");
                }
                prop_assert_eq!(store.live_count().unwrap(), r.inserted);
            }
            // A file can be refused as a whole (no usable header): with a reason.
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }
}
