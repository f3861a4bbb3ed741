"""The trainers of ``benchmarks.quality``'s rows: gensim 4, word2vec.c and fastw2v on one encoded corpus, and the
slice of it and the text file they read."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import fastw2v
from fastw2v.corpus import EncodedCorpus
from fastw2v.vocab import Vocab

from .benchmarks.common import word2vec_binary
from .benchmarks.workloads import word2vec_c_command

SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5)  # every row's
GENSIM_MODES = ("corpus_file", "iterable")


def slice_corpus(corpus: EncodedCorpus, n_tokens: int, min_count: int) -> EncodedCorpus:
    """The whole pieces within the first ``n_tokens`` tokens, with the vocabulary recounted on them.

    Words seen fewer than ``min_count`` times in the slice are dropped from it, as encoding the slice's text
    would have done; ids are renumbered in the Vocab order (count descending, then word)."""
    P = max(int(np.searchsorted(corpus.starts, n_tokens, side="right")) - 1, 1)
    ids = np.asarray(corpus.ids[: corpus.starts[P]])
    counts = np.bincount(ids, minlength=len(corpus.vocab))
    vocab = Vocab.from_counts({w: int(c) for w, c in zip(corpus.vocab.words, counts) if c}, min_count=min_count)
    remap = np.full(len(corpus.vocab), -1, dtype=np.int64)
    remap[[corpus.vocab.index[w] for w in vocab.words]] = np.arange(len(vocab))
    new = remap[ids]
    keep = new >= 0
    piece = np.repeat(np.arange(P), np.diff(corpus.starts[: P + 1]))[keep]
    lengths = np.bincount(piece, minlength=P)
    lengths = lengths[lengths > 0]  # a piece left empty is dropped
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return EncodedCorpus(
        ids=new[keep].astype(np.int32),
        starts=starts,
        vocab=vocab,
        n_documents=len(lengths),
        description=f"{corpus.description}, first {n_tokens:,} tokens",
    )


def write_corpus_file(corpus: EncodedCorpus, path: str) -> None:
    """One piece per line, words separated by a space (gensim's corpus_file / LineSentence format). Written
    under a temporary name and renamed, so rows running in parallel (--jobs) never read a half-written file."""
    words = np.array(corpus.vocab.words, dtype=object)
    part = f"{path}.{os.getpid()}.part"
    with open(part, "w", encoding="utf-8") as f:
        for a, b in zip(corpus.starts[:-1], corpus.starts[1:]):
            f.write(" ".join(words[np.asarray(corpus.ids[a:b])]) + "\n")
    os.replace(part, path)


def hs_settings(hs: bool) -> dict:
    """--hs: hierarchical softmax alone (gensim's hs=1, negative=0; fastw2v's Config.hs), else nothing to change."""
    return {"hs": 1, "negative": 0} if hs else {}


def gensim_kind(mode: str, workers: int) -> str:
    """'corpus_file, 1 worker': how a gensim row was trained (its learning-rate schedule depends on both)."""
    return f"{mode}, {workers} worker{'s' if workers != 1 else ''}"


def train_gensim(
    corpus: EncodedCorpus,
    epochs: int,
    workers: int,
    seed: int,
    tmp: str,
    mode: str = "corpus_file",
    sg: int = 1,
    hs: bool = False,
):
    """gensim's Word2Vec on the corpus file: read by its own threads (``corpus_file``), or as an iterable of
    token lists (``iterable``: LineSentence over the same file, a producer thread feeding ``workers`` workers);
    skip-gram, or CBOW with ``sg=0``; negative sampling, or hierarchical softmax alone with ``hs=True``."""
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    if mode not in GENSIM_MODES:
        raise ValueError(f"gensim mode {mode!r}: one of {', '.join(GENSIM_MODES)}")
    path = os.path.join(tmp, f"corpus-{corpus.n_tokens}.txt")
    if not os.path.exists(path):
        write_corpus_file(corpus, path)
    model = Word2Vec(sg=sg, workers=workers, seed=seed, epochs=epochs, **{**SETTINGS, **hs_settings(hs)})
    source = {"corpus_file": path} if mode == "corpus_file" else {"corpus_iterable": LineSentence(path)}
    model.build_vocab(**source)
    if len(model.wv) != len(corpus.vocab):
        print(f"warning: gensim's vocabulary has {len(model.wv)} words, ours {len(corpus.vocab)}", file=sys.stderr)
    start = time.perf_counter()
    if mode == "corpus_file":
        model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=epochs)
    else:
        model.train(corpus_iterable=source["corpus_iterable"], total_examples=model.corpus_count, epochs=epochs)
    seconds = time.perf_counter() - start
    wv = model.wv
    vectors = fastw2v.Vectors(list(wv.index_to_key), wv.vectors)
    return vectors, model.corpus_total_words * epochs / seconds, seconds


def train_word2vec_c(corpus: EncodedCorpus, epochs: int, workers: int, tmp: str, sg: int = 1, hs: bool = False):
    """word2vec.c (a ``word2vec`` binary on PATH) on the same corpus file; its rate from the wall time, which
    includes its vocabulary pass (a few seconds). It has no seed option: its streams are keyed by thread."""
    import subprocess

    binary = word2vec_binary()
    if binary is None:
        raise ImportError("no word2vec binary on PATH (pip install --no-deps word2vec compiles word2vec.c)")
    path = os.path.join(tmp, f"corpus-{corpus.n_tokens}.txt")
    if not os.path.exists(path):
        write_corpus_file(corpus, path)
    out = os.path.join(tmp, f"word2vec-c-{os.getpid()}.bin")
    cmd = word2vec_c_command(binary, path, out, workers, epochs, min_count=SETTINGS["min_count"], cbow=1 - sg)
    if hs:
        cmd[cmd.index("-hs") + 1], cmd[cmd.index("-negative") + 1] = "1", "0"
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    vectors = fastw2v.Vectors.load(out)
    return vectors, corpus.n_tokens * epochs / seconds, seconds


def train_fastw2v(
    corpus: EncodedCorpus,
    backend: str,
    optimizer: str,
    batch_size: int,
    epochs: int,
    workers: int,
    seed: int,
    extra: dict,
):
    settings = {**SETTINGS, "workers": workers, "seed": seed, **extra}  # a --set / --variant may override these
    vectors = fastw2v.train(
        corpus=corpus,
        backend=backend,
        optimizer=optimizer,
        batch_size=batch_size,
        epochs=epochs,
        progress=False,
        **settings,
    )
    st = vectors.stats
    return vectors, st.words_per_sec, st.seconds
