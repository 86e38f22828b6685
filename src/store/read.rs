//! Reading records back: point lookups, per-customer lists and full scans.

use serde::de::DeserializeOwned;

use super::codec::{self, Record};
use super::error::show_key;
use super::{IdKey, ImportLog, OrderBook, Result, SearchChunk, Store, StoreError, TagChunk, keys};
use crate::model::{AuditEvent, Customer, CustomerId, Note, Order, Stats};

/// Decodes one stored value, naming the key when it is damaged.
pub(crate) fn decode_at<T: Record + DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    codec::decode(bytes).map_err(|source| StoreError::Corrupt {
        what: T::NAME,
        key: show_key(key),
        source,
    })
}

impl Store {
    pub(crate) fn raw_get(&self, key: &[u8]) -> Result<Option<sled::IVec>> {
        Ok(self.db.get(key)?)
    }

    pub(super) fn get_record<T: Record + DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.db.get(key)? {
            Some(bytes) => decode_at(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every stored key and value, in key order: for diagnostics and for
    /// tests that compare whole databases.
    pub fn raw_entries(&self) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + use<> {
        self.db.iter().map(|item| {
            item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(Into::into)
        })
    }

    /// Iterates the decoded values under `prefix`, in key order.
    pub(crate) fn scan<T: Record + DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(sled::IVec, T)>> + use<T> {
        self.db.scan_prefix(prefix).map(|item| {
            let (k, v) = item?;
            let value = decode_at(&k, &v)?;
            Ok((k, value))
        })
    }

    /// One customer, live or not.
    pub fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        self.get_record(&keys::customer(id))
    }

    /// One customer that must exist (an erased one is reported as such).
    pub fn require_customer(&self, id: CustomerId) -> Result<Customer> {
        match self.customer(id)? {
            Some(c) => Ok(c),
            None if self.raw_get(&keys::erased(id))?.is_some() => Err(StoreError::Erased(id)),
            None => Err(StoreError::NotFound(id)),
        }
    }

    /// Every customer record (live, merged and trashed), in id order.
    pub fn all_customers(&self) -> impl Iterator<Item = Result<Customer>> + use<> {
        self.scan::<Customer>(&[keys::CUSTOMER])
            .map(|r| r.map(|(_, c)| c))
    }

    /// The live customers (neither merged nor trashed), in id order.
    pub fn customers(&self) -> impl Iterator<Item = Result<Customer>> + use<> {
        self.all_customers()
            .filter(|r| r.as_ref().map_or(true, Customer::is_live))
    }

    /// The live customers with their order figures (`None`: no orders), in
    /// id order: one sequential scan of each prefix, merged by id.
    pub fn live_with_stats(
        &self,
    ) -> impl Iterator<Item = Result<(Customer, Option<Stats>)>> + use<> {
        self.live_with_stats_in(0..u64::MAX)
    }

    /// [`Store::live_with_stats`] for the customer ids in `ids` (so that
    /// threads can scan parts of the keyspace at once).
    pub fn live_with_stats_in(
        &self,
        ids: std::ops::Range<u64>,
    ) -> impl Iterator<Item = Result<(Customer, Option<Stats>)>> + use<> {
        let range = |prefix: u8| keys::id_key(prefix, ids.start)..keys::id_key(prefix, ids.end);
        let mut stats = self
            .db
            .range(range(keys::STATS))
            .map(|item| {
                let (k, v) = item?;
                Ok((
                    CustomerId(keys::id_of(&k).unwrap_or(0)),
                    decode_at::<Stats>(&k, &v)?,
                ))
            })
            .peekable();
        let customers = self.db.range(range(keys::CUSTOMER)).filter_map(|item| {
            let c = item
                .map_err(Into::into)
                .and_then(|(k, v)| decode_at::<Customer>(&k, &v));
            match c {
                Ok(c) if !c.is_live() => None,
                other => Some(other),
            }
        });
        customers.map(move |c: Result<Customer>| {
            let c = c?;
            loop {
                match stats.peek() {
                    Some(Ok((id, _))) if *id < c.id => {
                        stats.next();
                    }
                    Some(Ok((id, s))) if *id == c.id => {
                        let s = *s;
                        stats.next();
                        return Ok((c, Some(s)));
                    }
                    Some(Err(_)) => {
                        if let Some(Err(e)) = stats.next() {
                            return Err(e);
                        }
                    }
                    _ => return Ok((c, None)),
                }
            }
        })
    }

    /// One more than the highest customer id stored (0 when there is none).
    pub fn customer_id_bound(&self) -> Result<u64> {
        Ok(match self.db.scan_prefix([keys::CUSTOMER]).next_back() {
            Some(item) => keys::id_of(&item?.0).map_or(0, |id| id.saturating_add(1)),
            None => 0,
        })
    }

    /// The number of live customers (kept as a counter; no scan).
    pub fn live_count(&self) -> Result<u64> {
        self.counter("live")
    }

    pub(crate) fn counter(&self, name: &str) -> Result<u64> {
        Ok(self
            .db
            .get(keys::meta(name))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// A customer's derived figures (all zero without orders).
    pub fn stats(&self, id: CustomerId) -> Result<Stats> {
        Ok(self.get_record(&keys::stats(id))?.unwrap_or_default())
    }

    /// A customer's orders, oldest first.
    pub fn orders_of(&self, id: CustomerId) -> Result<Vec<Order>> {
        Ok(self.book(id)?.orders)
    }

    /// Every order, grouped by customer (customers in id order).
    pub fn all_orders(&self) -> impl Iterator<Item = Result<Order>> + use<> {
        self.scan::<OrderBook>(&[keys::ORDER]).flat_map(
            |r| -> Box<dyn Iterator<Item = Result<Order>>> {
                match r {
                    Ok((_, book)) => Box::new(book.orders.into_iter().map(Ok)),
                    Err(e) => Box::new(std::iter::once(Err(e))),
                }
            },
        )
    }

    /// A customer's notes, oldest first.
    pub fn notes_of(&self, id: CustomerId) -> Result<Vec<Note>> {
        self.scan::<Note>(&keys::id_key(keys::NOTE, id.0))
            .map(|r| r.map(|(_, n)| n))
            .collect()
    }

    /// The audit events that name `id`, oldest first (bulk tag events
    /// included, see `tags`).
    pub fn history_of(&self, id: CustomerId) -> Result<Vec<AuditEvent>> {
        let mut seqs = self.bulk_tag_events_of(id)?;
        for item in self.db.scan_prefix(keys::id_key(keys::HISTORY, id.0)) {
            let (k, _) = item?;
            let seq = k
                .get(9..17)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes);
            seqs.extend(seq);
        }
        seqs.sort_unstable();
        seqs.dedup();
        let mut out = Vec::new();
        for seq in seqs {
            if let Some(e) = self.audit_event(seq)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// One audit event by sequence number.
    pub fn audit_event(&self, seq: u64) -> Result<Option<AuditEvent>> {
        self.get_record(&keys::id_key(keys::AUDIT, seq))
    }

    /// The whole audit log, oldest first.
    pub fn audit_log(&self) -> impl Iterator<Item = Result<AuditEvent>> + use<> {
        self.scan::<AuditEvent>(&[keys::AUDIT])
            .map(|r| r.map(|(_, e)| e))
    }

    /// The customer with this ext_id (live or merged; not trashed).
    pub fn find_ext_id(&self, ext_id: &str) -> Result<Option<CustomerId>> {
        Ok(self.lookup(IdKey::Ext(ext_id))?.first().copied())
    }

    /// The live customers with this (normalized) email, lowest id first.
    pub fn find_email(&self, email: &str) -> Result<Vec<CustomerId>> {
        self.lookup(IdKey::Email(email))
    }

    /// The live customers with this E.164 phone, lowest id first.
    pub fn find_phone(&self, phone: &str) -> Result<Vec<CustomerId>> {
        self.lookup(IdKey::Phone(phone))
    }

    /// The customers holding an identity key, confirmed against their records.
    fn lookup(&self, key: IdKey) -> Result<Vec<CustomerId>> {
        let candidates = match self.identity()?.as_ref() {
            Some(map) => map.candidates(key.hash64()),
            None => Vec::new(),
        };
        super::identity::confirmed(candidates, key, |id| self.customer(id))
    }

    /// The live customers carrying `tag`, lowest id first.
    pub fn find_tag(&self, tag: &str) -> Result<Vec<CustomerId>> {
        let mut out = Vec::new();
        for item in self.scan::<TagChunk>(&keys::multi_prefix(keys::TAG, tag)) {
            let (_, chunk) = item?;
            out.extend(chunk.ids().iter().map(|&id| CustomerId(id)));
        }
        Ok(out)
    }

    /// Every import, oldest first.
    pub fn imports(&self) -> Result<Vec<ImportLog>> {
        self.scan::<ImportLog>(&[keys::IMPORT])
            .map(|r| r.map(|(_, l)| l))
            .collect()
    }

    /// One import log.
    pub fn import_log(&self, id: u64) -> Result<Option<ImportLog>> {
        self.get_record(&keys::id_key(keys::IMPORT, id))
    }

    /// Search chunk `n` (ids `n * CHUNK_IDS ..`), empty when it has none.
    pub fn search_chunk(&self, n: u64) -> Result<SearchChunk> {
        Ok(self
            .get_record(&keys::id_key(keys::SEARCH, n))?
            .unwrap_or_default())
    }

    /// Every search chunk, in id order: what the search engine loads.
    pub fn search_chunks(&self) -> impl Iterator<Item = Result<SearchChunk>> + use<> {
        self.scan::<SearchChunk>(&[keys::SEARCH])
            .map(|r| r.map(|(_, c)| c))
    }
}
