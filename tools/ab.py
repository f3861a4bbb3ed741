"""A/B: hogwild's words/s at two revisions of fastw2v, measured in turn so that the machine's drift hits both.

    python -m tools.ab f7df891                 # that commit against the working tree, 1 and 2 threads
    python -m tools.ab f7df891 HEAD --rounds 8 --shared-negatives both --tokens 2000000
    python -m tools.ab f7df891 --cbow         # CBOW instead of skip-gram

Each revision's ``fastw2v/`` is taken with ``git archive`` (the working tree for ``.``), and every run is a
fresh process that imports it, trains once untimed (numba compiles or loads its cache) and then times one
epoch of the same encoded slice of the corpus. The runs alternate A, B, A, B, ... and the table gives each
side's median and the median of the per-round ratios B / A, which is what a kernel change is judged by on a
machine whose speed drifts over minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks.benchmarks import common

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import fastw2v
from fastw2v.corpus import EncodedCorpus
assert fastw2v.__file__.startswith(sys.argv[1]), fastw2v.__file__
c, warm = EncodedCorpus.load(sys.argv[2]), EncodedCorpus.load(sys.argv[3])
kw = dict(backend="hogwild", workers=int(sys.argv[4]), progress=False, **json.loads(sys.argv[5]))
fastw2v.train(corpus=warm, **kw)
print(json.dumps(fastw2v.train(corpus=c, **kw).stats.words_per_sec))
"""


def checkout(rev: str, tmp: str) -> str:
    """A folder holding revision rev's fastw2v package (the repository itself for '.')."""
    if rev == ".":
        return common.REPO
    folder = os.path.join(tmp, rev.replace("/", "_"))
    os.makedirs(folder)
    archive = subprocess.run(["git", "archive", rev, "fastw2v"], cwd=common.REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
    return folder


def rate(folder: str, corpus: str, warm: str, threads: int, settings: dict) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, folder, corpus, warm, str(threads), json.dumps(settings)],
        capture_output=True,
        text=True,
        cwd=common.REPO,
    )
    if out.returncode != 0:
        raise SystemExit(f"tools.ab: a run at {folder} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.ab", description=__doc__.split("\n\n")[0])
    p.add_argument("base", help="revision A (a commit, tag or branch)")
    p.add_argument("head", nargs="?", default=".", help="revision B (default: the working tree, '.')")
    p.add_argument("--corpus", default=None, help="dataset folder, text file or encoded corpus folder")
    p.add_argument("--tokens", type=int, default=2_000_000, help="train on the first N tokens (whole pieces)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--rounds", type=int, default=6, help="runs of each side per setting, alternating")
    common.add_shared_negatives_option(p)
    p.add_argument("--cbow", action="store_true", help="train CBOW (sg=0) instead of skip-gram")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error(f"--rounds {args.rounds}: give 1 or more")
    threads = [int(t) for t in args.threads.split(",")]
    shared = [None] if args.cbow else common.SHARED_NEGATIVES[args.shared_negatives]
    rows = []
    with tempfile.TemporaryDirectory(prefix="fastw2v-ab-") as tmp:
        try:
            a, b = checkout(args.base, tmp), checkout(args.head, tmp)
        except subprocess.CalledProcessError as e:
            p.error(f"no such revision: {e.stderr.decode().strip() or e}")
        corpus, warm = os.path.join(tmp, "corpus"), os.path.join(tmp, "warm")
        common.corpus(args.corpus, args.tokens).save(corpus)
        common.corpus(args.corpus, 100_000).save(warm)
        for sn in shared:
            for t in threads:
                settings = dict(common.SETTINGS, shared_negatives=sn, epochs=1, sg=0 if args.cbow else 1)
                ra, rb = [], []
                for r in range(args.rounds):
                    ra.append(rate(a, corpus, warm, t, settings))
                    rb.append(rate(b, corpus, warm, t, settings))
                    print(
                        f"{'shared negatives, ' if sn else ''}{t} thread(s), round {r + 1}: A {ra[-1]:,.0f}  "
                        f"B {rb[-1]:,.0f} words/s",
                        file=sys.stderr,
                        flush=True,
                    )
                ratios = [y / x for x, y in zip(ra, rb)]
                rows.append(
                    (
                        f"hogwild{', CBOW' if args.cbow else ''}{', shared negatives' if sn else ''}",
                        t,
                        statistics.median(ra),
                        statistics.median(rb),
                        statistics.median(ratios),
                        min(ratios),
                        max(ratios),
                    )
                )
    print(
        f"A = {args.base}, B = {args.head}; first {args.tokens:,} tokens of "
        f"{args.corpus or 'IMDB'}, 1 epoch, {args.rounds} rounds A, B, A, B, ...\n"
    )
    print("| trainer | threads | A words/s | B words/s | B / A (median of rounds) | B / A (min–max) |")
    print("|---|---:|---:|---:|---:|---|")
    for name, t, ma, mb, mr, lo, hi in rows:
        print(f"| {name} | {t} | {ma:,.0f} | {mb:,.0f} | {mr:.3f} | {lo:.3f}–{hi:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
