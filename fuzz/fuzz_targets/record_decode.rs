//! Any bytes through the record decoder of every stored type, as a whole
//! value and as the payload of a valid envelope; what decodes must
//! re-encode stably. No input may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = rolo::fuzzing::record_decode(data) {
        panic!("{broken}");
    }
});
