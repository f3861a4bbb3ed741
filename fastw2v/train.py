"""The public entry of training: ``train()`` (text, a dataset or an encoded corpus in, Vectors out, in one process
or as one rank of a torchrun job) and ``train_corpus()`` (an encoded corpus and a Config in: the backend's run,
``loop.fit`` over the chunk trainer of ``hogwild`` or of ``torch_backend``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys

import numpy as np

from .batching import numba_threads
from .cache import DEFAULT_CACHE_DIR
from .checkpoint import fingerprint
from .config import Config
from .corpus import EncodedCorpus, is_encoded_folder
from .encode import encode
from .errors import UserError, setting
from .group import Group, RankLost, join, threads_per_process
from .loop import fit
from .sources import open_source
from .stats import DIVERGED_ABOVE, TrainStats, Weights, diverged
from .vectors import Vectors


def train(
    dataset: str | None = None,
    data: str | None = None,
    *,
    corpus: EncodedCorpus | None = None,
    text_column: str = "text",
    splits: list[str] | None = None,
    output: str | None = None,
    cache_dir: str | None = DEFAULT_CACHE_DIR,
    progress: bool = True,
    streaming: bool = False,
    dataset_config: str | None = None,
    **config,
) -> Vectors:
    """Train word vectors end to end and return them (``vectors.stats`` holds the TrainStats).

    The text comes from ``data`` (files: .txt, .jsonl, .csv, .parquet, or a glob), else ``dataset`` (a hub
    name or a local folder laid out like one; default ``stanfordnlp/imdb``; or a folder written by
    ``fastw2v.encode`` / ``EncodedCorpus.save``, whose tokenizer and vocabulary are then fixed), or an
    already encoded ``corpus``. ``streaming`` reads a hub dataset as it downloads; ``dataset_config`` names one
    of its configurations (``wikimedia/wikipedia``: ``20231101.en``). ``config`` takes the fields
    of ``Config`` (gensim's names: vector_size, window, ...).
    With ``output`` the vectors are also saved there (.txt, .bin or .npy).

    Under ``torchrun`` (or inside a process group the caller started) every rank calls this and the ranks
    train one model together (``fastw2v.buckets``); every rank returns the vectors, rank 0 saves them.
    """
    cfg, group = job_config(config)
    progress = progress and (group is None or group.is_writer)
    dataset, data, output, cache_dir = (None if p is None else os.fspath(p) for p in (dataset, data, output, cache_dir))
    if output is not None:
        Vectors.check_path(output)  # before hours of training, not after
    with group_ended(group):
        if corpus is None:
            text = dict(dataset=dataset, data=data, text_column=text_column, splits=splits, streaming=streaming)
            corpus = corpus_of(text, dataset_config, output, cache_dir, progress, cfg, group)
        if group is not None:
            group.check_same("the encoded corpus", fingerprint(corpus))
        vectors, stats = train_corpus(corpus, cfg, progress=progress, group=group)
        save_trained(vectors, stats, corpus, output, group)
    return vectors


def job_config(config: dict) -> tuple[Config, Group | None]:
    """The run's Config from ``train``'s keywords (``config``: a Config to start from), and this process's place in
    a torchrun job (None alone): there the machine's cores are shared among its ranks, and each rank has its GPU."""
    base = config.pop("config", None) or Config()
    Config.check_keys(config)
    cfg = dataclasses.replace(base, **config)
    group = join("cpu" if cfg.resolved_backend() == "hogwild" else cfg.device, cfg.sync_timeout)  # hogwild: gloo
    if group is not None:
        cfg = dataclasses.replace(
            cfg,
            workers=cfg.workers or threads_per_process(group),
            device=str(group.device) if cfg.device in ("auto", "cuda") else cfg.device,
        )
    return cfg, group


@contextlib.contextmanager
def group_ended(group: Group | None):
    """The job's process group closed when the block ends, unless a rank was lost: then it cannot be ended in
    order, and the process exit closes it."""
    if group is None:
        yield
        return
    try:
        yield
    except RankLost:
        raise
    except BaseException:
        group.close()
        raise
    group.close()


def corpus_of(text: dict, dataset_config, output, cache_dir, progress: bool, cfg: Config, group) -> EncodedCorpus:
    """The encoded corpus of ``text`` (``train``'s dataset, data, text_column, splits, streaming): an encoded
    folder as it is, else the text encoded (or its cache entry). In a job the first rank of each machine encodes,
    and the others then read the cache entry it wrote."""
    dataset = text["dataset"]
    if dataset is not None and is_encoded_folder(dataset):
        chosen = (("data", text["data"]), ("splits", text["splits"]), ("text_column", text["text_column"] != "text"))
        for name, given in chosen:
            if given:
                raise UserError(f"{dataset!r} is an encoded corpus (its text is already chosen): drop {setting(name)}")
        corpus = EncodedCorpus.load(dataset)  # encoded elsewhere: its tokenizer and vocabulary are fixed
        note_fixed_settings(corpus, cfg)
        return corpus
    source = open_source(**text, encoding_errors=cfg.encoding_errors, dataset_config=dataset_config)
    inputs = {os.path.realpath(f) for f in source.files}
    for path in Vectors.paths_written(output) if output is not None else ():
        if os.path.realpath(path) in inputs:
            raise UserError(
                f"{setting('output', output)} would overwrite the input file {path!r}: choose another output path"
            )
    first = group is None or group.local_rank == 0
    encoding = "waiting for the first rank of this machine to encode the text"
    if not first:
        group.barrier(encoding)
    corpus = encode_with(source, cfg, cache_dir=cache_dir, progress=progress)
    if first and group is not None:
        group.barrier(encoding)
    return corpus


def save_trained(vectors: Vectors, stats: TrainStats, corpus: EncodedCorpus, output, group) -> None:
    """The run's figures of its corpus into ``stats``, which ``vectors.stats`` holds; the vectors checked
    (``check_trained``) and saved to ``output`` (by rank 0 alone in a job)."""
    stats.min_count = (corpus.settings or {}).get("min_count")
    stats.encode_seconds, stats.raw_tokens = corpus.encode_seconds, corpus.raw_tokens
    check_trained(vectors, stats)
    vectors.stats = stats
    if output is not None and (group is None or group.is_writer):
        vectors.save(output)


def train_corpus(
    corpus: EncodedCorpus,
    config: Config,
    progress: bool = True,
    weights: Weights | None = None,
    on_epoch_end=None,
    group: Group | None = None,
    as_ranks: int = 0,
) -> tuple[Vectors, TrainStats]:
    """Train on an encoded corpus with ``config``'s backend (``loop.fit`` with its chunk trainer). With ``weights``
    (both matrices) training starts from them and leaves its result in them; ``on_epoch_end(epoch, input_vectors,
    stats)`` runs after each epoch. With a ``group.Group`` this process is one rank of a job that trains one model;
    ``as_ranks`` (> 1) trains, in this process, the model a job of that many ranks trains (its buckets in turn:
    ``buckets``)."""
    check_run(corpus, config, weights, group is not None or as_ranks > 1)
    if config.resolved_backend() == "hogwild":
        from .hogwild import HogwildChunks as backend
    else:
        from .torch_backend import TorchChunks as backend
    return fit(backend, corpus, config, progress, weights, on_epoch_end, group, as_ranks)


def check_run(corpus: EncodedCorpus, config: Config, weights: Weights | None, several_ranks: bool) -> None:
    """UserError for settings a run cannot train with: those a job of several ranks cannot split (``several_ranks``:
    one, or one process training its model), weights of another shape, hogwild's option on the torch backend."""
    one_process = "or run one process"
    if several_ranks and not config.sg:
        raise UserError(
            "a job of several ranks trains skip-gram pairs bucket by bucket, by the words' partitions, and "
            f"a CBOW window reads input rows of many partitions at once: pass {setting('sg', 1)}, {one_process}"
        )
    if several_ranks and config.hs:
        raise UserError(
            "a job of several ranks splits the output rows by the words' partitions, and hierarchical "
            f"softmax trains the tree's inner nodes, which every word shares: drop {setting('hs')} (negative "
            f"sampling), {one_process}"
        )
    if several_ranks and config.optimizer != "sgd":
        raise UserError(
            f"a job of several ranks trains each row on one rank at a time, and {config.optimizer} keeps "
            f"moments of every row on every rank: drop {setting('optimizer')} (sgd), {one_process}"
        )
    if weights is not None and weights.w_in.shape != (len(corpus.vocab), config.vector_size):
        raise UserError(
            f"weights of shape {weights.w_in.shape} for {len(corpus.vocab)} words of {config.vector_size} "
            "dimensions: pass matrices of the corpus's vocabulary size and vector_size"
        )
    if config.resolved_backend() != "hogwild" and config.shared_negatives is True:
        # backend auto chose torch: a GPU (Config rejects the other cases)
        raise UserError(
            f"shared_negatives is an option of the hogwild backend, and this run trains with torch "
            f"({config.optimizer} on {config.torch_device()}): drop {setting('shared_negatives')}, or pass "
            f"{setting('backend', 'hogwild')} {setting('device', 'cpu')}"
        )


def probe_neighbours(vectors: Vectors, words=("good", "movie", "actor", "horror", "funny"), topn: int = 5):
    """Nearest neighbours of the probe words that are in the vocabulary (for the summary)."""
    return {w: vectors.most_similar(w, topn=topn) for w in words if w in vectors}


def encode_with(source, config: Config, **options) -> EncodedCorpus:
    """``encode`` with a Config's corpus settings (tokenizer, min_count, vocabulary bounds, piece length) on its
    threads (``workers`` bounds the tokenizer too); ``options`` go to ``encode`` (cache_dir, progress, vocab...)."""
    with numba_threads(config.threads):
        return encode(
            source,
            config.tokenizer,
            config.min_count,
            config.max_vocab_size,
            config.max_piece_length,
            max_counted_words=config.max_counted_words,
            **options,
        )


def note_fixed_settings(corpus: EncodedCorpus, config: Config) -> None:
    """An encoded folder's tokenizer and vocabulary are fixed: say so (stderr) when the settings given differ,
    rather than train on what the folder holds in silence."""
    differ = [
        f"{k}={v} (this run: {getattr(config, k)})"
        for k, v in (corpus.settings or {}).items()
        if hasattr(config, k) and getattr(config, k) != v
    ]
    if differ:
        print(
            f"fastw2v: note: {corpus.path} is encoded already, with {', '.join(differ)}: "
            "encode the text again to change them",
            file=sys.stderr,
        )


def check_trained(vectors: Vectors, stats: TrainStats) -> None:
    """UserError, before anything is saved, for a run that trained nothing or diverged."""
    if stats.examples == 0:
        raise UserError(
            "no (center, context) pair to train on: every document keeps fewer than 2 tokens after "
            f"min_count and sub-sampling; give longer documents, or lower {setting('min_count')} or "
            f"{setting('sample')}"
        )
    if not np.isfinite(vectors.vectors).all() or np.abs(vectors.vectors).max() > DIVERGED_ABOVE:
        raise diverged(stats.start_lr)
