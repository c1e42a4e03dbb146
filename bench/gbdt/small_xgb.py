#!/usr/bin/python3
"""XGBoost hist fit times on shared data sets (the peer side of small.sh).

Trains on <name>.train.csv with the same budget as Gyre's default gbdt
(100 rounds per class, learning rate 0.1, lambda 1, 255 bins) in two shapes:
lossguide with 31 leaves (Gyre's shape) and XGBoost's default depth 6.
Categorical columns (manifest) are pandas categories (enable_categorical).
Prints one line per fit: "xgb_leaves31 <name> <seconds>" and the test metric.

  /usr/bin/python3 bench/gbdt/small_xgb.py --sets weight_lifting,adult --threads 2
"""
import argparse
import json
import os
import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score


def load(root, name):
    man = json.load(open(os.path.join(root, name, "manifest.json")))
    cats = set(man.get("categorical_columns") or [])
    frames = []
    for part in ("train", "test"):
        df = pd.read_csv(os.path.join(root, name, f"{name}.{part}.csv"), keep_default_na=False, na_values=[""],
                         dtype={c: str for c in cats} | {man["target"]: str})
        frames.append(df)
    tr, te = frames
    for c in cats:
        levels = sorted(tr[c].dropna().unique())
        tr[c] = pd.Categorical(tr[c], categories=levels)
        te[c] = pd.Categorical(te[c], categories=levels)
    t = man["target"]
    ytr, yte = tr.pop(t), te.pop(t)
    if man["task"] == "regression":
        return man, tr, ytr.astype(float).values, te, yte.astype(float).values, None
    classes = sorted(ytr.unique())
    idx = {c: i for i, c in enumerate(classes)}
    return man, tr, ytr.map(idx).values, te, yte.map(lambda v: idx.get(v, 0)).values, classes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.environ.get("GBDT_DATASETS", "/work/shared/datasets"))
    ap.add_argument("--sets", default="weight_lifting,wine_quality_white,adult")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    shapes = {"xgb_leaves31": dict(grow_policy="lossguide", max_leaves=31, max_depth=0),
              "xgb_depth6": dict(max_depth=6)}
    for name in args.sets.split(","):
        man, Xtr, ytr, Xte, yte, classes = load(args.root, name)
        for shape, kw in shapes.items():
            common = dict(n_estimators=100, learning_rate=0.1, reg_lambda=1.0, max_bin=256, tree_method="hist",
                          n_jobs=args.threads, enable_categorical=True, random_state=0, **kw)
            if man["task"] == "regression":
                est = xgb.XGBRegressor(**common)
            else:
                est = xgb.XGBClassifier(**common)
            t0 = time.perf_counter()
            est.fit(Xtr, ytr)
            fit = time.perf_counter() - t0
            if man["task"] == "regression":
                metric = float(np.sqrt(np.mean((est.predict(Xte) - yte) ** 2)))
            elif man["metric"] == "roc_auc":
                metric = roc_auc_score(yte, est.predict_proba(Xte)[:, 1])
            else:
                metric = log_loss(yte, est.predict_proba(Xte), labels=list(range(len(classes))))
            print(f"{shape} {name} {fit:.3f} {man['metric']}={metric:.4f}", flush=True)


if __name__ == "__main__":
    main()
