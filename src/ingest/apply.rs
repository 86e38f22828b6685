//! Applying prepared rows: matching them against what the database holds
//! (identity by ext_id, then email) and writing them with their undo data.
//! Runs on the writer thread, inside the batch's unit of work.

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

pub(super) struct RowCtx<'u, 's> {
    pub(super) unit: &'u mut Unit<'s>,
    pub(super) undo: &'u mut UndoBatch,
    /// Records whose before-image this batch already holds.
    pub(super) touched: &'u mut foldhash::HashSet<String>,
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

/// Finds the customer an order or note row refers to.
fn resolve_customer(ctx: &RowCtx, who: &Who) -> Result<CustomerId, String> {
    let unit = &*ctx.unit;
    let mut tried = Vec::new();
    if let Some(c) = who.customer.as_deref() {
        if let Some(id) = unit.find_ext_id(c).map_err(internal)? {
            if let Some(id) = survivor(unit, id).map_err(internal)? {
                return Ok(id);
            }
        }
        if let Ok(e) = normalize::email(c) {
            if let Some(id) = unit.find_email(&e).map_err(internal)?.first() {
                return Ok(*id);
            }
        } else if let Ok(p) = normalize::phone(c, &ctx.opts.normalize) {
            if let Some(id) = unit.find_phone(&p).map_err(internal)?.first() {
                return Ok(*id);
            }
        }
        tried.push(format!("customer '{}'", preview(c)));
    }
    if let Some(e) = who.email.as_deref() {
        if let Ok(e) = normalize::email(e) {
            if let Some(id) = unit.find_email(&e).map_err(internal)?.first() {
                return Ok(*id);
            }
        }
        tried.push(format!("email '{}'", preview(e)));
    }
    if let Some(p) = who.phone.as_deref() {
        if let Ok(p) = normalize::phone(p, &ctx.opts.normalize) {
            if let Some(id) = unit.find_phone(&p).map_err(internal)?.first() {
                return Ok(*id);
            }
        }
        tried.push(format!("phone '{}'", preview(p)));
    }
    if tried.is_empty() {
        Err("no customer given (ext_id, email or phone)".to_owned())
    } else {
        Err(format!(
            "no such customer: {}; import the customers first",
            tried.join(", ")
        ))
    }
}

fn apply_order(ctx: &mut RowCtx, mut order: Order, who: &Who) -> Result<Outcome, String> {
    order.customer = resolve_customer(ctx, who)?;
    let order_id = order.order_id.clone();
    let unit = &mut *ctx.unit;
    let old = unit.order(&order_id).map_err(internal)?;
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

fn apply_note(ctx: &mut RowCtx, mut note: Note, who: &Who) -> Result<Outcome, String> {
    note.customer = resolve_customer(ctx, who)?;
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
