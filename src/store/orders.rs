//! Orders grouped by customer, and order-id lookups without a key per order.
//!
//! Format 2 stored one sled key per order and one per order id: 5M orders
//! made 10M keys, and sled's open time grows with its key count (its
//! snapshot maps every tree node): a 1M-customer database with 5M orders took
//! 400 ms to open, twice what the customers alone took. Measured with a bare
//! sled program here: 4M keys of 60 bytes open in 1.2 s, 400k keys of 600
//! bytes (the same bytes) in 52 ms.
//!
//! So since format 3 a customer's orders live in one **order book** (`o` +
//! customer id), oldest first, and order ids are found through **order-id
//! chunks** (`O` + sequence number): each unit that places orders appends
//! one chunk naming (order id, customer). The chunks are read into an
//! in-memory map of 64-bit hashes the first time an order id is looked up
//! (imports of orders, reverts), never on open. A later chunk may place an
//! order elsewhere and an order may be removed: every hit is confirmed in the
//! customer's book, so a stale or colliding entry can never return a wrong
//! order. `reindex` rewrites the chunks from the books.

use serde::{Deserialize, Serialize};

use super::identity::IdentityMap;
use super::read::decode_at;
use super::{Result, Store, keys};
use crate::model::{CustomerId, Order};

/// One customer's orders, oldest first (orders of one day in the order they
/// were first stored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBook {
    pub orders: Vec<Order>,
}

impl OrderBook {
    /// The order with this id.
    pub fn get(&self, order_id: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.order_id == order_id)
    }

    /// Inserts `o`, or replaces the order with its id. A replaced order keeps
    /// its place among the orders of its day.
    pub fn upsert(&mut self, o: Order) {
        if let Some(at) = self.orders.iter().position(|x| x.order_id == o.order_id) {
            if self.orders[at].date == o.date {
                self.orders[at] = o;
                return;
            }
            self.orders.remove(at);
        }
        let at = self.orders.partition_point(|x| x.date <= o.date);
        self.orders.insert(at, o);
    }

    /// Removes the order with this id; returns it.
    pub fn remove(&mut self, order_id: &str) -> Option<Order> {
        let at = self.orders.iter().position(|x| x.order_id == order_id)?;
        Some(self.orders.remove(at))
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }
}

/// Orders placed with customers by one unit of work: (order id, customer),
/// stored columnar so that loading five million of them is a few copies per
/// chunk rather than an allocation per order id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIdChunk {
    customers: Vec<u64>,
    /// End offset of each order id in `text`.
    ends: Vec<u32>,
    text: String,
}

impl OrderIdChunk {
    pub fn push(&mut self, order_id: &str, customer: u64) {
        self.text.push_str(order_id);
        self.customers.push(customer);
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    pub fn len(&self) -> usize {
        self.customers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    /// The (order id, customer) entries. A damaged chunk (offsets out of
    /// range) yields what it can rather than panic; `check` compares chunks
    /// with the books.
    pub fn entries(&self) -> impl Iterator<Item = (&str, u64)> {
        let mut start = 0usize;
        self.ends
            .iter()
            .zip(&self.customers)
            .filter_map(move |(&end, &c)| {
                let end = end as usize;
                let id = self.text.get(start..end);
                start = end;
                id.map(|id| (id, c))
            })
    }
}

/// The hash the order-id map is keyed by (recomputed from the stored ids, so
/// it need not be stable across builds).
pub fn order_hash(order_id: &str) -> u64 {
    super::identity::fast_hash(b'o', order_id)
}

impl Store {
    /// The customers whose books may hold `order_id`'s hash (unconfirmed).
    pub(crate) fn order_candidates(&self, hash: u64) -> Result<Vec<u64>> {
        let mut guard = self.order_ids.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let mut map = IdentityMap::default();
            for chunk in self.scan::<OrderIdChunk>(&[keys::ORDER_ID]) {
                for (order_id, customer) in chunk?.1.entries() {
                    map.add(order_hash(order_id), customer);
                }
            }
            *guard = Some(map);
        }
        Ok(guard
            .as_ref()
            .map(|m| m.candidates(hash))
            .unwrap_or_default())
    }

    /// Adds a committed unit's placements to the map, if it is loaded.
    pub(crate) fn note_placed(&self, placed: &foldhash::HashMap<u64, Vec<u64>>) {
        if let Some(map) = self
            .order_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            for (hash, customers) in placed {
                for c in customers {
                    map.add(*hash, *c);
                }
            }
        }
    }

    /// Forgets the order-id map (after a reindex rewrote the chunks).
    pub(crate) fn reset_order_ids(&self) {
        *self.order_ids.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A customer's order book (empty without orders).
    pub(crate) fn book(&self, id: CustomerId) -> Result<OrderBook> {
        Ok(self.get_record(&keys::orders_of(id))?.unwrap_or_default())
    }

    /// Format 2 -> 3: folds the one-key-per-order layout into order books,
    /// a few thousand orders per batch, whole customers at a time, so an
    /// interrupted run resumes where it stopped (a customer's orders are
    /// either all in its book or all in the old keys). The old `O` keys and
    /// the order-id chunks are left to `reindex`.
    pub(crate) fn fold_legacy_orders(&self) -> Result<u64> {
        const BATCH_ORDERS: usize = 20_000;
        let _guard = self.begin()?;
        let mut folded = 0u64;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0usize;
        let mut current: Option<(CustomerId, OrderBook)> = None;
        let finish = |batch: &mut sled::Batch, cur: Option<(CustomerId, OrderBook)>| {
            if let Some((id, book)) = cur {
                batch.insert(keys::orders_of(id), super::codec::encode(&book));
            }
        };
        for item in self.db.scan_prefix([keys::ORDER]) {
            let (k, v) = item?;
            if k.len() != keys::LEGACY_ORDER_KEY_LEN {
                continue;
            }
            let id = CustomerId(keys::id_of(&k).unwrap_or(0));
            let order: Order = decode_at(&k, &v)?;
            if current.as_ref().is_none_or(|(c, _)| *c != id) {
                finish(&mut batch, current.take());
                if in_batch >= BATCH_ORDERS {
                    self.db.apply_batch(std::mem::take(&mut batch))?;
                    in_batch = 0;
                }
                current = Some((id, OrderBook::default()));
            }
            if let Some((_, book)) = current.as_mut() {
                // Old keys sort by day, then by when the order was stored.
                book.orders.push(order);
            }
            batch.remove(k);
            in_batch += 1;
            folded += 1;
        }
        finish(&mut batch, current.take());
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        Ok(folded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn order(id: &str, day: u32, amount: i64) -> Order {
        Order {
            order_id: id.into(),
            customer: CustomerId(1),
            date: NaiveDate::from_ymd_opt(2025, 1, day).unwrap(),
            amount_minor: amount,
            ..Order::default()
        }
    }

    fn ids(b: &OrderBook) -> Vec<&str> {
        b.orders.iter().map(|o| o.order_id.as_str()).collect()
    }

    #[test]
    fn book_keeps_date_order_and_replaces_by_id() {
        let mut b = OrderBook::default();
        b.upsert(order("a", 5, 1));
        b.upsert(order("b", 2, 1));
        b.upsert(order("c", 5, 1));
        b.upsert(order("d", 9, 1));
        assert_eq!(ids(&b), ["b", "a", "c", "d"]);
        // Same day: stays in place.
        b.upsert(order("a", 5, 7));
        assert_eq!(ids(&b), ["b", "a", "c", "d"]);
        assert_eq!(b.get("a").map(|o| o.amount_minor), Some(7));
        // New day: moves.
        b.upsert(order("a", 10, 7));
        assert_eq!(ids(&b), ["b", "c", "d", "a"]);
        assert_eq!(b.remove("c").map(|o| o.order_id), Some("c".into()));
        assert_eq!(b.remove("c"), None);
        assert_eq!(ids(&b), ["b", "d", "a"]);
    }

    #[test]
    fn chunk_round_trips_entries() {
        let mut c = OrderIdChunk::default();
        c.push("A-1", 7);
        c.push("", 8);
        c.push("订单-9", 9);
        let got: Vec<(&str, u64)> = c.entries().collect();
        assert_eq!(got, [("A-1", 7), ("", 8), ("订单-9", 9)]);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn damaged_chunk_yields_what_it_can() {
        let mut c = OrderIdChunk::default();
        c.push("abc", 1);
        c.ends = vec![2, 99];
        c.customers = vec![1, 2];
        let got: Vec<(&str, u64)> = c.entries().collect();
        assert_eq!(got, [("ab", 1)]);
    }
}
