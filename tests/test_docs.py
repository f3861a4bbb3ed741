"""The documents users read stay true to the code and to the results: the generated reference is current, the
README is short and names no path of a development machine, the pages stay within their line budget, every results
file a document names exists, every file in benchmarks/results/ is named by a document, and each results file opens
with its command, commit, machine and date."""

import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(*parts):
    with open(os.path.join(REPO, *parts), encoding="utf-8") as f:
        return f.read()


def test_the_reference_is_what_make_reference_writes():
    code = "import sys; sys.path.insert(0, 'docs'); import make_reference; print(make_reference.reference(), end='')"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=dict(os.environ, COLUMNS="110")
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == read("docs", "reference.md"), "docs/reference.md is stale: run python docs/make_reference.py"


def test_the_readme_is_short_and_machine_free_outside_its_run_command():
    readme = read("README.md")
    assert len(readme.splitlines()) <= 150
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "pip install" in first_screen and "fastw2v train" in first_screen
    lines = [line for line in readme.splitlines() if "../shared" in line]
    assert all("fastw2v train --dataset ../shared/data/imdb" in line or "local copy" in line for line in lines), lines
    assert "/work/" not in readme and "/root/" not in readme


RESULTS = os.path.join(REPO, "benchmarks", "results")
INDEX = "README.md"  # benchmarks/results/README.md: the index, not a result
DOCS_BUDGET = 990  # lines of docs/*.md, the generated reference.md not counted
# A results file's name in backticks, with or without its folder: `cpu-2core-xeon.txt`, `benchmarks/results/x.json`
RESULT_NAME = re.compile(r"`(?:benchmarks/results/)?([\w.-]+\.(?:txt|json|jsonl))`")
# Names in backticks that are inputs or outputs of the tools, not results files
NOT_RESULTS = (
    "questions-words.txt",
    "wordsim353.tsv",
    "vocab.tsv",
    "meta.json",
    "sources.json",
    "ids.int32",
    "mixed.jsonl",
    "results.json",
)


def documents() -> list[str]:
    """README.md, every page of docs/ and the results index: the documents that may name a results file."""
    docs = sorted(f"docs/{d}" for d in os.listdir(os.path.join(REPO, "docs")) if d.endswith(".md"))
    return ["README.md", f"benchmarks/results/{INDEX}"] + docs


def named_results() -> dict[str, list[str]]:
    """Each results-like file name a document names in backticks, with the documents that name it."""
    names: dict[str, list[str]] = {}
    for doc in documents():
        for name in RESULT_NAME.findall(read(doc)):
            if not name.startswith(".") and not name.startswith("zipf-") and name not in NOT_RESULTS:
                names.setdefault(name, []).append(doc)
    return names


def results_files() -> list[str]:
    return sorted(f for f in os.listdir(RESULTS) if f != INDEX and not f.startswith("."))


def test_every_results_file_a_document_names_exists():
    files = set(os.listdir(RESULTS))
    missing = {name: docs for name, docs in named_results().items() if name not in files}
    assert not missing, f"named but not in benchmarks/results/: {missing}"


def test_every_results_file_is_named_by_a_document():
    named = named_results()
    unnamed = [f for f in results_files() if f not in named]
    assert not unnamed, (
        f"in benchmarks/results/ but named (in backticks, by its full name) by no document: "
        f"{unnamed}; cite it from README.md, docs/ or benchmarks/results/README.md, or git rm it"
    )


def test_the_docs_stay_within_their_line_budget():
    pages = [d for d in os.listdir(os.path.join(REPO, "docs")) if d.endswith(".md") and d != "reference.md"]
    lines = {d: len(read("docs", d).splitlines()) for d in pages}
    assert sum(lines.values()) <= DOCS_BUDGET, f"docs/*.md (reference.md aside): {sum(lines.values())} lines, {lines}"


def test_each_results_file_opens_with_its_command_commit_machine_and_date():
    bad = {}
    for f in results_files():
        with open(os.path.join(RESULTS, f), encoding="utf-8") as fh:
            text = fh.read()
        if f.endswith(".json"):
            first = json.loads(text)
            keys = list(first)[:4] if isinstance(first, dict) else []
            if keys != ["command", "commit", "machine", "date"]:
                bad[f] = f"first keys {keys}"
        elif f.endswith(".jsonl"):
            first = json.loads(text.splitlines()[0])
            if not {"command", "commit", "machine", "date"} <= set(first):
                bad[f] = "its first line lacks command, commit, machine or date"
        else:
            head = "\n".join(text.splitlines()[:10]).lower()
            lacking = [w for w in ("command", "commit", "machine", "date") if w not in head]
            if lacking:
                bad[f] = f"its first 10 lines lack {lacking}"
    assert not bad, bad
