"""The documents users read stay true to the code: the generated reference is current, the README is short and
names no path of a development machine, and every results file a document names exists."""

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
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env=dict(os.environ, COLUMNS="110"))
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


def test_every_results_file_a_document_names_exists():
    names = set()
    for doc in ["README.md", "benchmarks/results/README.md"] + [f"docs/{d}" for d in os.listdir(os.path.join(REPO, "docs"))
                                                              if d.endswith(".md")]:
        names |= set(re.findall(r"`((?:benchmarks/results/)?[\w.-]+\.(?:txt|json|jsonl))`", read(doc)))
    results = set(os.listdir(os.path.join(REPO, "benchmarks", "results")))
    missing = sorted(n for n in names if os.path.basename(n) not in results and not n.startswith((".", "questions", "wordsim",
                                                                                                    "vocab", "meta")))
    assert not missing, missing
