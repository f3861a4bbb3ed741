"""Distributed training (torchrun) against one process: vector quality, words/s, the hand-over's volume and share,
and a projection to GPUs from measured inputs.

    python -m benchmarks.distributed                                   # IMDB, 5 epochs, 1/2/8 ranks, seeds 1-3
    python -m benchmarks.distributed --ranks 1,2 --seeds 1 --epochs 1  # a quick look
    python -m benchmarks.distributed --ranks 1 --alone-as-ranks 8      # one process taking 8 ranks' buckets in turn
    python -m benchmarks.distributed --corpus .devdata/mixed/mixed.jsonl --ranks 1,8 --epochs 1
    python -m benchmarks.distributed --project 41.2e6 --corpus imdb --corpus2 zipf.txt --min-count2 2

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
SETTINGS = ("alone_as_ranks", "span_tokens", "chunk_tokens")  # what a job's rows may vary


def corpus_args(corpus: str) -> dict:
    if corpus in CORPORA:
        return CORPORA[corpus]
    return dict(dataset=corpus) if os.path.isdir(corpus) else dict(data=corpus)


def worker(args) -> None:
    """One rank of a job (or the one process): train, and on rank 0 evaluate and write the row."""
    import fastw2v
    from fastw2v.train import encode_with, train_corpus

    cfg = dict(epochs=args.epochs, seed=args.seed, workers=args.workers, chunk_tokens=args.chunk_tokens,
               span_tokens=args.span_tokens, min_count=args.min_count)
    start = time.perf_counter()
    if args.alone_as_ranks:  # one process, the model of a job of that many ranks
        config = fastw2v.Config(**cfg)
        corpus = encode_with(fastw2v.open_source(**corpus_args(args.corpus)), config)
        vectors, st = train_corpus(corpus, config, progress=False, as_ranks=args.alone_as_ranks)
    else:
        vectors = fastw2v.train(**corpus_args(args.corpus), progress=False, **cfg)
        st = vectors.stats
    wall = time.perf_counter() - start
    if st.rank != 0:
        return
    analogy = ws = None
    try:
        analogy = fastw2v.evaluate_analogies(vectors, os.path.join(SHARED, "eval", "questions-words.txt"),
                                             restrict_vocab=30000).accuracy
        ws = fastw2v.evaluate_word_pairs(vectors, os.path.join(SHARED, "eval", "wordsim353.tsv")).spearman
    except fastw2v.UserError:  # generated text: no English word to evaluate
        pass
    row = dict(ranks=st.world_size, seed=args.seed, epochs=args.epochs, alone_as_ranks=args.alone_as_ranks,
               span_tokens=args.span_tokens, chunk_tokens=args.chunk_tokens, backend=st.backend,
               words_per_sec=st.words_per_sec, train_seconds=st.seconds, wall_seconds=wall,
               sync_seconds=st.sync_seconds, sync_share=st.sync_seconds / st.seconds if st.seconds else None,
               transfer_seconds=st.transfer_seconds, sync_mib=st.sync_bytes / 2 ** 20,
               sync_bytes_per_token=st.sync_bytes / (st.tokens * st.epochs), pairs=st.pairs,
               vocab_size=st.vocab_size, tokens=st.tokens, analogy=analogy, ws353=ws, final_loss=st.final_loss)
    with open(args.row_out, "w") as f:
        json.dump(row, f)


def run_job(ranks: int, seed: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        row_out = os.path.join(tmp, "row.json")
        worker_args = ["--_worker", "--corpus", args.corpus, "--epochs", str(args.epochs), "--seed", str(seed),
                       "--chunk-tokens", str(args.chunk_tokens), "--span-tokens", str(args.span_tokens),
                       "--alone-as-ranks", str(args.alone_as_ranks), "--workers", str(args.workers),
                       "--min-count", str(args.min_count), "--row-out", row_out]
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
    lines = ["| ranks | " + " | ".join(k.replace("_", " ") for k in SETTINGS) + " | seeds | analogy | rho | Δ analogy "
             "| Δ rho | words/s | sync share | bytes a token | final loss |",
             "|---:|" + "---|" * len(SETTINGS) + "---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def gap(value, key, scale, digits):
        b = _mean(base, key)
        return "-" if value is None or b is None else f"{(value - b) * scale:+.{digits}f}"

    for (n, settings), rs in sorted(by.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        a, w = _mean(rs, "analogy"), _mean(rs, "ws353")
        cells = ["-" if a is None else f"{a * 100:.2f}%", "-" if w is None else f"{w:.3f}",
                 gap(a, "analogy", 100, 2), gap(w, "ws353", 1, 3)]
        seeds = ",".join(str(r["seed"]) for r in rs)
        lines.append(f"| {n} | {' | '.join(map(str, settings))} | {seeds} | {' | '.join(cells)} | "
                     f"{_mean(rs, 'words_per_sec'):,.0f} | {_mean(rs, 'sync_share') or 0:.0%} | "
                     f"{_mean(rs, 'sync_bytes_per_token') or 0:,.0f} | {_mean(rs, 'final_loss'):.4f} |")
    for r in rows:
        if "error" in r:
            lines.append(f"error, {r['ranks']} ranks, seed {r['seed']}: {r['error']}")
    return "\n".join(lines)


# --- the projection -------------------------------------------------------------------------------------------

# Links: (name, ranks, bandwidth of the slowest hop of the ring in bytes/s one way, latency of a message in s).
# Assumptions, printed with the table: NVLink 4 through an NVSwitch moves ~300 GB/s one way between two GPUs;
# 100 Gb/s Ethernet ~11 GB/s, and in a ring of 4 machines x 8 GPUs every hop between machines crosses it.
LINKS = (("8 GPUs, one NVLink box", 8, 300e9, 20e-6),
         ("4 machines x 8 GPUs, 100 Gb/s Ethernet", 32, 11e9, 100e-6))
STEP_OVERHEAD = 50e-6  # s: the launches of one bucket's step on a GPU (the fused kernels, the negatives' draw)


def distinct_share(corpus, span_tokens: int, samples: int = 16) -> float:
    """Measured: distinct words per token in spans of ``span_tokens`` tokens, averaged over up to ``samples`` spans
    spread over the corpus (the rows a span's hand-overs carry, per token)."""
    n = int(corpus.n_tokens)
    firsts = np.unique(np.linspace(0, max(n - span_tokens, 0), samples).astype(np.int64))
    ids = corpus.ids
    return float(np.mean([np.unique(np.asarray(ids[a:a + span_tokens])).shape[0] / min(span_tokens, n - a)
                          for a in firsts]))


def project(rate: float, vocab: int, dim: int, share: float, span: int, imbalance: float = 1.0) -> list[tuple]:
    """Modelled words/s of each link's job from one GPU's ``rate`` at this ``dim``: per span of ``span`` tokens a rank
    trains 1/N of the pairs (times ``imbalance``, the largest rank's share over the mean), in N rounds of
    ``buckets.SUBPARTS`` buckets, each bucket a step of STEP_OVERHEAD at least; it receives about the span's
    distinct words' rows (``share`` x span rows of 4 dim + 16 bytes), in N x SUBPARTS messages of two parts, through
    the ring's slowest hop. The hand-over overlaps training (``buckets.RingSync``), so a span takes the longer of the
    two. Returns (name, ranks, bytes a token per rank, words/s, x one GPU) per link."""
    from fastw2v.buckets import SUBPARTS

    rows = []
    for name, n, bandwidth, latency in LINKS:
        buckets = n * SUBPARTS
        train = max(span / n / rate * imbalance, buckets * STEP_OVERHEAD)
        volume = min(share * span, vocab) * (4 * dim + 16)
        transfer = volume / bandwidth + 2 * buckets * latency
        words = span / max(train, transfer)
        rows.append((name, n, volume / span, words, words / rate))
    return rows


def projection_table(rate: float, cases: list[dict]) -> str:
    """The projection for each case (corpus, dim, rate, measured distinct shares) and span."""
    lines = [f"One GPU: {rate / 1e6:.1f}M words/s at d = 100 (measured), scaled by 100 / d for other d (modelled). "
             f"Links (modelled): " + "; ".join(f"{name}: {bw / 1e9:.0f} GB/s, {lat * 1e6:.0f} µs a message"
                                               for name, _, bw, lat in LINKS)
             + f"; a bucket's step {STEP_OVERHEAD * 1e6:.0f} µs at least.",
             "| corpus | vocabulary | d | span tokens | distinct words a token (measured) | link | ranks "
             "| bytes a token per rank | words/s | × one GPU |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for case in cases:
        r = rate * 100 / case["dim"]
        for span, share in case["shares"].items():
            for name, n, per_token, words, times in project(r, case["vocab"], case["dim"], share, span,
                                                            case.get("imbalance", 1.0)):
                lines.append(f"| {case['name']} | {case['vocab']:,} | {case['dim']} | {span:,} | {share:.3f} | {name} "
                             f"| {n} | {per_token:,.0f} | {words / 1e6:,.0f}M | {times:.1f}× |")
    return "\n".join(lines)


def bucket_imbalance(corpus, n: int, config) -> float:
    """Measured: the largest rank's pairs over the mean, for n ranks, on the corpus's first chunk."""
    from fastw2v import kernels as K
    from fastw2v.buckets import job_buckets, spans

    buckets = job_buckets(None, corpus, config, as_ranks=n)
    bounds = corpus.chunk_bounds(config.chunk_tokens)
    ids, local = corpus.chunk(bounds, 0)
    keep = K.keep_thresholds(corpus.vocab.counts, config.sample)
    kept, kept_starts, offsets, base = K.windowed_chunk(ids, local, keep, config.window, config.shrink_windows,
                                                        config.seed, 0, 0)
    per_rank = np.zeros(n)
    for pieces in spans(local, config.span_tokens):
        pairs = buckets.span_pairs(kept, kept_starts, offsets, pieces, config, base, output_is_center=True)
        per_rank += np.diff(pairs.key_starts).reshape(n, -1).sum(axis=1)
    return float(per_rank.max() / per_rank.mean())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="imdb", help="imdb, a dataset folder, or text files (.txt/.jsonl, a glob)")
    p.add_argument("--ranks", default="1,2,8", help="processes per job, comma-separated")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--chunk-tokens", type=int, default=None, help="default: Config's")
    p.add_argument("--span-tokens", type=int, default=None, help="default: Config's")
    p.add_argument("--alone-as-ranks", type=int, default=0,
                   help="one process trains the buckets of this many ranks in turn (train_corpus(as_ranks=N))")
    p.add_argument("--workers", type=int, default=0, help="threads per process; 0: the cores divided among the ranks")
    p.add_argument("--out", help="write the rows and the table here (.json)")
    p.add_argument("--project", type=float, metavar="WORDS_PER_SEC",
                   help="print the projection for 8 NVLink GPUs and 4 x 8 GPUs over Ethernet from one GPU's rate, on "
                   "--corpus (d = 100) and --corpus2 (d = 300, its vocabulary scaled to --vocab2), and exit")
    p.add_argument("--corpus2", help="--project: the large-vocabulary corpus (generated Zipf text)")
    p.add_argument("--min-count2", type=int, default=2, help="--project: --corpus2's min_count")
    p.add_argument("--vocab2", type=int, default=2_000_000, help="--project: the vocabulary modelled for --corpus2")
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--row-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from fastw2v import Config

    args.chunk_tokens = args.chunk_tokens or Config().chunk_tokens
    args.span_tokens = args.span_tokens or Config().span_tokens
    if args.project:
        print(projection(args))
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
        info = dict(machine=platform.processor() or platform.machine(), cpus=os.cpu_count(),
                    command="python -m benchmarks.distributed " + " ".join(argv if argv is not None else sys.argv[1:]))
        with open(args.out, "w") as f:
            json.dump(dict(info=info, rows=rows, table=table), f, indent=1)
    return 0


def projection(args) -> str:
    """Measure the projection's inputs on the corpora (distinct words per span, the buckets' imbalance) and print
    the table."""
    import fastw2v
    from fastw2v.train import encode_with

    cases = []
    spans = (1 << 18, 1 << 22, 1 << 24)
    for path, min_count, dim, vocab in ((args.corpus, args.min_count, 100, None),
                                        (args.corpus2, args.min_count2, 300, args.vocab2)):
        if path is None:
            continue
        config = fastw2v.Config(min_count=min_count)
        corpus = encode_with(fastw2v.open_source(**corpus_args(path)), config)
        shares = {s: distinct_share(corpus, s) for s in spans if s <= corpus.n_tokens}
        name = os.path.basename(os.path.normpath(path))
        cases.append(dict(name=name if vocab is None else f"{name}, vocabulary scaled", dim=dim,
                          vocab=vocab or len(corpus.vocab), shares=shares,
                          imbalance=bucket_imbalance(corpus, 8, config)))
    return projection_table(args.project, cases)


if __name__ == "__main__":
    sys.exit(main())
