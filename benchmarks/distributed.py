"""Distributed training (torchrun) against one process: vector quality, throughput, and the share of the sync.

    python -m benchmarks.distributed                                   # IMDB, 5 epochs, 1/2/8 ranks, seeds 1-3
    python -m benchmarks.distributed --ranks 1,2 --seeds 1 --epochs 1  # a quick look
    python -m benchmarks.distributed --corpus .devdata/mixed/mixed.jsonl --combine mean --ranks 8
    python -m benchmarks.distributed --project 41.2e6               # N GPUs from one GPU's rate, on IMDB's vocabulary

Each row is one job: ``torchrun --nproc-per-node N -m benchmarks.distributed --_worker ...`` (N = 1 runs the
worker as a plain process, one process on all cores), which calls ``fastw2v.train`` on every rank as a user's
script would; rank 0 then evaluates the vectors (Google analogies, restrict_vocab 30000; WordSim353 rho) and
writes the row. The cores are divided among the ranks (``--workers 0``), so on 2 cores 8 ranks are slow: these
rows measure quality; words/s and the sync share are of this machine. ``--combine`` swaps fastw2v's damped sum
of the ranks' changes (``fastw2v.distributed.combine_weights``) for the plain sum, their mean (model averaging,
Spark's and DL4J's scheme) or a mean of the frequent rows only; ``--curvature``, ``--hot-above``,
``--sync-tokens`` and ``--chunk-tokens`` vary its settings. The table gives the mean over seeds per rank count and
settings, and its gap to the 1-process rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data")
CORPORA = {"imdb": dict(dataset=os.path.join(SHARED, "imdb"))}


def corpus_args(corpus: str) -> dict:
    if corpus in CORPORA:
        return CORPORA[corpus]
    return dict(dataset=corpus) if os.path.isdir(corpus) else dict(data=corpus)


def worker(args) -> None:
    """One rank of a job (or the one process): train, and on rank 0 evaluate and write the row."""
    import fastw2v
    from fastw2v import distributed

    distributed.PARTITIONED = args.combine == "partitions"
    distributed.COMBINE = "damped" if args.combine == "partitions" else args.combine
    if args.mean_above is not None:
        distributed.MEAN_ABOVE = args.mean_above
    if args.hot_above is not None:
        distributed.HOT_ABOVE = args.hot_above
    if args.curvature is not None:
        distributed.CURVATURE = args.curvature
    distributed.ALONE_AS_RANKS = args.alone_as_ranks
    distributed.BUCKET_NEGATIVES_FROM_ALL = args.bucket_negatives == "all"
    distributed.SYNC_TOKENS, distributed.SYNC_ALL_TOKENS = args.sync_tokens, args.sync_all_tokens
    cfg = dict(epochs=args.epochs, seed=args.seed, workers=args.workers, chunk_tokens=args.chunk_tokens)
    start = time.perf_counter()
    vectors = fastw2v.train(**corpus_args(args.corpus), progress=False, **cfg)
    wall = time.perf_counter() - start
    st = vectors.stats
    if st.rank != 0:
        return
    analogy = fastw2v.evaluate_analogies(vectors, os.path.join(SHARED, "eval", "questions-words.txt"),
                                         restrict_vocab=30000)
    ws = fastw2v.evaluate_word_pairs(vectors, os.path.join(SHARED, "eval", "wordsim353.tsv"))
    combined = dict(mean_above=distributed.MEAN_ABOVE, hot_above=distributed.HOT_ABOVE, curvature=distributed.CURVATURE,
                    sync_tokens=args.sync_tokens, sync_all_tokens=args.sync_all_tokens)  # the scheme without buckets
    row = dict(ranks=st.world_size, seed=args.seed, epochs=args.epochs, combine=args.combine,
               **{k: "-" if st.buckets else v for k, v in combined.items()},
               alone_as_ranks=args.alone_as_ranks, bucket_negatives=args.bucket_negatives,
               chunk_tokens=args.chunk_tokens, backend=st.backend,
               words_per_sec=st.words_per_sec,
               train_seconds=st.seconds, wall_seconds=wall, sync_seconds=st.sync_seconds,
               sync_share=st.sync_seconds / st.seconds if st.seconds else None,
               sync_mib=st.sync_bytes / 2 ** 20, pairs=st.pairs, vocab_size=st.vocab_size, tokens=st.tokens,
               analogy=analogy.accuracy, ws353=ws.spearman, final_loss=st.final_loss)
    with open(args.row_out, "w") as f:
        json.dump(row, f)


def run_job(ranks: int, seed: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        row_out = os.path.join(tmp, "row.json")
        worker_args = ["--_worker", "--corpus", args.corpus, "--epochs", str(args.epochs), "--seed", str(seed),
                       "--sync-tokens", str(args.sync_tokens), "--chunk-tokens", str(args.chunk_tokens),
                       "--sync-all-tokens", str(args.sync_all_tokens),
                       "--combine", args.combine, "--row-out", row_out,
                       *(["--mean-above", str(args.mean_above)] if args.mean_above is not None else []),
                       *(["--hot-above", str(args.hot_above)] if args.hot_above is not None else []),
                       *(["--curvature", str(args.curvature)] if args.curvature is not None else []),
                       "--alone-as-ranks", str(args.alone_as_ranks), "--bucket-negatives", args.bucket_negatives,
                       "--workers", str(args.workers)]
        if ranks == 1:
            cmd = [sys.executable, "-m", "benchmarks.distributed", *worker_args]
        else:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks),
                   "-m", "benchmarks.distributed", *worker_args]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.join(HERE, ".."))
        if proc.returncode != 0 or not os.path.exists(row_out):
            lines = proc.stderr.strip().splitlines()
            why = [line for line in lines if "Error: " in line or "fastw2v: error" in line] or lines[-5:]
            return dict(ranks=ranks, seed=seed, error=why[0][:300])
        with open(row_out) as f:
            return json.load(f)


# What a job's rows may vary (factor_lr: rows of the combine factors at the current learning rate, a knob of
# commit 9b3a4a8, "start" or "current"; absent since. combine "partitions": the buckets; rows before them have
# no such value)
SETTINGS = ("combine", "curvature", "factor_lr", "sync_tokens", "sync_all_tokens", "chunk_tokens", "hot_above",
            "alone_as_ranks", "bucket_negatives")


def is_baseline(row: dict) -> bool:
    """One process training every pair in turn (not the buckets of several ranks)."""
    return row["ranks"] == 1 and not row.get("alone_as_ranks")


def summary(rows: list[dict]) -> str:
    """The mean over seeds of each (ranks, settings), and its gap to the 1-process rows."""
    ok = [r for r in rows if "error" not in r]
    by = {}
    for r in ok:
        settings = ("-",) * len(SETTINGS) if is_baseline(r) else tuple(r.get(k, "-") for k in SETTINGS)
        by.setdefault((r["ranks"], settings), []).append(r)
    base = [r for r in ok if is_baseline(r)]
    lines = ["| ranks | " + " | ".join(k.replace("_", " ") for k in SETTINGS)
             + " | seeds | analogy | rho | Δ analogy | Δ rho | words/s | sync share |",
             "|---:|" + "---|" * len(SETTINGS) + "---:|---:|---:|---:|---:|---:|---:|"]
    for (n, settings), rs in sorted(by.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        a, w = np.mean([r["analogy"] for r in rs]) * 100, np.mean([r["ws353"] for r in rs])
        da = f"{a - np.mean([r['analogy'] for r in base]) * 100:+.2f}" if base else "-"
        dw = f"{w - np.mean([r['ws353'] for r in base]):+.3f}" if base else "-"
        share = np.mean([r["sync_share"] or 0 for r in rs])
        seeds = ",".join(str(r["seed"]) for r in rs)
        lines.append(f"| {n} | {' | '.join(map(str, settings))} | {seeds} | {a:.2f}% | {w:.3f} | {da} | {dw} | "
                     f"{np.mean([r['words_per_sec'] for r in rs]):,.0f} | {share:.0%} |")
    for r in rows:
        if "error" in r:
            lines.append(f"error, {r['ranks']} ranks, seed {r['seed']}: {r['error']}")
    return "\n".join(lines)


# The links of the projection: the bus bandwidth an all-reduce reaches (bytes/s), its latency (s), and the
# Config.chunk_tokens of the row (None: the default). Assumptions, said in the output.
LINKS = (("8 GPUs, one NVLink box", 8, 400e9, 30e-6, None),
         ("4 nodes, 100 Gb/s Ethernet (one GPU each)", 4, 11e9, 100e-6, None),
         ("4 nodes, 100 Gb/s Ethernet (one GPU each)", 4, 11e9, 100e-6, 1 << 22))


def project(rate: float, counts, n_tokens: int, dim: int = 100) -> str:
    """Words/s of N ranks from one rank's measured rate and the sync volume of fastw2v's buckets on this
    vocabulary (``fastw2v.distributed.Buckets``): per chunk, each rank trains chunk_tokens / N tokens at ``rate``
    in N rounds, and gathers the output rows after each round and the input rows at the chunk's end
    (``PartitionSync``), each a ring all-gather of a matrix: (N - 1) / N of its bytes in and out of each rank at the
    link's bus bandwidth, plus its latency. The training step is assumed to shard perfectly (every rank still
    builds, or scans, every pair of a chunk: docs/distributed.md) and the buckets to be of equal size.
    ``n_tokens`` is unused (kept for the caller)."""
    from fastw2v import Config

    vocab = len(counts)
    matrix = vocab * dim * 4  # one (V, d) float32 matrix
    lines = [f"One rank: {rate / 1e6:.1f}M words/s. Vocabulary {vocab:,} words, d = {dim}: "
             f"{matrix / 2 ** 20:,.1f} MiB a matrix, gathered after each of a chunk's N rounds (the output rows) "
             f"and at its end (the input rows).",
             "| link | ranks | chunk tokens | bytes per token per rank | sync per chunk | words/s | × one rank |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, n, bandwidth, latency, chunk_tokens in LINKS:
        chunk = chunk_tokens or Config().chunk_tokens
        volume = (n + 1) * matrix  # per rank per chunk
        train = chunk / n / rate
        sync = (n - 1) / n * volume / bandwidth + (n + 1) * latency
        total = chunk / (train + sync)
        lines.append(f"| {name} ({bandwidth / 1e9:.0f} GB/s, {latency * 1e6:.0f} µs) | {n} | {chunk:,} | "
                     f"{volume / (chunk / n):,.0f} | {sync * 1e3:.2f} ms | {total / 1e6:,.0f}M | "
                     f"{total / rate:.1f}× |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="imdb", help="imdb, a dataset folder, or text files (.txt/.jsonl, a glob)")
    p.add_argument("--ranks", default="1,2,8", help="processes per job, comma-separated")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--sync-tokens", type=int, default=None,
                   help="without buckets (--combine other than partitions): distributed.SYNC_TOKENS")
    p.add_argument("--sync-all-tokens", type=int, default=None,
                   help="without buckets: distributed.SYNC_ALL_TOKENS")
    p.add_argument("--chunk-tokens", type=int, default=None,
                   help="default: Config's (every row syncs at a chunk's end)")
    p.add_argument("--combine", default="partitions", choices=["partitions", "damped", "sum", "mean", "hot-mean"],
                   help="how the ranks share the model: partitions (fastw2v's: each rank trains its bucket of the "
                   "vocabulary's partitions, fastw2v.distributed.Buckets), or, as before the buckets, every rank "
                   "trains its share of the pieces and a sync combines the ranks' changes "
                   "(fastw2v.distributed.COMBINE): damped, sum, mean (model averaging), hot-mean (the frequent "
                   "words' rows averaged, the rest summed; --mean-above)")
    p.add_argument("--mean-above", type=float, default=None, help="distributed.MEAN_ABOVE (default: its value)")
    p.add_argument("--hot-above", type=float, default=None,
                   help="distributed.HOT_ABOVE (default: its value; 0: every row at every sync)")
    p.add_argument("--curvature", type=float, default=None, help="distributed.CURVATURE (default: its value)")
    p.add_argument("--alone-as-ranks", type=int, default=0,
                   help="one process trains the buckets of this many ranks in turn (distributed.ALONE_AS_RANKS)")
    p.add_argument("--bucket-negatives", default="partition", choices=["partition", "all"],
                   help="with --alone-as-ranks: draw a bucket's negatives from its partition (a job's) or from the "
                   "whole vocabulary (distributed.BUCKET_NEGATIVES_FROM_ALL)")
    p.add_argument("--workers", type=int, default=0, help="threads per process; 0: the cores divided among the ranks")
    p.add_argument("--out", help="write the rows and the table here (.json)")
    p.add_argument("--project", type=float, metavar="WORDS_PER_SEC",
                   help="print the throughput projection for 8 NVLink GPUs and 4 nodes from one rank's rate on "
                   "--corpus's vocabulary, and exit")
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--row-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from fastw2v import Config, distributed

    args.sync_tokens = args.sync_tokens or distributed.SYNC_TOKENS
    args.sync_all_tokens = args.sync_all_tokens or distributed.SYNC_ALL_TOKENS
    args.chunk_tokens = args.chunk_tokens or Config().chunk_tokens
    if args.project:
        import fastw2v

        corpus = fastw2v.encode(fastw2v.open_source(**corpus_args(args.corpus)), progress=False)
        print(project(args.project, corpus.vocab.counts, corpus.n_tokens))
        return 0
    if args._worker:
        worker(args)
        return 0
    rows = []
    for n in (int(x) for x in args.ranks.split(",")):
        for seed in (int(x) for x in args.seeds.split(",")):
            combine = args.combine  # (one process: unused; the table shows "-")
            rows.append(run_job(n, seed, argparse.Namespace(**{**vars(args), "combine": combine})))
            print(json.dumps(rows[-1]), flush=True)
    table = summary(rows)
    print(table)
    if args.out:
        info = dict(machine=platform.processor() or platform.machine(), cpus=os.cpu_count(),
                    command="python -m benchmarks.distributed " + " ".join(argv if argv is not None else sys.argv[1:]))
        with open(args.out, "w") as f:
            json.dump(dict(info=info, rows=rows, table=table), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
