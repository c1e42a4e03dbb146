#!/usr/bin/python3
"""Regenerate golden.json: scikit-learn's values for every Gyre metric.

  /usr/bin/python3 testdata/metric/gen.py > testdata/metric/golden.json

Fixtures (inputs included in the JSON so the Go test needs nothing else):
binary with heavy ties in the scores, multiclass (k=4, one class never
predicted), regression (positive targets so RMSLE and MAPE are defined) and
clustering points; every fixture scored unweighted and with sample weights.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn import metrics as M
from sklearn.preprocessing import label_binarize


def prf(y, p, avg, w, **kw):
    out = {}
    for name, fn in (("precision", M.precision_score), ("recall", M.recall_score), ("f1", M.f1_score)):
        out[name] = fn(y, p, average=avg, sample_weight=w, zero_division=0, **kw)
    return out


def classification(y, proba, k, w):
    y = np.asarray(y)
    P = np.asarray(proba).reshape(len(y), k)
    if k == 2:
        pred = (P[:, 1] >= 0.5).astype(int)
    else:
        pred = P.argmax(axis=1)
    r = {
        "accuracy": M.accuracy_score(y, pred, sample_weight=w),
        "balanced_accuracy": M.balanced_accuracy_score(y, pred, sample_weight=w),
        "log_loss": M.log_loss(y, P, sample_weight=w, labels=list(range(k))),
        "mcc": M.matthews_corrcoef(y, pred, sample_weight=w),
        "confusion_matrix": M.confusion_matrix(y, pred, sample_weight=w, labels=list(range(k))).astype(float).tolist(),
    }
    for avg in ("macro", "weighted"):
        for n, v in prf(y, pred, avg, w).items():
            r[f"{n}_{avg}"] = v
    if k == 2:
        for n, v in prf(y, pred, "binary", w, pos_label=1).items():
            r[n] = v
        r["roc_auc"] = M.roc_auc_score(y, P[:, 1], sample_weight=w)
        r["pr_auc"] = M.average_precision_score(y, P[:, 1], sample_weight=w)
        r["brier"] = M.brier_score_loss(y, P[:, 1], sample_weight=w)
        from sklearn.calibration import calibration_curve
        pt, pp = calibration_curve(y, P[:, 1], n_bins=10, strategy="uniform")
        r["calibration"] = {"prob_true": pt.tolist(), "prob_pred": pp.tolist()}
    else:
        r["roc_auc"] = M.roc_auc_score(y, P, multi_class="ovr", average="macro", sample_weight=w)
        r["pr_auc"] = M.average_precision_score(label_binarize(y, classes=list(range(k))), P, average="macro", sample_weight=w)
    pc = M.precision_recall_fscore_support(y, pred, labels=list(range(k)), sample_weight=w, zero_division=0)
    r["report"] = [{"precision": pc[0][c], "recall": pc[1][c], "f1": pc[2][c], "support": float(pc[3][c]) if w is None else float(np.sum(np.asarray(w)[y == c]))} for c in range(k)]
    return {"pred": pred.astype(float).tolist(), "metrics": r}


def regression(y, p, w):
    return {"metrics": {
        "mae": M.mean_absolute_error(y, p, sample_weight=w),
        "mse": M.mean_squared_error(y, p, sample_weight=w),
        "rmse": M.mean_squared_error(y, p, sample_weight=w, squared=False),
        "r2": M.r2_score(y, p, sample_weight=w),
        "mape": M.mean_absolute_percentage_error(y, p, sample_weight=w),
        "rmsle": M.mean_squared_log_error(y, p, sample_weight=w, squared=False),
    }}


def main():
    rs = np.random.RandomState(42)
    fixtures = []

    def both(name, f, w, score):
        # The fixture f unweighted (name) and weighted by w (name_weighted),
        # each with the expected values score(weights) gives.
        for ww in (None, w):
            fixtures.append({"name": name + ("_weighted" if ww is not None else ""), **f,
                             "weight": None if ww is None else ww.tolist(), **score(ww)})

    # Binary: scores rounded to one decimal, so many ties.
    n = 60
    y = rs.randint(0, 2, n)
    s = np.clip(np.round(0.35 * y + 0.65 * rs.rand(n), 1), 0, 1)
    s[0], s[1] = 0.0, 1.0  # exercise clipping in log loss
    w = np.round(rs.rand(n) * 3, 2) + 0.1
    P = np.column_stack([1 - s, s])
    both("binary_ties", {"task": "binary", "k": 2, "y": y.astype(float).tolist(), "proba": P.ravel().tolist()},
         w, lambda ww: classification(y, P, 2, ww))

    # Multiclass k=4: class 3 is rare and rarely predicted.
    n = 80
    y = rs.choice(4, n, p=[0.4, 0.3, 0.25, 0.05])
    logits = rs.randn(n, 4)
    logits[np.arange(n), y] += 1.2
    logits[:, 3] -= 1.5
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    P = np.round(P, 3)
    P = P / P.sum(axis=1, keepdims=True)
    w = np.round(rs.rand(n) * 2, 2) + 0.05
    both("multiclass", {"task": "multiclass", "k": 4, "y": y.astype(float).tolist(), "proba": P.ravel().tolist()},
         w, lambda ww: classification(y, P, 4, ww))

    # Regression: positive targets; one exact prediction.
    n = 50
    y = np.exp(rs.randn(n)) * 10
    p = y * (1 + 0.2 * rs.randn(n)) + rs.randn(n)
    p = np.abs(p)
    p[3] = y[3]
    w = np.round(rs.rand(n) * 2, 2) + 0.05
    both("regression", {"task": "regression", "y": y.tolist(), "pred": p.tolist()}, w, lambda ww: regression(y, p, ww))

    # Clustering: three blobs in 3-D, one singleton cluster label.
    centers = np.array([[0, 0, 0], [4, 4, 0], [0, 5, 5]])
    lab = rs.randint(0, 3, 45)
    X = centers[lab] + rs.randn(45, 3)
    lab[7] = 3  # singleton cluster: silhouette 0 for that point
    fixtures.append({"name": "clustering", "task": "clustering", "x": X.ravel().tolist(), "dim": 3,
                     "labels": lab.astype(float).tolist(),
                     "metrics": {"silhouette": M.silhouette_score(X, lab, metric="euclidean")}})

    json.dump({"sklearn": sklearn.__version__, "fixtures": fixtures}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
