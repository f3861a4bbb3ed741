"""Thread scaling of the CPU trainers: words/s of hogwild (and gensim, when installed) for 1, 2, 4, ... threads.

    python -m benchmarks.scaling                         # IMDB's first 4M tokens, threads 1..cores, median of 3
    python -m benchmarks.scaling --threads 1,2 --tokens 2000000 --repeat 5 --gensim --hot-rows 0,256
    python -m benchmarks.scaling --shared-negatives both    # per-pair negatives and HogBatch's, side by side

Each thread count trains one epoch on the same slice (the runner's settings: skip-gram, negative 5,
window 5, dim 100, sample 1e-3), after one untimed warm-up run. gensim reads the same slice as a
``corpus_file``, so the two scaling curves are measured side by side in one run: if both flatten at the
same thread count, the machine (memory, shared cores) is the limit rather than the trainer.

The runs go in rounds (``--repeat``): each round measures every trainer at every thread count, so a
machine whose speed drifts hits all of them alike, and a trainer's gain over one thread is the median of
its per-round gains. Each round also times a control: a compute-bound numba loop (no memory traffic, no
shared data) at the same thread counts, whose gain is what the machine's cores gave at that moment. On
a virtual machine whose cores are shared with other tenants it can fall well below the thread count;
a trainer's scaling is only meaningful next to it. ``--processes`` adds a second control that is the
trainer's own work: N separate one-thread hogwild processes at once, each counting the words it trains
within one shared wall-clock window. They share no row, no lock and no memory, so their summed rate is what
the machine gives N copies of this memory-bound load; N threads of one process can hardly beat it.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import time

import numba
import numpy as np

import fastw2v

from .benchmarks import common
from .benchmarks import workloads as W


def hogwild_rate(c, threads: int, hot_rows: int = 0, shared_negatives: bool = False) -> float:
    stats = fastw2v.train(
        corpus=c,
        backend="hogwild",
        workers=threads,
        hot_rows=hot_rows,
        shared_negatives=shared_negatives,
        progress=False,
        **common.SETTINGS,
    ).stats
    return stats.words_per_sec


@numba.njit(parallel=True, fastmath=True, cache=True)
def _control_loop(rows, reps):
    """Independent multiply-adds on a few KiB per row (in L1): scales with the cores a machine really gives."""
    out = np.zeros(rows.shape[0])
    for t in numba.prange(rows.shape[0]):
        x = rows[t]
        acc = np.zeros(16, np.float32)
        for r in range(reps):
            for k in range(x.shape[0]):
                acc[k % 16] += x[k] * x[(k + r) % x.shape[0]]
        out[t] = acc.sum()
    return out


def control_rate(threads: int, reps: int = 6000) -> float:
    """Row passes per second of the control loop with 4 rows per thread (weak scaling: the same work per thread
    whatever the thread count, so every count is timed over a stretch of the same length)."""
    rows = np.random.default_rng(0).random((4 * threads, 4096), dtype=np.float32)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        start = time.perf_counter()
        _control_loop(rows, reps)
        return rows.shape[0] * reps / (time.perf_counter() - start)
    finally:
        numba.set_num_threads(before)


PROCESS_CHILD = """
import sys, time
import fastw2v
from benchmarks.benchmarks import common
path, tokens, start, seconds = sys.argv[1] or None, int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
kw = dict(corpus=common.corpus(path, tokens), backend="hogwild", workers=1, progress=False, **common.SETTINGS)
fastw2v.train(**kw)  # compile or load numba's cache, warm up
if time.time() > start:
    print("benchmarks.scaling: a process was not ready when the window opened: raise --process-lead", file=sys.stderr)
time.sleep(max(0.0, start - time.time()))
words = seconds_trained = 0.0
while True:
    stats = fastw2v.train(**kw).stats
    if time.time() > start + seconds:  # only runs that ended inside the window, while every process ran
        break
    words, seconds_trained = words + stats.tokens, seconds_trained + stats.seconds
print(words / seconds_trained if seconds_trained else float("nan"))
"""


def processes_rate(path: str | None, tokens: int, n: int, seconds: float = 20.0, lead: float = 30.0) -> float:
    """The summed words/s of n one-thread hogwild processes training at once over one window of ``seconds``
    that opens ``lead`` seconds from now (time to start, load and warm up)."""
    start = time.time() + lead
    children = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS_CHILD, path or "", str(tokens), str(start), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=common.REPO,
        )
        for _ in range(n)
    ]
    outputs = [child.communicate()[0] for child in children]
    if any(child.returncode for child in children):
        raise SystemExit("benchmarks.scaling: a --processes child failed (its error is above)")
    return sum(float(out.split()[-1]) for out in outputs)


def gains(runs: list[dict], base: int) -> dict:
    """The median over rounds of each thread count's rate divided by the same round's rate at ``base``."""
    return {t: statistics.median(run[t] / run[base] * base for run in runs) for t in runs[0]}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=None, help="dataset folder, text file or encoded corpus folder")
    p.add_argument("--tokens", type=int, default=4_000_000, help="train on the first N tokens (whole pieces)")
    p.add_argument("--threads", default=None, help="comma-separated thread counts (default 1, 2, 4, ... cores)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--gensim", action="store_true", help="also gensim corpus_file with as many workers")
    p.add_argument(
        "--hot-rows",
        default="256",
        help="comma-separated hogwild hot_rows settings (default: the Config default), e.g. 0,256",
    )
    p.add_argument(
        "--processes",
        action="store_true",
        help="also N one-thread hogwild processes at once, over one wall-clock window (a minute each)",
    )
    p.add_argument(
        "--process-lead",
        type=float,
        default=30.0,
        help="seconds the --processes children get to start and warm up before the window opens",
    )
    common.add_shared_negatives_option(p)
    return p


def trainers(args, c, counts: list[int]) -> dict:
    """The measured trainers by name: each takes a thread count and gives a rate. The hogwild ones are warmed up."""
    hots = [int(h) for h in args.hot_rows.split(",")]
    shared = common.SHARED_NEGATIVES[args.shared_negatives]
    for sn in shared:
        hogwild_rate(c, counts[-1], hots[-1], sn)  # compile, warm the caches
    out = {
        f"hogwild{f' hot_rows={h}' if h else ''}{' shared negatives' if sn else ''}": functools.partial(
            hogwild_rate, c, hot_rows=h, shared_negatives=sn
        )
        for sn in shared
        for h in hots
    }
    if args.gensim and common.has_module("gensim"):
        text = common.text_file(args.corpus, args.tokens)

        def gensim_rate(t: int) -> float:
            return W.prepare_gensim(c, text, workers=t)().value

        out["gensim corpus_file"] = gensim_rate
    if args.processes:
        out["control: N one-thread hogwild processes"] = functools.partial(
            processes_rate, args.corpus, args.tokens, lead=args.process_lead
        )
    out["control: compute-bound loop"] = control_rate
    control_rate(1, 1)  # compile
    return out


def print_table(rounds: dict, counts: list[int], header: str) -> None:
    print(
        f"{header}; words/s (the compute-bound control: row passes/s): median of the rounds; × 1 thread: median of "
        "the rounds' own ratios\n"
    )
    print("| trainer | threads | words/s | × 1 thread | efficiency | × 1 thread, each round |")
    print("|---|---:|---:|---:|---:|---|")
    for name, runs in rounds.items():
        gain = gains(runs, counts[0])
        for t in counts:
            rate = statistics.median(run[t] for run in runs)
            each = " ".join(f"{run[t] / run[counts[0]] * counts[0]:.2f}" for run in runs)
            print(f"| {name} | {t} | {rate:,.0f} | {gain[t]:.2f}× | {100 * gain[t] / t:.0f}% | {each} |")


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    cores = common.cpu_count()
    if args.threads:
        counts = [int(t) for t in args.threads.split(",")]
    else:
        counts = sorted({min(1 << i, cores) for i in range(cores.bit_length() + 1)})
    c = common.corpus(args.corpus, args.tokens)
    measured = trainers(args, c, counts)
    rounds = {name: [] for name in measured}  # per trainer, one {threads: rate} per round
    for r in range(args.repeat):
        for name, rate in measured.items():
            rounds[name].append({t: rate(t) for t in counts})
            print(
                f"round {r + 1}, {name}: " + ", ".join(f"{t} threads {v:,.0f}" for t, v in rounds[name][-1].items()),
                file=sys.stderr,
                flush=True,
            )
    header = f"{c.description}; {common.cpu_model()}, {cores} cores; {args.repeat} rounds, 1 epoch"
    print_table(rounds, counts, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
