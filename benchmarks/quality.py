"""Vector quality of every fastw2v backend against gensim 4, trained on the same token stream.

    python -m benchmarks.quality                        # IMDB, 2 epochs: gensim + hogwild on all of it,
                                                        # gensim + torch rows on the first 5M tokens
    python -m benchmarks.quality --quick                # 1M tokens, 1 epoch: a smoke run
    python -m benchmarks.quality --backends gensim,sgd --batch-sizes 1024,16384 --epochs 3 --out results.json
    python -m benchmarks.quality --corpus '/usr/share/vim/vim90/doc/*.txt' --slice-tokens 0 --gensim-seeds 1,2
                                                        # any text: compare by neighbour agreement

Both sides get one encoded corpus (fastw2v's simple tokenizer, min_count=5). gensim reads it back as a
``corpus_file`` (one piece per line, words from the vocabulary, space-separated) with min_count=5, so both
vocabularies are the same words with the same counts. The torch backend is slow on the CPU, so its
rows use a slice (the first ``--slice-tokens`` tokens, vocabulary recounted on the slice with min_count=5)
and gensim is trained on that same slice for their comparison; the table's ``corpus`` column says which
rows used which corpus, and each gap is to the gensim row on the same corpus.

word2vec.c (``word2vec_c``, when a ``word2vec`` binary is on PATH) reads the same file. Besides the two
benchmarks, every row gets its neighbour agreement with the first gensim row: the share of the 10 nearest
neighbours of the 1,000 most frequent words that both give. A second gensim seed (``--gensim-seeds 1,2``)
shows how far gensim agrees with itself, so the check works on text that has no evaluation set.

Settings for every row: skip-gram (``--sg 0``: CBOW, the mean of the window), vector_size=100, window=5,
negative=5 (``--hs``: hierarchical softmax instead, hs=1 and negative=0; the hogwild backend, gensim and word2vec.c),
sample=1e-3, min_count=5, the learning rate's defaults (Config.start_lr / end_lr: 0.025 -> 1e-4 linear for
sgd/hogwild/gensim; for adam / sparse_adam a start that depends on the number of steps, decaying to 0), 2 workers.

gensim's learning rate: in ``corpus_file`` mode (the default, ``--gensim-mode corpus_file``) each of W worker
threads reads 1/W of the file and decays the rate by its own progress measured against all of the corpus's
words (``get_next_alpha`` in gensim's word2vec_corpusfile.pyx): each epoch advances the schedule by only 1/W
of an epoch, and training ends (E - 1 + 1/W) / E of the way to ``min_alpha`` (E=1, W=2: at about half the start
rate). A higher rate than the schedule, which flatters gensim at few epochs. ``--gensim-workers 1`` or
``--gensim-mode iterable`` (the corpus as an iterable of token lists, LineSentence over the same file: one
shared progress count) give the schedule as documented. Each gensim row records ``gensim_mode`` and
``gensim_workers``, and the table's backend column shows them.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import sys
import tempfile
import time

import fastw2v
from fastw2v.cache import DEFAULT_CACHE_DIR
from fastw2v.encode import load_corpus
from fastw2v.evaluate import evaluate_analogies, evaluate_word_pairs

from .quality_report import header, neighbour_agreement, pairwise_agreement, print_row, table, write_results
from .quality_train import (
    GENSIM_MODES,
    SETTINGS,
    gensim_kind,
    hs_settings,
    slice_corpus,
    train_fastw2v,
    train_gensim,
    train_word2vec_c,
)

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.join(HERE, "..", "..", "shared", "data", "eval")
DEFAULT_CORPUS = os.path.join(HERE, "..", "..", "shared", "data", "imdb")
BACKENDS = ("gensim", "word2vec_c", "sgd", "adam", "sparse_adam", "hogwild")


def parse_extra(items: list[str]) -> dict:
    """--set alpha=0.05 --set final_vectors=avg: Config fields for the fastw2v rows, parsed as JSON if they can be."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def plan(args) -> list[tuple[str, str, int | None, int, dict]]:
    """(backend, corpus name, batch size, seed, settings) for each row; gensim on each corpus a fastw2v row
    uses; then one row per --variant."""
    rows = []
    torch_corpus = "slice" if args.slice_tokens else "full"
    fast_corpus = args.hogwild_corpus if args.slice_tokens else "full"

    def row(b: str, settings: dict) -> tuple:
        if b == "sgd":
            return ("sgd", torch_corpus, int(settings.pop("batch_size", args.batch_sizes[0])), args.seed, settings)
        if b in ("adam", "sparse_adam"):
            return (b, torch_corpus, int(settings.pop("batch_size", args.adam_batch_size)), args.seed, settings)
        return (b, fast_corpus, None, args.seed, settings)

    for b in args.backends:
        if b == "sgd":
            rows += [row("sgd", {"batch_size": B}) for B in args.batch_sizes]
        elif b != "gensim":
            rows.append(row(b, {}))
    for backend, settings in args.variants:
        rows.append(row(backend, dict(settings)))
    if "gensim" in args.backends:
        used = [c for c in ("full", "slice") if any(r[1] == c for r in rows)] or ["full"]
        # the first seed's row is the reference; more seeds show how much gensim differs from itself
        rows = [("gensim", c, None, seed, {}) for c in used for seed in args.gensim_seeds] + rows
    return rows


def parse_variant(text: str) -> tuple[str, dict]:
    """'hogwild:hot_rows=256' or 'adam:alpha=0.003:batch_size=65536' -> (backend, settings)."""
    backend, *items = text.split(":")
    if backend not in BACKENDS or backend in ("gensim", "word2vec_c"):
        raise argparse.ArgumentTypeError(
            f"--variant {text!r}: the backend must be one of sgd, adam, sparse_adam, hogwild, e.g. hogwild:hot_rows=256"
        )
    return backend, parse_extra(items)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.quality",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_corpus_options(p)
    add_row_options(p)
    add_comparison_options(p)
    add_run_options(p)
    return p


def add_corpus_options(p: argparse.ArgumentParser) -> None:
    """The corpus and its cache."""
    p.add_argument(
        "--corpus",
        default=DEFAULT_CORPUS,
        help="dataset name or folder (fastw2v.open_source(dataset=)), text files (a path or a glob, "
        "as --data takes), or an encoded corpus folder",
    )
    p.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help="where the encoded corpus is cached")


def add_row_options(p: argparse.ArgumentParser) -> None:
    """The rows: backends, batch sizes, slices, settings."""
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    p.add_argument("--batch-sizes", default="1024,16384,65536", help="torch sgd rows, one per batch size")
    p.add_argument("--adam-batch-size", type=int, default=16384, help="batch size of the adam / sparse_adam rows")
    p.add_argument(
        "--slice-tokens",
        type=int,
        default=5_000_000,
        help="torch rows (and their gensim row) train on the first N tokens; 0: the whole corpus",
    )
    p.add_argument(
        "--hogwild-corpus",
        choices=("full", "slice"),
        default="full",
        help="hogwild and word2vec_c are fast enough for the whole corpus; 'slice' sets them beside the torch rows",
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--sg",
        type=int,
        choices=(0, 1),
        default=1,
        help="1: skip-gram; 0: CBOW (every row: fastw2v, gensim and word2vec.c)",
    )
    p.add_argument(
        "--hs",
        action="store_true",
        help="hierarchical softmax instead of negative sampling in every "
        "row (gensim and word2vec.c: hs=1, negative=0; fastw2v: hs=True, negative=0)",
    )


def add_comparison_options(p: argparse.ArgumentParser) -> None:
    """gensim's rows, the agreement between rows, and the variants of the fastw2v rows."""
    p.add_argument(
        "--gensim-mode",
        choices=GENSIM_MODES,
        default="corpus_file",
        help="how gensim reads the corpus: its own file reader, whose rate decays only partway with "
        "more than one worker, or an iterable of token lists (the rate schedule as documented)",
    )
    p.add_argument(
        "--gensim-workers", type=int, default=None, help="worker threads of the gensim rows (default: --workers)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--gensim-seeds",
        default=None,
        help="comma-separated seeds of the gensim rows (default: --seed); the first is the reference",
    )
    p.add_argument(
        "--pairwise",
        action="store_true",
        help="also print the neighbour agreement of every two rows (keeps every row's vectors)",
    )
    p.add_argument(
        "--agreement-words",
        type=int,
        default=1000,
        help="neighbour agreement with the reference gensim row over this many most frequent words",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        dest="variants",
        type=parse_variant,
        metavar="BACKEND:KEY=VALUE[:KEY=VALUE]",
        help="one more row with its own Config fields, e.g. hogwild:hot_rows=256 (repeatable)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Config field for the fastw2v rows, e.g. --set alpha=0.05 (repeatable)",
    )


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The evaluation files, the results file, the quick run and parallel rows."""
    p.add_argument("--analogies", default=os.path.join(EVAL, "questions-words.txt"))
    p.add_argument("--similarity", default=os.path.join(EVAL, "wordsim353.tsv"))
    p.add_argument("--restrict-vocab", type=int, default=30000)
    p.add_argument("--quick", action="store_true", help="everything on the first 1M tokens, 1 epoch")
    p.add_argument("--out", default="results.json", help="rows as JSON, rewritten after each row")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="train this many rows at a time, each in its own process with --workers threads (for a "
        "machine with jobs x workers cores; words/s are then not comparable between rows)",
    )


def check_args(p: argparse.ArgumentParser, args, argv) -> None:
    """Parse the lists of ``args`` in place and refuse what cannot run, through ``p.error``."""
    args.header = header(["python", "-m", "benchmarks.quality", *(sys.argv[1:] if argv is None else argv)])
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(args.backends) - set(BACKENDS))
    if unknown:
        p.error(f"unknown backend(s) {', '.join(unknown)}: choose from {', '.join(BACKENDS)}")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    args.gensim_seeds = [int(x) for x in (args.gensim_seeds or str(args.seed)).split(",") if x.strip()]
    if args.gensim_workers is None:
        args.gensim_workers = args.workers
    if args.gensim_workers < 1:
        p.error(f"--gensim-workers {args.gensim_workers}: give 1 or more")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: give 1 or more rows at a time")
    fields = {f.name for f in dataclasses.fields(fastw2v.Config)}
    for key in [k for _, settings in args.variants for k in settings] + list(parse_extra(args.set)):
        if key not in fields:
            p.error(
                f"--variant / --set {key!r}: not a fastw2v.Config field (e.g. alpha, seed, batch_size, "
                "shared_negatives, hot_rows)"
            )
    if args.quick:
        args.epochs = 1
    for path in (args.analogies, args.similarity):
        if not os.path.isfile(path):
            p.error(f"no such evaluation file {path!r}: pass --analogies / --similarity")


def run_rows(args, corpora: dict, names: dict, rows: list[tuple], tmp: str) -> list[tuple]:
    """Train and evaluate every row (in this process, or in --jobs processes), writing the results file after each:
    (plan index, label, row, its Vectors when --jobs or --pairwise still need them), in the plan's order."""
    finished = []
    if args.jobs > 1:
        done = run_parallel(args, rows, tmp)
    else:
        done = (
            guarded(i, row, functools.partial(train_row, args, corpora, tmp, i, *row)) for i, row in enumerate(rows)
        )
    reference = {}  # corpus -> the first gensim row's Vectors
    for i, label, row, vectors in done:
        if row is None:
            continue
        if args.jobs == 1:  # the plan trains the reference gensim rows first
            add_agreement(args, row, vectors, reference)
        keep = args.jobs > 1 or args.pairwise
        finished.append((i, label, row, vectors if keep else None))
        finished.sort(key=lambda x: x[0])  # the plan's order, also in a file a stopped run leaves
        print_row(row, label, names, agreement_later=args.jobs > 1)
        write_results(args.out, args.header, names, [r for _, _, r, _ in finished])
    if args.jobs > 1:  # rows finish in any order: agreement once all are in, in the plan's order
        for _, _, row, vectors in finished:
            add_agreement(args, row, vectors, reference)
    return finished


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    check_args(p, args, argv)
    corpora, names = load_corpora(args, progress=sys.stderr.isatty())
    if args.quick:
        args.slice_tokens = 0
    rows = plan(args)
    with tempfile.TemporaryDirectory(prefix="fastw2v-quality-") as tmp:
        finished = run_rows(args, corpora, names, rows, tmp)
    results = [r for _, _, r, _ in finished]
    write_results(args.out, args.header, names, results)
    print(table(results, names))
    vectors = {f"{label} ({row['corpus']})": v for _, label, row, v in finished}
    pairs = pairwise_agreement(vectors, args.agreement_words) if args.pairwise else None
    if pairs:
        write_results(args.out, args.header, names, results, pairwise_agreement=pairs)
        print("\nNeighbour agreement between every two rows:\n")
        print("| row | row | agreement |\n|---|---|---:|")
        print("\n".join(f"| {a} | {b} | {v:.3f} |" for a, b, v in pairs))
    return 0


def load_corpora(args, progress: bool) -> tuple[dict, dict]:
    """{'full': the corpus, 'slice': its first --slice-tokens tokens} and a description of each."""
    full = load_corpus(args.corpus, "simple", SETTINGS["min_count"], cache_dir=args.cache_dir, progress=progress)
    if args.quick:
        full = slice_corpus(full, 1_000_000, SETTINGS["min_count"])
    corpora = {"full": full}
    if args.slice_tokens and not args.quick:
        corpora["slice"] = slice_corpus(full, args.slice_tokens, SETTINGS["min_count"])
    names = {
        k: f"{'first ' + format(c.n_tokens / 1e6, '.1f') + 'M tokens' if k == 'slice' or args.quick else 'all'} "
        f"({c.n_tokens / 1e6:.1f}M tok, V={len(c.vocab):,})"
        for k, c in corpora.items()
    }
    return corpora, names


def row_label(args, backend: str, B: int | None, seed: int, settings: dict) -> str:
    """'sgd B=16384 seed 2 alpha=0.05', 'gensim (corpus_file, 2 workers)': a row as the log and --pairwise name it."""
    label = (
        (backend if B is None else f"{backend} B={B}")
        + (f" seed {seed}" if seed != args.seed else "")
        + "".join(f" {k}={v}" for k, v in settings.items())
    )
    if backend == "gensim":
        label += f" ({gensim_kind(args.gensim_mode, args.gensim_workers)})"
    return label


def train_vectors(args, corpus, tmp: str, backend: str, B: int | None, seed: int, row_extra: dict):
    """(Vectors, words/s, training seconds) of one row's trainer; ImportError when it is not installed."""
    if backend == "gensim":
        return train_gensim(corpus, args.epochs, args.gensim_workers, seed, tmp, args.gensim_mode, args.sg, args.hs)
    if backend == "word2vec_c":
        return train_word2vec_c(corpus, args.epochs, args.workers, tmp, args.sg, args.hs)
    if backend == "hogwild":
        return train_fastw2v(corpus, "hogwild", "sgd", 16384, args.epochs, args.workers, seed, row_extra)
    return train_fastw2v(corpus, "torch", backend, B, args.epochs, args.workers, seed, row_extra)


def train_row(
    args, corpora: dict, tmp: str, i: int, backend: str, which: str, B: int | None, seed: int, settings: dict
):
    """Train and evaluate row i of the plan: (i, label, row dict without its agreement, Vectors), or
    (i, label, None, None) when its trainer is not installed."""
    corpus = corpora[which]
    label = row_label(args, backend, B, seed, settings)
    row_extra = {"sg": args.sg, **hs_settings(args.hs), **parse_extra(args.set), **settings}
    seed = row_extra.get("seed", seed)
    print(f"--- {label} on {which} corpus, {args.epochs} epoch(s)", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        vectors, wps, seconds = train_vectors(args, corpus, tmp, backend, B, seed, row_extra)
    except ImportError as e:  # gensim not installed, no word2vec binary
        print(f"    skipped {label}: {e}", file=sys.stderr)
        return i, label, None, None
    wall = time.perf_counter() - started
    row = dict(
        backend=backend,
        variant=settings,
        seed=seed,
        device=getattr(getattr(vectors, "stats", None), "device", "cpu"),  # gensim: the CPU
        batch_size=B,
        agreement=float("nan"),
        corpus=which,
        corpus_tokens=corpus.n_tokens,
        vocab=len(corpus.vocab),
        epochs=args.epochs,
        hs=bool(row_extra.get("hs", 0)),
        **evaluation(args, vectors),
        words_per_sec=wps,
        train_seconds=seconds,
        wall_seconds=wall,
        jobs=args.jobs,
        settings={
            **SETTINGS,
            **(row_extra if backend not in ("gensim", "word2vec_c") else {"sg": args.sg, **hs_settings(args.hs)}),
        },
        probe={w: [n for n, _ in vectors.most_similar(w, topn=5)] for w in ("good", "horror") if w in vectors},
    )
    if backend == "gensim":
        row.update(gensim_mode=args.gensim_mode, gensim_workers=args.gensim_workers)
    return i, label, row, vectors


def evaluation(args, vectors) -> dict:
    """The row's analogy accuracy and WordSim353 rho, with what each left out."""
    an = evaluate_analogies(vectors, args.analogies, restrict_vocab=args.restrict_vocab)
    ws = evaluate_word_pairs(vectors, args.similarity)
    return dict(
        analogy=100 * an.accuracy,
        analogy_evaluated=an.total,
        analogy_skipped=an.skipped,
        ws353_rho=ws.spearman,
        ws353_oov_percent=ws.oov_percent,
    )


_WORKER = {}  # in a --jobs worker process: its args and corpora


def _init_worker(args) -> None:
    _WORKER["args"] = args
    _WORKER["corpora"], _ = load_corpora(args, progress=False)


def _train_row_in_worker(tmp: str, i: int, row: tuple):
    return train_row(_WORKER["args"], _WORKER["corpora"], tmp, i, *row)


def run_parallel(args, rows: list[tuple], tmp: str):
    """Yield train_row's results as --jobs worker processes finish them. Each worker loads the corpus itself
    (a fresh "spawn" process: numba's and torch's threads do not survive a fork)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx, initializer=_init_worker, initargs=(args,)) as pool:
        futures = {pool.submit(_train_row_in_worker, tmp, i, r): i for i, r in enumerate(rows)}
        for f in as_completed(futures):
            yield guarded(futures[f], rows[futures[f]], f.result)


def guarded(i: int, row: tuple, result):
    """result() (train_row's tuple), or, when the row failed, a one-line message and (i, None, None, None):
    one failed row must not throw away the other rows' training."""
    try:
        return result()
    except Exception as e:
        print(f"    row {i + 1} ({row[0]} {row[4]}) failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return i, None, None, None


def add_agreement(args, row: dict, vectors, reference: dict) -> None:
    """The row's neighbour agreement with the first gensim row on its corpus (which it becomes if it is one)."""
    which = row["corpus"]
    if row["backend"] == "gensim" and which not in reference:
        reference[which] = vectors
    elif which in reference:
        row["agreement"] = neighbour_agreement(vectors, reference[which], args.agreement_words)


if __name__ == "__main__":
    sys.exit(main())
