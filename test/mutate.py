#!/usr/bin/env python3
#===- test/mutate.py - mutation testing of the test suite ------------------===#
#
# This script plants the one-line bugs of test/mutations.txt one at a time,
# rebuilds incrementally (ninja, ccache; only the targets a mutation names,
# unless --full), runs the tests each mutation names
# (or the whole suite with --full) and prints a markdown table: a mutation is
# "killed" when a test fails, "survived" when every test passes, "no build"
# when the mutated code does not compile. The source file is restored after
# each mutation, also on errors and Ctrl-C; a run killed harder leaves a note
# in BUILD/mutate-pending.json, which the next run restores first. Not part of
# CI: a mutation costs a rebuild and a test run.
#
# Usage: test/mutate.py [--build-dir build] [--full] [--only ID ...]
#                       [--check] [--out FILE.md]
# Exit status 1 when a mutation survived or a fragment is not found.
#
#===----------------------------------------------------------------------===#
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIT = "/usr/lib/llvm-22/bin/lit"
FIELDS = ("id", "file", "find", "replace", "why", "tests", "targets")
OPTIONAL = {"targets"}


def parse(path):
    """The mutation blocks of `path` as dicts with the keys of FIELDS."""
    blocks, cur = [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if cur:
                    blocks.append(cur)
                cur = {}
                continue
            key, sep, value = line.partition(": ")
            if not sep or key not in FIELDS:
                sys.exit(f"{path}:{n}: error: expected 'KEY: value' with KEY in {', '.join(FIELDS)}")
            cur[key] = value
    if cur:
        blocks.append(cur)
    for b in blocks:
        missing = [k for k in FIELDS if k not in b and k not in OPTIONAL]
        if missing:
            sys.exit(f"{path}: error: mutation {b.get('id', '?')} lacks {', '.join(missing)}")
    return blocks


def run(cmd, log, env=None):
    """Runs cmd from the repository root, appending its output to log; True on exit 0."""
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    return subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env).returncode == 0


def test_commands(m, build, full):
    """The commands that must not all pass for mutation m."""
    if full:
        return [[LIT, "-q", f"{build}/test"],
                ["ctest", "--test-dir", build, "-j2", "--timeout", "900"]]
    cmds = []
    for t in m["tests"].split():
        kind, _, arg = t.partition(":")
        if kind == "lit":
            cmds.append([LIT, "-q", f"{build}/test/{arg}"])
        elif kind == "ctest":
            # --no-tests=error: a regex that matches nothing is not a pass.
            cmds.append(["ctest", "--test-dir", build, "-j2", "--timeout", "900",
                         "--no-tests=error", "-R", arg])
        else:
            sys.exit(f"mutation {m['id']}: unknown test kind '{kind}' (lit: or ctest:)")
    return cmds


def restore_pending(pending):
    if os.path.exists(pending):
        with open(pending, encoding="utf-8") as f:
            note = json.load(f)
        with open(os.path.join(ROOT, note["file"]), "w", encoding="utf-8") as f:
            f.write(note["original"])
        os.remove(pending)
        print(f"restored {note['file']} from an interrupted run")


def main():
    ap = argparse.ArgumentParser(description="Plant the mutations of test/mutations.txt and report which survive.")
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--mutations", default=os.path.join(ROOT, "test", "mutations.txt"))
    ap.add_argument("--full", action="store_true", help="run the whole suite for each mutation")
    ap.add_argument("--only", nargs="+", metavar="ID", help="run these mutations only")
    ap.add_argument("--check", action="store_true", help="only check that every fragment is found once")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    build = args.build_dir
    # mutations_current.test checks that every fragment is in the sources,
    # which is false while one is planted.
    env = dict(os.environ, CCACHE_BASEDIR=ROOT, LIT_FILTER_OUT="mutations_current")
    pending = os.path.join(ROOT, build, "mutate-pending.json")
    restore_pending(pending)

    mutations = parse(args.mutations)
    if args.only:
        unknown = set(args.only) - {m["id"] for m in mutations}
        if unknown:
            sys.exit(f"unknown mutation id(s): {', '.join(sorted(unknown))}")
        mutations = [m for m in mutations if m["id"] in args.only]

    bad = False
    for m in mutations:
        with open(os.path.join(ROOT, m["file"]), encoding="utf-8") as f:
            count = f.read().count(m["find"])
        if count != 1:
            print(f"{m['id']}: '{m['find']}' occurs {count} times in {m['file']} (expected once)")
            bad = True
    if bad or args.check:
        if not bad:
            print(f"{len(mutations)} mutations, every fragment found once")
        return 1 if bad else 0

    log_path = os.path.join(ROOT, build, "mutate.log")
    rows = []
    with open(log_path, "w", encoding="utf-8") as log:
        for i, m in enumerate(mutations, 1):
            path = os.path.join(ROOT, m["file"])
            with open(path, encoding="utf-8") as f:
                original = f.read()
            start = time.time()
            print(f"[{i}/{len(mutations)}] {m['id']} ...", end=" ", flush=True)
            log.write(f"\n=== {m['id']}: {m['why']}\n")
            try:
                with open(pending, "w", encoding="utf-8") as f:
                    json.dump({"file": m["file"], "original": original}, f)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(original.replace(m["find"], m["replace"], 1))
                targets = [] if args.full else m.get("targets", "").split()
                if not run(["ninja", "-C", build, "-j2"] + targets, log, env):
                    result = "no build"
                else:
                    # Every command runs: the table says which ones caught it.
                    caught = [c for c in test_commands(m, build, args.full) if not run(c, log, env)]
                    result = "killed" if caught else "SURVIVED"
            finally:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(original)
                os.remove(pending)
            seconds = time.time() - start
            print(f"{result} ({seconds:.0f} s)")
            rows.append((m, result, seconds))
        # Leave the build matching the sources again.
        run(["ninja", "-C", build, "-j2"], log, env)

    scope = "the whole suite" if args.full else "each mutation's subset"
    lines = [f"Mutation testing ({len(rows)} mutations, tests: {scope}; log: {build}/mutate.log)", "",
             "| # | mutation | file | bug | tests | result |",
             "|---|---|---|---|---|---|"]
    for i, (m, result, seconds) in enumerate(rows, 1):
        tests = "full suite" if args.full else m["tests"].replace("|", "\\|")
        lines.append(f"| {i} | `{m['id']}` | {m['file']} | {m['why']} | {tests} | {result} ({seconds:.0f} s) |")
    survived = sum(r == "SURVIVED" for _, r, _ in rows)
    killed = sum(r == "killed" for _, r, _ in rows)
    lines += ["", f"{killed} killed, {survived} survived, {len(rows) - killed - survived} did not build"]
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
