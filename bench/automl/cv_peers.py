#!/usr/bin/python3
"""Cross-validated vs test scores of the default peers on one data set.

  cv_peers.py DATASET_DIR

Fits XGBoost (defaults, hist) and a 300-tree random forest with the shared
harness's encoders (../shared/bench/peers.py) in 3x-repeated stratified 5-fold
cross-validation on the TRAIN split (out-of-fold probabilities averaged over
the repeats, as `gyre automl` does on small data), then once on the whole
train split scored on the test split. It shows how far a small test split's
score sits from the train split's cross-validated estimate: the noise the
"no data set worse than the best default peer by > 0.5%" comparison runs
into on penguins (69 test rows) and pima_diabetes (154). Nothing here feeds
Gyre's search. Needs python3-sklearn and python3-xgboost.
"""
import os
import sys

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline

ds = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(ds)), "bench"))
import peers  # noqa: E402  (the shared harness, next to the data sets)

m, Xtr, ytr, Xte, yte = peers.load(ds)
if m["task"] == "regression":
    sys.exit("cv_peers.py: classification data sets only")
metric = m["metric"]


def score(y, p):
    if metric == "log_loss":
        return log_loss(y, p, labels=list(range(p.shape[1])))
    if metric == "roc_auc":
        return roc_auc_score(y, p[:, 1])
    sys.exit(f"cv_peers.py: metric {metric} not handled")


systems = {
    "xgb": lambda: make_pipeline(peers.tree_encoder(m, Xtr), peers.xgb_model(m, 2)),
    "rf-300": lambda: make_pipeline(peers.tree_encoder(m, Xtr, impute=True),
                                    RandomForestClassifier(n_estimators=300, n_jobs=2, random_state=0)),
}
k = len(np.unique(ytr))
print(f"{m['name']} ({metric}; {len(ytr)} train rows, {len(yte)} test rows)")
for name, make in systems.items():
    oof = np.zeros((len(ytr), k))
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0)
    for a, b in folds.split(Xtr, ytr):
        oof[b] += make().fit(Xtr.iloc[a], ytr[a]).predict_proba(Xtr.iloc[b]) / 3
    test = make().fit(Xtr, ytr).predict_proba(Xte)
    print(f"  {name:7s} 3x5-fold cv on train {score(ytr, oof):.4f}   test {score(yte, test):.4f}")
