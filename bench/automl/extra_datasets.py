#!/usr/bin/python3
"""The extra benchmark's data sets, in the shared harness's format.

  extra_datasets.py OUT_DIR

Converts classic data sets that ship with Debian's python3-sklearn
(/usr/lib/python3/dist-packages/sklearn/datasets/data: breast_cancer,
wine, iris, diabetes) into OUT_DIR/NAME/{NAME.train.csv, NAME.test.csv,
manifest.json} as ../shared/datasets are laid out (target last, seeded
stratified 80/20 split), so ../shared/bench/peers.py and Gyre read them the
same way. Nothing here is tuned on: the test splits are not used by the
cross-validation benchmark (cv_bench.py), which works on the train split.
"""
import gzip
import json
import os
import sys

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data"


def sk_csv(name):
    """sklearn's bundled CSV: a first line n_samples,n_features,class names..."""
    with open(os.path.join(SRC, name)) as f:
        head = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",")
    return head[2:], data[:, :-1], data[:, -1].astype(int)


def write(out, name, X, y, cols, task, classes=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    df = pd.DataFrame(X, columns=cols)
    df["target"] = [classes[v] for v in y] if classes else y
    strat = df["target"] if classes else None
    tr, te = train_test_split(df, test_size=0.2, random_state=0, stratify=strat)
    tr.to_csv(os.path.join(d, f"{name}.train.csv"), index=False)
    te.to_csv(os.path.join(d, f"{name}.test.csv"), index=False)
    m = {"name": name, "task": task, "target": "target", "rows": len(df), "cols": len(cols),
         "train_rows": len(tr), "test_rows": len(te), "categorical_columns": [], "numeric_columns": cols,
         "metric": {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[task],
         "source": f"scikit-learn bundled data ({SRC})"}
    if classes:
        m["classes"] = sorted(set(classes))
        if task == "binary":
            m["positive_class"] = m["classes"][1]
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)


def main(out):
    names, X, y = sk_csv("breast_cancer.csv")
    cols = [f"f{i:02d}" for i in range(X.shape[1])]
    write(out, "breast_cancer", X, y, cols, "binary", ["malignant", "benign"])
    names, X, y = sk_csv("wine_data.csv")
    cols = ["alcohol", "malic_acid", "ash", "alcalinity", "magnesium", "phenols", "flavanoids",
            "nonflavanoid", "proanthocyanins", "color", "hue", "od280", "proline"]
    write(out, "wine", X, y, cols, "multiclass", ["class_0", "class_1", "class_2"])
    with gzip.open(os.path.join(SRC, "diabetes_data_raw.csv.gz")) as f:
        X = np.loadtxt(f)
    with gzip.open(os.path.join(SRC, "diabetes_target.csv.gz")) as f:
        y = np.loadtxt(f)
    cols = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    write(out, "diabetes", X, y, cols, "regression")


if __name__ == "__main__":
    main(sys.argv[1])
