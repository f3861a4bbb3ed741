"""The ``fastw2v`` command. It only parses flags, builds a Config and calls the library.

    fastw2v train  [--dataset NAME_OR_PATH | --data FILE_OR_GLOB] [--output vectors.bin] [--epochs 5] ...
    fastw2v similar VECTORS WORD [-n 10]
    fastw2v eval VECTORS [--analogies FILE] [--similarity FILE ...] [--restrict-vocab 30000] [--sections]
    fastw2v cache list | clear [KEY ...] [--cache-dir DIR]

Flags are Config's fields (--vector-size <-> vector_size); --help shows each default and why it is so.
Bad input prints one line, ``fastw2v: error: ...``, and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import typing
from dataclasses import MISSING, fields
from importlib.metadata import version

from .cache import DEFAULT_CACHE_DIR
from .config import Config
from .errors import Interrupted, UserError, on_command_line
from .progress import compile_seconds

EXAMPLE = "example: fastw2v train --dataset stanfordnlp/imdb --epochs 1 --output vectors.bin"


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    hints = typing.get_type_hints(Config)
    group = parser.add_argument_group("training settings (Config fields; gensim's names)")
    for f in fields(Config):
        flag = "--" + f.name.replace("_", "-")
        names = [flag, "--dim"] if f.name == "vector_size" else [flag]
        help_text = f.metadata["help"]  # ArgumentDefaultsHelpFormatter appends the default
        kind = hints[f.name]
        if kind is bool or set(typing.get_args(kind)) == {bool, type(None)}:
            group.add_argument(
                *names, dest=f.name, action=argparse.BooleanOptionalAction, default=f.default, help=help_text
            )
            continue
        base = {int: int, float: float, str: str}.get(kind)
        if base is None:  # Optional[int] / Optional[float]
            base = next(t for t in typing.get_args(kind) if t is not type(None))
        group.add_argument(
            *names,
            dest=f.name,
            type=base,
            default=f.default if f.default is not MISSING else None,
            metavar=f.name.upper(),
            help=help_text,
        )
    group.add_argument("--cbow", dest="sg", action="store_const", const=0, help="CBOW: the same as --sg 0")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fastw2v",
        description="Fast word2vec (skip-gram and CBOW; negative sampling and hierarchical softmax).",
        epilog=EXAMPLE,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('fastw2v')}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_similar(sub)
    _add_eval(sub)
    _add_cache(sub)
    return parser


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train", help="train word vectors", epilog=EXAMPLE, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    src = p.add_argument_group("the text")
    src.add_argument(
        "--dataset",
        help="Hugging Face dataset name, or a local folder laid out like one "
        "(default when --data is absent: stanfordnlp/imdb, all splits), or an encoded corpus folder "
        "(a cache folder of an earlier run, e.g. copied to a GPU machine)",
    )
    src.add_argument(
        "--data",
        help="local files: .txt (one document per line), .jsonl, .csv or .parquet; a glob is "
        "fine; .txt, .jsonl and .csv may be compressed (.gz, .bz2, .xz, .zst)",
    )
    src.add_argument("--text-column", default="text", help="the column holding the text")
    src.add_argument("--split", action="append", dest="splits", help="use only this split (repeatable)")
    src.add_argument(
        "--dataset-config",
        metavar="NAME",
        help="the --dataset's configuration, for datasets that have several (wikimedia/wikipedia: 20231101.en)",
    )
    src.add_argument(
        "--streaming",
        action="store_true",
        help="read the --dataset as it downloads (twice: counting, then encoding), without storing it whole",
    )
    out = p.add_argument_group("output")
    out.add_argument("--output", "-o", default="vectors.bin", help="where the vectors go: .bin, .txt or .npy")
    out.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help="where encoded corpora are cached")
    out.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_config_flags(p)


def _add_similar(sub) -> None:
    s = sub.add_parser("similar", help="nearest neighbours of a word")
    s.add_argument("vectors", help="a vectors file written by fastw2v train (.bin, .txt or .npy)")
    s.add_argument("word")
    s.add_argument("-n", type=int, default=10, help="how many neighbours (default: 10)")


def _add_eval(sub) -> None:
    e = sub.add_parser(
        "eval",
        help="analogy accuracy and word-similarity rho of a vectors file",
        epilog=f"example: fastw2v eval vectors.bin --analogies {EVAL_FILES[0]} --similarity {EVAL_FILES[1]}",
    )
    e.add_argument("vectors", help="a vectors file written by fastw2v train (.bin, .txt or .npy)")
    e.add_argument(
        "--analogies",
        metavar="FILE",
        help="questions in the questions-words.txt format "
        f"(default when neither file flag is given: {EVAL_FILES[0]}, if it exists)",
    )
    e.add_argument(
        "--similarity",
        metavar="FILE",
        nargs="+",
        help="word pairs with a human score, WordSim353 format "
        f"(default when neither file flag is given: {EVAL_FILES[1]}, if it exists)",
    )
    e.add_argument(
        "--restrict-vocab",
        type=int,
        default=30000,
        help="analogies use only the most frequent words, as word2vec.c's compute-accuracy (default: 30000)",
    )
    e.add_argument("--sections", action="store_true", help="also print the accuracy of each analogy section")


def _add_cache(sub) -> None:
    c = sub.add_parser("cache", help="list or clear the encoded corpora in the cache folder")
    c.add_argument("action", choices=["list", "clear"])
    c.add_argument("keys", nargs="*", help="clear only these entries (the keys `fastw2v cache list` shows)")
    c.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help="the cache folder (default: %(default)s)")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"


def cmd_cache(args) -> None:
    from .cache import cache_entries, clear_cache

    if args.action == "list":
        if args.keys:
            raise UserError("cache list takes no keys: drop them (cache clear KEY ... removes some)")
        entries = cache_entries(args.cache_dir)
        if not entries:
            print(f"no encoded corpus in {args.cache_dir}")
            return
        print(f"{'key':<20}  {'size':>10}  {'tokens':>14}  source (tokenizer, min_count)")
        for e in entries:
            st = e["settings"]
            tokens = f"{e['tokens']:,}" if isinstance(e["tokens"], int) else "-"
            print(
                f"{e['key']:<20}  {_size(e['bytes']):>10}  {tokens:>14}  {e['description'] or '-'} "
                f"({st.get('tokenizer', '-')}, {st.get('min_count', '-')})"
            )
        print(
            f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {_size(sum(e['bytes'] for e in entries))} "
            f"in {args.cache_dir}"
        )
        return
    known = {e["key"] for e in cache_entries(args.cache_dir)}
    unknown = [k for k in args.keys if k not in known]
    if unknown:
        raise UserError(f"no cache entry {unknown[0]!r} in {args.cache_dir}: `fastw2v cache list` shows the keys")
    removed, freed, busy = clear_cache(args.cache_dir, args.keys or None)
    print(
        f"removed {removed} entr{'y' if removed == 1 else 'ies'}, {_size(freed)} freed"
        + (f"; left {len(busy)} that another run is using: {', '.join(busy)}" if busy else "")
    )


def cmd_train(args) -> None:
    from .train import probe_neighbours, train

    config = Config(**{f.name: getattr(args, f.name) for f in fields(Config)})
    started, compiled_before = time.perf_counter(), compile_seconds()
    vectors = train(
        dataset=args.dataset,
        data=args.data,
        text_column=args.text_column,
        splits=args.splits,
        output=args.output,
        cache_dir=args.cache_dir,
        streaming=args.streaming,
        dataset_config=args.dataset_config,
        progress=not args.no_progress,
        config=config,
    )
    if vectors.stats.rank != 0:  # a distributed job: rank 0 reports for all
        return
    print_summary(vectors, config, args.output, time.perf_counter() - started, compile_seconds() - compiled_before)
    for word, neighbours in probe_neighbours(vectors).items():
        print(f"  {word:<8} " + ", ".join(f"{w} {s:.2f}" for w, s in neighbours))


def print_summary(vectors, config: Config, output: str, wall: float, compiled: float) -> None:
    """The run in a few lines: the data, the kernels' compile, the model, the times and rates, the output."""
    st = vectors.stats
    print(
        f"vocabulary   {st.vocab_size:,} words" + (f" (min_count={st.min_count})" if st.min_count is not None else "")
    )
    print(
        f"tokens       {st.tokens:,} per epoch, {st.epochs} epoch(s), {st.examples:,} "
        + ("pairs" if config.sg else "windows")
    )
    if compiled >= 0.1:
        print(
            f"kernels      {compiled:.1f} s compiling them, or loading them from numba's cache (not in the times below)"
        )
    if st.encode_seconds is not None and st.raw_tokens:
        print(
            f"encoding     {st.encode_seconds:.1f} s, {st.raw_tokens / st.encode_seconds:,.0f} tokens/s "
            "(both passes; cached for the next run)"
        )
    model = "skip-gram" if config.sg else f"CBOW ({'mean' if config.cbow_mean else 'sum'} of the window)"
    objective = " and ".join(
        ([f"{config.negative} negatives"] if config.negative else []) + (["hierarchical softmax"] if config.hs else [])
    )
    print(f"model        {model}, {config.vector_size} dimensions, window {config.window}, {objective}")
    print(f"backend      {st.backend} on {st.device}, {config.optimizer}, lr {st.start_lr:.4g} -> {config.end_lr:.4g}")
    if st.world_size > 1:
        tokens = st.tokens * st.epochs or 1
        print(
            f"processes    {st.world_size}, each training the output rows of 1/{st.world_size} of the words, in "
            f"spans of {st.span_tokens:,} tokens: {st.sync_bytes / 2**20:,.0f} MiB received by rank 0 "
            f"({st.sync_bytes / tokens:,.0f} bytes a token), {st.sync_seconds:.1f} s "
            f"({st.sync_seconds / st.run_seconds:.0%} of its training time)"
        )
    if st.resumed_seconds:  # a resumed run: this run's part, and the whole training's
        print(
            f"training     {st.run_seconds:.1f} s in this run, {st.seconds:.1f} s in all runs, "
            f"{st.words_per_sec:,.0f} words/s over all of them (this run's wall time {wall:.1f} s)"
        )
    else:
        print(f"training     {st.seconds:.1f} s, {st.words_per_sec:,.0f} words/s (total wall time {wall:.1f} s)")
    if config.checkpoint_dir:
        print(
            f"checkpoints  {config.checkpoint_dir} ({st.checkpoint_seconds:.1f} s of the training time went to "
            "writing them)"
        )
    print(f"final loss   {st.final_loss:.4f}")
    print(f"vectors      {output}")


def cmd_similar(args) -> None:
    from .vectors import Vectors

    if args.n < 1:
        raise UserError(f"-n must be >= 1, got {args.n}")
    vectors = Vectors.load(args.vectors)
    for word, score in vectors.most_similar(args.word, topn=args.n):
        print(f"{word}\t{score:.4f}")


# looked for in the current folder when neither --analogies nor --similarity is given
EVAL_FILES = ("questions-words.txt", "wordsim353.tsv")


def cmd_eval(args) -> None:
    from .evaluate import check_inputs, evaluate_analogies, evaluate_word_pairs
    from .vectors import Vectors

    analogies, similarity = args.analogies, args.similarity or []
    if analogies is None and not similarity:
        analogies = EVAL_FILES[0] if os.path.isfile(EVAL_FILES[0]) else None
        similarity = [EVAL_FILES[1]] if os.path.isfile(EVAL_FILES[1]) else []
        if analogies is None and not similarity:
            raise UserError(
                f"no evaluation file: pass --analogies FILE and/or --similarity FILE "
                f"({EVAL_FILES[0]} and {EVAL_FILES[1]} do not exist here)"
            )
    check_inputs(analogies, similarity, args.restrict_vocab)  # before loading the vectors, which can take long
    vectors = Vectors.load(args.vectors)
    print(f"vectors: {args.vectors} ({len(vectors):,} words, d={vectors.vector_size})")
    print(f"{'test':<28} {'score':>12} {'evaluated':>10} {'OOV':>14}")
    if analogies is not None:
        r = evaluate_analogies(vectors, analogies, restrict_vocab=args.restrict_vocab)
        print(
            f"{os.path.basename(analogies):<28} {100 * r.accuracy:>11.1f}% {r.total:>10,} "
            f"{r.skipped:>6,} ({r.skipped_percent:4.1f}%)"
        )
        for sec in r.sections if args.sections else []:
            print(f"  {sec.name:<26} {100 * sec.accuracy:>11.1f}% {sec.total:>10,}")
    for path in similarity:
        r = evaluate_word_pairs(vectors, path)
        print(
            f"{os.path.basename(path):<28} {'rho ' + format(r.spearman, '.3f'):>12} {r.pairs:>10,} "
            f"{r.oov:>6,} ({r.oov_percent:4.1f}%)"
        )


COMMANDS = {"train": cmd_train, "similar": cmd_similar, "eval": cmd_eval, "cache": cmd_cache}


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad flag reported in one line (and where to look) instead of the whole usage."""

    def error(self, message):
        extra = message.removeprefix("unrecognized arguments: ").split() if message.startswith("unrecognized") else []
        if extra and all(os.path.exists(a) for a in extra):  # --data wiki/*.txt, expanded by the shell
            self.exit(
                2,
                f"fastw2v: error: {len(extra) + 1} files where one path was expected (the shell expanded "
                "a glob): quote the pattern, e.g. --data 'wiki/*.txt'\n",
            )
        self.exit(2, f"fastw2v: error: {message} (see {self.prog} --help)\n")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with on_command_line():
            COMMANDS[args.command](args)
    except Interrupted as e:  # SIGINT / SIGTERM during training, after a checkpoint was written
        print(f"fastw2v: {e.args[0]}", file=sys.stderr)
        return 130 if e.args[1] == "SIGINT" else 143
    except (UserError, KeyError) as e:
        message = e.args[0] if e.args else str(e)
        print(f"fastw2v: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastw2v: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output went to a pipe that closed (| head): the rest is not wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
