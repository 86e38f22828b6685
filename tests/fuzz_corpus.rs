//! Replays the committed fuzz corpus (`fuzz/corpus/TARGET/`, grown and
//! minimized by `cargo fuzz`, see docs/fuzzing.md) through the same entry
//! points the fuzz targets call, so every input the fuzzer ever kept, the
//! crashes it found included, is checked on every `cargo test`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure should stop the test loudly"
)]

use std::path::PathBuf;

/// Every input of one target's corpus, with its file name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 4, "{} holds too few inputs", dir.display());
    inputs
}

#[test]
fn import_csv_corpus() {
    let read: u64 = corpus("import_csv")
        .iter()
        .map(|(_, data)| rolo::fuzzing::import_csv(data))
        .sum();
    assert!(read > 0, "no input of the corpus reads as rows");
}

#[test]
fn import_json_corpus() {
    let read: u64 = corpus("import_json")
        .iter()
        .map(|(_, data)| rolo::fuzzing::import_json(data))
        .sum();
    assert!(read > 0, "no input of the corpus reads as rows");
}

#[test]
fn query_parse_corpus() {
    for (name, data) in corpus("query_parse") {
        assert_eq!(rolo::fuzzing::query(&data), Ok(()), "input {name}");
    }
}

#[test]
fn record_decode_corpus() {
    for (name, data) in corpus("record_decode") {
        assert_eq!(rolo::fuzzing::record_decode(&data), Ok(()), "input {name}");
    }
}
