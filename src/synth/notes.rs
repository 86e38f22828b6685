//! notes.csv: interactions (calls, e-mails, visits, feedback, complaints)
//! in the customer's language, each after the customer was created.

use std::io;

use super::Ctx;
use super::data::{
    CN_NOTES_CALL, CN_NOTES_COMPLAINT, CN_NOTES_EMAIL, CN_NOTES_FEEDBACK, CN_NOTES_VISIT,
    EN_NOTES_CALL, EN_NOTES_COMPLAINT, EN_NOTES_EMAIL, EN_NOTES_FEEDBACK, EN_NOTES_VISIT,
};
use super::format::{push_day, push_time, push_u64};
use super::orders::Meta;
use super::person::push_ext_id;
use super::rng::Rng;

/// Random-stream domain of notes.
const DOMAIN_NOTES: u64 = 6;

/// The columns of notes.csv, in order.
pub const NOTE_HEADER: &[&str] = &["customer_id", "at", "kind", "text", "satisfaction"];

const KINDS: &[(usize, u32)] = &[(0, 30), (1, 20), (2, 15), (3, 20), (4, 15)];
const KIND_NAMES: [&str; 5] = ["call", "email", "visit", "feedback", "complaint"];

fn phrases(kind: usize, zh: bool) -> &'static [&'static str] {
    match (kind, zh) {
        (0, true) => CN_NOTES_CALL,
        (1, true) => CN_NOTES_EMAIL,
        (2, true) => CN_NOTES_VISIT,
        (3, true) => CN_NOTES_FEEDBACK,
        (_, true) => CN_NOTES_COMPLAINT,
        (0, false) => EN_NOTES_CALL,
        (1, false) => EN_NOTES_EMAIL,
        (2, false) => EN_NOTES_VISIT,
        (3, false) => EN_NOTES_FEEDBACK,
        (_, false) => EN_NOTES_COMPLAINT,
    }
}

/// Writes `total` notes about random customers (none when there are no
/// customers) and returns how many were written.
pub fn write_notes<W: io::Write>(
    ctx: &Ctx,
    total: u64,
    metas: &[Meta],
    out: &mut csv::Writer<W>,
    rows_before: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<u64> {
    out.write_record(NOTE_HEADER)?;
    if metas.is_empty() {
        return Ok(0);
    }
    let (mut cid, mut at, mut text, mut sat) =
        (String::new(), String::new(), String::new(), String::new());
    for k in 0..total {
        let mut r = Rng::stream(ctx.seed, DOMAIN_NOTES, k);
        let i = r.below(metas.len() as u64);
        let m = &metas[i as usize];
        let start = m.created_day.min(ctx.end_day);
        let day = start + r.below((ctx.end_day - start + 1) as u64) as i32;
        let kind = r.pick_weighted(KINDS);
        let zh = m.nation.is_zh();
        let list = phrases(kind, zh);
        let first = r.index(list.len());
        text.clear();
        text.push_str(list[first]);
        if r.chance(0.3) {
            let second = (first + 1 + r.index(list.len() - 1)) % list.len();
            if !zh {
                text.push(' ');
            }
            text.push_str(list[second]);
        }
        sat.clear();
        let score = match kind {
            3 if r.chance(0.9) => Some(3 + r.below(3)),
            4 if r.chance(0.8) => Some(1 + r.below(2)),
            0..3 if r.chance(0.4) => Some(2 + r.below(4)),
            _ => None,
        };
        if let Some(s) = score {
            push_u64(&mut sat, s);
        }
        cid.clear();
        push_ext_id(&mut cid, i);
        at.clear();
        push_day(&mut at, day);
        push_time(&mut at, 8 * 3600 + r.below(14 * 3600) as u32);
        out.write_record([
            cid.as_str(),
            at.as_str(),
            KIND_NAMES[kind],
            text.as_str(),
            sat.as_str(),
        ])?;
        if (k + 1) % super::PROGRESS_EVERY == 0 {
            progress(rows_before + k + 1);
        }
    }
    Ok(total)
}
