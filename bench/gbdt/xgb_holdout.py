#!/usr/bin/python3
"""Test-set accuracy of the speed-anchor peers on held-out rows.

speed_anchors.py reports training-set AUC only; this trains the same
configurations on rows 0..999,999 of its generator and scores rows
1,000,000..1,199,999 (ROC-AUC and log loss), one JSON line per config.

  /usr/bin/python3 bench/gbdt/xgb_holdout.py [--threads 2] [--configs xgb_depth6,xgb_leaves31]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.environ.get("SHARED_BENCH", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench")))
import speed_anchors  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", default="xgb_depth6,xgb_leaves31")
    args = ap.parse_args()
    X, y = speed_anchors.make_data(1_200_000)
    Xf = X.astype(np.float32)
    Xtr, ytr, Xte, yte = Xf[:1_000_000], y[:1_000_000], Xf[1_000_000:], y[1_000_000:]
    for cfg in args.configs.split(","):
        with threadpool_limits(limits=args.threads):
            est = speed_anchors.model(cfg, args.threads)
            w0 = time.perf_counter()
            est.fit(Xtr, ytr)
            fit_w = time.perf_counter() - w0
            p = est.predict_proba(Xte)[:, 1]
        print(json.dumps({"system": "peer", "config": cfg, "threads": args.threads,
                          "fit_wall_seconds": round(fit_w, 3),
                          "test_auc": round(float(roc_auc_score(yte, p)), 5),
                          "test_logloss": round(float(log_loss(yte, p)), 5),
                          "loadavg_1m": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
