#!/usr/bin/python3
"""Gyre's linear, k-NN and naive Bayes learners side by side with scikit-learn.

  go build -o /tmp/gyre-ll ./bench/learners_linear
  /usr/bin/python3 bench/learners_linear/run.py --gyre /tmp/gyre-ll \
      [--datasets ../shared/datasets] [--only adult]

For each case it fits Gyre (main.go: the learner's own encoding of raw
numeric + categorical-coded columns) and scikit-learn on the *same* encoding
(train-mean imputation, population-std standardisation of numerics, one-hot of
the train levels with missing/unseen as all zeros), and, for the logistic
baseline, also scikit-learn on ../shared/bench/peers.py's linear encoding.
Everything is scored with ../shared/bench/peers.py's score(). Prints a
Markdown table; timings are wall seconds on this machine (fit includes
encoding; predict is per 1,000 test rows).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BENCH = os.path.abspath(os.path.join(ROOT, "..", "shared", "bench"))
sys.path.insert(0, BENCH)
from peers import PRIMARY, linear_encoder, load, score  # noqa: E402


def same_encoding(m, Xtr, Xte):
    """The encoding Gyre's linear learners apply internally."""
    cat = [c for c in m["categorical_columns"] if c in Xtr.columns]
    num = [c for c in Xtr.columns if c not in cat]
    parts_tr, parts_te = [], []
    for c in num:
        mu = Xtr[c].mean()
        sd = Xtr[c].std(ddof=0)
        sd = sd if sd > 1e-12 else 1.0
        parts_tr.append(((Xtr[c].fillna(mu) - mu) / sd).to_numpy()[:, None])
        parts_te.append(((Xte[c].fillna(mu) - mu) / sd).to_numpy()[:, None])
    for c in cat:
        levels = [v for v in pd.unique(Xtr[c]) if isinstance(v, str)]
        parts_tr.append(np.column_stack([(Xtr[c] == v).to_numpy(float) for v in levels]))
        parts_te.append(np.column_stack([(Xte[c] == v).to_numpy(float) for v in levels]))
    return np.hstack(parts_tr), np.hstack(parts_te)


def sk_case(name):
    from sklearn import linear_model as L, naive_bayes as NB, neighbors as NN, svm
    from sklearn.calibration import CalibratedClassifierCV
    return {
        "logistic_regression": lambda: L.LogisticRegression(C=1.0, max_iter=100),
        "logistic_l1": lambda: L.LogisticRegression(C=1.0, penalty="l1", solver="saga", max_iter=200, tol=1e-4),
        "linear_svm": lambda: CalibratedClassifierCV(svm.LinearSVC(C=1.0, loss="hinge", max_iter=1000), cv=3),
        "naive_bayes": lambda: NB.GaussianNB(),
        "knn": lambda: NN.KNeighborsClassifier(n_neighbors=15),
        "knn_reg": lambda: NN.KNeighborsRegressor(n_neighbors=15),
        "linear_regression": lambda: L.LinearRegression(),
        "ridge": lambda: L.Ridge(alpha=1.0),
        "lasso": lambda: L.Lasso(alpha=0.1),
        "elastic_net": lambda: L.ElasticNet(alpha=0.1, l1_ratio=0.5),
    }[name]()


# (data set, case label, Gyre learner, Gyre --set params, sklearn case, also peers encoding)
CASES = [
    ("adult", "logistic_regression", "logistic_regression", [], "logistic_regression", True),
    ("adult", "logistic_regression l1", "logistic_regression", ["penalty=l1"], "logistic_l1", False),
    ("adult", "linear_svm", "linear_svm", [], "linear_svm", False),
    ("adult", "naive_bayes", "naive_bayes", [], "naive_bayes", False),
    ("letter", "logistic_regression (26 classes)", "logistic_regression", [], "logistic_regression", True),
    ("spambase", "knn k=15", "knn", ["k=15"], "knn", False),
    ("pima_diabetes", "knn k=15 (k-d tree)", "knn", ["k=15"], "knn", False),
    ("bike_sharing", "linear_regression", "linear_regression", [], "linear_regression", False),
    ("bike_sharing", "ridge alpha=1", "ridge", ["alpha=1"], "ridge", True),
    ("bike_sharing", "lasso alpha=0.1", "lasso", ["alpha=0.1"], "lasso", False),
    ("california_housing", "elastic_net alpha=0.1", "elastic_net", ["alpha=0.1"], "elastic_net", False),
    ("california_housing", "knn k=15 regression", "knn", ["k=15"], "knn_reg", False),
]


def predict(est, m, X):
    if m["task"] == "regression":
        return est.predict(X)
    P = est.predict_proba(X)
    return P[:, 1] if m["task"] == "binary" else P


def run_sklearn(m, Xtr, ytr, Xte, yte, case, peers_enc):
    t0 = time.perf_counter()
    if peers_enc:
        enc = linear_encoder(m, Xtr)
        A = enc.fit_transform(Xtr)
        B = enc.transform(Xte)
    else:
        A, B = same_encoding(m, Xtr, Xte)
    est = sk_case(case).fit(A, ytr)
    fit = time.perf_counter() - t0
    t1 = time.perf_counter()
    pred = predict(est, m, B)
    pr = time.perf_counter() - t1
    return score(m, yte, pred), fit, pr / len(yte) * 1000


def run_gyre(gyre, ds_dir, m, yte, learner, params):
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        cmd = [gyre, "-data", ds_dir, "-learner", learner, "-out", f.name]
        for p in params:
            cmd += ["-set", p]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t0
        rec = json.loads(out)
        p = pd.read_csv(f.name)
    if m["task"] == "regression":
        pred = p["prediction"].to_numpy(float)
    elif m["task"] == "binary":
        pred = p[f'proba_{m["positive_class"]}'].to_numpy(float)
    else:
        pred = np.column_stack([p[f"proba_{c}"].to_numpy(float) for c in m["classes"]])
    return score(m, yte, pred), rec["fit_seconds"], rec["predict_seconds_per_1k"], wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gyre", required=True)
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--only")
    a = ap.parse_args()
    print("| data set | learner | metric | Gyre | sklearn (same encoding) | sklearn (peers.py encoding) | Gyre fit s | sklearn fit s | Gyre predict s/1k | sklearn predict s/1k |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ds, label, learner, params, case, peers_enc in CASES:
        if a.only and a.only != ds:
            continue
        d = os.path.join(a.datasets, ds)
        m, Xtr, ytr, Xte, yte = load(d)
        pm = PRIMARY[m["task"]]
        g, gfit, gpred, _ = run_gyre(a.gyre, d, m, yte, learner, params)
        s, sfit, spred = run_sklearn(m, Xtr, ytr, Xte, yte, case, False)
        peer = "–"
        if peers_enc:
            p, _, _ = run_sklearn(m, Xtr, ytr, Xte, yte, case, True)
            peer = f"{p[pm]:.4f}"
        print(f"| {ds} | {label} | {pm} | {g[pm]:.4f} | {s[pm]:.4f} | {peer} | {gfit:.2f} | {sfit:.2f} | {gpred:.4f} | {spred:.4f} |", flush=True)


if __name__ == "__main__":
    main()
