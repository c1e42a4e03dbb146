#!/usr/bin/env python3
"""Measure the tree's real duplication (issue 20; docs/ARCHITECTURE.md, "Duplication").

The `duplicates` command of the tool library lists pairs of places that share
runs of six or more lines, the same or of the same shape with other names, but
shows at most 200 pairs and counts import lists, test tables and declarations
that only look alike the same as copied code. This script

  1. enumerates every pair: it splits the files git knows (tracked, and
     untracked ones not ignored) into groups by path and runs `duplicates` on
     each group and on each union of two groups, so that no run hits the
     200-row cap, keeping from a union only the pairs across its two groups;
  2. classifies each pair by the rule in docs/ARCHITECTURE.md (first that
     applies): generated, migration, boilerplate, imports, table,
     declarations, or real;
  3. prints the number of pairs per class and the measure: the distinct code
     lines (not blank, not comment, not lone punctuation) inside the runs of
     the real pairs, both sides counted, each line once however many pairs it
     is in.

Usage: python3 scripts/duplication.py [--list [--class C]] [--groups N]
  --list      also print the real pairs (or with --class C those of class C),
              longest first, each with its code lines (both sides)
  --groups N  start with N groups (default 12; doubled while a run is cut)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROW = re.compile(
    r"^D\d+ (?P<a>\S+):(?P<a0>\d+)-(?P<a1>\d+) ~ (?P<b>\S+):(?P<b0>\d+)-(?P<b1>\d+)(?P<rest>.*)$"
)

MIN_LINES = 6  # the run length `duplicates` pairs on by default
PUNCT = re.compile(r"^[\s{}()\[\];,]*$")
GO_FIELD = re.compile(r"^\s*[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s+[\*\[\]\w\.{}]+(\[[^\]]*\])?[\w\.\*\[\]]*\s*(`[^`]*`)?\s*$")
GO_TYPE = re.compile(r"^\s*(type\s+)?[A-Za-z_]\w*\s+(struct|interface)\s*\{\s*$|^\s*type\s+\w+")
GO_METHOD_SPEC = re.compile(r"^\s*[A-Z]\w*\([^)]*\)[^{=]*$")
KEYED = re.compile(r"^\s*(\"[^\"]*\"|[A-Za-z_][\w\.]*)\s*:\s*.+,\s*$")
CASE = re.compile(r"^\s*(case\s.*|default)\s*:\s*$|^\s*switch\b.*\{\s*$")
RETURN_CONST = re.compile(r"^\s*return\s+(\"[^\"]*\"|`[^`]*`|[-+\d.eE]+|true|false|nil|[A-Za-z_][\w.]*)\s*$")
ONE_LINE_CONST = re.compile(r"^\s*func\b.*\{\s*return\s+(\"[^\"]*\"|`[^`]*`|[-+\d.eE]+|true|false|nil|[A-Za-z_][\w.]*)\s*\}\s*$")
ELEMENT = re.compile(r"^\s*\{.*\}\s*,?\s*$|^\s*\{\s*[A-Za-z_]\w*:.*,\s*$|^\s*\".*\"\s*,\s*$|^\s*[-\d\.]+(,\s*[-\d\.eE]+)*,?\s*$")


def git_files(root):
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, text=True, check=True).stdout
    files = []
    for p in sorted(set(out.split("\n"))):
        full = os.path.join(root, p)
        if p and os.path.isfile(full) and not os.path.islink(full):
            files.append(p)
    return files


def group_files(root, files, n):
    sizes = []
    for p in files:
        try:
            with open(os.path.join(root, p), "rb") as f:
                sizes.append(f.read().count(b"\n") + 1)
        except OSError:
            sizes.append(1)
    total = sum(sizes)
    per = total / n
    groups, cur, acc = [], [], 0
    for p, s in zip(files, sizes):
        cur.append(p)
        acc += s
        if acc >= per and len(groups) < n - 1:
            groups.append(cur)
            cur, acc = [], 0
    if cur:
        groups.append(cur)
    return groups


def run_tool(root, paths, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    for p in paths:
        dst = os.path.join(d, p)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(root, p), dst)
    out = subprocess.run(
        ["duplicates", "--repo", d, "--most", "200", "--seconds", "300"],
        capture_output=True, text=True).stdout
    shutil.rmtree(d)
    rows, cut = [], False
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            rows.append(m)
        elif re.match(r"^\(\+\d+ more pairs\)", line):
            cut = True
        elif line.startswith("incomplete: no file that counts"):
            pass
        elif line.startswith("incomplete:"):
            sys.exit("duplication: duplicates said: " + line)
    return rows, cut


def enumerate_pairs(root, ngroups):
    files = git_files(root)
    tmp = tempfile.mkdtemp(prefix="duplication-")
    try:
        while True:
            groups = group_files(root, files, ngroups)
            where = {p: i for i, g in enumerate(groups) for p in g}
            pairs, cut = {}, False
            for i in range(len(groups)):
                for j in range(i, len(groups)):
                    rows, c = run_tool(root, groups[i] + (groups[j] if j != i else []), tmp)
                    if c:
                        cut = True
                        break
                    for m in rows:
                        gi, gj = where.get(m["a"]), where.get(m["b"])
                        if {gi, gj} != {i, j}:
                            continue
                        key = (m["a"], int(m["a0"]), int(m["a1"]), m["b"], int(m["b0"]), int(m["b1"]))
                        pairs[key] = m["rest"]
                if cut:
                    break
            if not cut:
                return pairs, len(files)
            ngroups *= 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Source:
    """One file's lines and, for Go, which lines are in import or const/var blocks."""

    def __init__(self, root, path):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            self.lines = f.read().split("\n")
        self.path = path
        self.imports, self.decls, self.raw = set(), set(), set()
        block, in_raw = None, False
        for n, line in enumerate(self.lines, 1):
            s = line.strip()
            if path.endswith(".go"):
                # Lines that start inside a raw string literal (a fixture's
                # text), approximated by counting backquotes outside comments.
                if in_raw:
                    self.raw.add(n)
                if in_raw or not s.startswith("//"):
                    in_raw ^= line.count("`") % 2 == 1
            if block:
                if s == ")" and not line.startswith((" ", "\t")):
                    block = None
                else:
                    (self.imports if block == "import" else self.decls).add(n)
                continue
            if re.match(r"^import\s*\($", s):
                block = "import"
            elif re.match(r"^(const|var)\s*\($", s) and not line.startswith((" ", "\t")):
                block = "decl"
            elif re.match(r"^(import\s+\S|from\s+\S+\s+import\s)", s):
                self.imports.add(n)

    def code(self, a, b):
        """Line numbers in a..b that are code: not blank, comment or lone punctuation."""
        out = []
        in_block_comment = False
        for n in range(a, min(b, len(self.lines)) + 1):
            s = self.lines[n - 1].strip()
            if in_block_comment:
                if "*/" in s:
                    in_block_comment = False
                continue
            if s.startswith("/*"):
                in_block_comment = "*/" not in s
                continue
            if not s or PUNCT.match(s) or s.startswith(("//", "#", "--", "*")):
                continue
            out.append(n)
        return out


def test_path(p):
    base = os.path.basename(p)
    return (base.endswith("_test.go") or p.startswith("testdata/") or "/testdata/" in p
            or base.startswith("test_"))


def generated(src):
    if src.path.endswith((".pb.go", ".proto")):
        return True
    head = "\n".join(src.lines[:5])
    return "Code generated" in head and "DO NOT EDIT" in head


def share(lines, pred):
    return sum(1 for n in lines if pred(n)) / max(1, len(lines))


def classify(sa, a, sb, b, rest):
    if generated(sa) or generated(sb):
        return "generated"
    if "/sqlstore/migrations/" in sa.path or "/sqlstore/migrations/" in sb.path:
        return "migration"
    if "boilerplate" in rest:
        return "boilerplate"
    ca, cb = sa.code(*a), sb.code(*b)
    ca = [n for n in ca if n not in sa.imports]
    cb = [n for n in cb if n not in sb.imports]
    if len(ca) < MIN_LINES or len(cb) < MIN_LINES:
        return "imports"

    def row(src):
        return lambda n: bool(n in src.raw or ELEMENT.match(src.lines[n - 1]) or KEYED.match(src.lines[n - 1]))

    if (test_path(sa.path) and share(ca, row(sa)) >= 0.5) or (test_path(sb.path) and share(cb, row(sb)) >= 0.5):
        return "table"
    def decl(src):
        def f(n):
            line = src.lines[n - 1]
            return bool(n in src.decls or GO_FIELD.match(line) or GO_TYPE.match(line)
                        or GO_METHOD_SPEC.match(line) or KEYED.match(line) or ELEMENT.match(line)
                        or CASE.match(line) or RETURN_CONST.match(line) or ONE_LINE_CONST.match(line))
        return f

    if share(ca, decl(sa)) >= 2 / 3 and share(cb, decl(sb)) >= 2 / 3:
        return "declarations"
    return "real"


def main():
    args = sys.argv[1:]
    listing = "--list" in args
    show = args[args.index("--class") + 1] if "--class" in args else "real"
    ngroups = 12
    if "--groups" in args:
        ngroups = int(args[args.index("--groups") + 1])
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    pairs, nfiles = enumerate_pairs(root, ngroups)
    sources = {}

    def src(p):
        if p not in sources:
            sources[p] = Source(root, p)
        return sources[p]

    classes, real_lines, real = {}, set(), []
    for (pa, a0, a1, pb, b0, b1), rest in pairs.items():
        sa, sb = src(pa), src(pb)
        c = classify(sa, (a0, a1), sb, (b0, b1), rest)
        classes[c] = classes.get(c, 0) + 1
        la = [n for n in sa.code(a0, a1) if n not in sa.imports]
        lb = [n for n in sb.code(b0, b1) if n not in sb.imports]
        if c == "real":
            real_lines.update((pa, n) for n in la)
            real_lines.update((pb, n) for n in lb)
        if c == show:
            real.append((len(la) + len(lb), f"{pa}:{a0}-{a1} ~ {pb}:{b0}-{b1}{rest}"))
    print(f"{len(pairs)} pairs in {nfiles} files; by class: "
          + ", ".join(f"{k} {v}" for k, v in sorted(classes.items(), key=lambda kv: -kv[1])))
    print(f"real duplication: {len(real_lines)} distinct code lines in {classes.get('real', 0)} real pairs")
    if listing:
        for n, r in sorted(real, key=lambda x: (-x[0], x[1])):
            print(f"{n:4d} {r}")


if __name__ == "__main__":
    main()
