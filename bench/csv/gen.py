#!/usr/bin/python3
"""Generate the mixed CSV used by bench/csv/run.sh: ROWS rows x 20 columns
(6 int, 8 float, 6 categorical), about 3% missing values in most columns,
from a fixed seed so every run reads the same bytes.

usage: gen.py OUT.csv [ROWS]
"""
import sys

import numpy as np

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(20240917)
cols = {}
for j in range(6):
    v = rng.integers(-1000, 100000, size=rows).astype(object)
    if j % 2 == 0:
        v[rng.random(rows) < 0.03] = ""
    cols[f"int{j}"] = v
for j in range(8):
    v = np.round(rng.normal(100, 50, size=rows), 4).astype(object)
    v[rng.random(rows) < 0.03] = ""
    cols[f"float{j}"] = v
for j in range(6):
    levels = np.array([f"level_{chr(97 + j)}_{k}" for k in range(5 + 20 * j)], dtype=object)
    v = levels[rng.integers(0, len(levels), size=rows)]
    if j % 2 == 1:
        v[rng.random(rows) < 0.03] = ""
    cols[f"cat{j}"] = v
names = list(cols)
with open(out, "w") as f:
    f.write(",".join(names) + "\n")
    block = 100_000
    for s in range(0, rows, block):
        e = min(rows, s + block)
        parts = [cols[n][s:e].astype(str) for n in names]
        f.write("\n".join(",".join(r) for r in zip(*parts)) + "\n")
