//! `rolo dedup scan [--threshold T] [--limit N] [--truth FILE]`: probable
//! duplicates with their scores explained field by field (DESIGN.md §4),
//! their clusters, what blocking skipped, and the fitted model.
//! `rolo dedup merge SURVIVOR OTHER... [--take FIELD=ID]...`, `unmerge`,
//! `dismiss`, and `auto --threshold T`: a scan whose clusters are merged
//! after one confirmation (survivor rule: `dedup::auto`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::{Ctx, user_error};
use crate::dedup::{self, DismissedPairs, Evaluation, Pair, Scan, ScanOptions, Truth};
use crate::model::{CustomerId, Field};
use crate::store::{MergePlan, Store};

#[derive(Debug, Subcommand)]
pub enum DedupCmd {
    /// Find probable duplicates: pairs scored field by field, and clusters
    Scan(ScanArgs),
    /// Merge OTHER records into SURVIVOR (one undoable step: see unmerge)
    Merge {
        survivor: u64,
        #[arg(required = true, num_args = 1..)]
        others: Vec<u64>,
        /// Take FIELD's value from customer ID (one of the merged records),
        /// e.g. --take email=42; repeatable. Other fields: the survivor's
        /// value, else the most recently updated other record's
        #[arg(long = "take", value_name = "FIELD=ID")]
        takes: Vec<String>,
    },
    /// Scan, show the clusters at or above T, and merge each into its most
    /// complete record after one confirmation (each merge undoable)
    Auto(AutoArgs),
    /// Take a merge back: every record, order, note and tag as before
    Unmerge {
        /// The merge's number (printed by merge; `rolo audit --op merge` lists them)
        id: u64,
    },
    /// Mark a pair as not duplicates: never reported again
    Dismiss { a: u64, b: u64 },
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Report pairs whose match probability is at least T (0 to 1)
    #[arg(long, default_value_t = 0.9, value_parser = parse_probability, value_name = "T")]
    pub threshold: f64,
    /// Show at most N pairs (clusters and figures use all) [default: all
    /// with --json, 50 as text]
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Score the pairs against known duplicates: a CSV with ext_id_a,ext_id_b
    /// (the duplicates_truth.csv that `rolo gen` writes)
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AutoArgs {
    /// Merge the clusters of pairs whose match probability is at least T
    /// (0 to 1; 0.99 and above merges only the near-certain)
    #[arg(long, value_parser = parse_probability, value_name = "T")]
    pub threshold: f64,
    /// Only show what would be merged; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Show at most N clusters [default: 20 as text, all with --json]
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// Parses `FIELD=ID` for `--take` (here rather than in clap, so that the
/// error is one line).
fn parse_take(s: &str) -> Result<(Field, u64)> {
    let fields = || {
        Field::ALL
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((field, id)) = s.split_once('=') else {
        return Err(user_error(format!(
            "--take '{s}' is not FIELD=ID (e.g. email=42); fields: {}",
            fields()
        )));
    };
    let field: Field = field.trim().parse().map_err(|()| {
        user_error(format!(
            "--take: unknown field '{}'; fields: {}",
            field.trim(),
            fields()
        ))
    })?;
    let id = id
        .trim()
        .parse::<u64>()
        .map_err(|_| user_error(format!("--take {s}: '{}' is not a customer id", id.trim())))?;
    Ok((field, id))
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("'{s}' is not a probability between 0 and 1")),
    }
}

pub fn run(ctx: &Ctx, cmd: DedupCmd) -> Result<()> {
    match cmd {
        DedupCmd::Scan(a) => scan(ctx, a),
        DedupCmd::Merge {
            survivor,
            others,
            takes,
        } => merge(ctx, survivor, &others, &takes),
        DedupCmd::Auto(a) => auto(ctx, a),
        DedupCmd::Unmerge { id } => unmerge(ctx, id),
        DedupCmd::Dismiss { a, b } => dismiss(ctx, a, b),
    }
}

/// Reviewers' "not a duplicate" decisions (`rolo dedup dismiss`), kept by
/// the store across restarts and re-imports: never reported again.
fn dismissed_pairs(store: &Store) -> Result<DismissedPairs> {
    Ok(store
        .dismissed_pairs()?
        .into_iter()
        .map(|(a, b)| (CustomerId(a), CustomerId(b)))
        .collect())
}

/// `rolo dedup merge SURVIVOR OTHER... [--take FIELD=ID]...`: one atomic,
/// audited merge.
fn merge(ctx: &Ctx, survivor: u64, others: &[u64], takes: &[String]) -> Result<()> {
    let takes = takes
        .iter()
        .map(|t| parse_take(t))
        .collect::<Result<Vec<_>>>()?;
    let members: Vec<u64> = std::iter::once(survivor)
        .chain(others.iter().copied())
        .collect();
    let mut picked = HashSet::new();
    for (field, id) in &takes {
        if !members.contains(id) {
            return Err(user_error(format!(
                "--take {field}={id}: customer {id} is not in this merge; take from one of {}",
                members
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !picked.insert(*field) {
            return Err(user_error(format!("--take names {field} twice; keep one")));
        }
    }
    let store = ctx.open()?;
    let plan = MergePlan {
        survivor: CustomerId(survivor),
        others: others.iter().map(|o| CustomerId(*o)).collect(),
        picks: takes.iter().map(|(f, id)| (*f, CustomerId(*id))).collect(),
    };
    let out = store.merge(&plan)?;
    let mut taken = Map::new();
    for (f, id) in &takes {
        taken.insert(f.as_str().into(), json!(id));
    }
    ctx.out.json(&json!({
        "merge": out.seq,
        "survivor": out.survivor.0,
        "merged": others,
        "taken": taken,
        "orders_moved": out.orders_moved,
        "notes_moved": out.notes_moved,
    }))?;
    ctx.out.line(&format!(
        "merged {} into customer {survivor} (merge #{}; {} orders and {} notes moved); `rolo dedup unmerge {}` takes it back",
        others.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        out.seq,
        out.orders_moved,
        out.notes_moved,
        out.seq
    ))
}

/// `rolo dedup auto --threshold T [--dry-run] [--limit N]`: a scan, a
/// preview of the clusters it would merge, one confirmation (or `--yes`),
/// then one merge per cluster into its survivor (`dedup::auto`).
fn auto(ctx: &Ctx, a: AutoArgs) -> Result<()> {
    let store = ctx.open_for_import()?;
    let records = dedup::read_records(&store).context("reading the customers")?;
    let dismissed = dismissed_pairs(&store)?;
    let opts = ScanOptions {
        threshold: a.threshold,
        ..ScanOptions::default()
    };
    let result = dedup::scan(records, &dismissed, &opts);
    if !store.is_read_only() {
        dedup::state::save(&store, &result, a.threshold).context("saving the scan")?;
    }
    let plans = dedup::auto::plan(&result, &store)?;
    let records_total: usize = plans.iter().map(|p| p.plan.others.len() + 1).sum();
    let limit = a
        .limit
        .unwrap_or(if ctx.out.is_json() { usize::MAX } else { 20 });
    let ext_id = |id: CustomerId| -> Result<Option<String>> {
        Ok(store.customer(id)?.and_then(|c| c.ext_id))
    };
    let mut clusters = Vec::new();
    for p in plans.iter().take(limit) {
        let ext_ids = p.members().map(ext_id).collect::<Result<Vec<_>>>()?;
        clusters.push(json!({
            "survivor": p.plan.survivor.0,
            "others": p.plan.others.iter().map(|c| c.0).collect::<Vec<_>>(),
            "ext_ids": ext_ids,
            "best_score": p.best_score,
            "worst_score": p.worst_score,
        }));
    }
    let mut doc = json!({
        "threshold": a.threshold,
        "customers": result.customers,
        "clusters_total": plans.len(),
        "records_total": records_total,
        "clusters": clusters,
        "applied": false,
        "merges": [],
    });
    print_auto_preview(ctx, &store, &plans, a.threshold, records_total, limit)?;
    if plans.is_empty() || a.dry_run {
        return ctx.out.json(&doc);
    }
    super::confirm(
        ctx,
        &format!(
            "merge {} clusters ({records_total} customers become {})? Each merge can be taken back with `rolo dedup unmerge`",
            plans.len(),
            plans.len()
        ),
        &format!(
            "merging {} clusters changes {records_total} customers (--dry-run only shows them)",
            plans.len()
        ),
    )?;
    let bar = ctx.out.progress(plans.len() as u64, "merging clusters");
    let mut merges = Vec::new();
    let mut interrupted = false;
    for p in &plans {
        if ctx.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        let out = store.merge(&p.plan).with_context(|| {
            format!(
                "merging into customer {} after {} merges had been made (`rolo audit --op merge` lists them)",
                p.plan.survivor,
                merges.len()
            )
        })?;
        merges.push((p, out));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("applied".into(), json!(true));
        obj.insert("interrupted".into(), json!(interrupted));
        obj.insert(
            "merges".into(),
            json!(
                merges
                    .iter()
                    .map(|(p, out)| json!({
                        "merge": out.seq,
                        "survivor": out.survivor.0,
                        "merged": p.plan.others.iter().map(|c| c.0).collect::<Vec<_>>(),
                        "best_score": p.best_score,
                        "orders_moved": out.orders_moved,
                        "notes_moved": out.notes_moved,
                    }))
                    .collect::<Vec<_>>()
            ),
        );
    }
    ctx.out.json(&doc)?;
    let hidden: usize = merges.iter().map(|(p, _)| p.plan.others.len()).sum();
    if let (Some((_, first)), Some((_, last))) = (merges.first(), merges.last()) {
        ctx.out.line(&format!(
            "merged {} clusters: {hidden} customers merged into {} survivors (merges #{} to #{}); `rolo dedup unmerge ID` takes one back",
            merges.len(),
            merges.len(),
            first.seq,
            last.seq
        ))?;
    }
    if interrupted {
        return Err(user_error(format!(
            "interrupted after {} of {} merges; each one made is kept (run again to merge the rest)",
            merges.len(),
            plans.len()
        )));
    }
    Ok(())
}

/// The text preview of `dedup auto`: a summary, then the strongest
/// clusters, survivor first.
fn print_auto_preview(
    ctx: &Ctx,
    store: &Store,
    plans: &[dedup::auto::AutoMerge],
    threshold: f64,
    records_total: usize,
    limit: usize,
) -> Result<()> {
    if ctx.out.is_json() {
        return Ok(());
    }
    if plans.is_empty() {
        return ctx.out.line(&format!(
            "no clusters at or above {threshold}: nothing to merge"
        ));
    }
    ctx.out.line(&format!(
        "{} clusters at or above {threshold}: {records_total} customers would become {} (survivor: the most complete record, then the most recently updated)",
        plans.len(),
        plans.len()
    ))?;
    let name = |id: CustomerId| -> Result<String> {
        Ok(store
            .customer(id)?
            .map(|c| c.display_name().into_owned())
            .unwrap_or_default())
    };
    for p in plans.iter().take(limit) {
        let others = p
            .plan
            .others
            .iter()
            .map(|id| Ok(format!("{id} {}", name(*id)?)))
            .collect::<Result<Vec<_>>>()?;
        ctx.out.line(&format!(
            "{:.4}  {:>8} {} <- {}",
            p.best_score,
            p.plan.survivor.0,
            pad(&name(p.plan.survivor)?, 16),
            others.join(", ")
        ))?;
    }
    if plans.len() > limit {
        ctx.out
            .line(&format!("... {} more (--limit N)", plans.len() - limit))?;
    }
    Ok(())
}

/// `rolo dedup unmerge ID`: restores every record as before merge ID.
fn unmerge(ctx: &Ctx, merge_seq: u64) -> Result<()> {
    let store = ctx.open()?;
    let out = store.unmerge(merge_seq)?;
    let restored: Vec<u64> = out.restored.iter().map(|c| c.0).collect();
    ctx.out.json(&json!({
        "unmerge": out.seq,
        "merge": out.merge_seq,
        "survivor": out.survivor.0,
        "restored": restored,
    }))?;
    ctx.out.line(&format!(
        "unmerged #{}: customers {} are separate again",
        out.merge_seq,
        restored
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// `rolo dedup dismiss A B`: "not a duplicate", never reported again.
fn dismiss(ctx: &Ctx, a: u64, b: u64) -> Result<()> {
    let store = ctx.open()?;
    for id in [a, b] {
        store.require_customer(CustomerId(id))?;
    }
    let new = store.dismiss_pair(CustomerId(a), CustomerId(b))?;
    ctx.out
        .json(&json!({"a": a.min(b), "b": a.max(b), "dismissed": true, "new": new}))?;
    ctx.out.line(&if new {
        format!("customers {a} and {b} are not duplicates: the pair will not be reported again")
    } else {
        format!("customers {a} and {b} were already dismissed")
    })
}

/// Reads a truth file: a header, then ext_id pairs.
fn read_truth(path: &Path) -> Result<Vec<(String, String)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| user_error(format!("cannot read truth file {}: {e}", path.display())))?;
    let mut rows = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let row = row
            .map_err(|e| user_error(format!("truth file {} row {}: {e}", path.display(), i + 2)))?;
        match (row.get(0), row.get(1)) {
            (Some(a), Some(b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                rows.push((a.trim().to_owned(), b.trim().to_owned()));
            }
            _ => {
                return Err(user_error(format!(
                    "truth file {} row {}: expected two ext_ids (ext_id_a,ext_id_b)",
                    path.display(),
                    i + 2
                )));
            }
        }
    }
    Ok(rows)
}

fn scan(ctx: &Ctx, a: ScanArgs) -> Result<()> {
    let truth = a.truth.as_deref().map(read_truth).transpose()?;
    // A scan reads every record once: sled's smaller cache (the import's)
    // keeps a million of them from filling 512 MiB of cache.
    let store = ctx.open_for_import()?;
    let t = std::time::Instant::now();
    let records = dedup::read_records(&store).context("reading the customers")?;
    let read_ms = t.elapsed().as_millis() as u64;
    let present: Option<HashSet<String>> = truth.as_ref().map(|_| {
        records
            .iter()
            .filter_map(|r| r.ext_id().map(str::to_owned))
            .collect()
    });
    let dismissed = dismissed_pairs(&store)?;
    let opts = ScanOptions {
        threshold: a.threshold,
        ..ScanOptions::default()
    };
    let result = dedup::scan(records, &dismissed, &opts);
    // Kept for imports with --check-duplicates and for `rolo quality`.
    let saved = !store.is_read_only();
    if saved {
        dedup::state::save(&store, &result, a.threshold).context("saving the scan")?;
    }
    let evaluation = match (&truth, &present) {
        (Some(rows), Some(present)) => Some(evaluate(&result, rows, present)),
        _ => None,
    };
    let limit = a
        .limit
        .unwrap_or(if ctx.out.is_json() { usize::MAX } else { 50 });
    if ctx.out.is_json() {
        let mut doc = to_json(&result, a.threshold, limit, evaluation.as_ref(), read_ms);
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("saved".into(), json!(saved));
        }
        ctx.out.json(&doc)?;
    } else {
        print_text(
            ctx,
            &store,
            &result,
            a.threshold,
            limit,
            evaluation.as_ref(),
        )?;
    }
    Ok(())
}

fn evaluate(scan: &Scan, rows: &[(String, String)], present: &HashSet<String>) -> Evaluation {
    let truth = Truth::new(rows.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let present: HashSet<&str> = present.iter().map(String::as_str).collect();
    let pairs: Vec<(&str, &str)> = scan
        .pairs
        .iter()
        .filter_map(|p| Some((p.a_ext_id.as_deref()?, p.b_ext_id.as_deref()?)))
        .collect();
    // Clusters are ids; their ext_ids come from the pairs that formed them.
    let mut ext: std::collections::HashMap<u64, &str> = std::collections::HashMap::new();
    for p in &scan.pairs {
        if let Some(e) = p.a_ext_id.as_deref() {
            ext.insert(p.a.0, e);
        }
        if let Some(e) = p.b_ext_id.as_deref() {
            ext.insert(p.b.0, e);
        }
    }
    let clusters: Vec<Vec<&str>> = scan
        .clusters
        .iter()
        .map(|c| c.iter().filter_map(|id| ext.get(&id.0).copied()).collect())
        .collect();
    truth.evaluate(&pairs, &clusters, &present)
}

fn pair_json(p: &Pair) -> Value {
    let mut fields = Map::new();
    let mut levels = Map::new();
    for f in &p.fields {
        fields.insert(f.name.to_string(), json!(round(f.weight)));
        levels.insert(f.name.to_string(), json!(f.level.as_str()));
    }
    json!({
        "a": p.a.0,
        "b": p.b.0,
        "a_ext_id": p.a_ext_id,
        "b_ext_id": p.b_ext_id,
        "score": p.score,
        "match_weight": round(p.weight),
        "fields": fields,
        "levels": levels,
        "keys": p.keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
    })
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

fn to_json(
    scan: &Scan,
    threshold: f64,
    limit: usize,
    evaluation: Option<&Evaluation>,
    read_ms: u64,
) -> Value {
    let model = &scan.model;
    let mut fields = Map::new();
    for (name, levels) in model.params() {
        fields.insert(name.into_owned(), json!(levels));
    }
    let mut out = json!({
        "customers": scan.customers,
        "candidates": scan.candidates,
        "threshold": threshold,
        "pairs_total": scan.pairs.len(),
        "pairs": scan.pairs.iter().take(limit).map(pair_json).collect::<Vec<_>>(),
        "clusters": scan.clusters.iter()
            .map(|c| c.iter().map(|id| id.0).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        "blocks": scan.blocks,
        "model": {
            "prior": model.prior,
            "prior_weight": round(model.prior_weight()),
            "candidate_match_rate": model.candidate_match_rate,
            "em_iterations": model.em_iterations,
            "u_pairs": model.u_pairs,
            "sessions": model.sessions,
            "identifiers": model.identifiers.names(),
            "fields": fields,
        },
        "timings_ms": scan.timings,
    });
    if let Some(obj) = out.as_object_mut() {
        if let Some(t) = obj.get_mut("timings_ms").and_then(Value::as_object_mut) {
            t.insert("read_ms".into(), json!(read_ms));
        }
        if let Some(e) = evaluation {
            obj.insert("evaluation".into(), json!(e));
        }
    }
    out
}

/// `s` cut or padded to `width` terminal columns (CJK characters take two).
fn pad(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut used = 0;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if total > width && used + w > width - 1 {
            out.push('…');
            used += 1;
            break;
        }
        out.push(c);
        used += w;
    }
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

fn print_text(
    ctx: &Ctx,
    store: &Store,
    scan: &Scan,
    threshold: f64,
    limit: usize,
    evaluation: Option<&Evaluation>,
) -> Result<()> {
    ctx.out.line(&format!(
        "{} customers, {} candidate pairs: {} pairs at or above {threshold}, {} clusters",
        scan.customers,
        scan.candidates,
        scan.pairs.len(),
        scan.clusters.len()
    ))?;
    if scan.blocks.capped > 0 {
        ctx.out.line(&format!(
            "{} blocks over the cap of {} were split ({} parts skipped)",
            scan.blocks.capped, scan.blocks.cap, scan.blocks.skipped
        ))?;
    }
    let name = |id: crate::model::CustomerId| -> Result<String> {
        Ok(store
            .customer(id)?
            .map(|c| c.display_name().into_owned())
            .unwrap_or_default())
    };
    for p in scan.pairs.iter().take(limit) {
        let mut why: Vec<&dedup::FieldScore> =
            p.fields.iter().filter(|f| f.weight != 0.0).collect();
        why.sort_by(|x, y| y.weight.abs().total_cmp(&x.weight.abs()));
        let why: Vec<String> = why
            .iter()
            .take(4)
            .map(|f| format!("{} {} {:+.1}", f.name, f.level.as_str(), f.weight))
            .collect();
        ctx.out.line(&format!(
            "{:.4}  {:>8} {} {:>8} {}  {}",
            p.score,
            p.a.0,
            pad(&name(p.a)?, 16),
            p.b.0,
            pad(&name(p.b)?, 16),
            why.join(", ")
        ))?;
    }
    if scan.pairs.len() > limit {
        ctx.out.line(&format!(
            "... {} more (--limit N)",
            scan.pairs.len() - limit
        ))?;
    }
    if let Some(e) = evaluation {
        for (what, f) in [("pairs", &e.pairs), ("clusters", &e.clusters)] {
            ctx.out.line(&format!(
                "{what}: precision {:.4}, recall {:.4}, F1 {:.4} ({} true pairs, {} found right, {} wrong, {} missed)",
                f.precision,
                f.recall,
                f.f1,
                e.truth_pairs,
                f.true_positives,
                f.false_positives,
                f.false_negatives
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::pad;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn names_are_padded_by_display_width() {
        for s in [
            "张伟",
            "John Smith",
            "欧阳娜娜欧阳娜娜欧阳娜娜",
            "Bartholomew Fitzgerald-Smythe",
            "",
        ] {
            let p = pad(s, 16);
            assert_eq!(p.width(), 16, "{s:?} -> {p:?}");
        }
        assert_eq!(pad("张伟", 16), format!("张伟{}", " ".repeat(12)));
        assert!(
            pad("欧阳娜娜欧阳娜娜欧阳娜娜", 16)
                .trim_end()
                .ends_with('…')
        );
    }
}
