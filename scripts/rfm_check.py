#!/usr/bin/env python3
"""Checks rolo's per-customer RFM figures against an independent pandas/numpy
computation of DESIGN.md §5 on a transaction log.

usage: scripts/rfm_check.py ORDERS.csv AS_OF [ROLO_BINARY]

ORDERS.csv has the columns order_id, customer, order_date, amount (one row
per order or order line; rows sharing an order id are lines of one order).
The script imports it into a fresh database (customers first, one per
distinct customer id), exports the customers with their figures as of AS_OF
and compares recency, frequency, monetary, R, F, M, the RFM segment, the
lifecycle stage and the value tier of every customer. Exit status 1 on any
disagreement. Needs numpy and pandas (pip install numpy pandas).
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

TABLE = {
    5: ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
}


def expected(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    o = orders[orders["order_date"] <= as_of]
    g = o.groupby("customer")
    f = pd.DataFrame(
        {
            "first": g["order_date"].min(),
            "last": g["order_date"].max(),
            "frequency": g["order_date"].nunique(),
            "monetary_cents": g["cents"].sum(),
        }
    )
    f["recency"] = (as_of - f["last"]).dt.days
    qs = [20, 40, 60, 80]
    rb = np.percentile(f["recency"], qs)
    fb = np.percentile(f["frequency"], qs)
    mb = np.percentile(f["monetary_cents"], qs)
    f["r"] = 5 - sum((f["recency"] > b).astype(int) for b in rb)
    f["f"] = 1 + sum((f["frequency"] > b).astype(int) for b in fb)
    f["m"] = 1 + sum((f["monetary_cents"] > b).astype(int) for b in mb)
    f["rfm_segment"] = [TABLE[r][fs - 1] for r, fs in zip(f["r"], f["f"])]
    since_first = (as_of - f["first"]).dt.days
    f["lifecycle"] = np.select(
        [since_first <= 30, f["recency"] <= 90, f["recency"] <= 180],
        ["new", "active", "at_risk"],
        "churned",
    )
    hi = np.percentile(f["monetary_cents"], 80)
    mid = np.percentile(f["monetary_cents"], 50)
    f["value_tier"] = np.select(
        [f["monetary_cents"] <= 0, f["monetary_cents"] > hi, f["monetary_cents"] > mid],
        ["none", "high", "mid"],
        "low",
    )
    return f


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    path, as_of = sys.argv[1], sys.argv[2]
    rolo = sys.argv[3] if len(sys.argv) > 3 else "target/release/rolo"
    orders = pd.read_csv(path, dtype={"customer": str, "order_id": str})
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    # Exact cents, as rolo stores them.
    orders["cents"] = (orders["amount"].astype(str).map(lambda s: round(float(s) * 100))).astype("int64")
    want = expected(orders, pd.Timestamp(as_of))

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "db")
        people = os.path.join(tmp, "customers.csv")
        ids = sorted(orders["customer"].unique())
        pd.DataFrame({"ext_id": ids, "name": [f"customer {i}" for i in ids]}).to_csv(people, index=False)

        def run(*args):
            out = subprocess.run([rolo, "--db", db, "--json", *args], capture_output=True, check=True)
            return json.loads(out.stdout)

        run("import", "customers", people)
        report = run("import", "orders", path)
        print("import:", report, file=sys.stderr)
        exported = run("--as-of", as_of, "export", "customers", "--format", "json")
    got = {c["ext_id"]: c for c in exported}
    bad = 0
    cols = ["recency_days", "frequency", "monetary", "r", "f", "m", "rfm_segment", "lifecycle", "value_tier"]
    for cust, w in want.iterrows():
        g = got.get(cust)
        exp = [
            int(w["recency"]), int(w["frequency"]), w["monetary_cents"] / 100,
            int(w["r"]), int(w["f"]), int(w["m"]), w["rfm_segment"], w["lifecycle"], w["value_tier"],
        ]
        have = [None if g is None else g.get(c) for c in cols]
        if g is None or any(
            (abs(a - b) > 1e-9 if isinstance(a, float) and isinstance(b, (int, float)) else a != b)
            for a, b in zip(exp, have)
        ):
            bad += 1
            if bad <= 10:
                print(f"customer {cust}: expected {exp}, rolo {have}", file=sys.stderr)
    print(f"{len(want)} customers with orders compared, {bad} disagree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
