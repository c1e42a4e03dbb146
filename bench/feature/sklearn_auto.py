"""Peer benchmark for Gyre's automatic "linear" feature pipeline.

Builds the same shape of data as internal/feature/bench_test.go (1,000,000 rows:
12 float columns with 5% missing, 3 int, 1 bool, 4 categorical with 8-38 levels
and 2% missing) and times scikit-learn's equivalent ColumnTransformer:
SimpleImputer(median, add_indicator) + StandardScaler on numbers,
SimpleImputer(most_frequent) + OneHotEncoder(min_frequency=0.01, max_categories=20)
on categories. Prints fit and transform seconds (best of 2).

    /usr/bin/python3 bench/feature/sklearn_auto.py
"""
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

n = 1_000_000
rng = np.random.default_rng(1)
cols = {}
for j in range(12):
    v = rng.normal(j, j + 1, n)
    v[rng.integers(0, 20, n) == 0] = np.nan
    cols[f"f{j}"] = v
for j in range(3):
    cols[f"i{j}"] = rng.integers(0, 1000, n)
cols["b"] = rng.integers(0, 2, n).astype(bool)
for j in range(4):
    k = 8 + 10 * j
    codes = rng.integers(0, k, n)
    s = pd.Categorical.from_codes(codes, [f"c{j}_{l}" for l in range(k)]).astype(object)
    s[rng.integers(0, 50, n) == 0] = np.nan
    cols[f"c{j}"] = s
df = pd.DataFrame(cols)
num = [f"f{j}" for j in range(12)] + [f"i{j}" for j in range(3)]
cat = [f"c{j}" for j in range(4)]
ct = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), num),
    ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                          OneHotEncoder(min_frequency=0.01, max_categories=20, handle_unknown="infrequent_if_exist")), cat),
], remainder="passthrough")
fit = []
tr = []
for _ in range(2):
    t = time.perf_counter(); ct.fit(df); fit.append(time.perf_counter() - t)
    t = time.perf_counter(); ct.transform(df); tr.append(time.perf_counter() - t)
print(f"sklearn fit {min(fit):.2f}s transform {min(tr):.2f}s")
