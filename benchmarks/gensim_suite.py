"""gensim's own tests for Word2Vec, run against fastw2v: which of them pass with ``fastw2v.Word2Vec``.

    python -m benchmarks.gensim_suite                    # fastw2v's outcome for each of gensim's tests
    python -m benchmarks.gensim_suite --gensim           # and gensim's own, side by side
    python -m benchmarks.gensim_suite -k persistence --json outcomes.json

gensim's wheel ships its tests, ``gensim/test/test_word2vec.py`` (data in ``gensim/test/test_data/``). This copies
the installed file into a temporary folder with one change, after its line ``from gensim.models import word2vec,
keyedvectors``: ``word2vec`` becomes a copy of gensim's module in which only ``Word2Vec`` is ``fastw2v.Word2Vec``
(``LineSentence``, ``KeyedVectors``, ``datapath`` stay gensim's), which is how a gensim user would judge the
drop-in. Each copy runs under pytest in a subprocess; the outcomes come from its JUnit XML report. It prints one row
per test, then the totals, and the tests that fail but are not in ``EXPECTED_FAILURES`` (or are listed and pass:
prune them). ``tests/test_gensim_suite.py`` runs it and fails on any failure not listed there. Exit code 0 unless
the run itself broke (pytest could not collect the file, or crashed).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

# The line of gensim's test file after which the swap goes in
IMPORT_LINE = "from gensim.models import word2vec, keyedvectors"
SWAP = (
    "import types as _types, fastw2v as _fastw2v  # fastw2v's swap: only Word2Vec is fastw2v's\n"
    "word2vec = _types.SimpleNamespace(**vars(word2vec))\n"
    "word2vec.Word2Vec = _fastw2v.Word2Vec\n"
)
INSTALL_HINT = 'pip install -e ".[test]"'

# gensim's tests that may fail with fastw2v.Word2Vec ("Class::test" -> why: a deliberate difference). The one list:
# the test reads it, the command prints it; remove a name when its test passes (the command lists those).
EXPECTED_FAILURES: dict[str, str] = {}


def gensim_test_file() -> str:
    """The installed gensim's test_word2vec.py; SystemExit with the install hint when gensim or testfixtures is
    missing."""
    missing = [m for m in ("gensim", "testfixtures", "pytest") if importlib.util.find_spec(m) is None]
    if missing:
        raise SystemExit(f"gensim_suite: {', '.join(missing)} not installed: {INSTALL_HINT}")
    path = os.path.join(os.path.dirname(importlib.util.find_spec("gensim").origin), "test", "test_word2vec.py")
    if not os.path.isfile(path):
        raise SystemExit(f"gensim_suite: {path} not found (gensim's wheel ships its tests): {INSTALL_HINT}")
    return path


def swapped_source(source: str) -> str:
    """gensim's test file with ``word2vec.Word2Vec`` rebound to ``fastw2v.Word2Vec``, nothing else changed."""
    lines = source.splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.rstrip() == IMPORT_LINE]
    if len(at) != 1:
        raise ValueError(
            f"gensim's test file has {len(at)} lines {IMPORT_LINE!r}, not 1: gensim changed its "
            "imports, so the swap of Word2Vec (benchmarks/gensim_suite.py) must follow them"
        )
    return "".join(lines[: at[0] + 1]) + SWAP + "".join(lines[at[0] + 1 :])


def test_names(source: str) -> list[str]:
    """The tests a file defines, as "Class::test" (or "test" for a module-level function), in file order."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names += [
                f"{node.name}::{f.name}"
                for f in node.body
                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name.startswith("test")
            ]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.append(node.name)
    return names


def outcomes_of(junit_xml: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each test's outcome in a JUnit XML report, passed, failed (a failure or an error) or skipped, and the
    first line of each failure's message."""
    out, messages = {}, {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        cls = case.get("classname", "").split(".")[-1]  # "test_word2vec.TestWord2VecModel" -> the class
        name = f"{cls}::{case.get('name')}" if cls.startswith("Test") else case.get("name")
        failures = [child for child in case if child.tag in ("failure", "error")]
        outcome = "failed" if failures else "skipped" if case.find("skipped") is not None else "passed"
        if out.get(name) != "failed":  # a test that passes but errors in its teardown has two entries
            out[name] = outcome
        if failures:
            messages[name] = (failures[0].get("message") or "").strip().split("\n")[0][:200]
    return out, messages


def run_suite(
    source: str, folder: str, k: str | None = None, timeout: float = 3600
) -> tuple[dict[str, str], dict[str, str]]:
    """Runs one copy of the test file under pytest in a subprocess: the outcome of each test and each failure's
    message (``outcomes_of``).
    RuntimeError when pytest did not run the tests (a collection error, a crash, a timeout)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "test_word2vec.py"), "w", encoding="utf-8") as f:
        f.write(source)
    with open(os.path.join(folder, "pytest.ini"), "w") as f:  # the rootdir: no configuration of the repo applies
        f.write("[pytest]\n")
    report = os.path.join(folder, "report.xml")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rA",
        f"--junitxml={report}",
        "test_word2vec.py",
    ] + (["-k", k] if k else [])
    env = dict(os.environ)
    fastw2v_spec = importlib.util.find_spec("fastw2v")  # the child imports the fastw2v this process would
    if fastw2v_spec is not None and fastw2v_spec.origin:
        root = os.path.dirname(os.path.dirname(fastw2v_spec.origin))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"pytest ran past {timeout:.0f} s") from e
    output = done.stdout + done.stderr
    if done.returncode == 5:  # -k matched no test
        return {}, {}
    if done.returncode not in (0, 1) or not os.path.isfile(report):
        raise RuntimeError(f"pytest exited with {done.returncode}:\n{output[-3000:]}")
    return outcomes_of(report)


def note(name: str, outcome: str | None, message: str = "") -> str:
    reason = EXPECTED_FAILURES.get(name)
    if outcome == "failed":
        return f"expected: {reason}" if reason else f"UNEXPECTED: {message[:100]}"
    if outcome == "passed" and reason:
        return "passes: remove it from EXPECTED_FAILURES"
    return ""


def totals(outcomes: dict[str, str]) -> str:
    return " / ".join(f"{sum(o == kind for o in outcomes.values())} {kind}" for kind in ("passed", "failed", "skipped"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gensim_suite", description=__doc__.split("\n\n")[0])
    p.add_argument("--gensim", action="store_true", help="also run the file unchanged, with gensim's Word2Vec")
    p.add_argument("-k", default=None, metavar="EXPR", help="pytest's -k: only the tests it selects")
    p.add_argument("--json", default=None, metavar="PATH", help="write the outcomes to this file")
    p.add_argument("--timeout", type=float, default=3600, help="seconds for each run of pytest")
    p.add_argument("--keep", default=None, metavar="DIR", help="write the copies and reports here, and keep them")
    args = p.parse_args(argv)
    path = gensim_test_file()
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        swapped = swapped_source(source)
    except ValueError as e:
        print(f"gensim_suite: {e}", file=sys.stderr)
        return 1
    sides = {"fastw2v": swapped} | ({"gensim": source} if args.gensim else {})
    outcomes, messages, seconds = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="gensim_suite_") as tmp:
        for side, text in sides.items():
            started = time.perf_counter()
            try:
                outcomes[side], messages[side] = run_suite(
                    text, os.path.join(args.keep or tmp, side), args.k, args.timeout
                )
            except RuntimeError as e:
                print(f"gensim_suite: {side}'s run broke: {e}", file=sys.stderr)
                return 1
            seconds[side] = round(time.perf_counter() - started, 1)
    names = [n for n in test_names(source) if any(n in o for o in outcomes.values())]
    names += sorted({n for o in outcomes.values() for n in o} - set(names))  # any the parse missed (none today)
    width = max([len(n) for n in names] + [4])
    print(f"{path}\n")
    print(f"{'test':{width}}  {'fastw2v':8}" + ("  gensim  " if args.gensim else "") + "  note")
    for name in names:
        row = f"{name:{width}}  {outcomes['fastw2v'].get(name, '-'):8}"
        if args.gensim:
            row += f"  {outcomes['gensim'].get(name, '-'):8}"
        print(f"{row}  {note(name, outcomes['fastw2v'].get(name), messages['fastw2v'].get(name, ''))}".rstrip())
    print()
    for side in sides:
        print(f"{side}: {totals(outcomes[side])} ({seconds[side]:.0f} s)")
    unexpected = [n for n in names if note(n, outcomes["fastw2v"].get(n)).startswith("UNEXPECTED")]
    fixed = [n for n in names if note(n, outcomes["fastw2v"].get(n)).startswith("passes")]
    print(f"failing but not in EXPECTED_FAILURES: {len(unexpected)}; in EXPECTED_FAILURES but passing: {len(fixed)}")
    if args.json:
        import gensim

        with open(args.json, "w") as f:
            json.dump(
                dict(
                    command="python -m benchmarks.gensim_suite "
                    + shlex.join(argv if argv is not None else sys.argv[1:]),
                    gensim=gensim.__version__,
                    test_file=path,
                    seconds=seconds,
                    outcomes=outcomes,
                    messages=messages,
                    unexpected_failures=unexpected,
                    expected_but_passing=fixed,
                    expected_failures=EXPECTED_FAILURES,
                ),
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
