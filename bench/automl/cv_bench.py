#!/usr/bin/python3
"""Gyre AutoML against the default peers in k-fold cross-validation on the
TRAIN split of a data set (the issue-22 bar: "never more than 0.5 % behind
the best default peer in repeated 5-fold CV on the train split").

  cv_bench.py GYRE DATASET_DIR [--budget 10 | --trials N] [--folds 5] [--repeats 1] [--out results.jsonl]
                [--peer-cache DIR] [--label NAME] [--gyre-arg=--no-ensemble ...]

Folds: scikit-learn's (Repeated)StratifiedKFold / KFold, random_state 0, on
the train split only. On every fold: `gyre automl` on the fold's training
rows (raw CSV, the same cells) with --budget and --seed 0, `gyre predict` on
the held-out rows; the peers of ../shared/bench/peers.py with their own
encoders (HistGradientBoosting default, RandomForest 300 trees,
Logistic/Ridge, XGBoost default) on the same rows; every system scored by
peers.score on the data set's primary metric. Prints one JSON line per data
set: mean and standard deviation per system, Gyre's relative gap to the best
default peer (positive: Gyre behind) and Gyre's largest wall time.

--trials N runs `gyre automl --trials N` instead of a budget: the
reproducible trial-count mode, whose result does not depend on the load of
the machine, for deciding changes. The peers then get --budget for their
own (budget-free) fits. --peer-cache DIR keeps the peers' per-fold scores
(deterministic: random_state 0) in DIR/NAME-FOLDSxREPEATS.json so a second
run scores only Gyre. The per-fold scores are in the output ("folds"), so
two runs can be compared fold by fold (a paired difference).
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
from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("PEERS", os.path.join(HERE, "..", "..", "..", "shared", "bench")))
import peers  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gyre")
    ap.add_argument("ds")
    ap.add_argument("--budget", type=float, default=10)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--trials", type=int, default=0)
    ap.add_argument("--peer-cache")
    ap.add_argument("--label", default="")
    ap.add_argument("--gyre-arg", action="append", default=[])
    ap.add_argument("--out")
    a = ap.parse_args()
    m, Xtr, ytr, _, _ = peers.load(a.ds)
    name, task, metric = m["name"], m["task"], peers.PRIMARY[m["task"]]
    raw = pd.read_csv(os.path.join(a.ds, f"{name}.train.csv"), dtype=str, keep_default_na=False)
    if task == "regression":
        cv = RepeatedKFold(n_splits=a.folds, n_repeats=a.repeats, random_state=0) if a.repeats > 1 else KFold(a.folds, shuffle=True, random_state=0)
    else:
        cv = RepeatedStratifiedKFold(n_splits=a.folds, n_repeats=a.repeats, random_state=0) if a.repeats > 1 else StratifiedKFold(a.folds, shuffle=True, random_state=0)
    fits = {"hgb": peers.fit_hgb, "rf": peers.fit_rf, "linear": peers.fit_linear, "xgb": peers.fit_xgb}
    scores = {s: [] for s in ["gyre", *fits]}
    cache = None
    if a.peer_cache:
        os.makedirs(a.peer_cache, exist_ok=True)
        cache = os.path.join(a.peer_cache, f"{name}-{a.folds}x{a.repeats}.json")
        if os.path.exists(cache):
            scores.update(json.load(open(cache)))
            fits = {}
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GYRE_HOME=os.path.join(tmp, "home"))
        for f, (tr, va) in enumerate(cv.split(Xtr, ytr)):
            ftr, fva = os.path.join(tmp, "train.csv"), os.path.join(tmp, "valid.csv")
            raw.iloc[tr].to_csv(ftr, index=False)
            raw.iloc[va].to_csv(fva, index=False)
            model, pred = os.path.join(tmp, "m.gyre"), os.path.join(tmp, "p.csv")
            t0 = time.time()
            r0 = os.times()
            limit = ["--trials", str(a.trials)] if a.trials else ["--budget", f"{a.budget}s"]
            subprocess.run([a.gyre, "automl", ftr, "--target", m["target"], *limit, "--seed", "0",
                            "--out", model, "-q", "--json", *a.gyre_arg], check=True, env=env, stdout=subprocess.DEVNULL)
            walls.append(time.time() - t0)
            r1 = os.times()
            cpus.append(r1.children_user - r0.children_user + r1.children_system - r0.children_system)
            subprocess.run([a.gyre, "predict", model, fva, "--out", pred, "-q"], check=True, env=env)
            p = pd.read_csv(pred, dtype={"prediction": str})
            if task == "regression":
                P = p["prediction"].astype(float).to_numpy()
            elif task == "binary":
                P = p[f"proba_{m['positive_class']}"].to_numpy()
            else:
                P = p[[f"proba_{c}" for c in m["classes"]]].to_numpy()
            scores["gyre"].append(peers.score(m, ytr[va], P)[metric])
            for s, fit in fits.items():
                est = fit(m, Xtr.iloc[tr], ytr[tr], a.budget, 2, {})
                scores[s].append(peers.score(m, ytr[va], est.predict(Xtr.iloc[va]))[metric])
    if cache and fits:
        with open(cache, "w") as f:
            json.dump({s: v for s, v in scores.items() if s != "gyre"}, f)
    mean = {s: float(np.mean(v)) for s, v in scores.items()}
    sd = {s: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for s, v in scores.items()}
    higher = metric == "roc_auc"
    best = max if higher else min
    peer = best((s for s in mean if s != "gyre"), key=lambda s: mean[s])
    gap = (mean[peer] - mean["gyre"]) / abs(mean[peer]) if higher else (mean["gyre"] - mean[peer]) / abs(mean[peer])
    row = {"data_set": name, "label": a.label, "metric": metric, "folds": a.folds, "repeats": a.repeats,
           "budget_s": None if a.trials else a.budget, "trials": a.trials or None,
           "mean": mean, "sd": sd, "best_peer": peer, "gap_vs_best_peer": gap, "gyre_max_wall_s": max(walls),
           "gyre_cpu_s": sum(cpus), "gyre_folds": scores["gyre"],
           "load": open("/proc/loadavg").read().split()[:3]}
    line = json.dumps(row)
    print(line, flush=True)
    if a.out:
        with open(a.out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
