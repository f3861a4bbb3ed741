"""Distributed training (torchrun) against one process: vector quality, throughput, and the share of the sync.

    python -m benchmarks.distributed                                   # IMDB, 5 epochs, 1/2/8 ranks, seeds 1-3
    python -m benchmarks.distributed --ranks 1,2 --seeds 1 --epochs 1  # a quick look
    python -m benchmarks.distributed --corpus .devdata/mixed/mixed.jsonl --combine mean --ranks 8

Each row is one job: ``torchrun --nproc-per-node N -m benchmarks.distributed --_worker ...`` (N = 1 runs the
worker as a plain process, one process on all cores), which calls ``fastw2v.train`` on every rank as a user's
script would; rank 0 then evaluates the vectors (Google analogies, restrict_vocab 30000; WordSim353 rho) and
writes the row. The cores are divided among the ranks (``--workers 0``), so on 2 cores 8 ranks are slow: these
rows measure quality; words/s and the sync share are of this machine. ``--combine mean`` swaps the sum of the
ranks' changes for their mean (model averaging, Spark's and DL4J's scheme) for comparison. The table gives the
mean over seeds per rank count and its gap to the 1-process rows.
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

    distributed.COMBINE = args.combine
    if args.mean_above is not None:
        distributed.MEAN_ABOVE = args.mean_above
    cfg = dict(epochs=args.epochs, seed=args.seed, sync_tokens=args.sync_tokens, workers=args.workers)
    start = time.perf_counter()
    vectors = fastw2v.train(**corpus_args(args.corpus), progress=False, **cfg)
    wall = time.perf_counter() - start
    st = vectors.stats
    if st.rank != 0:
        return
    analogy = fastw2v.evaluate_analogies(vectors, os.path.join(SHARED, "eval", "questions-words.txt"),
                                         restrict_vocab=30000)
    ws = fastw2v.evaluate_word_pairs(vectors, os.path.join(SHARED, "eval", "wordsim353.tsv"))
    row = dict(ranks=st.world_size, seed=args.seed, epochs=args.epochs, combine=args.combine,
               mean_above=distributed.MEAN_ABOVE,
               sync_tokens=args.sync_tokens, backend=st.backend, words_per_sec=st.words_per_sec,
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
                       "--sync-tokens", str(args.sync_tokens), "--combine", args.combine, "--row-out", row_out,
                       *(["--mean-above", str(args.mean_above)] if args.mean_above is not None else []),
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


def summary(rows: list[dict]) -> str:
    import numpy as np

    ok = [r for r in rows if "error" not in r]
    by = {}
    for r in ok:
        by.setdefault((r["ranks"], r["combine"], r["mean_above"], r["sync_tokens"]), []).append(r)
    base = [r for r in ok if r["ranks"] == 1]
    lines = ["| ranks | combine | mean above | sync tokens | seeds | analogy | rho | Δ analogy | Δ rho | words/s | sync share |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (n, combine, above, sync_tokens), rs in sorted(by.items()):
        a, w = np.mean([r["analogy"] for r in rs]) * 100, np.mean([r["ws353"] for r in rs])
        da = f"{a - np.mean([r['analogy'] for r in base]) * 100:+.2f}" if base else "-"
        dw = f"{w - np.mean([r['ws353'] for r in base]):+.3f}" if base else "-"
        share = np.mean([r["sync_share"] or 0 for r in rs])
        if n == 1:
            combine, above, sync_tokens = "-", "-", "-"
        lines.append(f"| {n} | {combine} | {above} | {sync_tokens} | {','.join(str(r['seed']) for r in rs)} | {a:.2f}% | {w:.3f} | {da} | {dw} | "
                     f"{np.mean([r['words_per_sec'] for r in rs]):,.0f} | {share:.0%} |")
    for r in rows:
        if "error" in r:
            lines.append(f"error, {r['ranks']} ranks, seed {r['seed']}: {r['error']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="imdb", help="imdb, a dataset folder, or text files (.txt/.jsonl, a glob)")
    p.add_argument("--ranks", default="1,2,8", help="processes per job, comma-separated")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--sync-tokens", type=int, default=None, help="default: Config's")
    p.add_argument("--combine", default="sum", choices=["sum", "mean", "hot-mean"],
                   help="how a sync combines the ranks' changes: sum (fastw2v's), mean (model averaging), hot-mean "
                   "(the frequent words' rows averaged, the rest summed; --mean-above)")
    p.add_argument("--mean-above", type=float, default=None, help="distributed.MEAN_ABOVE (default: its value)")
    p.add_argument("--workers", type=int, default=0, help="threads per process; 0: the cores divided among the ranks")
    p.add_argument("--out", help="write the rows and the table here (.json)")
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--row-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.sync_tokens is None:
        from fastw2v import Config

        args.sync_tokens = Config().sync_tokens
    if args._worker:
        worker(args)
        return 0
    rows = []
    for n in (int(x) for x in args.ranks.split(",")):
        for seed in (int(x) for x in args.seeds.split(",")):
            combine = args.combine if n > 1 else "sum"
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
