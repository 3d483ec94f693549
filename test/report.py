#!/usr/bin/env python3
#===- test/report.py - honest totals of `./dev.sh test` ---------------------===#
#
# This script reads lit's JSON results (lit -o) and ctest's JUnit report
# (ctest --output-junit) and prints what ran: the failed tests, every skipped
# test with its reason, and the closing line
#   tests: N passed, N failed, N skipped
# Skipped means lit's UNSUPPORTED and ctest's skipped (gtest GTEST_SKIP);
# neither is counted as passed. A skip is "hardware" when it is about the GPU
# stack (lit features cuda-gpu / tele-run, gtest messages starting "no GPU");
# with CI=true in the environment any other skip is counted as a failure,
# since CI must run everything but the GPU tests.
#
# Usage: report.py LIT.json CTEST.xml [LABEL=RESULTS ...]
#   (exit status 1 when anything failed). LABEL=RESULTS adds the tests of an
#   extra run as LABEL/<name>: a gtest XML report (the numerics tests under
#   another OpenBLAS core type), a ctest JUnit report (the sanitizer build's
#   tests) or TSV lines `name, passed|failed, reason` (the fuzz targets).
#
#===----------------------------------------------------------------------===#
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

# lit features that only a machine with a GPU (and the CUDA toolkit) has.
HARDWARE_FEATURES = {"cuda-gpu": "no GPU", "tele-run": "no CUDA toolkit (tele-run not built)"}
LIT_PASS = {"PASS", "XFAIL", "FLAKYPASS"}
LIT_SKIP = {"UNSUPPORTED"}


def lit_results(path):
    """(name, outcome, reason, hardware) per lit test."""
    with open(path) as f:
        data = json.load(f)
    for t in data.get("tests", []):
        code, out = t.get("code", ""), t.get("output", "") or ""
        if code in LIT_PASS:
            yield t["name"], "passed", "", False
        elif code in LIT_SKIP:
            feats = [f for f in HARDWARE_FEATURES if re.search(r"\b%s\b" % re.escape(f), out)]
            if feats and "does not support" in out:
                # UNSUPPORTED: cuda-gpu, i.e. the no-GPU error path.
                yield t["name"], "skipped", "tests the machine without a GPU", True
            elif feats:
                yield t["name"], "skipped", HARDWARE_FEATURES[feats[0]], True
            else:
                yield t["name"], "skipped", out.strip().splitlines()[0] if out.strip() else "unsupported", False
        else:
            yield t["name"], "failed", code, False


def gtest_skip_reason(output):
    """The message of GTEST_SKIP() in a test's output ('file:line: Skipped' then the message)."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip().endswith(": Skipped") and i + 1 < len(lines):
            return lines[i + 1].strip()
    return "no reason given"


def ctest_results(path):
    """(name, outcome, reason, hardware) per ctest test."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("name")
        status = case.get("status", "")
        out = "".join(e.text or "" for e in case.iter("system-out"))
        if status == "run":
            yield name, "passed", "", False
        elif case.find("skipped") is not None or status == "disabled":
            # ctest 3.25 writes status="notrun" and <skipped> for a test whose
            # output matched SKIP_REGULAR_EXPRESSION (gtest's [  SKIPPED ]).
            reason = gtest_skip_reason(out) if status != "disabled" else "disabled"
            yield name, "skipped", reason, reason.startswith("no GPU")
        else:
            yield name, "failed", status or "failed", False


def gtest_results(path, label):
    """(name, outcome, reason, hardware) per test of a gtest XML report
    (--gtest_output=xml), each name prefixed with `label/`."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = f"{label}/{case.get('classname')}.{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            yield name, "failed", "failed", False
        elif case.get("result") == "skipped" or case.find("skipped") is not None:
            skip = case.find("skipped")
            reason = (skip.get("message") if skip is not None else None) or "no reason given"
            yield name, "skipped", reason, reason.startswith("no GPU")
        else:
            yield name, "passed", "", False


def tsv_results(path, label):
    """(name, outcome, reason, hardware) per line `name<TAB>passed|failed<TAB>reason`
    (dev.sh's fuzz targets), each name prefixed with `label/`."""
    with open(path) as f:
        for line in f:
            name, outcome, reason = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            yield f"{label}/{name}", outcome if outcome == "passed" else "failed", reason, False


def labelled_results(path, label):
    """An extra run's results by their format: TSV lines, a gtest XML report
    (root <testsuites>) or a ctest JUnit report (root <testsuite>)."""
    if path.endswith(".tsv"):
        return tsv_results(path, label)
    if ET.parse(path).getroot().tag == "testsuites":
        return gtest_results(path, label)
    return ((f"{label}/{n}", o, r, h) for n, o, r, h in ctest_results(path))


def main(lit_json, ctest_xml, *labelled):
    """labelled: LABEL=PATH, the results of extra runs (labelled_results)."""
    results = []
    sources = [(lit_json, lit_results, "lit"), (ctest_xml, ctest_results, "ctest")]
    for arg in labelled:
        label, path = arg.split("=", 1)
        sources.append((path, lambda p, label=label: labelled_results(p, label), label))
    for path, reader, suite in sources:
        if not os.path.exists(path):
            results.append((suite, "failed", "no results (the runner did not finish)", False))
            continue
        results.extend(reader(path))
    ci = os.environ.get("CI", "").lower() == "true"
    passed = [r for r in results if r[1] == "passed"]
    failed = [r for r in results if r[1] == "failed"]
    skipped = [r for r in results if r[1] == "skipped"]
    if ci:
        # In CI only the GPU stack may be missing; any other skip hides a test.
        failed += [(n, "failed", "skipped in CI: " + why, hw) for n, _, why, hw in skipped if not hw]
        skipped = [r for r in skipped if r[3]]
    if skipped:
        # One line per reason: GPU test lists are long and all say the same.
        by_reason = {}
        for name, _, why, _ in skipped:
            by_reason.setdefault(why, []).append(name)
        print("skipped:")
        for why, names in sorted(by_reason.items()):
            shown = ", ".join(names[:4]) + (f", ... ({len(names) - 4} more)" if len(names) > 4 else "")
            print(f"  {len(names)} ({why}): {shown}")
    if failed:
        print("failed:")
        for name, _, why, _ in failed:
            print(f"  {name} ({why})")
    print(f"tests: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
