//! Any text through the query parser; what parses must display and parse
//! back to itself, and evaluate against a fixed customer. No input may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = rolo::fuzzing::query(data) {
        panic!("{broken}");
    }
});
