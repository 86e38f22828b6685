//! A unit of work: reads that see its own pending writes, and one atomic
//! commit of records, index entries, search chunks and audit events.
//!
//! Callers never write index entries themselves: `save_customer` and
//! `save_order` derive them from the record, so an index cannot be
//! forgotten. Derived figures (stats) of every customer whose orders changed
//! are recomputed from that customer's orders at commit time, which keeps
//! them exact whatever mix of inserts, updates and removals the unit held.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::MutexGuard;

use super::codec::{self, Record};
use super::identity::{self, IdKey, IdentityChunk};
use super::orders::{OrderBook, OrderIdChunk, order_hash};
use super::read::decode_at;
use super::tag_index::{TagChunk, tag_chunk_key, tag_chunk_of, tag_moves};
use super::{ImportLog, Result, SearchChunk, Store, UndoBatch, chunk_of, keys};
use crate::model::searchable::haystack;
use crate::model::{AuditEvent, Customer, CustomerId, FieldChange, Note, Order};

/// Pending changes, committed as one sled batch. Dropping a unit without
/// committing discards everything it held.
pub struct Unit<'s> {
    pub(super) store: &'s Store,
    _guard: MutexGuard<'s, ()>,
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    chunks: BTreeMap<u64, SearchChunk>,
    id_chunks: BTreeMap<u64, IdentityChunk>,
    /// Customer ids allocated by this unit (never on disk yet).
    fresh: foldhash::HashSet<CustomerId>,
    /// Identity map changes to apply once the batch is on disk: (hash, id).
    id_added: foldhash::HashMap<u64, Vec<u64>>,
    id_removed: Vec<(u64, u64)>,
    /// Order books read or changed by this unit; `dirty_books` are written.
    books: foldhash::HashMap<CustomerId, OrderBook>,
    dirty_books: BTreeSet<CustomerId>,
    /// Orders placed with a customer by this unit (the next order-id chunk),
    /// and the same as a map for lookups before commit.
    placed: OrderIdChunk,
    placed_map: foldhash::HashMap<u64, Vec<u64>>,
    dirty_stats: BTreeSet<CustomerId>,
    /// Tag chunks this unit read or changed, by key (see `tag_index`).
    tag_chunks: BTreeMap<Vec<u8>, TagChunk>,
    /// Customers whose record this unit wrote or dropped (with those in
    /// `dirty_stats`: the ones rule tags must look at again).
    touched: BTreeSet<CustomerId>,
    /// Set by rule refreshes: their own tag changes mark nobody.
    pub(super) quiet_rules: bool,
    live_delta: i64,
    now: DateTime<Utc>,
}

impl<'s> Unit<'s> {
    pub(super) fn new(store: &'s Store, guard: MutexGuard<'s, ()>) -> Self {
        Unit {
            store,
            _guard: guard,
            overlay: BTreeMap::new(),
            chunks: BTreeMap::new(),
            id_chunks: BTreeMap::new(),
            fresh: Default::default(),
            id_added: Default::default(),
            id_removed: Vec::new(),
            books: Default::default(),
            dirty_books: BTreeSet::new(),
            placed: OrderIdChunk::default(),
            placed_map: Default::default(),
            dirty_stats: BTreeSet::new(),
            tag_chunks: BTreeMap::new(),
            touched: BTreeSet::new(),
            quiet_rules: false,
            live_delta: 0,
            now: store.now(),
        }
    }

    /// The instant this unit stamps on what it writes.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Number of pending key writes (for batch sizing).
    pub fn pending(&self) -> usize {
        self.overlay.len()
    }

    pub(super) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.store.raw_get(key)?.map(|v| v.to_vec())),
        }
    }

    pub(super) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.overlay.insert(key, Some(value));
    }

    pub(super) fn del(&mut self, key: Vec<u8>) {
        self.overlay.insert(key, None);
    }

    pub(super) fn put_record<T: Record + Serialize>(&mut self, key: Vec<u8>, value: &T) {
        self.put(key, codec::encode(value));
    }

    pub(super) fn get_record<T: Record + DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.get(key)? {
            Some(bytes) => decode_at(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The keys and values under `prefix`, as they will be after commit.
    pub(super) fn scan_merged(&self, prefix: &[u8]) -> Result<BTreeMap<Vec<u8>, Vec<u8>>> {
        let mut out = BTreeMap::new();
        for item in self.store.db.scan_prefix(prefix) {
            let (k, v) = item?;
            out.insert(k.to_vec(), v.to_vec());
        }
        for (k, v) in self.overlay.range(prefix.to_vec()..) {
            if !k.starts_with(prefix) {
                break;
            }
            match v {
                Some(v) => out.insert(k.clone(), v.clone()),
                None => out.remove(k),
            };
        }
        Ok(out)
    }

    pub(super) fn next_counter(&mut self, name: &str) -> Result<u64> {
        let key = keys::meta(name);
        let current = self
            .get(&key)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map_or(0, u64::from_be_bytes);
        let next = current + 1;
        self.put(key, next.to_be_bytes().to_vec());
        Ok(next)
    }

    /// A fresh customer id (never reused, even after a revert).
    pub fn new_customer_id(&mut self) -> Result<CustomerId> {
        let id = CustomerId(self.next_counter("next_customer")?);
        self.fresh.insert(id);
        Ok(id)
    }

    /// A fresh import id.
    pub fn new_import_id(&mut self) -> Result<u64> {
        self.next_counter("next_import")
    }

    /// One customer as this unit sees it.
    pub fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        self.get_record(&keys::customer(id))
    }

    /// Many customers as this unit sees them, in the order of `ids`. Large
    /// sets are read on every core: reading and decoding is most of a bulk
    /// change's work before its batch.
    pub fn customers_of(&self, ids: &[CustomerId]) -> Result<Vec<Option<Customer>>> {
        const PER_THREAD_MIN: usize = 4096;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parts = cores.min(ids.len() / PER_THREAD_MIN).max(1);
        if parts == 1 {
            return ids.iter().map(|&id| self.customer(id)).collect();
        }
        let step = ids.len().div_ceil(parts);
        let read = |part: &[CustomerId]| -> Result<Vec<Option<Customer>>> {
            part.iter().map(|&id| self.customer(id)).collect()
        };
        let read = &read;
        let results: Vec<Result<Vec<Option<Customer>>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .chunks(step)
                .map(|part| scope.spawn(move || read(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut out = Vec::with_capacity(ids.len());
        for part in results {
            out.extend(part?);
        }
        Ok(out)
    }

    /// The customer holding `ext_id` (live or merged), as this unit sees it.
    pub fn find_ext_id(&self, ext_id: &str) -> Result<Option<CustomerId>> {
        Ok(self.lookup(IdKey::Ext(ext_id))?.first().copied())
    }

    /// Live customers with this email, lowest id first.
    pub fn find_email(&self, email: &str) -> Result<Vec<CustomerId>> {
        self.lookup(IdKey::Email(email))
    }

    /// Live customers with this phone, lowest id first.
    pub fn find_phone(&self, phone: &str) -> Result<Vec<CustomerId>> {
        self.lookup(IdKey::Phone(phone))
    }

    /// Candidates from the store's map plus this unit's pending additions,
    /// each confirmed against the record as this unit sees it.
    fn lookup(&self, key: IdKey) -> Result<Vec<CustomerId>> {
        let hash = key.hash64();
        let mut candidates = match self.store.identity()?.as_ref() {
            Some(map) => map.candidates(hash),
            None => Vec::new(),
        };
        if let Some(ids) = self.id_added.get(&hash) {
            candidates.extend(ids);
        }
        identity::confirmed(candidates, key, |id| self.customer(id))
    }

    /// Rewrites the identity keys of `id` in its chunk and notes the map changes.
    fn set_identity(&mut self, id: CustomerId, old: Vec<String>, new: Vec<String>) -> Result<()> {
        if old == new {
            return Ok(());
        }
        for k in old.iter().filter(|k| !new.contains(k)) {
            if let Some(h) = identity::hash_stored(k) {
                self.id_removed.push((h, id.0));
            }
        }
        for k in new.iter().filter(|k| !old.contains(k)) {
            if let Some(h) = identity::hash_stored(k) {
                self.id_added.entry(h).or_default().push(id.0);
            }
        }
        let n = chunk_of(id);
        if !self.id_chunks.contains_key(&n) {
            let loaded = self
                .get_record(&keys::id_key(keys::IDENTITY, n))?
                .unwrap_or_default();
            self.id_chunks.insert(n, loaded);
        }
        self.id_chunks.entry(n).or_default().set(id, new);
        Ok(())
    }

    /// Writes `c` with every index entry it implies and returns the version it replaced.
    pub fn save_customer(&mut self, c: &Customer) -> Result<Option<Customer>> {
        let key = keys::customer(c.id);
        // An id this unit allocated has never been on disk: skip the read.
        let old: Option<Customer> =
            if self.fresh.contains(&c.id) && !self.overlay.contains_key(&key) {
                None
            } else {
                self.get_record(&key)?
            };
        self.write_customer(old.as_ref(), c)?;
        Ok(old)
    }

    /// Writes `c` over `old`, the version of the same customer this unit
    /// sees (the caller read it in this unit and wrote nothing to it since):
    /// a bulk change saves a read and a decode per customer.
    pub(super) fn save_customer_over(&mut self, old: &Customer, c: &Customer) -> Result<()> {
        self.write_customer(Some(old), c)
    }

    fn write_customer(&mut self, old: Option<&Customer>, c: &Customer) -> Result<()> {
        let key = keys::customer(c.id);
        self.touched.insert(c.id);
        self.move_tags(c.id, old, Some(c))?;
        let old_keys = old.map(identity::keys_of).unwrap_or_default();
        self.set_identity(c.id, old_keys, identity::keys_of(c))?;
        let was_live = old.is_some_and(Customer::is_live);
        if was_live != c.is_live() {
            self.live_delta += if c.is_live() { 1 } else { -1 };
        }
        let chunk_no = chunk_of(c.id);
        let text_changed = old.is_none_or(|o| !o.is_live() || haystack_inputs_differ(o, c));
        if c.is_live() && text_changed {
            let text = haystack(c);
            self.chunk(chunk_no)?.set(c.id, text);
        } else if !c.is_live() && was_live {
            self.chunk(chunk_no)?.remove(c.id);
        }
        self.put_record(key, c);
        Ok(())
    }

    /// Brings the tag index in step with a customer going from `old` to
    /// `new` (either absent: created, dropped).
    fn move_tags(
        &mut self,
        id: CustomerId,
        old: Option<&Customer>,
        new: Option<&Customer>,
    ) -> Result<()> {
        let (lost, gained) = tag_moves(old, new);
        let n = tag_chunk_of(id);
        for t in lost {
            self.tag_chunk(t, n)?.remove(id);
        }
        for t in gained {
            self.tag_chunk(t, n)?.insert(id);
        }
        Ok(())
    }

    fn tag_chunk(&mut self, tag: &str, n: u64) -> Result<&mut TagChunk> {
        let key = tag_chunk_key(tag, n);
        if !self.tag_chunks.contains_key(&key) {
            let loaded = self.get_record(&key)?.unwrap_or_default();
            self.tag_chunks.insert(key.clone(), loaded);
        }
        Ok(self.tag_chunks.entry(key).or_default())
    }

    fn chunk(&mut self, n: u64) -> Result<&mut SearchChunk> {
        if !self.chunks.contains_key(&n) {
            let loaded = self
                .get_record(&keys::id_key(keys::SEARCH, n))?
                .unwrap_or_default();
            self.chunks.insert(n, loaded);
        }
        Ok(self.chunks.entry(n).or_default())
    }

    /// Deletes a customer for good, with its index entries, orders, notes
    /// and history links. Only reverting the import that created it does this;
    /// users move customers to the trash instead.
    pub fn purge_customer(&mut self, id: CustomerId) -> Result<Option<Customer>> {
        let Some(old) = self.drop_record(id)? else {
            return Ok(None);
        };
        // Its order-id chunk entries go stale; lookups confirm in the book.
        self.books.remove(&id);
        self.dirty_books.remove(&id);
        self.del(keys::orders_of(id));
        self.remove_notes(id)?;
        for k in self
            .scan_merged(&keys::id_key(keys::HISTORY, id.0))?
            .into_keys()
        {
            self.del(k);
        }
        self.del(keys::stats(id));
        self.dirty_stats.remove(&id);
        Ok(Some(old))
    }

    /// Deletes a customer's record with everything derived from it (tag
    /// index entries, identity keys, search text, the live count), leaving
    /// its orders, notes, figures and history links alone; returns it.
    pub(super) fn drop_record(&mut self, id: CustomerId) -> Result<Option<Customer>> {
        let key = keys::customer(id);
        let Some(old) = self.get_record::<Customer>(&key)? else {
            return Ok(None);
        };
        self.touched.insert(id);
        self.move_tags(id, Some(&old), None)?;
        self.set_identity(id, identity::keys_of(&old), Vec::new())?;
        if old.is_live() {
            self.live_delta -= 1;
            self.chunk(chunk_of(id))?.remove(id);
        }
        self.del(key);
        Ok(Some(old))
    }

    /// Deletes every note of a customer; returns how many there were.
    pub(super) fn remove_notes(&mut self, id: CustomerId) -> Result<u64> {
        let keys = self.scan_merged(&keys::id_key(keys::NOTE, id.0))?;
        let n = keys.len() as u64;
        for k in keys.into_keys() {
            self.del(k);
        }
        Ok(n)
    }

    /// Drops the free-form attributes of a customer's orders, keeping ids,
    /// dates, amounts, quantities, currencies and channels (so its figures do
    /// not change); returns (orders kept, orders that had attributes).
    pub(super) fn strip_order_attrs(&mut self, id: CustomerId) -> Result<(u64, u64)> {
        let book = self.book(id)?;
        let mut stripped = 0;
        for o in &mut book.orders {
            if !o.attrs.is_empty() {
                o.attrs.clear();
                stripped += 1;
            }
        }
        let kept = book.orders.len() as u64;
        if stripped > 0 {
            self.dirty_books.insert(id);
        }
        Ok((kept, stripped))
    }

    /// A customer's order book as this unit sees it, read once per unit.
    pub(super) fn book(&mut self, id: CustomerId) -> Result<&mut OrderBook> {
        if !self.books.contains_key(&id) {
            let loaded = if self.fresh.contains(&id) {
                OrderBook::default()
            } else {
                self.get_record(&keys::orders_of(id))?.unwrap_or_default()
            };
            self.books.insert(id, loaded);
        }
        Ok(self.books.entry(id).or_default())
    }

    /// Marks a book for writing and its customer's figures for recomputing.
    pub(super) fn touch_book(&mut self, id: CustomerId) {
        self.dirty_books.insert(id);
        self.dirty_stats.insert(id);
    }

    /// Records that `order_id` now lives in `customer`'s book.
    pub(super) fn place(&mut self, order_id: &str, customer: CustomerId) {
        self.placed.push(order_id, customer.0);
        self.placed_map
            .entry(order_hash(order_id))
            .or_default()
            .push(customer.0);
    }

    /// The order with this order_id, as this unit sees it.
    pub fn order(&mut self, order_id: &str) -> Result<Option<Order>> {
        let hash = order_hash(order_id);
        let mut candidates = self.store.order_candidates(hash)?;
        if let Some(more) = self.placed_map.get(&hash) {
            candidates.extend(more);
        }
        candidates.sort_unstable();
        candidates.dedup();
        for c in candidates {
            if let Some(o) = self.book(CustomerId(c))?.get(order_id) {
                return Ok(Some(o.clone()));
            }
        }
        Ok(None)
    }

    /// Inserts or replaces (by `order_id`) an order; returns the version it replaced.
    pub fn save_order(&mut self, o: &Order) -> Result<Option<Order>> {
        let old = self.order(&o.order_id)?;
        match &old {
            Some(old) if old.customer == o.customer => {}
            Some(old) => {
                self.book(old.customer)?.remove(&o.order_id);
                self.touch_book(old.customer);
                self.place(&o.order_id, o.customer);
            }
            None => self.place(&o.order_id, o.customer),
        }
        self.book(o.customer)?.upsert(o.clone());
        self.touch_book(o.customer);
        Ok(old)
    }

    /// Removes an order by its order_id; returns it.
    pub fn remove_order(&mut self, order_id: &str) -> Result<Option<Order>> {
        let old = self.order(order_id)?;
        if let Some(o) = &old {
            self.book(o.customer)?.remove(order_id);
            self.touch_book(o.customer);
        }
        Ok(old)
    }

    /// Adds a note; returns its key (for undo).
    pub fn add_note(&mut self, n: &Note) -> Result<Vec<u8>> {
        let seq = self.next_counter("next_note")?;
        let key = keys::note(n.customer, n.at.timestamp(), seq);
        self.put_record(key.clone(), n);
        Ok(key)
    }

    /// Whether an identical note (same customer, instant, kind, text and
    /// score) exists, so that re-importing a notes file adds nothing.
    pub fn has_note(&self, n: &Note) -> Result<bool> {
        let mut prefix = keys::note(n.customer, n.at.timestamp(), 0);
        prefix.truncate(prefix.len() - 8);
        for (k, v) in self.scan_merged(&prefix)? {
            let existing: Note = decode_at(&k, &v)?;
            if existing == *n {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Removes the note stored under `key`.
    pub fn remove_note(&mut self, key: &[u8]) {
        self.del(key.to_vec());
    }

    /// Logs an operation. Events naming a few customers are linked into each
    /// one's history; bulk operations keep their member list elsewhere.
    pub fn audit(
        &mut self,
        op: &str,
        summary: String,
        customers: Vec<CustomerId>,
        before: Option<Customer>,
        after: Option<Customer>,
    ) -> Result<u64> {
        let seq = self.next_counter("next_audit")?;
        let changes = match (&before, &after) {
            (Some(b), Some(a)) => FieldChange::diff(b, a),
            _ => Vec::new(),
        };
        if customers.len() <= 64 {
            for c in &customers {
                let mut k = keys::id_key(keys::HISTORY, c.0);
                k.extend_from_slice(&seq.to_be_bytes());
                self.put(k, Vec::new());
            }
        }
        let event = AuditEvent {
            seq,
            at: self.now,
            user: self.store.user().to_owned(),
            op: op.to_owned(),
            customers,
            summary,
            changes,
            before,
            after,
            undoes: None,
        };
        self.put_record(keys::id_key(keys::AUDIT, seq), &event);
        Ok(seq)
    }

    /// Logs an undo or redo of event `undoes` on one customer.
    pub fn audit_undo(
        &mut self,
        op: &str,
        undoes: u64,
        customer: CustomerId,
        before: Option<Customer>,
        after: Option<Customer>,
    ) -> Result<u64> {
        let summary = format!("{op} of change #{undoes}");
        let seq = self.audit(op, summary, vec![customer], before, after)?;
        let key = keys::id_key(keys::AUDIT, seq);
        if let Some(mut event) = self.get_record::<AuditEvent>(&key)? {
            event.undoes = Some(undoes);
            self.put_record(key, &event);
        }
        Ok(seq)
    }

    /// Logs an undo or redo of event `undoes` that touched `customers`
    /// (linked into their histories up to 64, as [`Unit::audit`] does).
    pub(super) fn audit_undo_many(
        &mut self,
        op: &str,
        undoes: u64,
        customers: Vec<CustomerId>,
    ) -> Result<u64> {
        let summary = format!("{op} of change #{undoes}");
        let listed = if customers.len() <= 64 {
            customers
        } else {
            Vec::new()
        };
        let seq = self.audit(op, summary, listed, None, None)?;
        let key = keys::id_key(keys::AUDIT, seq);
        if let Some(mut event) = self.get_record::<AuditEvent>(&key)? {
            event.undoes = Some(undoes);
            self.put_record(key, &event);
        }
        Ok(seq)
    }

    /// Writes (or rewrites) an import's log.
    pub fn save_import_log(&mut self, log: &ImportLog) {
        self.put_record(keys::id_key(keys::IMPORT, log.id), log);
    }

    /// Stores the undo data of one import batch.
    pub fn save_undo(&mut self, import: u64, batch: u64, undo: &UndoBatch) {
        self.put_record(keys::undo(import, batch), undo);
    }

    /// The undo batches of an import, as (batch number, batch), in order.
    pub fn undo_batches(&self, import: u64) -> Result<Vec<(u64, UndoBatch)>> {
        let mut out = Vec::new();
        for (k, v) in self.scan_merged(&keys::id_key(keys::UNDO, import))? {
            let n = k
                .get(9..17)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            out.push((n, decode_at(&k, &v)?));
        }
        Ok(out)
    }

    /// Drops the undo data of one batch (after it was reverted).
    pub fn drop_undo(&mut self, import: u64, batch: u64) {
        self.del(keys::undo(import, batch));
    }

    fn recompute_stats(&mut self, id: CustomerId) -> Result<()> {
        let stats = super::stats_of(&self.book(id)?.orders);
        if stats.orders == 0 {
            self.del(keys::stats(id));
        } else {
            self.put_record(keys::stats(id), &stats);
        }
        Ok(())
    }

    /// Writes every derived key of `c` unconditionally (for `reindex`, after
    /// the derived keys were dropped).
    pub(crate) fn index_fresh(&mut self, c: &Customer) -> Result<()> {
        self.move_tags(c.id, None, Some(c))?;
        self.set_identity(c.id, Vec::new(), identity::keys_of(c))?;
        if c.is_live() {
            self.live_delta += 1;
            let text = haystack(c);
            self.chunk(chunk_of(c.id))?.set(c.id, text);
        }
        self.index_orders(c.id)
    }

    /// Places a customer's orders in the next order-id chunk and marks its
    /// figures for recomputing (for `reindex`; also for erased customers,
    /// whose orders stay without a record).
    pub(crate) fn index_orders(&mut self, id: CustomerId) -> Result<()> {
        let ids: Vec<String> = self
            .book(id)?
            .orders
            .iter()
            .map(|o| o.order_id.clone())
            .collect();
        for order_id in ids {
            self.place(&order_id, id);
        }
        self.dirty_stats.insert(id);
        Ok(())
    }

    /// Writes everything as one atomic batch, then flushes to disk. Only
    /// when this returns `Ok` is the change durable.
    pub fn commit(self) -> Result<()> {
        let store = self.store;
        self.commit_unflushed()?;
        store.flush()
    }

    /// Writes everything as one atomic batch without waiting for the disk.
    /// sled recovers whole batches only, so a crash loses at most the last
    /// few unflushed batches, never part of one. For bulk work (imports)
    /// that flushes at its own checkpoints and before it reports.
    pub fn commit_unflushed(mut self) -> Result<()> {
        for id in std::mem::take(&mut self.dirty_books) {
            let key = keys::orders_of(id);
            match self.books.get(&id) {
                Some(book) if !book.is_empty() => {
                    let bytes = codec::encode(book);
                    self.put(key, bytes);
                }
                _ => self.del(key),
            }
        }
        let mut touched = std::mem::take(&mut self.touched);
        touched.extend(self.dirty_stats.iter().copied());
        if !self.quiet_rules {
            self.mark_for_rules(&touched)?;
        }
        for id in std::mem::take(&mut self.dirty_stats) {
            self.recompute_stats(id)?;
        }
        let placed = std::mem::take(&mut self.placed);
        if !placed.is_empty() {
            let n = self.next_counter("next_order_chunk")?;
            self.put_record(keys::id_key(keys::ORDER_ID, n), &placed);
        }
        for (n, chunk) in std::mem::take(&mut self.chunks) {
            let key = keys::id_key(keys::SEARCH, n);
            if chunk.is_empty() {
                self.del(key);
            } else {
                self.put_record(key, &chunk);
            }
        }
        for (key, chunk) in std::mem::take(&mut self.tag_chunks) {
            if chunk.is_empty() {
                self.del(key);
            } else {
                self.put_record(key, &chunk);
            }
        }
        for (n, chunk) in std::mem::take(&mut self.id_chunks) {
            let key = keys::id_key(keys::IDENTITY, n);
            if chunk.entries.is_empty() {
                self.del(key);
            } else {
                self.put_record(key, &chunk);
            }
        }
        // Counted for the commit marker: a database that opens with fewer
        // commits than its marker says has lost acknowledged changes.
        self.next_counter(super::COMMIT_COUNTER)?;
        if self.live_delta != 0 {
            let key = keys::meta("live");
            let current = self
                .get(&key)?
                .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
                .map_or(0, u64::from_be_bytes);
            let next = current.saturating_add_signed(self.live_delta);
            self.put(key, next.to_be_bytes().to_vec());
        }
        let mut batch = sled::Batch::default();
        let infos_changed = self
            .overlay
            .range(vec![keys::TAG_INFO]..vec![keys::TAG_INFO + 1])
            .next()
            .is_some();
        let mut bytes = 0u64;
        for (k, v) in std::mem::take(&mut self.overlay) {
            bytes += k.len() as u64;
            match v {
                Some(v) => {
                    bytes += v.len() as u64;
                    batch.insert(k, v);
                }
                None => batch.remove(k),
            }
        }
        super::space::ensure(&self.store.path, bytes).map_err(super::StoreError::DiskFull)?;
        if let Err(e) = self.store.db.apply_batch(batch) {
            self.store.note_io_failure();
            return Err(e.into());
        }
        if infos_changed {
            self.store.forget_rule_tags();
        }
        // The map follows only what is on disk. If it is not loaded, it will
        // be built from the chunks just written when first needed.
        if let Some(map) = self
            .store
            .identity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            for (h, id) in &self.id_removed {
                map.remove(*h, *id);
            }
            for (h, ids) in &self.id_added {
                for id in ids {
                    map.add(*h, *id);
                }
            }
        }
        self.store.note_placed(&self.placed_map);
        Ok(())
    }
}

/// Whether anything the haystack is built from differs.
fn haystack_inputs_differ(a: &Customer, b: &Customer) -> bool {
    a.name != b.name
        || a.given_name != b.given_name
        || a.family_name != b.family_name
        || a.emails != b.emails
        || a.phones != b.phones
        || a.company != b.company
        || a.ext_id != b.ext_id
}
