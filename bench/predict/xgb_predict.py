#!/usr/bin/python3
"""XGBoost batch scoring on the bench/predict data, for comparison with
`gyre predict`: train XGBClassifier (hist, depth 6, 100 trees, lr 0.1,
2 threads) on DIR/train.csv, then time reading DIR/score.csv with pandas,
predict_proba, and writing the probabilities with pandas to_csv. Prints one
JSON line with each phase's wall and CPU seconds.

  /usr/bin/python3 xgb_predict.py DIR [--threads 2]
"""
import argparse
import json
import os
import time

import numpy as np
import pandas as pd
import xgboost as xgb


def timed(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    train = pd.read_csv(os.path.join(a.dir, "train.csv"))
    y = train.pop("y").to_numpy()
    m = xgb.XGBClassifier(tree_method="hist", n_estimators=100, max_depth=6, learning_rate=0.1,
                          max_bin=256, n_jobs=a.threads, random_state=0, objective="binary:logistic")
    m.fit(train.to_numpy(), y)
    res = {"system": "xgboost " + xgb.__version__ + " + pandas " + pd.__version__, "threads": a.threads}
    X, res["read"] = timed(lambda: pd.read_csv(os.path.join(a.dir, "score.csv")))
    res["rows"] = len(X)
    p, res["predict"] = timed(lambda: m.predict_proba(X.to_numpy()))
    out = pd.DataFrame({"prediction": (p[:, 1] > 0.5).astype(np.int32), "proba_0": p[:, 0], "proba_1": p[:, 1]})
    _, res["write_csv"] = timed(lambda: out.to_csv(os.path.join(a.dir, "xgb_out.csv"), index=False))
    total = sum(res[k]["wall_s"] for k in ("read", "predict", "write_csv"))
    res["total_wall_s"] = total
    res["rows_per_s"] = len(X) / total
    print(json.dumps(res))


if __name__ == "__main__":
    main()
