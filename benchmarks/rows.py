"""The rows of the side-by-side runner (``python -m benchmarks``): one typed table that the runner, ``--quick`` and
the ratio columns share.

A ``Row`` says what it runs (a ``prepare_*`` workload of ``benchmarks/benchmarks/workloads.py`` and its settings),
on which slice of the corpus, whether ``--quick`` runs it, the rows its ratio columns divide by, held as
references to those rows (renaming a row changes its label and nothing else), and which trainer of
``benchmarks.roofline`` bounds it (its ``% of roofline`` column).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import roofline
from .benchmarks import common

PIPELINE, TRAINING, CUDA = "pipeline (pairs/s)", "training (words/s)", "cuda training (words/s)"
INGEST, MEMORY = "ingest (tokens/s)", "memory vs corpus size (peak anon MiB)"
DISTRIBUTED = "distributed training, torchrun (words/s of the whole job)"
LARGE_VOCAB = "large vocabulary (Zipf, 1.05M words)"
CBOW = "CBOW training (words/s)"
HS = "hierarchical softmax training, hs=1 negative=0 (words/s)"


@dataclass(eq=False)
class Row:
    """One row of the table. ``baseline``, ``gensim`` and ``word2vec_c`` are the rows of its three ratio columns
    (× baseline, × gensim corpus_file, × word2vec.c); None leaves the column blank, and a reference row points
    at itself (1×). ``roofline`` names the trainer of ``benchmarks.roofline`` whose words/s bound, at the row's
    ``settings["threads"]``, its ``% of roofline`` column divides by; None leaves it blank. Rows compare by
    identity, so a row is a key of the table's rates."""

    group: str
    label: str
    workload: str  # the ``prepare_<workload>`` that builds its timed callable
    settings: dict = field(default_factory=dict)  # keyword arguments of that ``prepare_*``
    tokens: int | None = None  # the first tokens of the corpus it runs on; None: all of it, or its own text
    quick: bool = True  # whether ``--quick`` runs it
    baseline: Row | None = None
    gensim: Row | None = None
    word2vec_c: Row | None = None
    roofline: str | None = None  # roofline.SG_PER_PAIR, SG_SHARED or CBOW

    def record(self) -> dict:
        """What the row's subprocess is given and what its result in ``--out`` starts from."""
        return dict(
            group=self.group, label=self.label, workload=self.workload, kwargs=dict(self.settings), tokens=self.tokens
        )


@dataclass(frozen=True)
class Slices:
    """Tokens each kind of row runs on: slow rows take a slice and scale their work to a rate; ``--quick`` takes
    smaller slices."""

    tutorial: int  # the tutorial's pair list is large per pair: a slice, timed over a fixed number of batches
    pipeline: int  # NumbaBatches
    device: int  # DeviceBatches on the CPU
    torch: int  # torch training on the CPU
    fast: int | None  # hogwild, gensim, word2vec.c; None: the whole corpus

    @classmethod
    def of(cls, quick: bool, whole_corpus: bool = False) -> Slices:
        """The slices of a run; with ``whole_corpus`` the fast rows take all of the corpus."""
        if quick:
            size = cls(tutorial=20_000, pipeline=1_000_000, device=100_000, torch=20_000, fast=500_000)
        else:
            size = cls(tutorial=20_000, pipeline=5_000_000, device=500_000, torch=100_000, fast=2_000_000)
        return dataclasses.replace(size, fast=None) if whole_corpus else size


def compare(rows: list[Row], baseline: Row | None = None, gensim: Row | None = None, word2vec_c: Row | None = None):
    """Set the ratio columns' rows of ``rows``; returns ``rows``."""
    for row in rows:
        row.baseline, row.gensim, row.word2vec_c = baseline, gensim, word2vec_c
    return rows


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def pipeline_rows(size: Slices, threads: int, quick: bool) -> list[Row]:
    """Batch pipelines, against the tutorial's DataLoader."""
    tutorial = Row(
        PIPELINE,
        "tutorial DataLoader(SkipGramDataset), B=512, 2 workers",
        "tutorial_pipeline",
        dict(n_batches=8 if quick else 30),
        size.tutorial,
    )
    rows = [tutorial]
    for batch, t, name, in_quick in ((16384, threads, f"{threads} threads", True), (16384, 1, "1 thread", False)):
        settings = dict(kind="numba", batch_size=batch, threads=t)
        rows.append(Row(PIPELINE, f"NumbaBatches B={batch}, {name}", "pipeline", settings, size.pipeline, in_quick))
    settings = dict(kind="numba", batch_size=512, threads=threads)
    rows.append(Row(PIPELINE, f"NumbaBatches B=512, {threads} threads", "pipeline", settings, size.pipeline))
    device = dict(kind="device", batch_size=16384, device="cpu")
    rows.append(Row(PIPELINE, "DeviceBatches cpu, B=16384", "pipeline", device, size.device))
    return compare(rows, baseline=tutorial)


def tutorial_training_row(quick: bool, size: Slices) -> Row:
    return Row(
        TRAINING,
        "tutorial train() (DataLoader + Adam), B=512",
        "tutorial_training",
        dict(n_batches=3 if quick else 12),
        size.tutorial,
    )


def torch_cpu_rows(size: Slices, threads: int) -> list[Row]:
    """fastw2v's torch backend on the CPU: the fused sgd step (all threads first: the distributed rows' baseline),
    then the other optimizers."""
    cases = (
        ("sgd (fused step), B=16384", "sgd", threads, True),
        ("sgd (fused step), B=16384, 1 thread", "sgd", 1, False),
        ("adam, B=16384", "adam", threads, False),
        ("sparse_adam, B=16384", "sparse_adam", threads, False),
    )
    return [
        Row(
            TRAINING,
            f"fastw2v torch cpu, {name}",
            "fastw2v_training",
            dict(backend="torch", optimizer=optimizer, threads=t),
            size.torch,
            quick=quick,
        )
        for name, optimizer, t, quick in cases
    ]


def hogwild_rows(size: Slices, threads: int) -> list[Row]:
    """fastw2v's hogwild trainer (all threads first: the distributed rows' baseline) and its variants."""
    shared, per_pair = roofline.SG_SHARED, roofline.SG_PER_PAIR
    cases = (
        (f"{threads} threads", dict(threads=threads), True, shared),
        ("1 thread", dict(threads=1), False, shared),
        (f"{threads} threads, the 8 x 8 buckets of a job in turn", dict(threads=threads, as_ranks=8), False, shared),
        (f"{threads} threads, a checkpoint at the end", dict(threads=threads, checkpoint=True), False, shared),
        (f"per-pair negatives, {threads} threads", dict(threads=threads, shared_negatives=False), True, per_pair),
        ("per-pair negatives, 1 thread", dict(threads=1, shared_negatives=False), False, per_pair),
    )
    return [
        Row(
            TRAINING,
            f"fastw2v hogwild, {name}",
            "fastw2v_training",
            dict(backend="hogwild", **settings),
            size.fast,
            quick=quick,
            roofline=bound,
        )
        for name, settings, quick, bound in cases
    ]


def distributed_rows(size: Slices, threads: int, hogwild: Row, torch_sgd: Row) -> list[Row]:
    """Jobs of 2 processes against one process of the same backend on all the cores, then the large vocabulary's
    job against its own one process."""
    rows = [
        Row(
            DISTRIBUTED,
            "fastw2v hogwild, 2 processes (torchrun, gloo), threads shared",
            "distributed",
            dict(ranks=2, backend="hogwild"),
            size.fast,
            baseline=hogwild,
        ),
        Row(
            DISTRIBUTED,
            "fastw2v torch cpu, sgd, 2 processes (torchrun, gloo)",
            "distributed",
            dict(ranks=2, backend="torch"),
            size.torch,
            baseline=torch_sgd,
        ),
    ]
    alone = Row(
        DISTRIBUTED,
        f"{LARGE_VOCAB}: fastw2v hogwild, one process, {threads} threads",
        "large_vocab",
        dict(ranks=1),
        quick=False,
    )
    job = Row(
        DISTRIBUTED,
        f"{LARGE_VOCAB}: fastw2v hogwild, 2 processes (torchrun, gloo)",
        "large_vocab",
        dict(ranks=2),
        quick=False,
    )
    alone.baseline = job.baseline = alone
    return rows + [alone, job]


def reference_rows(size: Slices, threads: int) -> list[Row]:
    """gensim 4 and word2vec.c, skip-gram: the first and last are the × gensim and × word2vec.c columns' rows."""
    gensim = [
        (f"gensim 4 corpus_file, {threads} workers", dict(mode="corpus_file", workers=threads), True),
        ("gensim 4 corpus_file, 1 worker", dict(mode="corpus_file", workers=1), False),
        (f"gensim 4 iterable, {threads} workers", dict(mode="iterable", workers=threads), False),
    ]
    rows = [Row(TRAINING, label, "gensim", settings, size.fast, quick=quick) for label, settings, quick in gensim]
    rows.append(Row(TRAINING, f"word2vec.c, {threads} threads", "word2vec_c", dict(threads=threads), size.fast))
    return rows


def cbow_rows(size: Slices, threads: int) -> list[Row]:
    """CBOW, against gensim's and word2vec.c's CBOW."""

    def hogwild(t: int, name: str) -> Row:
        settings = dict(backend="hogwild", threads=t, sg=0)
        label = f"fastw2v hogwild CBOW, {name}"
        return Row(CBOW, label, "fastw2v_training", settings, size.fast, roofline=roofline.CBOW)

    def gensim(mode: str) -> Row:
        label = f"gensim 4 CBOW {mode}, {threads} workers"
        return Row(CBOW, label, "gensim", dict(mode=mode, workers=threads, sg=0), size.fast)

    word2vec_c = Row(
        CBOW, f"word2vec.c CBOW (-cbow 1), {threads} threads", "word2vec_c", dict(threads=threads, cbow=1), size.fast
    )
    rows = [
        hogwild(threads, f"{threads} threads"),
        hogwild(1, "1 thread"),
        gensim("corpus_file"),
        gensim("iterable"),
        word2vec_c,
    ]
    return compare(rows, gensim=rows[2], word2vec_c=word2vec_c)


def hs_rows(size: Slices, threads: int) -> list[Row]:
    """Hierarchical softmax, skip-gram then CBOW, each against gensim's hs of the same model (corpus_file)."""
    rows = []
    for sg, model in ((1, "skip-gram"), (0, "CBOW")):
        settings = dict(backend="hogwild", threads=threads, sg=sg, hs=True, negative=0)
        fastw2v_hs = Row(HS, f"fastw2v hogwild hs {model}, {threads} threads", "fastw2v_training", settings, size.fast)
        gensim = [
            Row(
                HS,
                f"gensim 4 hs {model} {mode}, {threads} workers",
                "gensim",
                dict(mode=mode, workers=threads, sg=sg, hs=1),
                size.fast,
            )
            for mode in ("corpus_file", "iterable")
        ]
        rows += compare([fastw2v_hs, *gensim], gensim=gensim[0])
    return rows


def ingest_rows(threads: int, quick: bool) -> list[Row]:
    """The corpus's raw text as a .txt file, encoded (both passes), against the Python encoder with the same
    tokenizer (on the first MiBs of the text)."""
    rows = []
    for tokenizer in ("simple", "whitespace"):
        python = Row(
            INGEST,
            f"Python tokenizer + dict (fastw2v 0.1), {tokenizer}",
            "ingest",
            dict(tokenizer=tokenizer, python=True, max_bytes=(8 if quick else 30) << 20),
        )
        encode = [
            Row(
                INGEST,
                f"fastw2v.encode, {tokenizer}, {plural(t, 'thread')}",
                "ingest",
                dict(tokenizer=tokenizer, threads=t, max_bytes=(8 << 20) if quick else None),
                quick=t == threads,
            )
            for t in sorted({threads, 1}, reverse=True)
        ]
        rows += compare([python, *encode], baseline=python)
    return rows


def memory_rows(threads: int, quick: bool, large: bool) -> list[Row]:
    """Peak memory against size: generated Zipf text (200k types), encoded and trained one epoch; run once each,
    against the first size."""
    sizes = [(5_000_000, 200), (5_000_000, 0)] if quick else [(20_000_000, 200), (20_000_000, 0)]
    if large:
        sizes += [(300_000_000, 200), (50_000_000, 200), (50_000_000, 0)]
    rows = []
    for n, line in sizes:
        shape = f"lines of {line} tokens" if line else "one line"
        settings = dict(n_tokens=n, line_tokens=line, threads=threads)
        rows.append(Row(MEMORY, f"generated, {n / 1e6:.0f}M tokens, {shape}", "memory", settings))
    return compare(rows, baseline=rows[0])


def cuda_rows(device: str, quick: bool, tutorial_pipeline: Row, tutorial_training: Row) -> list[Row]:
    """DeviceBatches on the GPU against the tutorial's DataLoader, and the fused Triton step beside torch's ops,
    batch size by batch size, against the tutorial's training."""
    pipeline = Row(
        PIPELINE, "DeviceBatches cuda, B=2^20", "pipeline", dict(kind="device", batch_size=1 << 20, device=device)
    )
    pipeline.baseline = tutorial_pipeline
    rows = []
    for e in range(14, 21, 2 if quick else 1):
        for kernel in ("triton", "torch"):
            settings = dict(backend="torch", optimizer="sgd", device=device, batch_size=1 << e, sgd_kernel=kernel)
            label = f"fastw2v torch {device}, sgd {kernel} step, B=2^{e}"
            rows.append(Row(CUDA, label, "fastw2v_training", settings, baseline=tutorial_training))
    return [pipeline, *rows]


def plan(args) -> list[Row]:
    """Every row of a run with ``args`` (``quick``, ``large``, ``device``, ``whole_corpus`` when set), in the table's
    order."""
    threads, size = common.cpu_count(), Slices.of(args.quick, getattr(args, "whole_corpus", False))
    pipeline = pipeline_rows(size, threads, args.quick)
    tutorial = tutorial_training_row(args.quick, size)
    torch_cpu, hogwild = torch_cpu_rows(size, threads), hogwild_rows(size, threads)
    distributed = distributed_rows(size, threads, hogwild=hogwild[0], torch_sgd=torch_cpu[0])
    references = reference_rows(size, threads)
    training = compare([tutorial, *torch_cpu, *hogwild], baseline=tutorial)
    compare(references, baseline=tutorial)
    cuda = cuda_rows(args.device, args.quick, pipeline[0], tutorial) if args.device.startswith("cuda") else []
    for row in training + distributed + references + cuda[1:]:  # the words/s rows of skip-gram
        row.gensim, row.word2vec_c = references[0], references[-1]
    rows = pipeline + training + distributed + references + cbow_rows(size, threads) + hs_rows(size, threads)
    rows += ingest_rows(threads, args.quick) + memory_rows(threads, args.quick, args.large)
    if args.quick:
        rows = [row for row in rows if row.quick]
    return rows + cuda
