#!/usr/bin/python3
"""scikit-learn side of bench/forest: RandomForest/ExtraTrees on a shared data
set, encoded exactly as ../shared/bench/peers.py encodes for RandomForest
(tree_encoder with impute=True). Prints one JSON line like main.go."""
import argparse, json, os, sys, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--peers", required=True, help="directory holding peers.py")
ap.add_argument("--trees", type=int, default=300)
ap.add_argument("--depth", type=int, default=0)
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("--learner", default="random_forest")
a = ap.parse_args()
sys.path.insert(0, a.peers)
import peers  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,  # noqa: E402
                              RandomForestClassifier, RandomForestRegressor)
from sklearn import metrics as M  # noqa: E402

m, Xtr, ytr, Xte, yte = peers.load(a.data)
reg = m["task"] == "regression"
cls = {("random_forest", False): RandomForestClassifier, ("random_forest", True): RandomForestRegressor,
       ("extra_trees", False): ExtraTreesClassifier, ("extra_trees", True): ExtraTreesRegressor}[(a.learner, reg)]
pre = peers.tree_encoder(m, Xtr, impute=True)
Ztr = pre.fit_transform(Xtr)
Zte = pre.transform(Xte)
est = cls(n_estimators=a.trees, max_depth=a.depth or None, n_jobs=a.jobs, random_state=0)
t0, c0 = time.perf_counter(), time.process_time()
est.fit(Ztr, ytr)
fit, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
t0 = time.perf_counter()
out = {"system": "sklearn_" + a.learner, "dataset": m["name"], "features": int(Ztr.shape[1]),
       "trees": a.trees, "max_depth": a.depth, "jobs": a.jobs}
if reg:
    p = est.predict(Zte)
    out["rmse"] = round(float(np.sqrt(M.mean_squared_error(yte, p))), 4)
else:
    P = est.predict_proba(Zte)
    if m["task"] == "binary":
        out["roc_auc"] = round(float(M.roc_auc_score(yte, P[:, 1])), 4)
    out["log_loss"] = round(float(M.log_loss(yte, np.clip(P, 1e-15, 1), labels=list(range(P.shape[1])))), 4)
    out["accuracy"] = round(float(M.accuracy_score(yte, P.argmax(axis=1))), 4)
pred_test = time.perf_counter() - t0
reps = max(1, int(np.ceil(10000 / len(Zte))))
Zbig = np.concatenate([Zte] * reps)
t0, c0 = time.perf_counter(), time.process_time()
est.predict(Zbig) if reg else est.predict_proba(Zbig)
big, big_cpu = time.perf_counter() - t0, time.process_time() - c0
out.update({"fit_seconds": round(fit, 4), "fit_cpu_seconds": round(fit_cpu, 4),
            "predict_rows_per_cpu_second": round(len(Zbig) / big_cpu), "predict_seconds_test": round(pred_test, 4),
            "predict_rows_per_second": round(len(Zbig) / big),
            "mean_leaves": int(np.mean([t.tree_.n_leaves for t in est.estimators_]))})
print(json.dumps(out, sort_keys=True))
