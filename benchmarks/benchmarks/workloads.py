"""The measured workloads, shared by the asv classes and the runner (``python -m benchmarks``).

Each ``prepare_*`` does the untimed work (data, numba/CUDA warm-up) and returns a callable that runs the
timed part and returns a ``Rate``. Rates: "pairs/s" for batch pipelines ((center, context) pairs with their
negatives, yielded as tensors), "words/s" for trainers (word2vec.c's count: in-vocabulary tokens before
sub-sampling per second of training). Slow workloads run on a fixed amount of work and are scaled to a rate.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from . import common

TUTORIAL_BATCH = 512  # the tutorial's DataLoader(batch_size=512, shuffle=True)
TUTORIAL_WORKERS = 2


@dataclass
class Rate:
    value: float  # units per second
    unit: str  # "pairs/s" or "words/s"
    work: float  # units done in the timed part
    seconds: float
    note: str = ""


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()


# ---------------------------------------------------------------------------------------------------
# Batch pipelines (pairs/s)


def prepare_tutorial_pipeline(c, n_batches: int = 30, workers: int = TUTORIAL_WORKERS, warmup: int = 2):
    """The tutorial's DataLoader(SkipGramDataset, batch_size=512, shuffle=True, num_workers=2), timed over
    ``n_batches`` batches after ``warmup`` (worker start-up and the pair list are not timed)."""
    from fastw2v import naive

    docs = common.indexed_docs(c)
    loader = naive.tutorial_dataloader(
        docs, len(c.vocab), window=5, k=5, batch_size=TUTORIAL_BATCH, num_workers=workers
    )

    def run() -> Rate:
        it = iter(loader)
        for _ in range(warmup):
            next(it)
        start = time.perf_counter()
        pairs = 0
        for _ in range(n_batches):
            center, _, _ = next(it)
            pairs += center.shape[0]
        seconds = time.perf_counter() - start
        del it  # stops the workers
        return Rate(pairs / seconds, "pairs/s", pairs, seconds, f"{n_batches} batches of {TUTORIAL_BATCH}")

    return run


def prepare_pipeline(
    c,
    kind: str = "numba",
    batch_size: int = 16384,
    threads: int | None = None,
    device: str = "cpu",
    max_pairs: int | None = None,
):
    """One epoch of fastw2v.NumbaBatches / DeviceBatches (with the default sample=1e-3, shrinking window,
    shuffle, 5 negatives), or its first ``max_pairs`` pairs."""
    import fastw2v

    kw = dict(batch_size=batch_size, window=5, negative=5, sample=1e-3, threads=threads)
    if kind == "numba":
        builder = fastw2v.NumbaBatches(c, **kw)
    else:
        builder = fastw2v.DeviceBatches(c, device=device, **kw)
    for i, _ in enumerate(builder):  # warm up numba / CUDA kernels and the allocator
        if i == 2:
            break
    builder.set_epoch(0)

    def run() -> Rate:
        pairs = 0
        start = time.perf_counter()
        for center, _, _ in builder:
            pairs += center.shape[0]
            if max_pairs is not None and pairs >= max_pairs:
                break
        _sync(device)
        seconds = time.perf_counter() - start
        builder.set_epoch(0)
        return Rate(pairs / seconds, "pairs/s", pairs, seconds)

    return run


def naive_pair_bytes(c) -> float:
    """Bytes of Python heap per pair of the tutorial's pair list (tracemalloc, exact)."""
    import tracemalloc

    from fastw2v import naive

    docs = common.indexed_docs(c)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    pairs = naive.build_skipgram_pairs_docs(docs, 5)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / max(len(pairs), 1)


# ---------------------------------------------------------------------------------------------------
# Trainers (words/s)


def prepare_tutorial_training(c, n_batches: int = 20, workers: int = TUTORIAL_WORKERS, warmup: int = 3):
    """fastw2v.naive.tutorial_train (the tutorial's Adam loop) over its DataLoader, for ``n_batches`` batches.

    Timed as tutorial_train(max_batches=warmup + n) minus tutorial_train(max_batches=warmup), so model
    creation and worker start-up cancel out. words/s = pairs/s / (pairs per token of the tutorial's static
    window on this corpus): how fast it gets through the corpus (it neither sub-samples nor shrinks windows).
    """
    from fastw2v import naive

    docs = common.indexed_docs(c)
    loader = naive.tutorial_dataloader(
        docs, len(c.vocab), window=5, k=5, batch_size=TUTORIAL_BATCH, num_workers=workers
    )
    pairs_per_token = len(loader.dataset) / c.n_tokens

    def timed(batches):
        start = time.perf_counter()
        naive.tutorial_train(loader, len(c.vocab), embed_dim=100, lr=0.001, max_batches=batches)
        return time.perf_counter() - start

    def run() -> Rate:
        seconds = max(timed(warmup + n_batches) - timed(warmup), 1e-9)
        words = n_batches * TUTORIAL_BATCH / pairs_per_token
        return Rate(
            words / seconds,
            "words/s",
            words,
            seconds,
            f"{n_batches} batches of {TUTORIAL_BATCH}; {pairs_per_token:.2f} pairs/token",
        )

    return run


def prepare_fastw2v_training(
    c,
    backend: str = "torch",
    optimizer: str = "sgd",
    device: str = "cpu",
    threads: int = 0,
    batch_size: int = 16384,
    checkpoint: bool = False,
    as_ranks: int = 0,
    **options,
):
    """fastw2v.train(corpus=c, backend=..., optimizer=..., epochs=1, **options); the rate from ``vectors.stats``.
    With ``checkpoint`` each run writes its checkpoints (one, at the epoch's end) to a new folder; ``as_ranks``
    trains the model of a job of that many ranks, its buckets in turn (``train_corpus(..., as_ranks=N)``)."""
    import tempfile

    import fastw2v
    from fastw2v.train import train_corpus

    kw = dict(
        common.SETTINGS,
        backend=backend,
        optimizer=optimizer,
        device=device,
        workers=threads,
        batch_size=batch_size,
        **options,
    )
    kw.pop("min_count")  # applied when the corpus was encoded

    def train(corpus, **more):
        return train_corpus(corpus, fastw2v.Config(**kw, **more), progress=False, as_ranks=as_ranks)[1]

    train(common.corpus(None, 20_000) if c.n_tokens > 20_000 else c)  # compile the kernels / warm CUDA up, untimed

    def run() -> Rate:
        with tempfile.TemporaryDirectory(prefix="fastw2v-bench-ckpt-") as folder:
            stats = train(c, **({"checkpoint_dir": folder} if checkpoint else {}))
        return Rate(stats.words_per_sec, "words/s", stats.tokens * stats.epochs, stats.seconds)

    return run


def _gensim_model(workers: int, sg: int = 1, hs: int = 0):
    from gensim.models import Word2Vec

    s = common.SETTINGS
    return Word2Vec(
        sg=sg,
        hs=hs,
        negative=0 if hs else s["negative"],
        window=s["window"],
        vector_size=s["vector_size"],
        sample=s["sample"],
        min_count=common.FILE_MIN_COUNT,
        epochs=s["epochs"],
        workers=workers,
        seed=1,
    )


def prepare_gensim(c, text_path: str, mode: str = "corpus_file", workers: int = 2, sg: int = 1, hs: int = 0):
    """gensim 4 Word2Vec on the same token stream: ``corpus_file`` (its Cython file reader, no GIL) or an
    iterable of token lists (its Python producer thread + workers); skip-gram, or CBOW with ``sg=0``; with ``hs=1``
    hierarchical softmax instead of negatives. Vocabulary building is not timed."""
    if not common.has_module("gensim"):
        raise common.Skip("gensim is not installed (pip install gensim)")
    from gensim.models.word2vec import LineSentence

    sentences = list(LineSentence(text_path)) if mode == "iterable" else None  # in memory: time the trainer
    tokens = c.n_tokens  # the same in-vocabulary tokens as fastw2v's rows (same file, same min_count)

    def run() -> Rate:
        m = _gensim_model(workers, sg, hs)
        if mode == "corpus_file":
            m.build_vocab(corpus_file=text_path)
            data = dict(corpus_file=text_path, total_words=m.corpus_total_words)
        else:
            m.build_vocab(corpus_iterable=sentences)
            data = dict(corpus_iterable=sentences, total_examples=m.corpus_count)
        start = time.perf_counter()
        m.train(epochs=1, **data)
        seconds = time.perf_counter() - start
        return Rate(tokens / seconds, "words/s", tokens, seconds)

    return run


def word2vec_c_command(
    binary: str,
    text_path: str,
    output: str,
    threads: int,
    epochs: int = 1,
    min_count: int = common.FILE_MIN_COUNT,
    cbow: int = 0,
) -> list[str]:
    """word2vec.c's command line with the shared settings (skip-gram, or CBOW with ``cbow=1``, at gensim's
    alpha 0.025; negative sampling, binary output)."""
    s = common.SETTINGS
    flags = {
        "train": text_path,
        "output": output,
        "cbow": cbow,
        "alpha": "0.025",
        "size": s["vector_size"],
        "window": s["window"],
        "negative": s["negative"],
        "hs": 0,
        "sample": s["sample"],
        "min-count": min_count,
        "threads": threads,
        "iter": epochs,
        "binary": 1,
    }
    return [binary] + [arg for flag, value in flags.items() for arg in (f"-{flag}", str(value))]


def prepare_word2vec_c(c, text_path: str, threads: int = 2, cbow: int = 0):
    """word2vec.c (a ``word2vec`` binary on PATH) on the same file; its own Words/thread/sec x threads."""
    binary = common.word2vec_binary()
    if binary is None:
        raise common.Skip(
            "no word2vec binary on PATH (pip install --no-deps word2vec compiles word2vec.c into the venv)"
        )

    def run() -> Rate:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = word2vec_c_command(binary, text_path, os.path.join(tmp, "v.bin"), threads, cbow=cbow)
            start = time.perf_counter()
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            seconds = time.perf_counter() - start
        rates = re.findall(r"Words/thread/sec:\s*([\d.]+)k", out)
        if not rates:  # no progress line (tiny corpus): fall back to the wall time, vocabulary included
            return Rate(c.n_tokens / seconds, "words/s", c.n_tokens, seconds, "wall time incl. vocabulary")
        value = float(rates[-1]) * 1000 * threads
        return Rate(value, "words/s", c.n_tokens, c.n_tokens / value, "its Words/thread/sec x threads")

    return run


# ---------------------------------------------------------------------------------------------------
# Ingest (tokens/s) and memory against corpus size (MiB)


def encode_python(path: str, tokenizer: str = "simple", min_count: int = 5) -> int:
    """fastw2v 0.1's encoder, the baseline of the ingest rows: the Python tokenizer line by line, a dict of
    provisional ids, raw ids to a file; then the vocabulary and a numpy pass mapping raw ids to final ids.
    Returns the tokens read."""
    import numpy as np

    from fastw2v.tokenizers import TOKENIZERS
    from fastw2v.vocab import Vocab

    tokenize = TOKENIZERS[tokenizer]
    provisional: dict[str, int] = {}
    counts = np.zeros(0, dtype=np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        raw_path = os.path.join(tmp, "raw.int32")
        with open(path, encoding="utf-8") as f, open(raw_path, "wb") as raw:
            while lines := f.readlines(1 << 20):
                ids = [provisional.setdefault(t, len(provisional)) for line in lines for t in tokenize(line)]
                arr = np.array(ids, dtype=np.int32)
                arr.tofile(raw)
                c = np.bincount(arr, minlength=len(provisional))
                c[: counts.shape[0]] += counts
                counts = c
        vocab = Vocab.from_counts(dict(zip(provisional, counts.tolist())), min_count)
        remap = np.full(len(provisional), -1, dtype=np.int32)
        remap[[provisional[w] for w in vocab.words]] = np.arange(len(vocab), dtype=np.int32)
        raw_ids = np.fromfile(raw_path, dtype=np.int32)
        mapped = remap[raw_ids]
        mapped[mapped >= 0].tofile(os.path.join(tmp, "ids.int32"))
    return int(counts.sum())


def prepare_ingest(
    corpus_arg: str | None,
    tokenizer: str = "simple",
    threads: int = 0,
    python: bool = False,
    max_bytes: int | None = None,
):
    """Encoding a .txt file of the corpus's raw documents, both passes, cache off: fastw2v.encode on ``threads``
    numba threads (0: all), or the Python baseline (``encode_python``). Tokens/s = tokens read / wall time."""
    import numba

    import fastw2v

    path = common.raw_text_file(corpus_arg)
    if max_bytes:
        path = common.text_head(path, max_bytes)
    numba.set_num_threads(threads or numba.config.NUMBA_NUM_THREADS)
    with tempfile.TemporaryDirectory() as tmp:  # compile the kernels and build the tables, untimed
        warm = os.path.join(tmp, "w.txt")
        with open(warm, "w") as f:
            f.write("warm up the tokenizer <br /> once\n" * 100)
        fastw2v.encode(fastw2v.from_files(warm), tokenizer, min_count=1, cache_dir=None)

    def run() -> Rate:
        start = time.perf_counter()
        if python:
            tokens = encode_python(path, tokenizer)
        else:
            c = fastw2v.encode(fastw2v.from_files(path), tokenizer, min_count=5, cache_dir=None)
            with open(os.path.join(c.path, "meta.json")) as f:
                tokens = json.load(f)["raw_tokens"]
        seconds = time.perf_counter() - start
        size = os.path.getsize(path)
        return Rate(tokens / seconds, "tokens/s", tokens, seconds, f"{size / 2**20:.0f} MiB of text")

    return run


def prepare_memory(n_tokens: int, line_tokens: int, vocab_size: int = 200_000, threads: int = 0):
    """Peak anonymous memory of encoding a generated corpus (whitespace tokenizer, min_count 5) and training one
    epoch on it (hogwild), in MiB: the rows of one run set corpus sizes and line lengths side by side."""
    import fastw2v
    from fastw2v.config import Config
    from fastw2v.train import train_corpus

    tmp = tempfile.mkdtemp(prefix="fastw2v-bench-mem-")
    atexit.register(shutil.rmtree, tmp, True)
    path = common.zipf_lines(tmp, n_tokens, line_tokens, vocab_size)
    warm = fastw2v.encode(fastw2v.from_files(common.zipf_lines(tmp, 50_000, 200, 1000)), "whitespace", cache_dir=None)
    train_corpus(warm, Config(**dict(common.SETTINGS, backend="hogwild", workers=threads)), progress=False)
    del warm

    def run() -> Rate:
        start = time.perf_counter()
        with common.PeakMemory() as enc:
            c = fastw2v.encode(fastw2v.from_files(path), "whitespace", min_count=5, cache_dir=None)
        encode_s = time.perf_counter() - start
        cfg = Config(**dict(common.SETTINGS, backend="hogwild", workers=threads))
        with common.PeakMemory() as tr:
            _, stats = train_corpus(c, cfg, progress=False)
        peak = max(enc.peak_mib, tr.peak_mib)
        note = (
            f"encode {enc.peak_mib:.0f} MiB at {c.n_tokens / encode_s / 1e6:.1f}M tok/s, train "
            f"{tr.peak_mib:.0f} MiB at {stats.words_per_sec / 1e6:.2f}M words/s; V={len(c.vocab):,}, "
            f"{c.n_documents:,} lines"
        )
        return Rate(peak, "MiB", c.n_tokens, time.perf_counter() - start, note)

    return run


def prepare_distributed(c, ranks: int = 2, backend: str = "hogwild", device: str = "cpu"):
    """``torchrun --nproc-per-node RANKS -m fastw2v train`` on ``c`` (saved as an encoded folder), 1 epoch; the
    rate, and the sync's bytes and share of rank 0's training time, from the command's summary, as a user reads
    them."""
    folder = tempfile.mkdtemp(prefix="fastw2v-bench-dist-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    c.save(os.path.join(folder, "corpus"))
    return _train_command(os.path.join(folder, "corpus"), ranks, c.n_tokens, ["--backend", backend, "--device", device])


# The large-vocabulary text: Zipf's law (exponent 1) over 3M types, 20M tokens in lines of 100, numpy's
# default_rng(0); min_count 2 keeps a vocabulary of over a million words.
LARGE_VOCAB = dict(n_tokens=20_000_000, line_tokens=100, vocab_size=3_000_000, exponent=1.0, shift=1.0)


def large_vocab_corpus() -> str:
    """The large-vocabulary text, encoded (min_count 2) into a folder of the bench cache: made once."""
    import fastw2v

    folder = os.path.join(common.BENCH_CACHE, "zipf-large-vocab-encoded")
    if not os.path.exists(os.path.join(folder, "meta.json")):
        os.makedirs(common.BENCH_CACHE, exist_ok=True)
        path = common.zipf_lines(common.BENCH_CACHE, **LARGE_VOCAB)
        fastw2v.encode(fastw2v.from_files(path), "simple", min_count=2, cache_dir=None).save(folder)
    return folder


def prepare_large_vocab(ranks: int = 1):
    """``fastw2v train`` (one process on all cores) or ``torchrun --nproc-per-node RANKS -m fastw2v train`` on the
    large-vocabulary text, hogwild, 1 epoch: the vocabulary users bring to a job of several machines."""
    folder = large_vocab_corpus()
    with open(os.path.join(folder, "meta.json")) as f:
        tokens = json.load(f)["n_tokens"]
    return _train_command(folder, ranks, tokens, ["--backend", "hogwild", "--min-count", "2"])


def _train_command(folder: str, ranks: int, tokens: int, flags: list[str]):
    """Runs of ``fastw2v train --dataset FOLDER`` (under torchrun for several ranks), 1 epoch, the common settings:
    the words/s and, of a job, the sync's volume and share from the summary it prints."""
    import sys

    out = tempfile.mkdtemp(prefix="fastw2v-bench-train-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    settings = [f"--{k.replace('_', '-')}={v}" for k, v in common.SETTINGS.items() if k not in ("epochs", "min_count")]
    launch = (
        [sys.executable]
        if ranks == 1
        else [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks)]
    )
    cmd = launch + [
        "-m",
        "fastw2v",
        "train",
        "--dataset",
        folder,
        "--epochs",
        "1",
        "--no-progress",
        "--output",
        os.path.join(out, "vectors.npy"),
        *settings,
        *flags,
    ]

    def run() -> Rate:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=common.REPO)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1])
        seconds, rate = re.search(r"training\s+([\d.]+) s, ([\d,]+) words/s", proc.stdout).groups()
        vocab = re.search(r"vocabulary\s+([\d,]+) words", proc.stdout).group(1)
        note = f"V={vocab}"
        if ranks > 1:
            mib, per_token, share = re.search(
                r"processes .*?: ([\d,]+) MiB .*?\(([\d,]+) bytes a token\).*?"
                r"\((\d+)% of",
                proc.stdout,
            ).groups()
            note += f"; sync {share}% of rank 0's training time, {mib} MiB received by it, {per_token} bytes a token"
        return Rate(float(rate.replace(",", "")), "words/s", tokens, float(seconds), note)

    return run
