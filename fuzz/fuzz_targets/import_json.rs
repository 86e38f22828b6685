//! Any bytes through the JSON importer (array of objects or JSON Lines),
//! as every record kind. No input may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rolo::fuzzing::import_json(data);
});
