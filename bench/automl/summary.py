#!/usr/bin/python3
"""Compare Gyre's AutoML test scores with the peers recorded in BASELINES.md.

  summary.py RESULTS.jsonl BASELINES.md BUDGET_SECONDS

Normalised score per data set: (s - worst) / (best - worst) over all systems
(HistGB, RF-300, Linear, XGB, Optuna-XGB, FLAML, Gyre), oriented so 1 is best.
Also the relative gap to the best default peer (HistGB, XGB, RF-300) and the
wall time against the budget.
"""
import json
import re
import sys

results, baselines, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
peers = {}
cols = None
for line in open(baselines):
    if line.startswith("| data set"):
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        continue
    if cols and line.startswith("| ") and not line.startswith("|---"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != len(cols):
            continue
        row = {"metric": cells[1]}
        for c, v in zip(cols[2:], cells[2:]):
            m = re.match(r"([-0-9.]+)", v)
            if m:
                row[c] = float(m.group(1))
        peers[cells[0]] = row
gyre = {}
for line in open(results):
    r = json.loads(line)
    gyre[r["dataset"]] = r
print(f"\n| data set | metric | Gyre {budget:g}s | wall s | best default peer | gap to it | Optuna-XGB 60s | FLAML 60s | Gyre normalised | Optuna normalised | FLAML normalised |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
norm = {"Gyre": [], "Optuna-XGB 60s": [], "FLAML 60s": []}
worse = []
overtime = []
for ds in sorted(gyre):
    r = gyre[ds]
    p = peers.get(ds)
    if not p:
        continue
    higher = p["metric"] == "roc_auc"
    g = r["primary_value"]
    systems = {k: v for k, v in p.items() if k != "metric"}
    systems["Gyre"] = g
    vals = list(systems.values())
    best, worst = (max(vals), min(vals)) if higher else (min(vals), max(vals))
    def n(v):
        return 1.0 if best == worst else (v - worst) / (best - worst)
    for k in norm:
        if k in systems:
            norm[k].append(n(systems[k]))
    defaults = [p[k] for k in ("HistGB", "XGB", "RF-300") if k in p]
    bd = max(defaults) if higher else min(defaults)
    gap = (bd - g) / abs(bd) if higher else (g - bd) / abs(bd)  # > 0: Gyre worse
    if gap > 0.005:
        worse.append(ds)
    wall = r.get("fit_seconds") or 0
    if wall > budget * 1.05:
        overtime.append(f"{ds} ({wall:.1f}s)")
    print(f"| {ds} | {p['metric']} | {g:.4f} | {wall:.1f} | {bd:.4f} | {100*gap:+.2f}% | {p.get('Optuna-XGB 60s', float('nan')):.4f} | {p.get('FLAML 60s', float('nan')):.4f} | {n(g):.3f} | {n(p.get('Optuna-XGB 60s', g)):.3f} | {n(p.get('FLAML 60s', g)):.3f} |")
print()
for k, v in norm.items():
    if v:
        print(f"mean normalised score, {k}: {sum(v)/len(v):.3f} over {len(v)} data sets")
print("data sets where Gyre trails the best default peer by > 0.5%:", ", ".join(worse) or "none")
print(f"runs over budget + 5% ({budget*1.05:.0f}s):", ", ".join(overtime) or "none")
