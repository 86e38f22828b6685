#!/usr/bin/env python3
"""The benchmark peer of `cargo bench --bench segments`: pandas/numpy
computing DESIGN.md §5's R, F, M scores and segments from an order CSV
(columns order_date, amount and customer or customer_id).

usage: scripts/rfm_peer.py ORDERS.csv AS_OF   (prints one JSON line of seconds)
"""

import json
import sys
import time

import numpy as np
import pandas as pd

TABLE = np.array([
    ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    ["About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
    ["Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"],
    ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
])

path, as_of = sys.argv[1], pd.Timestamp(sys.argv[2])
t0 = time.perf_counter()
o = pd.read_csv(path)
cust = "customer" if "customer" in o.columns else "customer_id"
o["order_date"] = pd.to_datetime(o["order_date"])
t1 = time.perf_counter()
o = o[o["order_date"] <= as_of]
g = o.groupby(cust)
f = pd.DataFrame({
    "last": g["order_date"].max(),
    "frequency": g["order_date"].nunique(),
    "monetary": g["amount"].sum(),
})
f["recency"] = (as_of - f["last"]).dt.days
qs = [20, 40, 60, 80]
r = 5 - sum((f["recency"].values > b).astype(int) for b in np.percentile(f["recency"], qs))
fr = 1 + sum((f["frequency"].values > b).astype(int) for b in np.percentile(f["frequency"], qs))
m = 1 + sum((f["monetary"].values > b).astype(int) for b in np.percentile(f["monetary"], qs))
seg = TABLE[r - 1, fr - 1]
counts = pd.Series(seg).value_counts()
t2 = time.perf_counter()
print(json.dumps({"read_s": round(t1 - t0, 3), "compute_s": round(t2 - t1, 3), "customers": int(len(f))}))
