//! The key layout of rolo's single sled keyspace.
//!
//! sled applies a batch atomically only within one tree, and its multi-tree
//! transactions are slow and cannot iterate. So every record kind lives in
//! one tree under a one-byte prefix, and each operation is one batch. Integer
//! parts are big-endian so that byte order is numeric order.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `m` | meta name | format version, counters, the clv model, the last saved quality figures |
//! | `c` | customer id | customer |
//! | `s` | customer id | stats (only customers with orders) |
//! | `o` | customer id | order book: the customer's orders (format 3) |
//! | `O` | chunk seq | order-id chunk: (order id, customer) placed by one unit |
//! | `n` | customer id, instant, seq | note |
//! | `k` | chunk number | identity chunk: ext_id, emails, phones per customer |
//! | `t` | tag, 0, chunk number (id / 4096) | tag chunk: the live members with ids in that range (format 4; before, one empty key per tag and customer) |
//! | `T` | tag name | tag info: colour, description, rule query |
//! | `b` | audit seq | tag change: who gained and lost which tags, for undo |
//! | `a` | audit seq | audit event |
//! | `i` | import id | import log |
//! | `u` | import id, batch | undo batch |
//! | `g` | chunk number | search chunk |
//! | `h` | customer id, audit seq | (empty): the customer's history |
//! | `v` | segment name | saved segment: its query |
//! | `S` | day, chunk number | segment snapshot: each customer's segments that day |
//! | `E` | customer id | erasure tombstone: when and by whom a customer's personal data was erased |
//! | `M` | audit seq of the merge | merge record: before-images and what moved, for unmerge |
//! | `D` | lower id, higher id | (empty): a pair dismissed as "not a duplicate" |
//! | `R` | customer id | stamp: rule tags must look at this customer again (`rule_marks`) |

use crate::model::CustomerId;

pub const META: u8 = b'm';
pub const CUSTOMER: u8 = b'c';
pub const STATS: u8 = b's';
pub const ORDER: u8 = b'o';
pub const ORDER_ID: u8 = b'O';
pub const NOTE: u8 = b'n';
pub const EXT_ID: u8 = b'x';
pub const EMAIL: u8 = b'e';
pub const PHONE: u8 = b'p';
pub const TAG: u8 = b't';
pub const TAG_INFO: u8 = b'T';
pub const TAG_CHANGE: u8 = b'b';
pub const AUDIT: u8 = b'a';
pub const IMPORT: u8 = b'i';
pub const UNDO: u8 = b'u';
pub const SEARCH: u8 = b'g';
pub const HISTORY: u8 = b'h';
pub const IDENTITY: u8 = b'k';
pub const SAVED_SEGMENT: u8 = b'v';
pub const SNAPSHOT: u8 = b'S';
pub const ERASED: u8 = b'E';
pub const MERGE: u8 = b'M';
pub const DISMISSED: u8 = b'D';
pub const RULE_DIRTY: u8 = b'R';

/// The prefixes of the derived keys (rebuilt by `reindex`). `x`, `e` and `p`
/// were format 1's identity indexes; reindex drops any left over, and the
/// format-2 `O` keys (one per order id) with them.
pub const INDEX_PREFIXES: [u8; 8] = [EXT_ID, EMAIL, PHONE, TAG, SEARCH, STATS, IDENTITY, ORDER_ID];

pub fn meta(name: &str) -> Vec<u8> {
    prefixed(META, name.as_bytes())
}

pub fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(prefix);
    k.extend_from_slice(rest);
    k
}

pub fn id_key(prefix: u8, n: u64) -> Vec<u8> {
    prefixed(prefix, &n.to_be_bytes())
}

pub fn customer(id: CustomerId) -> Vec<u8> {
    id_key(CUSTOMER, id.0)
}

pub fn stats(id: CustomerId) -> Vec<u8> {
    id_key(STATS, id.0)
}

/// The key of an erased customer's tombstone.
pub fn erased(id: CustomerId) -> Vec<u8> {
    id_key(ERASED, id.0)
}

/// Reads the big-endian u64 that follows a one-byte prefix.
pub fn id_of(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(1..9)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Reads the customer id at the end of a multimap key (`e`, `p`, `t`).
pub fn trailing_id(key: &[u8]) -> Option<CustomerId> {
    let start = key.len().checked_sub(8)?;
    let bytes: [u8; 8] = key.get(start..)?.try_into().ok()?;
    Some(CustomerId(u64::from_be_bytes(bytes)))
}

/// A multimap entry: `prefix value 0 id`.
pub fn multi(prefix: u8, value: &str, id: CustomerId) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + value.len());
    k.push(prefix);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k.extend_from_slice(&id.0.to_be_bytes());
    k
}

/// The prefix under which every id of a multimap value lives.
pub fn multi_prefix(prefix: u8, value: &str) -> Vec<u8> {
    let mut k = prefixed(prefix, value.as_bytes());
    k.push(0);
    k
}

/// The key of a customer's order book.
pub fn orders_of(customer: CustomerId) -> Vec<u8> {
    id_key(ORDER, customer.0)
}

/// Format 2's key of one order: `o`, customer id, day, seq (21 bytes).
/// Only the migration to format 3 reads these.
pub const LEGACY_ORDER_KEY_LEN: usize = 21;

pub fn note(customer: CustomerId, at: i64, seq: u64) -> Vec<u8> {
    let mut k = id_key(NOTE, customer.0);
    k.extend_from_slice(&((at as u64) ^ 0x8000_0000_0000_0000).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The key of a tag's info.
pub fn tag_info(name: &str) -> Vec<u8> {
    prefixed(TAG_INFO, name.as_bytes())
}

/// The key of a saved segment.
pub fn saved_segment(name: &str) -> Vec<u8> {
    prefixed(SAVED_SEGMENT, name.as_bytes())
}

/// The prefix of one day's segment snapshot (days since 1970, offset so
/// that byte order is date order).
pub fn snapshot_day(day: i32) -> Vec<u8> {
    prefixed(SNAPSHOT, &((day as u32) ^ 0x8000_0000).to_be_bytes())
}

/// The day of a snapshot key.
pub fn snapshot_day_of(key: &[u8]) -> Option<i32> {
    let bytes: [u8; 4] = key.get(1..5)?.try_into().ok()?;
    Some((u32::from_be_bytes(bytes) ^ 0x8000_0000) as i32)
}

/// One chunk of a day's snapshot.
pub fn snapshot_chunk(day: i32, chunk: u32) -> Vec<u8> {
    let mut k = snapshot_day(day);
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// The key of the merge record of the merge logged as audit event `seq`.
pub fn merge(seq: u64) -> Vec<u8> {
    id_key(MERGE, seq)
}

/// The key of a dismissed pair: the lower id first, so that the pair is
/// the same key whichever way round it is named.
pub fn dismissed(a: CustomerId, b: CustomerId) -> Vec<u8> {
    let mut k = id_key(DISMISSED, a.0.min(b.0));
    k.extend_from_slice(&a.0.max(b.0).to_be_bytes());
    k
}

/// The (lower, higher) ids of a dismissed-pair key.
pub fn dismissed_of(key: &[u8]) -> Option<(u64, u64)> {
    if key.len() != 17 || key.first() != Some(&DISMISSED) {
        return None;
    }
    let lo = id_of(key)?;
    let hi = u64::from_be_bytes(key.get(9..17)?.try_into().ok()?);
    Some((lo, hi))
}

pub fn undo(import: u64, batch: u64) -> Vec<u8> {
    let mut k = id_key(UNDO, import);
    k.extend_from_slice(&batch.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_keys_sort_by_day_and_round_trip() {
        let days = [-800, -1, 0, 1, 20_000];
        for w in days.windows(2) {
            assert!(snapshot_chunk(w[0], u32::MAX) < snapshot_chunk(w[1], 0));
        }
        for d in days {
            assert_eq!(snapshot_day_of(&snapshot_chunk(d, 7)), Some(d));
        }
    }

    #[test]
    fn dismissed_pair_keys_ignore_the_order() {
        let k = dismissed(CustomerId(9), CustomerId(3));
        assert_eq!(k, dismissed(CustomerId(3), CustomerId(9)));
        assert_eq!(dismissed_of(&k), Some((3, 9)));
        assert_eq!(dismissed_of(&merge(3)), None);
    }

    #[test]
    fn multimap_keys_round_trip_ids() {
        let k = multi(EMAIL, "a@b.com", CustomerId(300));
        assert!(k.starts_with(&multi_prefix(EMAIL, "a@b.com")));
        assert_eq!(trailing_id(&k), Some(CustomerId(300)));
        assert!(!k.starts_with(&multi_prefix(EMAIL, "a@b.co")));
        assert_eq!(id_of(&customer(CustomerId(9))), Some(9));
    }
}
