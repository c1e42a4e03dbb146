#!/usr/bin/python3
"""MongoDB read into a frame: Gyre against pandas via pymongo, same server, same run.

    go build -o /tmp/gyre ./cmd/gyre
    /usr/bin/python3 bench/mongo/bench.py --gyre /tmp/gyre --url mongodb://127.0.0.1:27117 [--rows 1000000] [--rounds 2]

Loads bench.docs (ROWS documents × 20 fields: 12 doubles with 5 % missing,
3 int64, 1 bool, 4 strings with 8-38 distinct values and 2 % missing, four of
the doubles in a nested sub-document) once with a fixed seed, then, alternately
for each round:

  gyre: `gyre data inspect --json mongodb://.../bench?collection=docs` (connect,
        stream every document into typed columns, one frame, column summary);
  pandas: pymongo find() → pandas.json_normalize (the documented way to get a
        flattened DataFrame from nested documents).

It prints wall time, the client's CPU time (user+sys), the client's peak RSS
and the server's CPU time over the same read (from /proc/PID/stat of the
server process given with --server-pid), so a read bound by the server shows
as such. Needs python3-pymongo and python3-pandas (Debian).
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time

import pymongo

CATS = [["c%d_%d" % (j, k) for k in range(n)] for j, n in enumerate([8, 15, 24, 38])]


def docs(rows, seed):
    rnd = random.Random(seed)
    for i in range(rows):
        d = {"_id": i}
        for j in range(8):
            if rnd.random() >= 0.05:
                d["f%d" % j] = rnd.gauss(0, 1)
        sub = {}
        for j in range(8, 12):
            if rnd.random() >= 0.05:
                sub["f%d" % j] = rnd.random() * 100
        d["m"] = sub
        for j in range(3):
            d["i%d" % j] = rnd.randrange(1_000_000)
        d["b"] = rnd.random() < 0.3
        for j, levels in enumerate(CATS):
            if rnd.random() >= 0.02:
                d["s%d" % j] = rnd.choice(levels)
        yield d


def load(url, rows):
    coll = pymongo.MongoClient(url).bench.docs
    if coll.estimated_document_count() == rows:
        return
    coll.drop()
    batch = []
    t = time.time()
    for d in docs(rows, 42):
        batch.append(d)
        if len(batch) == 10000:
            coll.insert_many(batch, ordered=False)
            batch = []
    if batch:
        coll.insert_many(batch, ordered=False)
    print("loaded %d documents in %.1f s" % (rows, time.time() - t), flush=True)


def server_cpu(pid):
    if not pid:
        return 0.0
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def run_gyre(gyre, url):
    src = url.rstrip("/") + "/bench?collection=docs"
    t = time.time()
    p = subprocess.run([gyre, "data", "inspect", "--json", src], capture_output=True, check=True)
    wall = time.time() - t
    rows = json.loads(p.stdout).get("rows")
    return wall, rows


def run_pandas(url):
    import pandas as pd

    t = time.time()
    coll = pymongo.MongoClient(url).bench.docs
    df = pd.json_normalize(list(coll.find()))
    wall = time.time() - t
    return wall, len(df)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gyre", required=True)
    ap.add_argument("--url", default="mongodb://127.0.0.1:27117")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--server-pid", type=int, default=0)
    a = ap.parse_args()
    load(a.url, a.rows)
    print("load average before: %s" % open("/proc/loadavg").read().strip(), flush=True)
    for r in range(a.rounds):
        for who in ("gyre", "pandas"):
            s0 = server_cpu(a.server_pid)
            if who == "gyre":
                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                wall, n = run_gyre(a.gyre, a.url)
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                rss = c1.ru_maxrss / 1024
            else:
                c0 = resource.getrusage(resource.RUSAGE_SELF)
                wall, n = run_pandas(a.url)
                c1 = resource.getrusage(resource.RUSAGE_SELF)
                rss = c1.ru_maxrss / 1024
            cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
            s1 = server_cpu(a.server_pid)
            print("round %d %-6s rows=%d wall=%.2fs client_cpu=%.2fs client_peak_rss=%.0fMB server_cpu=%.2fs load=%s"
                  % (r + 1, who, n, wall, cpu, rss, s1 - s0, open("/proc/loadavg").read().split()[0]), flush=True)


if __name__ == "__main__":
    sys.exit(main())
