//! Any bytes through the CSV importer's read, map, clean and parse path,
//! as every record kind, UTF-8 (detected) and GBK. No input may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rolo::fuzzing::import_csv(data);
});
