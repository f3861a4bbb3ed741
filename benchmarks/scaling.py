"""Thread scaling of the CPU trainers: words/s of hogwild (and gensim, when installed) for 1, 2, 4, ... threads.

    python -m benchmarks.scaling                         # IMDB's first 4M tokens, threads 1..cores, median of 3
    python -m benchmarks.scaling --threads 1,2 --tokens 2000000 --repeat 5 --gensim --hot-rows 0,256
    python -m benchmarks.scaling --shared-negatives both    # per-pair negatives and HogBatch's, side by side

Each thread count trains one epoch on the same slice (the runner's settings: skip-gram, negative 5,
window 5, dim 100, sample 1e-3), after one untimed warm-up run. gensim reads the same slice as a
``corpus_file``, so the two scaling curves are measured side by side in one run: if both flatten at the
same thread count, the machine (memory, shared cores) is the limit rather than the trainer.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import fastw2v

from .benchmarks import common
from .benchmarks import workloads as W


def hogwild_rate(c, threads: int, hot_rows: int = 0, shared_negatives: bool = False) -> float:
    stats = fastw2v.train(corpus=c, backend="hogwild", workers=threads, hot_rows=hot_rows,
                          shared_negatives=shared_negatives, progress=False, **common.SETTINGS).stats
    return stats.words_per_sec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=None, help="dataset folder, text file or encoded corpus folder")
    p.add_argument("--tokens", type=int, default=4_000_000, help="train on the first N tokens (whole pieces)")
    p.add_argument("--threads", default=None, help="comma-separated thread counts (default 1, 2, 4, ... cores)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--gensim", action="store_true", help="also gensim corpus_file with as many workers")
    p.add_argument("--hot-rows", default="256", help="comma-separated hogwild hot_rows settings (default: the Config default), e.g. 0,256")
    common.add_shared_negatives_option(p)
    args = p.parse_args(argv)
    cores = common.cpu_count()
    if args.threads:
        counts = [int(t) for t in args.threads.split(",")]
    else:
        counts = sorted({min(1 << i, cores) for i in range(cores.bit_length() + 1)})
    c = common.corpus(args.corpus, args.tokens)
    hots = [int(h) for h in args.hot_rows.split(",")]
    shared = common.SHARED_NEGATIVES[args.shared_negatives]
    for sn in shared:
        hogwild_rate(c, counts[-1], hots[-1], sn)  # compile, warm the caches
    trainers = {f"hogwild{f' hot_rows={h}' if h else ''}{' shared negatives' if sn else ''}":
                (lambda t, h=h, sn=sn: hogwild_rate(c, t, h, sn)) for sn in shared for h in hots}
    if args.gensim and common.has_module("gensim"):
        text = common.text_file(args.corpus, args.tokens)
        trainers["gensim corpus_file"] = lambda t: W.prepare_gensim(c, text, workers=t)().value
    rates = {name: {} for name in trainers}
    for t in counts:
        for name, rate in trainers.items():
            rates[name][t] = statistics.median(rate(t) for _ in range(args.repeat))
            print(f"{name}, {t} threads: {rates[name][t]:,.0f} words/s", file=sys.stderr, flush=True)
    print(f"{c.description}; {cores} cores; median of {args.repeat} runs, 1 epoch\n")
    print("| trainer | threads | words/s | × 1 thread | efficiency |\n|---|---:|---:|---:|---:|")
    for name, by_t in rates.items():
        for t, r in by_t.items():
            speedup = r / by_t[counts[0]] * counts[0]
            print(f"| {name} | {t} | {r:,.0f} | {speedup:.2f}× | {100 * speedup / t:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
