//! Applying prepared rows: matching them against what the database holds
//! (identity by ext_id, then email) and writing them with their undo data.
//! Runs on the writer thread, inside the batch's unit of work.
//!
//! Order logs often hold one row per line item: rows that share an order id
//! within one import run add up to one order ([`ImportRun`] remembers which
//! ids this run wrote, across its batches). An order id that existed before
//! the run is replaced by the run's total for it, so importing the same file
//! again updates and never doubles.

use std::hash::BuildHasher;

use super::import::ImportOptions;
use super::normalize;
use super::prepare::{Prepared, Who, preview};
use crate::model::{Customer, CustomerId, Note, Order};
use crate::store::{StoreError, UndoBatch, UndoEntry, Unit};

pub(super) enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

/// State of one import run that outlives its batches.
#[derive(Default)]
pub(super) struct ImportRun {
    /// The order ids this run wrote, as 128-bit hashes (16 bytes an order
    /// whatever the id's length). A hit is confirmed by the stored order:
    /// when no order with the id is stored, the hit was a collision and the
    /// row starts a new order. The one case that confirmation cannot catch,
    /// an id that existed before the run colliding with an id of the run
    /// (the line would be added to the old order instead of replacing it),
    /// needs two ids with the same 128 bits: with 64 bits it would be one
    /// chance in about 2^64 / (ids in the run x ids stored), which a
    /// million-order log against a million stored orders brings to 1 in
    /// 18 million; with 128 bits it is out of reach.
    seen_orders: foldhash::HashSet<u128>,
}

impl ImportRun {
    fn order_key(order_id: &str) -> u128 {
        let hash = |seed: u64| foldhash::fast::FixedState::with_seed(seed).hash_one(order_id);
        (u128::from(hash(0x6f72_6465_725f_6964)) << 64) | u128::from(hash(0x6c69_6e65_5f69_7465))
    }
}

/// What applying one row did besides its outcome.
#[derive(Default)]
pub(super) struct Effects {
    /// Warnings about the row found while applying it (`prepare` has its own).
    pub(super) warnings: Vec<String>,
    /// Customers created for orders that named someone unknown.
    pub(super) customers_created: u64,
}

pub(super) struct RowCtx<'u, 's> {
    pub(super) unit: &'u mut Unit<'s>,
    pub(super) undo: &'u mut UndoBatch,
    /// Records whose before-image this batch already holds.
    pub(super) touched: &'u mut foldhash::HashSet<String>,
    pub(super) run: &'u mut ImportRun,
    pub(super) effects: &'u mut Effects,
    pub(super) opts: &'u ImportOptions,
}

/// Matches a prepared row against the database and writes it.
pub(super) fn apply(ctx: &mut RowCtx, prepared: Prepared) -> Result<Outcome, String> {
    match prepared {
        Prepared::Customer(draft) => apply_customer(ctx, *draft),
        Prepared::Order(order, who) => apply_order(ctx, *order, &who),
        Prepared::Note(note, who) => apply_note(ctx, *note, &who),
    }
}

fn apply_customer(ctx: &mut RowCtx, mut draft: Customer) -> Result<Outcome, String> {
    let unit = &mut *ctx.unit;
    let existing = match find_existing(unit, &draft).map_err(internal)? {
        Some(id) => unit.customer(id).map_err(internal)?,
        None => None,
    };
    match existing {
        None => {
            draft.id = unit.new_customer_id().map_err(internal)?;
            draft.updated_at = unit.now();
            if draft.created_at.is_none() {
                draft.created_at = Some(unit.now());
            }
            unit.save_customer(&draft).map_err(internal)?;
            ctx.undo.entries.push(UndoEntry::Customer {
                id: draft.id,
                before: None,
            });
            ctx.touched.insert(format!("c{}", draft.id));
            Ok(Outcome::Inserted)
        }
        Some(old) => {
            let mut merged = old.clone();
            apply_update(&mut merged, draft);
            if merged == old {
                return Ok(Outcome::Unchanged);
            }
            merged.updated_at = unit.now();
            unit.save_customer(&merged).map_err(internal)?;
            if ctx.touched.insert(format!("c{}", old.id)) {
                ctx.undo.entries.push(UndoEntry::Customer {
                    id: old.id,
                    before: Some(Box::new(old)),
                });
            }
            Ok(Outcome::Updated)
        }
    }
}

/// Identity: ext_id (following merges to the survivor), then email. An
/// email match is taken only when it does not contradict the ext_ids (the
/// source system says two ext_ids are two records; whether they are one
/// person is for duplicate review). Records that only share a phone are
/// left to duplicate review too.
fn find_existing(unit: &Unit, draft: &Customer) -> Result<Option<CustomerId>, StoreError> {
    if let Some(ext) = draft.ext_id.as_deref() {
        if let Some(id) = unit.find_ext_id(ext)? {
            return survivor(unit, id);
        }
    }
    for e in &draft.emails {
        for id in unit.find_email(e)? {
            let compatible =
                draft.ext_id.is_none() || unit.customer(id)?.is_some_and(|c| c.ext_id.is_none());
            if compatible {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// Follows `merged_into` to the live record.
fn survivor(unit: &Unit, mut id: CustomerId) -> Result<Option<CustomerId>, StoreError> {
    for _ in 0..64 {
        match unit.customer(id)? {
            Some(c) if c.trashed_at.is_some() => return Ok(None),
            Some(c) => match c.merged_into {
                Some(next) => id = next,
                None => return Ok(Some(id)),
            },
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// Updates `c` with the non-empty values of `new`: present fields overwrite,
/// emails and phones are added to the lists, attributes are set per key.
fn apply_update(c: &mut Customer, new: Customer) {
    fn set(dst: &mut Option<String>, src: Option<String>) {
        if let Some(v) = src {
            *dst = Some(v);
        }
    }
    if c.ext_id.is_none() {
        c.ext_id = new.ext_id;
    }
    if !new.name.is_empty() {
        c.name = new.name;
    }
    set(&mut c.given_name, new.given_name);
    set(&mut c.family_name, new.family_name);
    for e in new.emails {
        if !c.emails.contains(&e) {
            c.emails.push(e);
        }
    }
    for p in new.phones {
        if !c.phones.contains(&p) {
            c.phones.push(p);
        }
    }
    set(&mut c.company, new.company);
    set(&mut c.title, new.title);
    set(&mut c.street, new.street);
    set(&mut c.city, new.city);
    set(&mut c.region, new.region);
    set(&mut c.postcode, new.postcode);
    set(&mut c.country, new.country);
    if new.birth_date.is_some() {
        c.birth_date = new.birth_date;
    }
    set(&mut c.gender, new.gender);
    set(&mut c.source, new.source);
    if new.created_at.is_some() {
        c.created_at = new.created_at;
    }
    for (k, v) in new.attrs {
        match c.attrs.iter_mut().find(|(ck, _)| *ck == k) {
            Some((_, cv)) => *cv = v,
            None => c.attrs.push((k, v)),
        }
    }
    for (f, v) in new.invalid {
        if !c.invalid.iter().any(|(cf, cv)| *cf == f && *cv == v) {
            c.invalid.push((f, v));
        }
    }
}

/// Whom an order or note row refers to.
enum Resolved {
    /// A live customer (merges followed to the survivor).
    Found(CustomerId),
    /// Nobody: the references tried, for the reason of a reject.
    Unknown {
        tried: Vec<String>,
        /// The ext_id is held by a merged record whose survivor is in the
        /// trash: creating another customer with it would shadow that one.
        in_trash: bool,
    },
}

/// Finds the customer an order or note row refers to.
fn resolve_customer(ctx: &RowCtx, who: &Who) -> Result<Resolved, String> {
    let unit = &*ctx.unit;
    let mut tried = Vec::new();
    let mut in_trash = false;
    if let Some(c) = who.customer.as_deref() {
        if let Some(id) = unit.find_ext_id(c).map_err(internal)? {
            match survivor(unit, id).map_err(internal)? {
                Some(id) => return Ok(Resolved::Found(id)),
                None => in_trash = true,
            }
        }
        if let Ok(e) = normalize::email(c) {
            if let Some(id) = unit.find_email(&e).map_err(internal)?.first() {
                return Ok(Resolved::Found(*id));
            }
        } else if let Ok(p) = normalize::phone(c, &ctx.opts.normalize) {
            if let Some(id) = unit.find_phone(&p).map_err(internal)?.first() {
                return Ok(Resolved::Found(*id));
            }
        }
        tried.push(format!("customer '{}'", preview(c)));
    }
    if let Some(e) = who.email.as_deref() {
        if let Ok(e) = normalize::email(e) {
            if let Some(id) = unit.find_email(&e).map_err(internal)?.first() {
                return Ok(Resolved::Found(*id));
            }
        }
        tried.push(format!("email '{}'", preview(e)));
    }
    if let Some(p) = who.phone.as_deref() {
        if let Ok(p) = normalize::phone(p, &ctx.opts.normalize) {
            if let Some(id) = unit.find_phone(&p).map_err(internal)?.first() {
                return Ok(Resolved::Found(*id));
            }
        }
        tried.push(format!("phone '{}'", preview(p)));
    }
    if tried.is_empty() {
        return Err("no customer given (ext_id, email or phone)".to_owned());
    }
    Ok(Resolved::Unknown { tried, in_trash })
}

/// The customer a note row refers to; notes never create customers (a note
/// about someone unknown is more often a typo than a new customer).
fn existing_customer(ctx: &RowCtx, who: &Who) -> Result<CustomerId, String> {
    match resolve_customer(ctx, who)? {
        Resolved::Found(id) => Ok(id),
        Resolved::Unknown { tried, .. } => Err(format!(
            "no such customer: {}; import the customers first",
            tried.join(", ")
        )),
    }
}

/// The customer an order row refers to: someone found, or a new customer
/// made from the row's references (not yet saved), or why neither.
fn order_customer(ctx: &RowCtx, who: &Who) -> Result<Result<CustomerId, Customer>, String> {
    let (tried, in_trash) = match resolve_customer(ctx, who)? {
        Resolved::Found(id) => return Ok(Ok(id)),
        Resolved::Unknown { tried, in_trash } => (tried, in_trash),
    };
    let tried = tried.join(", ");
    if in_trash {
        return Err(format!(
            "no such customer: {tried} belongs to a merged record whose survivor is in the trash; restore it first"
        ));
    }
    if !ctx.opts.create_customers {
        return Err(format!(
            "no such customer: {tried}; import the customers first (without --no-create-customers the order creates them)"
        ));
    }
    customer_from_reference(ctx, who).map(Err)
}

/// A customer made from an order's references to someone the database does
/// not hold: `customer` becomes the ext_id (or the email, when it is one, as
/// lookups read it), `customer_email` an email, `customer_phone` a phone.
/// An invalid email or phone rejects the row: it would make a customer
/// nothing can find again.
fn customer_from_reference(ctx: &RowCtx, who: &Who) -> Result<Customer, String> {
    let mut c = Customer::default();
    if let Some(r) = who.customer.as_deref() {
        match normalize::email(r) {
            Ok(e) => c.emails.push(e),
            Err(_) => c.ext_id = Some(r.to_owned()),
        }
    }
    if let Some(raw) = who.email.as_deref() {
        let e = normalize::email(raw).map_err(|why| {
            format!(
                "no such customer, and customer email '{}' cannot create one: {why}",
                preview(raw)
            )
        })?;
        if !c.emails.contains(&e) {
            c.emails.push(e);
        }
    }
    if let Some(raw) = who.phone.as_deref() {
        let p = normalize::phone(raw, &ctx.opts.normalize).map_err(|why| {
            format!(
                "no such customer, and customer phone '{}' cannot create one: {why}",
                preview(raw)
            )
        })?;
        c.phones.push(p);
    }
    c.source = Some("orders import".to_owned());
    Ok(c)
}

/// Saves a customer made by [`customer_from_reference`], with its undo entry.
fn create_customer(ctx: &mut RowCtx, mut c: Customer) -> Result<CustomerId, String> {
    let unit = &mut *ctx.unit;
    c.id = unit.new_customer_id().map_err(internal)?;
    c.updated_at = unit.now();
    c.created_at = Some(unit.now());
    unit.save_customer(&c).map_err(internal)?;
    ctx.undo.entries.push(UndoEntry::Customer {
        id: c.id,
        before: None,
    });
    ctx.touched.insert(format!("c{}", c.id));
    ctx.effects.customers_created += 1;
    Ok(c.id)
}

fn apply_order(ctx: &mut RowCtx, mut order: Order, who: &Who) -> Result<Outcome, String> {
    let key = ImportRun::order_key(&order.order_id);
    // An earlier line of this run: the stored order (as this batch sees it)
    // is the run's running total for the id.
    let earlier = if ctx.run.seen_orders.contains(&key) {
        ctx.unit.order(&order.order_id).map_err(internal)?
    } else {
        None
    };
    let customer = order_customer(ctx, who)?;
    if let Some(earlier) = &earlier {
        if customer.as_ref().ok() != Some(&earlier.customer) {
            let named = match &customer {
                Ok(id) => format!("customer {id}"),
                Err(_) => "a customer the database does not hold".to_owned(),
            };
            return Err(format!(
                "order '{}' belongs to customer {} (an earlier line of this file); this line names {named}",
                preview(&order.order_id),
                earlier.customer
            ));
        }
        order.customer = earlier.customer;
        order = add_line(earlier, order, &mut ctx.effects.warnings)?;
    } else {
        order.customer = match customer {
            Ok(id) => id,
            Err(new) => create_customer(ctx, new)?,
        };
    }
    let order_id = order.order_id.clone();
    let unit = &mut *ctx.unit;
    let old = match earlier {
        Some(e) => Some(e),
        None => unit.order(&order_id).map_err(internal)?,
    };
    ctx.run.seen_orders.insert(key);
    if old.as_ref() == Some(&order) {
        return Ok(Outcome::Unchanged);
    }
    unit.save_order(&order).map_err(internal)?;
    if ctx.touched.insert(format!("o{order_id}")) {
        ctx.undo.entries.push(UndoEntry::Order {
            order_id,
            before: old.clone(),
        });
    }
    Ok(if old.is_some() {
        Outcome::Updated
    } else {
        Outcome::Inserted
    })
}

/// One more line of an order: amounts and quantities add up; the order
/// keeps its earliest date (a different date is a warning); currencies must
/// agree; the channel and attributes kept are those every line agrees on
/// (an order record has no line items, so a product code or description of
/// one line would misdescribe the order). Adding lines is commutative and
/// associative, so the total does not depend on how they are split across
/// rows or batches.
pub(super) fn add_line(
    order: &Order,
    line: Order,
    warnings: &mut Vec<String>,
) -> Result<Order, String> {
    let amount_minor = order
        .amount_minor
        .checked_add(line.amount_minor)
        .ok_or_else(|| {
            format!(
                "order '{}': adding this line's amount overflows the total",
                preview(&order.order_id)
            )
        })?;
    let currency = match (&order.currency, line.currency) {
        (Some(a), Some(b)) if *a != b => {
            return Err(format!(
                "order '{}' is in {a} (an earlier line of this file); this line is in {b}",
                preview(&order.order_id)
            ));
        }
        (a, b) => a.clone().or(b),
    };
    if line.date != order.date {
        warnings.push(format!(
            "order '{}': this line is dated {} but an earlier one {}; the order keeps the earliest",
            preview(&order.order_id),
            line.date,
            order.date
        ));
    }
    let quantity = match (order.quantity, line.quantity) {
        (Some(a), Some(b)) => a.checked_add(b),
        _ => None,
    };
    let channel = order
        .channel
        .clone()
        .filter(|c| line.channel.as_ref() == Some(c));
    let attrs = order
        .attrs
        .iter()
        .filter(|a| line.attrs.contains(a))
        .cloned()
        .collect();
    Ok(Order {
        order_id: line.order_id,
        customer: order.customer,
        date: order.date.min(line.date),
        amount_minor,
        quantity,
        currency,
        channel,
        attrs,
    })
}

fn apply_note(ctx: &mut RowCtx, mut note: Note, who: &Who) -> Result<Outcome, String> {
    note.customer = existing_customer(ctx, who)?;
    let unit = &mut *ctx.unit;
    if unit.has_note(&note).map_err(internal)? {
        return Ok(Outcome::Unchanged);
    }
    let key = unit.add_note(&note).map_err(internal)?;
    ctx.undo.entries.push(UndoEntry::Note { key, note });
    Ok(Outcome::Inserted)
}

fn internal(e: StoreError) -> String {
    format!("internal error: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;

    fn line(day: u32, amount: i64, quantity: Option<u32>, attrs: &[(&str, &str)]) -> Order {
        Order {
            order_id: "489434".into(),
            customer: CustomerId(7),
            date: NaiveDate::from_ymd_opt(2009, 12, day).unwrap(),
            amount_minor: amount,
            quantity,
            currency: None,
            channel: Some("store".into()),
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn lines_add_up_and_keep_what_they_agree_on() {
        let mut warnings = Vec::new();
        let a = line(
            2,
            1530,
            Some(6),
            &[("Country", "UK"), ("StockCode", "85048")],
        );
        let b = line(1, -85, None, &[("Country", "UK"), ("StockCode", "22087")]);
        let sum = add_line(&a, b, &mut warnings).unwrap();
        assert_eq!(sum.amount_minor, 1445);
        assert_eq!(
            sum.quantity, None,
            "an unknown line quantity makes the total unknown"
        );
        assert_eq!(sum.date, NaiveDate::from_ymd_opt(2009, 12, 1).unwrap());
        assert_eq!(sum.attrs, [("Country".to_owned(), "UK".to_owned())]);
        assert_eq!(sum.channel.as_deref(), Some("store"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("keeps the earliest"), "{warnings:?}");

        let mut warnings = Vec::new();
        let c = line(2, 100, Some(4), &[]);
        let sum = add_line(&line(2, 1530, Some(6), &[]), c, &mut warnings).unwrap();
        assert_eq!((sum.amount_minor, sum.quantity), (1630, Some(10)));
        assert!(warnings.is_empty());
    }

    #[test]
    fn lines_in_two_currencies_or_past_i64_are_refused() {
        let mut a = line(1, 100, None, &[]);
        a.currency = Some("GBP".into());
        let mut b = line(1, 100, None, &[]);
        b.currency = Some("EUR".into());
        let err = add_line(&a, b, &mut Vec::new()).unwrap_err();
        assert!(err.contains("GBP") && err.contains("EUR"), "{err}");
        let mut no_currency = line(1, 5, None, &[]);
        no_currency.currency = None;
        assert_eq!(
            add_line(&a, no_currency, &mut Vec::new())
                .unwrap()
                .currency
                .as_deref(),
            Some("GBP")
        );
        let err = add_line(
            &line(1, i64::MAX, None, &[]),
            line(1, 1, None, &[]),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.contains("overflows"), "{err}");
    }

    #[test]
    fn run_keys_differ_for_different_ids() {
        assert_eq!(
            ImportRun::order_key("489434"),
            ImportRun::order_key("489434")
        );
        assert_ne!(
            ImportRun::order_key("489434"),
            ImportRun::order_key("C489434")
        );
        assert_ne!(ImportRun::order_key(""), ImportRun::order_key(" "));
    }

    proptest! {
        /// However the lines of an order are ordered and grouped (rows of a
        /// file, batches), they add up to the same order.
        #[test]
        fn any_split_and_order_of_lines_gives_the_same_order(
            lines in prop::collection::vec(
                (1u32..28, -100_000i64..100_000, prop::option::of(0u32..1000), any::<bool>()),
                1..12,
            ),
            split in 0usize..12,
            seed in any::<u64>(),
        ) {
            let orders: Vec<Order> = lines
                .iter()
                .map(|&(day, amount, qty, uk)| {
                    let attrs: &[(&str, &str)] = if uk { &[("Country", "UK")] } else { &[] };
                    line(day, amount, qty, attrs)
                })
                .collect();
            let fold = |ls: &[Order]| -> Option<Order> {
                let (first, rest) = ls.split_first()?;
                Some(rest.iter().fold(first.clone(), |acc, l| {
                    add_line(&acc, l.clone(), &mut Vec::new()).unwrap()
                }))
            };
            let whole = fold(&orders).unwrap();
            prop_assert_eq!(whole.amount_minor, lines.iter().map(|l| l.1).sum::<i64>());
            prop_assert_eq!(whole.date.day0() + 1, lines.iter().map(|l| l.0).min().unwrap());
            // Shuffled, then summed as two partial totals (two batches).
            let mut shuffled = orders.clone();
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let cut = split.min(shuffled.len());
            let parts = match (fold(&shuffled[..cut]), fold(&shuffled[cut..])) {
                (Some(a), Some(b)) => add_line(&a, b, &mut Vec::new()).unwrap(),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => unreachable!(),
            };
            prop_assert_eq!(parts, whole);
        }
    }
}
