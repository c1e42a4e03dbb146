#!/usr/bin/python3
"""Prints bench/speed/run.sh's results as a Markdown table (medians over
repetitions; ratios are Gyre / pandas+XGBoost, below 1 means Gyre is ahead).

  /usr/bin/python3 bench/speed/table.py bench/out/speed/results.jsonl [uptime.txt]
"""
import json
import statistics
import sys


def main():
    recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    if len(sys.argv) > 2:
        for line in open(sys.argv[2]):
            print("    " + line.rstrip())
        print()
    groups = {}
    for r in recs:
        groups.setdefault((r["rows"], r["threads"]), {}).setdefault(r["system"], []).append(r)
    print("| rows | threads | | Gyre | pandas + XGBoost | ratio |")
    print("|---|---|---|---|---|---|")
    for (rows, t), sides in sorted(groups.items()):
        g, x = sides.get("gyre", []), sides.get("xgb", [])

        def med(rs, k):
            return statistics.median(r[k] for r in rs) if rs else float("nan")

        loads = [v for r in g + x for v in r["loadavg_start_end"]]
        for label, key, fmt in [("whole process (s)", "wall_seconds", "%.2f"), ("fit (s)", "fit_seconds", "%.2f"),
                                ("peak RSS (MB)", "peak_rss_mb", "%.0f"), ("test ROC-AUC", "test_auc", "%.5f")]:
            a, b = med(g, key), med(x, key)
            ratio = "%.2f" % (a / b) if b == b and b else "–"
            print("| %s | %d | %s | %s | %s | %s |" % (f"{rows:,}", t, label, fmt % a, fmt % b, ratio))
        print("| %s | %d | pandas read_csv (s) | – | %.2f | |" % (f"{rows:,}", t, med(x, "read_seconds")))
        print("| %s | %d | load average during runs | %.2f–%.2f | (n = %d + %d) | |" % (f"{rows:,}", t, min(loads), max(loads), len(g), len(x)))


if __name__ == "__main__":
    main()
