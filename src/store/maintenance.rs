//! `reindex` and `check`: rebuilding and verifying everything derivable
//! (index entries, search chunks, stats, the live counter) from the records,
//! and the links merges leave (`merged_into` chains, merge records).

use std::collections::{BTreeMap, HashMap};

use super::identity::{self, IdentityChunk, IdentityMap};
use super::orders::order_hash;
use super::read::decode_at;
use super::tag_index::{self, ExpectedTags, TagChunk, parse_tag_chunk_key};
use super::{MergeRecord, OrderBook, OrderIdChunk, Result, SearchChunk, Store, chunk_of, keys};
use crate::model::searchable::haystack;
use crate::model::{Customer, CustomerId, Order, Stats};

/// Customers per reindex batch.
const BATCH: usize = 5000;
/// The most problems `check` lists.
const MAX_PROBLEMS: usize = 1000;

impl Store {
    /// Drops every derived key and rebuilds it from the records; returns the
    /// number of live customers. Safe to run again after an interruption.
    pub fn reindex(&self, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        {
            let _guard = self.begin()?;
            for prefix in keys::INDEX_PREFIXES {
                let mut batch = sled::Batch::default();
                let mut n = 0;
                for item in self.db.scan_prefix([prefix]) {
                    batch.remove(item?.0);
                    n += 1;
                    if n % 10_000 == 0 {
                        self.db.apply_batch(std::mem::take(&mut batch))?;
                    }
                }
                self.db.apply_batch(batch)?;
            }
            self.db.remove(keys::meta("live"))?;
            self.raise_id_counters()?;
        }
        let mut live = 0;
        let mut pending: Vec<Customer> = Vec::with_capacity(BATCH);
        let flush = |pending: &mut Vec<Customer>| -> Result<()> {
            let mut unit = self.begin()?;
            for c in pending.drain(..) {
                unit.index_fresh(&c)?;
            }
            unit.commit()
        };
        for c in self.all_customers() {
            let c = c?;
            live += u64::from(c.is_live());
            pending.push(c);
            if pending.len() == BATCH {
                flush(&mut pending)?;
                progress(live);
            }
        }
        flush(&mut pending)?;
        // Erased customers keep their orders (and so their figures and
        // order-id entries) without a record.
        let erased = self.erasures()?;
        for part in erased.chunks(BATCH) {
            let mut unit = self.begin()?;
            for e in part {
                unit.index_orders(e.id)?;
            }
            unit.commit()?;
        }
        self.reset_identity();
        self.reset_order_ids();
        Ok(live)
    }

    /// Verifies that every derived key agrees with the records. Returns the
    /// problems found (at most a thousand), each naming the record.
    pub fn check(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut note = |p: String| {
            if problems.len() < MAX_PROBLEMS {
                problems.push(p);
            }
        };
        let mut expected = ExpectedTags::default();
        let mut chunks: BTreeMap<u64, SearchChunk> = BTreeMap::new();
        let mut id_chunks: BTreeMap<u64, IdentityChunk> = BTreeMap::new();
        let mut live = 0u64;
        let mut merged: Vec<(CustomerId, CustomerId)> = Vec::new();
        for item in self.db.scan_prefix([keys::CUSTOMER]) {
            let (k, v) = item?;
            let c: Customer = match decode_at(&k, &v) {
                Ok(c) => c,
                Err(e) => {
                    note(e.to_string());
                    continue;
                }
            };
            if c.is_live() {
                live += 1;
                chunks
                    .entry(chunk_of(c.id))
                    .or_default()
                    .push(c.id, &haystack(&c));
            }
            // Trashed records keep their orders and figures, so that a
            // restore brings them back exactly (a merge moves a merged
            // record's orders to its survivor; see `merge`).
            let stats = self.recompute_stats(c.id)?;
            let stored = self.stats(c.id)?;
            if stats != stored {
                note(format!(
                    "customer {}: stored figures {stored:?} differ from its orders {stats:?}",
                    c.id
                ));
            }
            if let Some(into) = c.merged_into {
                merged.push((c.id, into));
            }
            expected.add(&c);
            let ids = identity::keys_of(&c);
            if !ids.is_empty() {
                id_chunks
                    .entry(chunk_of(c.id))
                    .or_default()
                    .entries
                    .push((c.id.0, ids));
            }
        }
        for item in self.db.scan_prefix([keys::IDENTITY]) {
            let (k, v) = item?;
            let stored: IdentityChunk = match decode_at(&k, &v) {
                Ok(c) => c,
                Err(e) => {
                    note(e.to_string());
                    continue;
                }
            };
            let n = keys::id_of(&k).unwrap_or(u64::MAX);
            if id_chunks.remove(&n).unwrap_or_default() != stored {
                note(format!(
                    "identity chunk {n} is out of step with its customers"
                ));
            }
        }
        for n in id_chunks.keys() {
            note(format!("identity chunk {n} is missing"));
        }
        // Format 1's per-value lookup keys: none may be left.
        for prefix in [keys::EXT_ID, keys::EMAIL, keys::PHONE] {
            for item in self.db.scan_prefix([prefix]) {
                let (k, _) = item?;
                note(format!(
                    "index entry {} has no matching live record",
                    super::error::show_key(&k)
                ));
            }
        }
        for item in self.db.scan_prefix([keys::TAG]) {
            let (k, v) = item?;
            let Some((name, n)) = parse_tag_chunk_key(&k) else {
                note(format!(
                    "tag index key {} is malformed",
                    super::error::show_key(&k)
                ));
                continue;
            };
            let stored = match decode_at::<TagChunk>(&k, &v) {
                Ok(c) if c.is_well_formed(n) => c,
                Ok(_) => {
                    note(format!(
                        "{} lists ids out of order or out of its range",
                        super::error::show_key(&k)
                    ));
                    continue;
                }
                Err(e) => {
                    note(e.to_string());
                    continue;
                }
            };
            let want = expected.take(&k).unwrap_or_default();
            let tag = String::from_utf8_lossy(name);
            for p in tag_index::chunk_problems(&tag, &stored, &want) {
                note(p);
            }
        }
        for (k, want) in expected.into_rest() {
            let tag = parse_tag_chunk_key(&k).map_or_else(String::new, |(name, _)| {
                String::from_utf8_lossy(name).into_owned()
            });
            for p in tag_index::chunk_problems(&tag, &TagChunk::default(), &want) {
                note(p);
            }
        }
        for item in self.db.scan_prefix([keys::SEARCH]) {
            let (k, v) = item?;
            let stored: SearchChunk = match decode_at(&k, &v) {
                Ok(c) => c,
                Err(e) => {
                    note(e.to_string());
                    continue;
                }
            };
            let n = keys::id_of(&k).unwrap_or(u64::MAX);
            let want = chunks.remove(&n).unwrap_or_default();
            if want != stored {
                note(format!(
                    "search chunk {n} is out of step with its {} customers",
                    want.len()
                ));
            }
        }
        for n in chunks.keys() {
            note(format!("search chunk {n} is missing"));
        }
        for e in self.erasures()? {
            if self.customer(e.id)?.is_some() {
                note(format!(
                    "customer {} is erased but its record is still there",
                    e.id
                ));
            }
            if !self.notes_of(e.id)?.is_empty() {
                note(format!(
                    "customer {} is erased but its notes are still there",
                    e.id
                ));
            }
            let stats = self.recompute_stats(e.id)?;
            let stored = self.stats(e.id)?;
            if stats != stored {
                note(format!(
                    "erased customer {}: stored figures {stored:?} differ from its orders {stats:?}",
                    e.id
                ));
            }
        }
        for item in self.db.scan_prefix([keys::STATS]) {
            let (k, _) = item?;
            let id = CustomerId(keys::id_of(&k).unwrap_or(0));
            if !self.customer_or_erased_exists(id)? {
                note(format!(
                    "figures stored for customer {id}, who does not exist"
                ));
            }
        }
        self.check_merged(&merged, &mut note)?;
        self.check_orders(&mut note)?;
        if self.live_count()? != live {
            note(format!(
                "live customer counter says {} but there are {live}",
                self.live_count()?
            ));
        }
        for (name, what, last) in self.id_counters()? {
            let counter = self.counter(name)?;
            if last > counter {
                note(format!(
                    "counter {name} is {counter} but {what} {last} exists: \
                     new ones would overwrite it"
                ));
            }
        }
        Ok(problems)
    }

    /// The counters that hand out ids, what they number and the highest id
    /// stored. A counter must never be behind its highest id (sled kept
    /// the records of a torn batch but not its counter, say).
    fn id_counters(&self) -> Result<Vec<(&'static str, &'static str, u64)>> {
        let last_id = |prefix: u8| -> Result<u64> {
            Ok(match self.db.scan_prefix([prefix]).next_back() {
                Some(item) => keys::id_of(&item?.0).unwrap_or(0),
                None => 0,
            })
        };
        let mut last_note = 0;
        for item in self.db.scan_prefix([keys::NOTE]) {
            let (k, _) = item?;
            if let Some(seq) = k
                .get(k.len().saturating_sub(8)..)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
            {
                last_note = last_note.max(u64::from_be_bytes(seq));
            }
        }
        Ok(vec![
            (
                "next_customer",
                "customer",
                last_id(keys::CUSTOMER)?.max(last_id(keys::ERASED)?),
            ),
            ("next_import", "import", last_id(keys::IMPORT)?),
            ("next_audit", "audit event", last_id(keys::AUDIT)?),
            ("next_note", "note", last_note),
        ])
    }

    /// Raises every id counter to its highest stored id (see `id_counters`).
    fn raise_id_counters(&self) -> Result<()> {
        for (name, _, last) in self.id_counters()? {
            if last > self.counter(name)? {
                self.db.insert(keys::meta(name), &last.to_be_bytes())?;
            }
        }
        Ok(())
    }

    /// Order books: owned by an existing customer, oldest first, each order
    /// naming its owner, order ids unique, and every order findable through
    /// the order-id chunks.
    fn check_orders(&self, note: &mut dyn FnMut(String)) -> Result<()> {
        let mut placed = IdentityMap::default();
        for item in self.scan::<OrderIdChunk>(&[keys::ORDER_ID]) {
            match item {
                Ok((_, chunk)) => {
                    for (order_id, customer) in chunk.entries() {
                        placed.add(order_hash(order_id), customer);
                    }
                }
                Err(e) => note(e.to_string()),
            }
        }
        // Order-id hash -> owner; a repeated hash is confirmed by string.
        let mut seen: HashMap<u64, u64> = HashMap::new();
        for item in self.db.scan_prefix([keys::ORDER]) {
            let (k, v) = item?;
            if k.len() == keys::LEGACY_ORDER_KEY_LEN {
                note(format!(
                    "order key {} is in the format-2 layout; run `rolo check --repair`",
                    super::error::show_key(&k)
                ));
                continue;
            }
            let owner = CustomerId(keys::id_of(&k).unwrap_or(0));
            let book: OrderBook = match decode_at(&k, &v) {
                Ok(b) => b,
                Err(e) => {
                    note(e.to_string());
                    continue;
                }
            };
            if !self.customer_or_erased_exists(owner)? {
                note(format!(
                    "{} orders stored for customer {owner}, who does not exist",
                    book.orders.len()
                ));
            }
            if book.is_empty() {
                note(format!("customer {owner} has an empty order book"));
            }
            if !book.orders.is_sorted_by_key(|o| o.date) {
                note(format!("customer {owner}'s orders are not oldest first"));
            }
            for o in &book.orders {
                if o.customer != owner {
                    note(format!(
                        "order {} in customer {owner}'s book names customer {}",
                        o.order_id, o.customer
                    ));
                }
                let hash = order_hash(&o.order_id);
                if !placed.candidates(hash).contains(&owner.0) {
                    note(format!(
                        "order {} of customer {owner} is missing from the order-id chunks",
                        o.order_id
                    ));
                }
                if let Some(first) = seen.insert(hash, owner.0) {
                    let twice = if first == owner.0 {
                        book.orders
                            .iter()
                            .filter(|x| x.order_id == o.order_id)
                            .count()
                            > 1
                    } else {
                        self.book(CustomerId(first))?.get(&o.order_id).is_some()
                    };
                    if twice {
                        note(format!("order id {} is stored twice", o.order_id));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `id` has a record or an erasure tombstone (which keeps its orders).
    fn customer_or_erased_exists(&self, id: CustomerId) -> Result<bool> {
        Ok(self.raw_get(&keys::customer(id))?.is_some()
            || self.raw_get(&keys::erased(id))?.is_some())
    }

    /// Merged records lead to a record that exists and is not merged
    /// (within 64 steps, so no cycle). A merged record holding orders is
    /// not a fault: `Store::merge` moves them, but a record hidden by other
    /// means keeps its own, which an unhide brings back with it. Every
    /// merge still in effect has its
    /// survivor and each merged record hidden behind it; dismissed-pair
    /// keys are well-formed.
    fn check_merged(
        &self,
        merged: &[(CustomerId, CustomerId)],
        note: &mut dyn FnMut(String),
    ) -> Result<()> {
        'records: for (id, into) in merged {
            let mut at = *into;
            for _ in 0..64 {
                if at == *id {
                    note(format!(
                        "customer {id} is merged into itself (a cycle of merges)"
                    ));
                    continue 'records;
                }
                match self.customer(at)? {
                    None => {
                        note(format!(
                            "customer {id} is merged into customer {at}, who does not exist"
                        ));
                        continue 'records;
                    }
                    Some(c) => match c.merged_into {
                        Some(next) => at = next,
                        None => continue 'records,
                    },
                }
            }
            note(format!("customer {id}'s chain of merges does not end"));
        }
        for item in self.scan::<MergeRecord>(&[keys::MERGE]) {
            let (k, m) = match item {
                Ok(x) => x,
                Err(e) => {
                    note(e.to_string());
                    continue;
                }
            };
            if keys::id_of(&k) != Some(m.seq) {
                note(format!(
                    "merge record #{} is stored under the wrong key",
                    m.seq
                ));
            }
            if !m.is_active() {
                continue;
            }
            let sid = m.survivor_before.id;
            if self.customer(sid)?.is_none() {
                note(format!(
                    "merge #{}: the survivor, customer {sid}, does not exist",
                    m.seq
                ));
            }
            for o in &m.others {
                let id = o.before.id;
                match self.customer(id)? {
                    Some(c) if c.merged_into == Some(sid) => {}
                    Some(_) => note(format!(
                        "merge #{}: customer {id} is not merged into customer {sid}",
                        m.seq
                    )),
                    None => note(format!("merge #{}: customer {id} does not exist", m.seq)),
                }
            }
        }
        for item in self.db.scan_prefix([keys::DISMISSED]) {
            let (k, _) = item?;
            if keys::dismissed_of(&k).is_none_or(|(lo, hi)| lo >= hi) {
                note(format!(
                    "dismissed-pair key {} is malformed",
                    super::error::show_key(&k)
                ));
            }
        }
        Ok(())
    }

    fn recompute_stats(&self, id: CustomerId) -> Result<Stats> {
        Ok(stats_of(&self.book(id)?.orders))
    }
}

/// The derived figures of a customer's orders (in any order).
pub fn stats_of(orders: &[Order]) -> Stats {
    let mut days: Vec<_> = orders.iter().map(|o| o.date).collect();
    days.sort_unstable();
    days.dedup();
    Stats {
        orders: orders.len() as u32,
        order_days: days.len() as u32,
        spend_minor: orders
            .iter()
            .fold(0i64, |a, o| a.saturating_add(o.amount_minor)),
        first_order: days.first().copied(),
        last_order: days.last().copied(),
    }
}
