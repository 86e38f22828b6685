//! Seeds the `record_decode` corpus from a real database: for each record
//! kind, the first few stored values, whole and as bare payloads (the
//! target tries its input both ways). Not a fuzz target.
//!
//! `cargo +nightly fuzz run seed_records` is not how it runs; see
//! docs/fuzzing.md: `cargo run --manifest-path fuzz/Cargo.toml --bin
//! seed_records -- DB OUT_DIR`.

use std::collections::HashMap;
use std::path::PathBuf;

const PER_KIND: usize = 3;
const MAX_BYTES: usize = 16 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(db), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: seed_records DB OUT_DIR".into());
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let kinds = rolo::fuzzing::record_kinds();
    let db = sled::open(PathBuf::from(db))?;
    let mut taken: HashMap<(u8, u8), usize> = HashMap::new();
    for item in db.iter() {
        let (_, value) = item?;
        let (Some(&kind), Some(&version)) = (value.first(), value.get(1)) else {
            continue;
        };
        if !kinds.contains(&kind) || value.len() > MAX_BYTES {
            continue;
        }
        let n = taken.entry((kind, version)).or_default();
        if *n >= PER_KIND {
            continue;
        }
        *n += 1;
        let name = format!("{}{version}-{n}", kind as char);
        std::fs::write(out.join(format!("{name}-value")), &value)?;
        std::fs::write(
            out.join(format!("{name}-payload")),
            &value[6.min(value.len())..],
        )?;
    }
    let mut seen: Vec<_> = taken.into_iter().collect();
    seen.sort();
    println!("seeded {} kind/version pairs: {seen:?}", seen.len());
    Ok(())
}
