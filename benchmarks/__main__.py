"""The side-by-side runner: every pipeline and trainer on one token stream, one markdown table.

    python -m benchmarks                      # IMDB (../shared/data/imdb), median of 3 runs
    python -m benchmarks --quick              # smaller slices, 1 run each, one row per implementation
    python -m benchmarks --profile            # plus where the time goes (NumbaBatches stages, torch sgd step)
    python -m benchmarks --device cuda        # plus the CUDA group: torch words/s for batch sizes 2^14..2^20
    python -m benchmarks --corpus FILE_OR_DIR --repeat 5 --out results.json
    python -m benchmarks --rows hogwild,corpus_file,word2vec.c --rounds 3 --repeat 2   # ratios robust to drift
    python -m benchmarks --rows 'hogwild, 2 threads$,hogwild, 1 thread,per-pair,hogwild CBOW' --whole-corpus

No asv environment machinery: each row runs in a fresh ``python -m benchmarks --_row ...`` subprocess (its
repeats inside it, after one untimed setup), so a row's peak RSS (VmHWM of that process; the
tutorial's DataLoader workers reported apart) and its warm caches never leak into another row. The rate is
the median of the repeats. With ``--rounds N`` the whole list of rows runs N times in turn and each row's
rate is the median over all its rounds: a machine whose speed drifts over minutes then slows every row
alike, instead of whichever rows ran during a slow spell. Slow rows (the tutorial's pipeline and loop, torch on
the CPU) run on a slice of the corpus, or a fixed number of batches, and are scaled to a rate; the table's
``tokens`` column says which.

The hogwild trainers' rows (skip-gram with per-pair or shared negatives, CBOW) get a ``% of roofline``: their
words/s over the bound ``benchmarks.roofline`` gives their trainer at the row's threads, from one probe of this
machine before the rows run (a few seconds; ``--no-roofline`` skips it) and the keep rate and contexts a center
counted on the row's slice of the corpus. ``--out`` writes a results file: command, commit, machine (CPU model) and
date first.

The rows are ``benchmarks.rows``' typed table, the table's text is ``benchmarks.report``'s (the machine's CPU model
first) and ``--profile``'s section is ``benchmarks.profile``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import asdict

from . import report, roofline
from .benchmarks import common
from .profile import where_the_time_goes
from .rows import Row, plan

ROW_TIMEOUT = 600
LARGE_ROW_TIMEOUT = 3600  # --large's default: its 300M-token memory row runs far longer than the others

# ---------------------------------------------------------------------------------------------------
# One row, inside its own subprocess


def prepare(spec: dict, corpus_arg: str | None):
    """The row's timed callable, and the corpus slice it runs on (None for the rows that read their own text)."""
    from .benchmarks import workloads

    settings, workload = dict(spec["kwargs"]), spec["workload"]
    if workload == "ingest":
        return workloads.prepare_ingest(corpus_arg, **settings), None
    if workload == "memory":
        return workloads.prepare_memory(**settings), None
    if workload == "large_vocab":
        return workloads.prepare_large_vocab(**settings), None
    c = common.corpus(corpus_arg, spec["tokens"])
    prepare_workload = getattr(workloads, f"prepare_{workload}")
    if workload in ("gensim", "word2vec_c"):  # they read the same tokens from a text file
        return prepare_workload(c, common.text_file(corpus_arg, spec["tokens"]), **settings), c
    return prepare_workload(c, **settings), c


def run_row(spec: dict, corpus_arg: str | None, repeat: int) -> dict:
    """One row's runs (``Row.record()`` as ``spec``), in this process: its rates and peak memory."""
    run, c = prepare(spec, corpus_arg)
    rates = [run() for _ in range(1 if spec["workload"] == "memory" else repeat)]
    return dict(
        rates=[r.value for r in rates],
        unit=rates[0].unit,
        work=rates[0].work,
        seconds=[r.seconds for r in rates],
        note=rates[0].note,
        tokens=int(rates[0].work) if c is None else c.n_tokens,
        maxrss_mib=common.peak_rss_mib(),
        children_maxrss_mib=0 if c is None else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def measure(row: Row, args) -> dict:
    """Runs ``row`` in a fresh ``python -m benchmarks --_row`` subprocess: its record with the results, or with
    ``skipped`` saying why it did not run."""
    spec = row.record()
    cmd = [sys.executable, "-m", "benchmarks", "--_row", json.dumps(spec), "--repeat", str(args.repeat)]
    if args.corpus:
        cmd += ["--corpus", args.corpus]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=common.REPO, timeout=args.row_timeout)
    except subprocess.TimeoutExpired:  # one slow row must not lose the others (or the other rounds)
        return dict(
            spec,
            wall_s=time.perf_counter() - start,
            skipped=f"timed out after {args.row_timeout:.0f} s (--row-timeout)",
        )
    result = dict(spec, wall_s=time.perf_counter() - start)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and lines:
        result.update(json.loads(lines[-1]))
    else:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        if tail.startswith("benchmarks.benchmarks.common.Skip: "):  # a workload that cannot run here
            tail = tail.split(": ", 1)[1]
        result["skipped"] = tail[:160]
    return result


def merge_rounds(a: dict, b: dict) -> dict:
    """One row's results over two rounds: the runs side by side, the larger peak RSS, the summed wall time. A
    row skipped in one round keeps the runs of the other, and counts the round in ``skipped_rounds`` (the
    table shows it: its median then misses a round's share of the machine's drift)."""
    if "rates" not in a or "rates" not in b:
        kept = a if "rates" in a else b
        return dict(kept, skipped_rounds=a.get("skipped_rounds", 0) + b.get("skipped_rounds", 0) + 1)
    out = dict(a, rates=a["rates"] + b["rates"], seconds=a["seconds"] + b["seconds"], wall_s=a["wall_s"] + b["wall_s"])
    for k in ("maxrss_mib", "children_maxrss_mib"):
        out[k] = max(a[k], b[k])
    return out


# ---------------------------------------------------------------------------------------------------
# The run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--corpus",
        default=None,
        help="dataset folder or text file (default: ../shared/data/imdb; a generated Zipf corpus when absent)",
    )
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N: adds the CUDA rows")
    p.add_argument("--quick", action="store_true", help="small slices, 1 run, one row per implementation")
    p.add_argument("--repeat", type=int, default=None, help="runs per row (default 3; 1 with --quick)")
    p.add_argument("--out", default=None, help="also write the results as JSON here")
    p.add_argument("--profile", action="store_true", help="add where the time goes (NumbaBatches, sgd step)")
    p.add_argument(
        "--rows",
        default=None,
        help="only rows whose label contains this text, or one of these, separated by commas without a space after "
        "them (hogwild,word2vec.c; a comma and a space belong to the text); a text ending in $ must end the label "
        "('hogwild, 2 threads$': not its variants)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the list of rows this many times in turn (each row's repeats per round); the rate is "
        "the median over all rounds, so slow spells of the machine hit every row alike",
    )
    p.add_argument(
        "--row-timeout", type=float, default=ROW_TIMEOUT, help="seconds before a row is given up (--large: 3600)"
    )
    p.add_argument(
        "--large",
        action="store_true",
        help="add the large memory rows: 300M tokens and a 50M-token "
        "line against 50M in lines (~30 min more on 2 cores, ~2 GB of temporary text)",
    )
    p.add_argument(
        "--whole-corpus",
        action="store_true",
        help="the hogwild, gensim and word2vec.c rows on the whole corpus, not their first 2M tokens (500k: --quick)",
    )
    p.add_argument(
        "--no-roofline",
        action="store_true",
        help="skip the roofline probe (a few seconds before the rows); the %% of roofline column stays blank",
    )
    p.add_argument("--_row", default=None, help=argparse.SUPPRESS)
    return p


def matches(text: str, label: str) -> bool:
    """Whether ``label`` contains ``text``, or ends with it when ``text`` ends in ``$``."""
    return label.endswith(text[:-1]) if text.endswith("$") else text in label


def select_rows(args) -> list[Row]:
    """The plan's rows that one of ``--rows``'s texts ``matches`` (all without it). The texts are separated by commas
    not followed by a space: ``, `` is part of a label ('fastw2v hogwild, 1 thread')."""
    wanted = [w.strip() for w in re.split(r",(?! )", args.rows or "") if w.strip()]
    return [row for row in plan(args) if not wanted or any(matches(w, row.label) for w in wanted)]


def numba_threading_layer() -> str:
    """The layer numba picks for its parallel kernels, once one has run."""
    import numba
    import numpy as np

    from fastw2v import kernels as K

    K.count_pairs(np.array([0, 3]), 5, True, 1)  # a parallel kernel, so that numba picks its threading layer
    return numba.threading_layer()


def run_rounds(rows: list[Row], args, corpus_description: str, started: float) -> list[dict]:
    """Every row in a subprocess, ``args.rounds`` times in turn; each row's rounds merged, in the rows' order."""
    results: list[dict | None] = [None] * len(rows)
    for round_ in range(args.rounds):
        for i, row in enumerate(rows):
            r = measure(row, args)
            r["corpus_description"] = corpus_description
            results[i] = r if results[i] is None else merge_rounds(results[i], r)
            r = results[i]
            status = (
                f"{report.fmt(statistics.median(r['rates']))} {r['unit']}"
                if "rates" in r
                else f"skipped: {r['skipped']}"
            )
            where = f" (round {round_ + 1}/{args.rounds})" if args.rounds > 1 else ""
            print(f"[{time.perf_counter() - started:5.0f}s] {row.label}{where}: {status}", file=sys.stderr, flush=True)
    return results


def roofline_bounds(rows: list[Row], args, full) -> tuple[list[float | None], dict | None]:
    """Each row's words/s bound (None for a row without a ``roofline`` trainer) and what they came from: one probe of
    this machine, and the keep rate and contexts a center counted on each bounded row's slice; all None with
    ``--no-roofline`` (the second then says so) or when no row has a bound."""
    bounded = [row for row in rows if row.roofline]
    if args.no_roofline or not bounded:
        return [None] * len(rows), (dict(skipped="--no-roofline") if bounded else None)
    settings = common.SETTINGS
    dim, window, negative = settings["vector_size"], settings["window"], settings["negative"]
    machine = roofline.probe(dim, len(full.vocab))
    shapes = {
        tokens: roofline.corpus_shape(common.corpus(args.corpus, tokens), window, settings["sample"])
        for tokens in dict.fromkeys(row.tokens for row in bounded)
    }

    def bound(row: Row) -> float | None:
        if not row.roofline:
            return None
        shape = shapes[row.tokens]
        cost = next(c for c in roofline.center_costs(dim, negative, shape.contexts) if c.trainer == row.roofline)
        return roofline.machine_bound(machine, cost, shape.keep, row.settings["threads"])

    return [bound(row) for row in rows], dict(probe=asdict(machine), corpus=[asdict(s) for s in shapes.values()])


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.large and args.row_timeout == ROW_TIMEOUT:
        args.row_timeout = LARGE_ROW_TIMEOUT
    if args.rounds < 1 or args.repeat < 1:
        p.error(f"--rounds {args.rounds} --repeat {args.repeat}: both must be 1 or more")
    if args._row:
        print(json.dumps(run_row(json.loads(args._row), args.corpus, args.repeat)))
        return 0
    if args.device.startswith("cuda") and not common.cuda_available():
        print("--device cuda: no CUDA GPU here; the CUDA rows are skipped", file=sys.stderr)
        args.device = "cpu"

    started = time.perf_counter()
    command = ["python", "-m", "benchmarks", *(argv if argv is not None else sys.argv[1:])]
    head = common.results_header(command)  # before the rows: the commit they ran
    info = report.machine()
    full = common.full_corpus(args.corpus)  # encode once (cached) before the rows start
    info["numba_threading_layer"] = numba_threading_layer()
    rows = select_rows(args)
    bounds, info["roofline"] = roofline_bounds(rows, args, full)  # before the rows: the machine alone
    results = run_rounds(rows, args, full.description, started)
    for result, bound in zip(results, bounds):
        result["roofline_words_per_s"] = bound
    info["load_average_end"] = os.getloadavg()
    text = report.table(rows, results, info)
    print(text, flush=True)
    profiles = {}
    if args.profile:
        section, profiles = where_the_time_goes(args, rows, full)
        text += section
        print(section)
    print(f"\n(total {time.perf_counter() - started:.0f} s; command: {shlex.join(command)}; commit: {head['commit']})")
    if args.out:  # a results file: command, commit, machine (CPU model) and date first, then the machine's details
        with open(args.out, "w") as f:
            out = dict(head, machine_details=info, args=vars(args), rows=results, profiles=profiles, table=text)
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
