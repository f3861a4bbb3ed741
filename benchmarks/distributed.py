"""Distributed training (torchrun) against one process: vector quality, words/s, the hand-over's volume and share,
and a projection to GPUs from measured inputs.

    python -m benchmarks.distributed                                   # IMDB, 5 epochs, 1/2/8 ranks, seeds 1-3
    python -m benchmarks.distributed --ranks 1,2 --seeds 1 --epochs 1  # a quick look
    python -m benchmarks.distributed --ranks 1 --alone-as-ranks 8      # one process taking 8 ranks' buckets in turn
    python -m benchmarks.distributed --corpus .devdata/mixed/mixed.jsonl --ranks 1,8 --epochs 1
    python -m benchmarks.distributed --project --corpus2 zipf-2m-words.txt   # 8 and 32 GPUs, modelled
    python -m benchmarks.distributed --transfers                       # gloo between 2 processes here

Each row is one job: ``torchrun --nproc-per-node N -m benchmarks.distributed --_worker ...`` (N = 1 runs the
worker as a plain process, one process on all cores), which calls ``fastw2v.train`` on every rank as a user's
script would; rank 0 then evaluates the vectors (Google analogies, restrict_vocab 30000; WordSim353 rho) and
writes the row. The cores are divided among the ranks (``--workers 0``), so on 2 cores 8 ranks are slow: these
rows measure quality; words/s and the sync share are of this machine. The table gives the mean over seeds per rank
count and settings, and its gap to the 1-process rows.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data")
CORPORA = {"imdb": dict(dataset=os.path.join(SHARED, "imdb"))}
SETTINGS = ("alone_as_ranks", "span_tokens", "chunk_tokens")  # what a job's rows may vary


def corpus_args(corpus: str) -> dict:
    if corpus in CORPORA:
        return CORPORA[corpus]
    return dict(dataset=corpus) if os.path.isdir(corpus) else dict(data=corpus)


def encoded(corpus: str, config):
    """The corpus of ``corpus`` (a name, a dataset or encoded folder, text files), as ``fastw2v.train`` reads it."""
    import fastw2v
    from fastw2v.corpus import is_encoded_folder
    from fastw2v.train import encode_with

    args = corpus_args(corpus)
    if "dataset" in args and is_encoded_folder(args["dataset"]):
        return fastw2v.EncodedCorpus.load(args["dataset"])
    return encode_with(fastw2v.open_source(**args), config)


def worker(args) -> None:
    """One rank of a job (or the one process): train, and on rank 0 evaluate and write the row."""
    import fastw2v
    from fastw2v.train import train_corpus

    cfg = dict(
        epochs=args.epochs,
        seed=args.seed,
        workers=args.workers,
        chunk_tokens=args.chunk_tokens,
        span_tokens=args.span_tokens or None,
        min_count=args.min_count,
    )
    start = time.perf_counter()
    if args.alone_as_ranks:  # one process, the model of a job of that many ranks
        config = fastw2v.Config(**cfg)
        vectors, st = train_corpus(encoded(args.corpus, config), config, progress=False, as_ranks=args.alone_as_ranks)
    else:
        vectors = fastw2v.train(**corpus_args(args.corpus), progress=False, **cfg)
        st = vectors.stats
    wall = time.perf_counter() - start
    if st.rank != 0:
        return
    analogy = ws = None
    try:
        analogy = fastw2v.evaluate_analogies(
            vectors, os.path.join(SHARED, "eval", "questions-words.txt"), restrict_vocab=30000
        ).accuracy
        ws = fastw2v.evaluate_word_pairs(vectors, os.path.join(SHARED, "eval", "wordsim353.tsv")).spearman
    except fastw2v.UserError:  # generated text: no English word to evaluate
        pass
    row = dict(
        ranks=st.world_size,
        seed=args.seed,
        epochs=args.epochs,
        alone_as_ranks=args.alone_as_ranks,
        span_tokens=st.span_tokens,
        chunk_tokens=args.chunk_tokens,
        backend=st.backend,
        words_per_sec=st.words_per_sec,
        train_seconds=st.seconds,
        wall_seconds=wall,
        sync_seconds=st.sync_seconds,
        sync_share=st.sync_seconds / st.seconds if st.seconds else None,
        transfer_seconds=st.transfer_seconds,
        sync_mib=st.sync_bytes / 2**20,
        sync_bytes_per_token=st.sync_bytes / (st.tokens * st.epochs),
        pairs=st.examples,
        vocab_size=st.vocab_size,
        tokens=st.tokens,
        analogy=analogy,
        ws353=ws,
        final_loss=st.final_loss,
    )
    with open(args.row_out, "w") as f:
        json.dump(row, f)


def run_job(ranks: int, seed: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        row_out = os.path.join(tmp, "row.json")
        worker_args = [
            "--_worker",
            "--corpus",
            args.corpus,
            "--epochs",
            str(args.epochs),
            "--seed",
            str(seed),
            "--chunk-tokens",
            str(args.chunk_tokens),
            "--span-tokens",
            str(args.span_tokens),
            "--alone-as-ranks",
            str(args.alone_as_ranks),
            "--workers",
            str(args.workers),
            "--min-count",
            str(args.min_count),
            "--row-out",
            row_out,
        ]
        if ranks == 1:
            cmd = [sys.executable, "-m", "benchmarks.distributed", *worker_args]
        else:
            cmd = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc-per-node",
                str(ranks),
                "-m",
                "benchmarks.distributed",
                *worker_args,
            ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.join(HERE, ".."))
        if proc.returncode != 0 or not os.path.exists(row_out):
            lines = proc.stderr.strip().splitlines()
            why = [line for line in lines if "Error: " in line or "fastw2v: error" in line] or lines[-5:]
            return dict(ranks=ranks, seed=seed, error=why[0][:300])
        with open(row_out) as f:
            return json.load(f)


def transfer_worker(args) -> None:
    """One of two ranks timing ``Group.exchange`` (the hand-over's transfer: both ranks send and receive at once);
    rank 0 writes the table."""
    import torch

    from fastw2v.group import join

    group = join("cpu", 120.0)
    peer, lines = 1 - group.rank, ["| MB each way | median ms | GB/s each way |", "|---:|---:|---:|"]
    for mb in (1, 4, 20, 200):
        send, receive, times = torch.ones(mb * 250_000), torch.empty(mb * 250_000), []
        for _ in range(7):
            group.barrier("timing a transfer")
            start = time.perf_counter()
            group.exchange([(send, peer)], [(receive, peer)], "timing a transfer")
            times.append(time.perf_counter() - start)
        t = float(np.median(times))
        lines.append(f"| {mb} | {t * 1e3:.1f} | {mb / 1e3 / t:.2f} |")
    if group.rank == 0:
        with open(args.row_out, "w") as f:
            f.write("\n".join(lines))
    group.close()


def transfers() -> str:
    """Times ``Group.exchange`` between two processes of this machine (gloo over loopback TCP)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "table.md")
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "benchmarks.distributed",
            "--_transfer",
            "--row-out",
            out,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.join(HERE, ".."))
        if proc.returncode != 0:
            raise SystemExit(proc.stderr.strip().splitlines()[-1])
        with open(out) as f:
            return "gloo, 2 processes of this machine, fastw2v's Group.exchange (8 MB pieces):\n" + f.read()


def is_baseline(row: dict) -> bool:
    """One process training every pair in turn (not the buckets of several ranks)."""
    return row["ranks"] == 1 and not row.get("alone_as_ranks")


def _mean(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def summary(rows: list[dict]) -> str:
    """The mean over seeds of each (ranks, settings), and its gap to the 1-process rows."""
    ok = [r for r in rows if "error" not in r]
    by = {}
    for r in ok:
        settings = ("-",) * len(SETTINGS) if is_baseline(r) else tuple(r.get(k, "-") for k in SETTINGS)
        by.setdefault((r["ranks"], settings), []).append(r)
    base = [r for r in ok if is_baseline(r)]
    lines = [
        "| ranks | " + " | ".join(k.replace("_", " ") for k in SETTINGS) + " | seeds | analogy | rho | Δ analogy "
        "| Δ rho | words/s | sync share | bytes a token | final loss |",
        "|---:|" + "---|" * len(SETTINGS) + "---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def gap(value, key, scale, digits):
        b = _mean(base, key)
        return "-" if value is None or b is None else f"{(value - b) * scale:+.{digits}f}"

    for (n, settings), rs in sorted(by.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        a, w = _mean(rs, "analogy"), _mean(rs, "ws353")
        cells = [
            "-" if a is None else f"{a * 100:.2f}%",
            "-" if w is None else f"{w:.3f}",
            gap(a, "analogy", 100, 2),
            gap(w, "ws353", 1, 3),
        ]
        seeds = ",".join(str(r["seed"]) for r in rs)
        lines.append(
            f"| {n} | {' | '.join(map(str, settings))} | {seeds} | {' | '.join(cells)} | "
            f"{_mean(rs, 'words_per_sec'):,.0f} | {_mean(rs, 'sync_share') or 0:.0%} | "
            f"{_mean(rs, 'sync_bytes_per_token') or 0:,.0f} | {_mean(rs, 'final_loss'):.4f} |"
        )
    for r in rows:
        if "error" in r:
            lines.append(f"error, {r['ranks']} ranks, seed {r['seed']}: {r['error']}")
    return "\n".join(lines)


# --- the projection -------------------------------------------------------------------------------------------

# Links: (name, ranks, bandwidth of the slowest hop of the ring in bytes/s one way, latency of a message in s).
# Assumptions, printed with the table: NVLink 4 through an NVSwitch moves ~300 GB/s one way between two GPUs;
# 100 Gb/s Ethernet ~11 GB/s, and in a ring of 4 machines x 8 GPUs every hop between machines crosses it.
LINKS = (("8 GPUs, one NVLink box", 8, 300e9, 20e-6), ("4 machines x 8 GPUs, 100 Gb/s Ethernet", 32, 11e9, 100e-6))
# One H200's fused step on IMDB (benchmarks/results/h200-runner.txt): words/s at 2^14 and 2^16 pairs a step, and
# IMDB's pairs a word.
GPU_RATES = {1 << 14: 29.1e6, 1 << 16: 40.3e6}
PAIRS_PER_WORD = 4.49
BATCH = 1 << 16  # pairs a step on a GPU (Config's GPU batch)


def gpu_step() -> tuple[float, float]:
    """One GPU's step as a fixed cost plus a rate, (seconds a step, words/s beyond it), from the two measured
    rates of GPU_RATES: a step of w words takes cost + w / rate."""
    (b1, r1), (b2, r2) = sorted(GPU_RATES.items())
    w1, w2 = b1 / PAIRS_PER_WORD, b2 / PAIRS_PER_WORD
    per_word = (w2 / r2 - w1 / r1) / (w2 - w1)
    return w1 / r1 - w1 * per_word, 1 / per_word


def handover_volume(
    corpus, config, n: int, max_tokens: int | None = None, output_is_center: bool = False
) -> tuple[float, float]:
    """Computed from the scheme (``buckets.RingSync``) on the corpus's first chunks (epoch 0, up to ``max_tokens``),
    without training: the input rows a rank receives per token of the job's text, averaged over the ranks, and the
    largest rank's pairs over the mean. A row written in round w travels with its part at the hand-overs of rounds
    w .. w + n - 2 (the ranks that have not seen the write), so each write adds the rounds its window adds to the
    row's last one."""
    from fastw2v import kernels as K
    from fastw2v.buckets import NEVER, job_buckets, spans

    buckets = job_buckets(None, corpus, config, as_ranks=n)
    keep = K.keep_thresholds(corpus.vocab.counts, config.sample)
    bounds = corpus.chunk_bounds(config.chunk_tokens)
    last = np.full(len(corpus.vocab), NEVER, dtype=np.int64)
    sent, tokens, g, pairs_of = 0, 0, 0, np.zeros(n)
    for c in range(bounds.shape[0] - 1):
        if max_tokens is not None and tokens >= max_tokens:
            break
        ids, local = corpus.chunk(bounds, c)
        kept, kept_starts, offsets, base = K.windowed_chunk(
            ids, local, keep, config.window, config.shrink_windows, config.seed, 0, c
        )
        for pieces in spans(local, config.resolved_span_tokens(corpus.n_tokens)):
            pairs = buckets.span_pairs(kept, kept_starts, offsets, pieces, config, base, output_is_center)
            pairs_of += np.diff(pairs.key_starts).reshape(n, -1).sum(axis=1)
            for s in range(n):
                rounds = [pairs.x[pairs.bucket(owner, s, i)] for owner in range(n) for i in range(buckets.subparts)]
                written = np.unique(kept[np.concatenate(rounds)])
                sent += int(np.minimum(n - 1, g - last[written]).sum())
                last[written] = g
                g += 1
        tokens += ids.shape[0]
    return sent / n / tokens, float(pairs_of.max() / pairs_of.mean())


def project(dim: int, rows_per_token: float, span: int, imbalance: float = 1.0) -> list[tuple]:
    """Modelled words/s of each link's job, from one GPU's step (``gpu_step``, its rate scaled by 100 / dim): per
    span of ``span`` tokens a rank trains 1/N of the pairs (times ``imbalance``, the largest rank's share over the
    mean) in N rounds of ``buckets.SUBPARTS`` buckets, each in steps of at most BATCH pairs, and receives
    ``rows_per_token`` x span rows of 4 dim + 16 bytes (``handover_volume`` at N ranks) in N x SUBPARTS hand-overs of
    two messages, through the ring's slowest hop. The hand-over overlaps training (``buckets.RingSync``): a span
    takes the longer of the two. Returns (name, ranks, bytes a token per rank, words/s, x one GPU) per link."""
    from fastw2v.buckets import SUBPARTS

    cost, rate = gpu_step()
    rate *= 100 / dim
    one_gpu = 1 / (cost * PAIRS_PER_WORD / BATCH + 1 / rate)  # words/s of one GPU at full steps
    rows = []
    for name, n, bandwidth, latency in LINKS:
        buckets = n * SUBPARTS
        words = span / n * imbalance  # a rank's share of the span, the largest
        steps = buckets * math.ceil(words * PAIRS_PER_WORD / buckets / BATCH)
        train = words / rate + steps * cost
        volume = rows_per_token * span * (4 * dim + 16)
        transfer = volume / bandwidth + 2 * buckets * latency
        job = span / max(train, transfer)
        rows.append((name, n, volume / span, job, job / one_gpu))
    return rows


def projection(args) -> str:
    """The projection's inputs computed on the corpora (the hand-over's rows per token at each link's number of
    ranks, the buckets' imbalance), and its table."""
    import fastw2v

    cost, rate = gpu_step()
    measured = ", ".join(f"{r / 1e6:.1f}M words/s at 2^{b.bit_length() - 1} pairs a step" for b, r in GPU_RATES.items())
    lines = [
        f"One GPU's step (measured, one H200 on IMDB): {cost * 1e6:.0f} µs plus {rate / 1e6:.1f}M words/s at "
        f"d = 100, from its {measured}; "
        "the rate scaled by 100 / d for other d (modelled). Links (modelled): "
        + "; ".join(f"{name}: {bw / 1e9:.0f} GB/s, {lat * 1e6:.0f} µs a message" for name, _, bw, lat in LINKS)
        + ". Rows handed on and the imbalance: computed from the scheme on the corpus's first chunks "
        "(buckets.RingSync's rule).",
        "| corpus | words | d | span tokens | link | ranks | rows a token per rank | imbalance "
        "| bytes a token per rank | words/s | × one GPU |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for path, min_count, dim in ((args.corpus, args.min_count, 100), (args.corpus2, args.min_count2, 300)):
        if path is None:
            continue
        corpus = encoded(path, fastw2v.Config(min_count=min_count))
        for span in (1 << 18, 1 << 22, 1 << 24):
            config = fastw2v.Config(min_count=min_count, span_tokens=span, chunk_tokens=max(span, 1 << 20))
            for name, n, _, _ in LINKS:
                rows, imbalance = handover_volume(corpus, config, n, max_tokens=max(4 * span, 1 << 22))
                ((_, _, per_token, words, times),) = [r for r in project(dim, rows, span, imbalance) if r[0] == name]
                lines.append(
                    f"| {os.path.basename(os.path.normpath(path))} | {len(corpus.vocab):,} | {dim} | "
                    f"{span:,} | {name} | {n} | {rows:.3f} | {imbalance:.2f} | {per_token:,.0f} | "
                    f"{words / 1e6:,.0f}M | {times:.1f}× |"
                )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="imdb", help="imdb, a dataset folder, or text files (.txt/.jsonl, a glob)")
    p.add_argument("--ranks", default="1,2,8", help="processes per job, comma-separated")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--chunk-tokens", type=int, default=None, help="default: Config's")
    p.add_argument("--span-tokens", type=int, default=None, help="default: Config's (from the corpus's size)")
    p.add_argument(
        "--alone-as-ranks",
        type=int,
        default=0,
        help="one process trains the buckets of this many ranks in turn (train_corpus(as_ranks=N))",
    )
    p.add_argument("--workers", type=int, default=0, help="threads per process; 0: the cores divided among the ranks")
    p.add_argument("--out", help="write the rows and the table here (.json)")
    p.add_argument(
        "--project",
        action="store_true",
        help="print the projection for 8 NVLink GPUs and 4 x 8 GPUs over Ethernet from one H200's measured "
        "step, on --corpus (d = 100) and --corpus2 (d = 300), and exit",
    )
    p.add_argument("--corpus2", help="--project: the large-vocabulary corpus (generated Zipf text)")
    p.add_argument("--min-count2", type=int, default=2, help="--project: --corpus2's min_count")
    p.add_argument(
        "--transfers",
        action="store_true",
        help="time the hand-over's transfers between 2 processes of this machine (gloo), and exit",
    )
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_transfer", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--row-out", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from fastw2v import Config

    args.chunk_tokens = args.chunk_tokens or Config().chunk_tokens
    args.span_tokens = args.span_tokens or 0  # 0: Config's default, from the corpus
    if args.project:
        print(projection(args))
        return 0
    if args.transfers:
        print(transfers())
        return 0
    if args._transfer:
        transfer_worker(args)
        return 0
    if args._worker:
        worker(args)
        return 0
    rows = []
    for n in (int(x) for x in args.ranks.split(",")):
        for seed in (int(x) for x in args.seeds.split(",")):
            rows.append(run_job(n, seed, args))
            print(json.dumps(rows[-1]), flush=True)
    table = summary(rows)
    print(table)
    if args.out:
        from .benchmarks.common import cpu_model

        info = dict(
            machine=cpu_model(),
            cpus=os.cpu_count(),
            command="python -m benchmarks.distributed " + " ".join(argv if argv is not None else sys.argv[1:]),
        )
        with open(args.out, "w") as f:
            json.dump(dict(info=info, rows=rows, table=table), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
