#!/usr/bin/python3
"""Data for the batch-scoring benchmark (bench/predict/run.sh).

  /usr/bin/python3 gen.py DIR [--rows 1000000] [--train 200000]

Writes DIR/train.csv (rows 1,000,000.. of the speed_anchors.py generator, with
the target y) and DIR/score.csv (rows 0..rows-1, 20 numeric columns x0..x19,
no target). The generator is ../../../shared/bench/speed_anchors.py's
splitmix64 set (fixed, no RNG state); values are written with 7 significant
digits, as typical numeric CSV exports are (about 190 bytes a row).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
from speed_anchors import splitmix64  # noqa: E402


def rows_of(lo, hi):
    r = np.arange(lo, hi, dtype=np.uint64)
    idx = r[:, None] * np.uint64(21) + np.arange(21, dtype=np.uint64)[None, :]
    u = (splitmix64(idx) >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)
    x = 2.0 * u[:, :20] - 1.0
    f = (x[:, 0] * x[:, 1] + np.sin(3 * x[:, 2]) + x[:, 3] ** 2 - x[:, 4]
         + 0.5 * x[:, 5:10].sum(axis=1))
    y = (f + (u[:, 20] - 0.5) > 0.35).astype(np.int32)
    return x, y


def write(path, lo, hi, target):
    header = ",".join(f"x{c}" for c in range(20)) + (",y" if target else "")
    fmt = ",".join(["%.7g"] * 20) + (",%d" if target else "")
    with open(path, "w") as fh:
        fh.write(header + "\n")
        for s in range(lo, hi, 100_000):
            x, y = rows_of(s, min(hi, s + 100_000))
            if target:
                data = np.column_stack([x, y])
            else:
                data = x
            np.savetxt(fh, data, fmt=fmt)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--train", type=int, default=200_000)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    write(os.path.join(a.dir, "train.csv"), 1_000_000, 1_000_000 + a.train, True)
    write(os.path.join(a.dir, "score.csv"), 0, a.rows, False)


if __name__ == "__main__":
    main()
