#!/usr/bin/python3
"""Writes golden.json: reference statistics computed with numpy/scipy/pandas
for the Go tests of internal/profile and internal/validate.

Run from the repository root:  /usr/bin/python3 testdata/profile/gen.py
"""
import json
import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

D = "/work/shared/datasets"
tit_tr = pd.read_csv(f"{D}/titanic/titanic.train.csv")
tit_te = pd.read_csv(f"{D}/titanic/titanic.test.csv")
ad_tr = pd.read_csv(f"{D}/adult/adult.train.csv")
ad_te = pd.read_csv(f"{D}/adult/adult.test.csv")
Q = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]

out = {"columns": {}, "pearson": {}, "spearman": {}, "ks": {}, "chi2": {}, "wasserstein": {}, "jensenshannon": {}}
for c in ["Age", "Fare", "SibSp", "Pclass"]:
    s = tit_tr[c].dropna().to_numpy(dtype=float)
    out["columns"][c] = {
        "count": int(s.size), "missing": int(tit_tr[c].isna().sum()),
        "mean": float(s.mean()), "std": float(s.std(ddof=1)), "min": float(s.min()), "max": float(s.max()),
        "quantiles": [float(np.quantile(s, q)) for q in Q],
        "skew": float(stats.skew(s, bias=False)),
    }
for a, b in [("Age", "Fare"), ("Age", "SibSp"), ("Fare", "Pclass")]:
    out["pearson"][a + "|" + b] = float(tit_tr[a].corr(tit_tr[b], method="pearson"))
    out["spearman"][a + "|" + b] = float(tit_tr[a].corr(tit_tr[b], method="spearman"))


def ks(name, x, y):
    r = stats.ks_2samp(x, y, alternative="two-sided", method="auto")
    out["ks"][name] = {"statistic": float(r.statistic), "pvalue": float(r.pvalue), "n1": len(x), "n2": len(y)}


ks("titanic.Age", tit_tr["Age"].dropna().to_numpy(), tit_te["Age"].dropna().to_numpy())
ks("titanic.Fare", tit_tr["Fare"].dropna().to_numpy(), tit_te["Fare"].dropna().to_numpy())
ks("titanic.Fare.shift", tit_tr["Fare"].dropna().to_numpy(), tit_te["Fare"].dropna().to_numpy() * 1.3)
ks("adult.age", ad_tr["age"].to_numpy(), ad_te["age"].to_numpy())
ks("adult.hours-per-week", ad_tr["hours-per-week"].to_numpy(), ad_te["hours-per-week"].to_numpy())
ks("adult.age.1000", ad_tr["age"].to_numpy()[:1000], ad_te["age"].to_numpy()[:3000] + 1)


def chi2(name, x, y):
    keys = sorted(set(x.dropna()) | set(y.dropna()))
    tab = np.array([[int((x == k).sum()) for k in keys], [int((y == k).sum()) for k in keys]])
    c, p, dof, _ = stats.chi2_contingency(tab, correction=False)
    out["chi2"][name] = {"statistic": float(c), "pvalue": float(p), "dof": int(dof)}


chi2("titanic.Embarked", tit_tr["Embarked"], tit_te["Embarked"])
chi2("titanic.Sex", tit_tr["Sex"], tit_te["Sex"])
chi2("adult.workclass", ad_tr["workclass"], ad_te["workclass"])

for c in ["age", "hours-per-week", "fnlwgt"]:
    x, y = ad_tr[c].to_numpy(dtype=float), ad_te[c].to_numpy(dtype=float)
    out["wasserstein"]["adult." + c] = {"distance": float(stats.wasserstein_distance(x, y)), "ref_std": float(np.std(x))}
for c in ["workclass", "education", "race"]:
    x, y = ad_tr[c].dropna(), ad_te[c].dropna()
    keys = sorted(set(x) | set(y))
    px = np.array([(x == k).mean() for k in keys])
    py = np.array([(y == k).mean() for k in keys])
    out["jensenshannon"]["adult." + c] = float(jensenshannon(px, py))

with open("testdata/profile/golden.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
