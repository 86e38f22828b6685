#!/usr/bin/env bash
# Reproduces every figure in docs/benchmarks.md.
#
#   scripts/bench.sh                         # 1,000,000 customers, 5,000,000 orders
#   ROLO_BENCH_SIZE=10000 scripts/bench.sh   # quick smoke run
#
# Steps: build release; install fzf (and hyperfine, if apt can) when missing;
# run the import bench (generates ./bench-data/n<SIZE>/ when missing and leaves
# the imported database at ./bench-data/n<SIZE>/db); run the search bench; then
# time whole processes, `rolo search Q --limit 50` against
# `fzf --filter Q | head -50` over the same customers' display lines, in the
# same run. Logs and tables go to ./bench-data/n<SIZE>/results/.
#
# ROLO_BENCH_SKIP_IMPORT=1 reuses an existing database instead of re-importing.
# ROLO_BENCH_RUNS sets the runs per whole-process command (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE="${ROLO_BENCH_SIZE:-1000000}"
export ROLO_BENCH_SIZE="$SIZE"
DATA="${ROLO_BENCH_DATA:-$PWD/bench-data/n$SIZE}"
export ROLO_BENCH_DATA="$DATA"
RUNS="${ROLO_BENCH_RUNS:-5}"
OUT="$DATA/results"
DB="$DATA/db"
ROLO="$PWD/target/release/rolo"
mkdir -p "$OUT"

say() { printf '\n### %s\n' "$*"; }

say "machine"
{
  echo "nproc: $(nproc)"
  free -g
  rustc --version
  echo "kernel: $(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

say "build (release)"
cargo build --release --quiet

APT_UPDATED=0
install_if_missing() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if [ "$APT_UPDATED" = 0 ]; then
      apt-get update -qq >/dev/null 2>&1 || true
      APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 || true
  fi
  command -v "$1" >/dev/null 2>&1
}
install_if_missing fzf || { echo "bench.sh: fzf is needed and could not be installed" >&2; exit 1; }
HAVE_HYPERFINE=0
install_if_missing hyperfine && HAVE_HYPERFINE=1
install_if_missing jq || { echo "bench.sh: jq is needed and could not be installed" >&2; exit 1; }
echo "fzf $(fzf --version | cut -d' ' -f1); hyperfine: $([ $HAVE_HYPERFINE = 1 ] && hyperfine --version || echo 'not available, timing with date +%s%N')"

if [ "${ROLO_BENCH_SKIP_IMPORT:-0}" = 1 ] && [ -f "$DATA/db.complete" ]; then
  say "import bench skipped (ROLO_BENCH_SKIP_IMPORT=1, reusing $DB)"
else
  say "import bench (cargo bench --bench import)"
  cargo bench --quiet --bench import 2>&1 | tee "$OUT/import.txt"
fi

say "search bench (cargo bench --bench search)"
cargo bench --quiet --bench search 2>&1 | tee "$OUT/search.txt"

say "display lines for fzf (rolo export customers --format csv)"
t0=$(date +%s%N)
"$ROLO" --db "$DB" export customers --format csv -o "$DATA/export.csv"
t1=$(date +%s%N)
echo "export: $(( (t1 - t0) / 1000000 )) ms"
# One line per customer: name, email, phone, company (as fzf users would feed it).
python3 - "$DATA/export.csv" "$DATA/lines.txt" <<'PY'
import csv, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, newline="", encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
    r = csv.DictReader(f)
    for row in r:
        cells = [row.get(k, "") for k in ("name", "email", "phone", "company")]
        # export neutralises formula-like cells with a leading quote; undo for display
        cells = [c[1:] if c.startswith("'") else c for c in cells]
        out.write("  ".join(c for c in cells if c) + "\n")
PY
echo "lines.txt: $(wc -l < "$DATA/lines.txt") lines, $(du -h "$DATA/lines.txt" | cut -f1)"

QUERIES=("zhang" "zhangwei" "zw" "张伟" "smith" "sharon th" "gmail" "5555" "lighthouse" "深圳")

say "whole process: rolo search vs fzf --filter ($RUNS runs each, medians)"
median_ms() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
loop_time() { # command string -> median ms over $RUNS runs, after one warm-up
  local cmd="$1" i s e
  bash -c "$cmd" >/dev/null 2>&1 || true
  for ((i = 0; i < RUNS; i++)); do
    s=$(date +%s%N)
    bash -c "$cmd" >/dev/null 2>&1 || true
    e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | median_ms | awk '{printf "%.1f", $1 / 1000}'
}

TABLE="$OUT/whole-process.md"
{
  echo "| query | rolo search median ms | fzf --filter median ms | rolo/fzf | rolo total | fzf matches |"
  echo "|---|---:|---:|---:|---:|---:|"
} > "$TABLE"
JSONL="$OUT/whole-process.jsonl"
: > "$JSONL"
for q in "${QUERIES[@]}"; do
  rolo_cmd="'$ROLO' search '$q' --limit 50 --db '$DB'"
  fzf_cmd="fzf --filter '$q' < '$DATA/lines.txt' | head -50"
  if [ "$HAVE_HYPERFINE" = 1 ]; then
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$OUT/hf.json" \
      -n rolo "$rolo_cmd" -n fzf "$fzf_cmd" >/dev/null 2>&1
    r=$(jq '.results[] | select(.command=="rolo") | .median * 1000' "$OUT/hf.json")
    f=$(jq '.results[] | select(.command=="fzf") | .median * 1000' "$OUT/hf.json")
  else
    r=$(loop_time "$rolo_cmd")
    f=$(loop_time "$fzf_cmd")
  fi
  total=$("$ROLO" --db "$DB" --json search "$q" --limit 50 | jq .total)
  fzf_n=$(fzf --filter "$q" < "$DATA/lines.txt" | wc -l)
  ratio=$(awk -v r="$r" -v f="$f" 'BEGIN {printf "%.2f", r / f}')
  printf '| `%s` | %.1f | %.1f | %s | %s | %s |\n' "$q" "$r" "$f" "$ratio" "$total" "$fzf_n" | tee -a "$TABLE"
  jq -cn --arg q "$q" --argjson r "$r" --argjson f "$f" --argjson t "$total" --argjson n "$fzf_n" \
    '{query: $q, rolo_ms: $r, fzf_ms: $f, rolo_total: $t, fzf_matches: $n}' >> "$JSONL"
done
method=$([ "$HAVE_HYPERFINE" = 1 ] && echo "hyperfine --warmup 1 --runs $RUNS" || echo "date +%s%N loop, 1 warm-up + $RUNS runs")
summary=$(jq -cs --arg m "$method" '{bench: "whole_process", method: $m,
  rolo_median_of_medians_ms: ([.[].rolo_ms] | sort | .[length/2|floor]),
  fzf_median_of_medians_ms: ([.[].fzf_ms] | sort | .[length/2|floor]),
  worst_ratio: ([.[] | .rolo_ms / .fzf_ms] | max),
  queries: .}' "$JSONL")
echo "BENCH_SUMMARY whole_process $summary" | tee "$OUT/whole-process.summary"

say "summary"
grep -h '^BENCH_SUMMARY import' "$OUT/import.txt" 2>/dev/null | sed 's/^BENCH_SUMMARY import //' | jq -r '
  "import: customers \(.lib.customers.rows_per_s | floor) rows/s (target >= 50000), orders \(.lib.orders.rows_per_s | floor) rows/s",
  "db/CSV: customers \(.db_ratio_customers * 100 | floor / 100)x, all \(.db_ratio_all * 100 | floor / 100)x (target <= 4)",
  "peak RSS: \((.peak_rss_bytes // 0) / 1e6 | floor) MB (target < 1073)"' || true
grep -h '^BENCH_SUMMARY search' "$OUT/search.txt" | sed 's/^BENCH_SUMMARY search //' | jq -r '
  "keystrokes: p50 \(.p50_ms * 100 | floor / 100) ms (<= 16), p99 \(.p99_ms * 100 | floor / 100) ms (<= 50); cold p50 \(.cold_p50_ms * 100 | floor / 100) ms, p99 \(.cold_p99_ms * 100 | floor / 100) ms",
  "index: load \(.index_load_median_ms | floor) ms, memory \(.index_memory_bytes / 1e6 | floor) MB, on disk (chunks) \(.search_chunk_bytes / 1e6 | floor) MB, customer records \(.customer_record_bytes / 1e6 | floor) MB"'
echo "$summary" | jq -r '"whole process: rolo median \(.rolo_median_of_medians_ms) ms vs fzf \(.fzf_median_of_medians_ms) ms; worst rolo/fzf ratio \(.worst_ratio * 100 | floor / 100) (target <= 0.5)"'
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
