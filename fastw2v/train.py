"""The training loop: a Config and an encoded corpus in, Vectors out.

The torch backend feeds SkipGramNS whole batches from a batch builder (numba on the CPU, device-resident
on a GPU) and applies the fused SGD step, or the tutorial's Adam, or SparseAdam. The learning rate
decays linearly from alpha to min_alpha over all epochs, as word2vec.c does, here per batch (Config.lr_at),
for Adam as well, whose default alpha depends on the number of steps (config.ADAM_LR_SCALE); the tutorial's
constant rate is ``alpha=min_alpha=0.001``.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np
import torch

from .batching import DeviceBatches, NumbaBatches, corpus_from_indexed_docs, numba_threads, partition_draws
from .buckets import Buckets, RingSync, job_buckets, spans
from .cache import DEFAULT_CACHE_DIR
from .checkpoint import RunCheckpoints, TrainState, fingerprint
from .config import Config
from .corpus import EncodedCorpus, is_encoded_folder
from .encode import encode
from .errors import UserError
from .group import Group, RankLost, join, threads_per_process
from .kernels import (
    STREAM_NEGATIVE,
    STREAM_NEGATIVE_COIN,
    STREAM_SHUFFLE,
    draw_negatives_at,
    keep_thresholds,
    stream_base,
    windowed_chunk,
)
from .loop import RunProgress, fit
from .model import SkipGramNS
from .progress import compiling
from .sources import open_source
from .stats import DIVERGED_ABOVE, TrainStats, Weights, diverged
from .vectors import Vectors


def make_batches(corpus: EncodedCorpus, config: Config, device: torch.device):
    kw = dict(
        batch_size=config.batch_size,
        window=config.window,
        negative=config.negative,
        sample=config.sample,
        ns_exponent=config.ns_exponent,
        shrink_windows=config.shrink_windows,
        shuffle=config.shuffle,
        seed=config.seed,
        chunk_tokens=config.chunk_tokens,
        threads=config.threads,
    )
    if device.type == "cpu":
        return NumbaBatches(corpus, **kw)
    return DeviceBatches(corpus, device=device, **kw)


def train_torch(
    corpus: EncodedCorpus,
    config: Config,
    progress: bool = True,
    weights: Weights | None = None,
    on_epoch_end=None,
    group: Group | None = None,
    as_ranks: int = 0,
) -> tuple[Vectors, TrainStats]:
    """Batches of one chunk's pairs (``chunk_batches``) through SkipGramNS (``BatchStep``): the SGD step (the fused
    Triton kernels on a GPU, negatives drawn in the kernel; torch's ops elsewhere, with the batch builder's
    negatives: the same pairs and negatives either way), or Adam / SparseAdam on ``forward``'s loss. The
    learning rate decays linearly with the tokens done, as word2vec.c's does. In a job of several ranks (a
    ``group.Group``), or alone as one (``as_ranks``), each chunk is trained span by span, each span bucket by bucket
    (``buckets``, ``BucketStep``), and a job's ranks hand the input rows on after each round. The run is
    ``loop.fit`` over the chunks of ``TorchChunks``."""
    device = config.torch_device()
    torch.manual_seed(config.seed)  # the embeddings' initialisation
    model = SkipGramNS(len(corpus.vocab), config.vector_size, sparse=config.optimizer == "sparse_adam").to(device)
    batches = make_batches(corpus, config, device)
    compile_batch_kernels(config, device)
    optimizer, steps, start_lr = make_optimizer(model, config, batches, device)
    run = RunCheckpoints(config, corpus, "torch", group)
    state = start_from(model, run, weights, optimizer)
    kernel = config.resolved_sgd_kernel() if config.optimizer == "sgd" else None
    stats = TrainStats(
        "torch",
        str(device),
        config.epochs,
        len(corpus.vocab),
        corpus.n_tokens,
        start_lr=start_lr,
        pairs=state.pairs,
        loss_history=list(state.loss_history),
        kernel=kernel,
    )
    fused = fused_step(model, config, batches) if kernel == "triton" else None
    buckets = job_buckets(group, corpus, config, as_ranks)
    W_in, W_out = model.in_embed.weight, model.out_embed.weight
    sync = RingSync(group, W_in, W_out, buckets) if group is not None else None
    trainer = TorchChunks(corpus, config, model, batches, optimizer, fused, steps, buckets, sync)
    if group is not None:
        group.barrier("compiling the kernels")  # the clock starts on all ranks together
    bar = RunProgress(
        stats, config.epochs, progress, state, state.tokens_done(corpus, batches.chunk_bounds, config.epochs), device
    )
    fit(trainer, run, bar, state, sync, on_epoch_end, output_rows=config.final_vectors == "avg" or weights is not None)
    if group is not None:  # the whole job's loss (its pairs: every rank counts all of them)
        sync.finish()
        stats.loss_total = group.sum([stats.loss_total], "summing the job's loss")[0]
        stats.note_group(group)
    if buckets is not None:
        stats.buckets, stats.span_tokens = True, config.resolved_span_tokens(corpus.n_tokens)
    if weights is not None:  # the result, back into the caller's matrices
        weights.w_in[...] = W_in.detach().float().cpu().numpy()
        weights.w_out[...] = W_out.detach().float().cpu().numpy()
    stats.checkpoint_seconds = run.seconds_saving
    return _vectors(model, corpus, config), stats


class TorchChunks:
    """How the torch backend trains one chunk of an epoch (``loop.fit``'s chunk trainer): its pairs in batches, in
    order, through ``BatchStep``; or, with ``buckets``, span by span and bucket by bucket through ``BucketStep``,
    each of this rank's buckets between the ring's ``wait()`` and ``trained()`` (``sync``, a job's)."""

    def __init__(
        self,
        corpus: EncodedCorpus,
        config: Config,
        model: SkipGramNS,
        batches,
        optimizer,
        fused,
        steps: int | None,
        buckets: Buckets | None,
        sync: RingSync | None,
    ):
        self.corpus, self.config, self.model, self.batches, self.optimizer = corpus, config, model, batches, optimizer
        self.steps, self.sync, self.n_chunks = steps, sync, batches.n_chunks
        self.step = BatchStep(model, config, batches, optimizer, fused)
        device = model.in_embed.weight.device
        self.bucket_step = None if buckets is None else BucketStep(buckets, corpus, config, device, model, fused)

    def train(self, epoch: int, c: int, progress: RunProgress) -> None:
        """Train chunk c of ``epoch``, each batch's loss into ``progress.loss_sum``."""
        cfg, n_tokens = self.config, self.corpus.n_tokens
        if self.bucket_step is not None:
            bounds = self.batches.chunk_bounds
            pairs = self.bucket_step.chunk(bounds, epoch, c, progress, self.sync)
            progress.batch(epoch, pairs, int(self.corpus.starts[bounds[c + 1]]), trained=False)
            return
        if not cfg.sg:
            self.train_windows(epoch, c, progress)
            return
        for batch in self.batches.chunk_batches(epoch, c, c + 1):
            self.step(epoch, batch, cfg.lr_at((epoch + batch.start) / cfg.epochs, self.steps), progress.loss_sum)
            progress.batch(epoch, batch.center.shape[0], round(batch.end * n_tokens))

    def train_windows(self, epoch: int, c: int, progress: RunProgress) -> None:
        """CBOW: chunk c's windows (``chunk_windows``) in batches of ``batch_size`` windows through the fused
        kernels on a GPU (``FusedStep.cbow_step``), else ``SkipGramNS.cbow_sgd_step``; their negatives drawn for
        their centers' kept positions (hogwild's)."""
        cfg, device = self.config, self.model.in_embed.weight.device
        centers, contexts, keys, t0, t1 = self.batches.chunk_windows(epoch, c)
        n, total = centers.shape[0], max(self.corpus.n_tokens, 1)
        # the chunk's windows and negatives go to the device once, not batch by batch
        centers, contexts = torch.from_numpy(centers).to(device), torch.from_numpy(contexts).to(device)
        negs = self.batches.negatives_at(epoch, c, keys).to(device)
        for first in range(0, n, cfg.batch_size):
            last = min(first + cfg.batch_size, n)
            lr = cfg.lr_at((epoch + (t0 + (t1 - t0) * first / n) / total) / cfg.epochs, self.steps)
            batch = contexts[first:last], centers[first:last], negs[first:last]
            if self.step.fused is not None:
                self.step.fused.cbow_step(*batch, lr, cfg.trust, progress.loss_sum, bool(cfg.cbow_mean))
            else:
                progress.loss_sum += self.model.cbow_sgd_step(*batch, lr, bool(cfg.cbow_mean), cfg.trust)
            progress.batch(epoch, last - first, round(t0 + (t1 - t0) * last / n))

    def matrices(self) -> dict[str, torch.Tensor]:
        return {"w_in": self.model.in_embed.weight.detach(), "w_out": self.model.out_embed.weight.detach()}

    def optimizer_state(self) -> dict | None:
        return self.optimizer.state_dict() if self.optimizer is not None else None

    def input_vectors(self) -> np.ndarray:
        return self.model.in_embed.weight.detach().float().cpu().numpy()


def compile_batch_kernels(config: Config, device: torch.device) -> None:
    """numba compiles the batch kernels on first use (tens of seconds in a fresh install): on a one-document
    corpus of the same types, before the clock starts, so words/s is training only."""
    with compiling():
        batches = make_batches(corpus_from_indexed_docs([list(range(50)) * 40], 50), config, device)  # ~500 tokens
        if config.sg:
            next(iter(batches))
        else:
            batches.negatives_at(0, 0, batches.chunk_windows(0, 0)[2])


def make_optimizer(model: SkipGramNS, config: Config, batches, device: torch.device):
    """(the torch optimizer or None for sgd, the run's optimizer steps or None, the start learning rate)."""
    steps, optimizer = None, None
    if config.optimizer != "sgd":
        # Adam's default learning rate depends on the number of steps: each chunk's pairs in batches of B
        steps = int(np.sum(-(-batches.pair_counts(0) // config.batch_size))) * config.epochs
    start_lr = config.start_lr(steps)
    if config.end_lr > start_lr:  # Adam's default start is known only now (Config checks the others)
        raise UserError(
            f"min_alpha ({config.end_lr}) is above {config.optimizer}'s start learning rate for this run "
            f"({start_lr:.4g}): pass a smaller --min-alpha, or --alpha"
        )
    if config.optimizer == "adam":
        # fused: one kernel for the whole update on a GPU (the dense (V, d) moments are the cost there)
        optimizer = torch.optim.Adam(model.parameters(), lr=start_lr, fused=device.type == "cuda")
    elif config.optimizer == "sparse_adam":
        optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=start_lr)
    return optimizer, steps, start_lr


def start_from(model: SkipGramNS, run: RunCheckpoints, weights: Weights | None, optimizer) -> TrainState:
    """The model's matrices (and the optimizer's state) from the checkpoint a run resumes, or from ``weights``
    (continued training); the position to start from."""
    W_in, W_out = model.in_embed.weight, model.out_embed.weight
    if run.resume_from is not None:
        with torch.no_grad():
            W_in.copy_(run.resume_from.tensors["w_in"])
            W_out.copy_(run.resume_from.tensors["w_out"])
        if optimizer is not None:
            optimizer.load_state_dict(run.resume_from.optimizer_state())
        return run.resume_from.state
    if weights is not None:
        with torch.no_grad():
            W_in.copy_(torch.from_numpy(weights.w_in))
            W_out.copy_(torch.from_numpy(weights.w_out))
    return TrainState()


def fused_step(model: SkipGramNS, config: Config, batches):
    """The fused Triton step on the model's matrices, its kernels compiled before the clock starts."""
    from .fused import FusedStep

    fused = FusedStep(
        model.in_embed.weight.detach(),
        model.out_embed.weight.detach(),
        config.negative,
        torch.from_numpy(batches.alias_table),
    )
    with compiling("the Triton kernels"):
        fused.warm_up(trust=config.trust, cbow_mean=None if config.sg else bool(config.cbow_mean))
    return fused


class BatchStep:
    """One batch of a chunk (``ChunkBatch``) through the model: the fused step, drawing its negatives in the
    kernel; else with the batch builder's negatives, torch's SGD step or the optimizer's on ``forward``'s loss.
    The batch's summed loss is added to ``loss_sum`` (a tensor on the device: no sync)."""

    def __init__(self, model: SkipGramNS, config: Config, batches, optimizer, fused):
        self.model, self.config, self.batches, self.optimizer, self.fused = model, config, batches, optimizer, fused
        self.device = model.in_embed.weight.device
        if fused is not None:
            from .fused import stream_bases

            self.stream_bases = stream_bases

    def __call__(self, epoch: int, batch, lr: float, loss_sum: torch.Tensor) -> None:
        cfg = self.config
        center, pos = batch.center.to(self.device), batch.context.to(self.device)
        if self.fused is not None:  # the negatives are drawn in the kernel
            base_col, base_coin = self.stream_bases(cfg.seed, epoch, batch.chunk)
            self.fused.step(center, pos, lr, cfg.trust, loss_sum, draw=(base_col, base_coin, batch.first))
            return
        negs = self.batches.negatives(epoch, batch.chunk, batch.first, center.shape[0]).to(self.device)
        if self.optimizer is None:
            loss_sum += self.model.sgd_step(center, pos, negs, lr, trust=cfg.trust)
            return
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self.model(center, pos, negs)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        loss_sum += loss.detach() * center.shape[0]


class BucketStep:
    """The torch backend's buckets (``buckets``): a chunk's pairs made on the CPU span by span, only those of the
    buckets this process trains, grouped by bucket (``kernels.bucket_pairs``), each bucket in batches through the
    SGD step (the fused kernels on a GPU, given the negatives; ``SkipGramNS.sgd_step`` elsewhere). Here a pair
    trains the center's input row against the context's output row (the tutorial's orientation), so its bucket is
    (the center's partition, the context's), and its negatives come from the context's partition, drawn for the
    pair's index in its chunk: numba's draws on the CPU, torch's (the same draws) on a GPU. With
    ``Config.shuffle`` each bucket's pairs are shuffled; the learning rate follows the span's tokens over its
    rounds."""

    def __init__(
        self, buckets: Buckets, corpus: EncodedCorpus, config: Config, device: torch.device, model: SkipGramNS, fused
    ):
        self.buckets, self.corpus, self.config, self.device = buckets, corpus, config, device
        self.model, self.fused = model, fused
        self.keep_threshold = keep_thresholds(corpus.vocab.counts, config.sample)
        if device.type != "cpu":  # each partition's rows of the sampler, for torch's draws
            self.tables = [
                torch.from_numpy(buckets.sampler[lo : lo + size]).to(device)
                for lo, size in map(buckets.table, range(buckets.n))
            ]
        else:  # compile the negatives' kernel before the clock starts (no draw at all)
            with compiling():
                draw_negatives_at(
                    buckets.sampler,
                    0,
                    1,
                    0,
                    0,
                    np.zeros(0, dtype=np.int64),
                    np.empty((0, config.negative), dtype=np.int64),
                )

    def chunk(self, bounds: np.ndarray, epoch: int, c: int, bar: RunProgress, sync: RingSync | None = None) -> int:
        """Train chunk c of ``epoch``, each bucket of this rank between ``sync.wait()`` and ``sync.trained(input
        rows written)``; returns the chunk's pairs (all ranks' together)."""
        cfg, corpus, buckets = self.config, self.corpus, self.buckets
        ids, local = corpus.chunk(bounds, c)
        with numba_threads(cfg.threads):
            kept, kept_starts, offsets, window_base = windowed_chunk(
                ids, local, self.keep_threshold, cfg.window, cfg.shrink_windows, cfg.seed, epoch, c
            )
        draws = [int(stream_base(cfg.seed, epoch, stream, c)) for stream in (STREAM_NEGATIVE, STREAM_NEGATIVE_COIN)]
        shuffle = int(stream_base(cfg.seed, epoch, STREAM_SHUFFLE, c))
        first = epoch * corpus.n_tokens + int(corpus.starts[bounds[c]])  # the chunk's first token, of all epochs
        for k, pieces in enumerate(spans(local, cfg.resolved_span_tokens(corpus.n_tokens))):
            with numba_threads(cfg.threads):
                pairs = buckets.span_pairs(kept, kept_starts, offsets, pieces, cfg, window_base, output_is_center=False)
            t0, t1 = (first + int(local[p]) for p in pieces)
            for s in range(buckets.n):
                for i in range(buckets.k):
                    if sync is not None:
                        sync.wait()
                    for owner in buckets.owners:
                        b = pairs.bucket(owner, s, i)
                        x, y, o = pairs.x[b], pairs.y[b], pairs.o[b]
                        if cfg.shuffle:
                            order = np.random.default_rng([shuffle, k, s, i, owner]).permutation(x.shape[0])
                            x, y, o = x[order], y[order], o[order]
                        self.train(owner, kept[x], kept[y], o, draws, (t0, t1, s + (i + 1) / buckets.k), epoch, bar)
                    if sync is not None:
                        sync.trained(
                            kept[x], f"handing on input rows in round {s + 1} of chunk {c + 1}, epoch {epoch + 1}"
                        )
        return int(offsets[-1])

    def train(
        self,
        owner: int,
        center: np.ndarray,
        context: np.ndarray,
        pair_index: np.ndarray,
        draws,
        where,
        epoch: int,
        bar: RunProgress,
    ) -> None:
        """One bucket's pairs in batches; ``where``: the span's first and end token, and the rounds of the span done
        at the bucket's end (its learning rate moves over the span's tokens as the rounds go)."""
        cfg, device = self.config, self.device
        (t0, t1, done_after), n = where, center.shape[0]
        done_before = done_after - 1 / self.buckets.k
        center, context = (torch.from_numpy(a).long().to(device) for a in (center, context))
        for first in range(0, n, cfg.batch_size):
            rows = slice(first, first + cfg.batch_size)
            negs = self.negatives(owner, draws, pair_index[rows])
            done = done_before + (done_after - done_before) * min(first + cfg.batch_size, n) / n
            lr = cfg.lr_at((t0 + (t1 - t0) * done / self.buckets.n) / (cfg.epochs * self.corpus.n_tokens))
            if self.fused is not None:
                self.fused.step(center[rows], context[rows], lr, cfg.trust, bar.loss_sum, negs=negs)
            else:
                bar.loss_sum += self.model.sgd_step(center[rows], context[rows], negs, lr, trust=cfg.trust)
            bar.trained(epoch, negs.shape[0])

    def negatives(self, owner: int, draws, pair_index: np.ndarray) -> torch.Tensor:
        """The negatives of pairs ``pair_index`` of a chunk, from partition ``owner`` (the contexts')."""
        k = self.config.negative
        if self.device.type == "cpu":
            negs = np.empty((pair_index.shape[0], k), dtype=np.int64)
            with numba_threads(self.config.threads):
                draw_negatives_at(self.buckets.sampler, *self.buckets.table(owner), *draws, pair_index, negs)
            return torch.from_numpy(negs)
        slots = torch.from_numpy(pair_index).to(self.device)[:, None] * k + torch.arange(k, device=self.device)
        return partition_draws(self.tables[owner], *draws, slots)


def _vectors(model: SkipGramNS, corpus: EncodedCorpus, config: Config) -> Vectors:
    w_in = model.in_embed.weight.detach()
    final = w_in if config.final_vectors == "in" else (w_in + model.out_embed.weight.detach()) / 2
    return Vectors(corpus.vocab.words, final.float().cpu().numpy(), corpus.vocab.counts)


def train_corpus(
    corpus: EncodedCorpus,
    config: Config,
    progress: bool = True,
    weights: Weights | None = None,
    on_epoch_end=None,
    group: Group | None = None,
    as_ranks: int = 0,
) -> tuple[Vectors, TrainStats]:
    """Train on an encoded corpus with ``config``'s backend. With ``weights`` (both matrices) training starts
    from them and leaves its result in them; ``on_epoch_end(epoch, input_vectors, stats)`` runs after each epoch.
    With a ``group.Group`` this process is one rank of a job that trains one model; ``as_ranks`` (> 1) trains, in
    this process, the model a job of that many ranks trains (its buckets in turn: ``buckets``)."""
    if (group is not None or as_ranks > 1) and not config.sg:
        raise UserError(
            "a job of several ranks trains skip-gram pairs bucket by bucket, by the words' partitions, and "
            "a CBOW window reads input rows of many partitions at once: pass --sg 1, or run one process"
        )
    if (group is not None or as_ranks > 1) and config.hs:
        raise UserError(
            "a job of several ranks splits the output rows by the words' partitions, and hierarchical "
            "softmax trains the tree's inner nodes, which every word shares: drop --hs (negative "
            "sampling), or run one process"
        )
    if (group is not None or as_ranks > 1) and config.optimizer != "sgd":
        raise UserError(
            f"a job of several ranks trains each row on one rank at a time, and {config.optimizer} keeps "
            "moments of every row on every rank: drop --optimizer (sgd) or run one process"
        )
    if weights is not None and weights.w_in.shape != (len(corpus.vocab), config.vector_size):
        raise UserError(
            f"weights of shape {weights.w_in.shape} for {len(corpus.vocab)} words of {config.vector_size} "
            "dimensions: pass matrices of the corpus's vocabulary size and vector_size"
        )
    backend = config.resolved_backend()
    if backend == "hogwild":
        from .hogwild import train_hogwild

        return train_hogwild(
            corpus,
            config,
            progress=progress,
            weights=weights,
            on_epoch_end=on_epoch_end,
            group=group,
            as_ranks=as_ranks,
        )
    if config.shared_negatives is True:  # backend auto chose torch: a GPU (Config rejects the other cases)
        raise UserError(
            f"shared_negatives is an option of the hogwild backend, and this run trains with torch "
            f"({config.optimizer} on {config.torch_device()}): drop --shared-negatives or pass "
            "--backend hogwild --device cpu"
        )
    threads = torch.get_num_threads()
    if config.workers and config.torch_device().type == "cpu":
        torch.set_num_threads(config.threads)
    try:
        return train_torch(
            corpus,
            config,
            progress=progress,
            weights=weights,
            on_epoch_end=on_epoch_end,
            group=group,
            as_ranks=as_ranks,
        )
    finally:
        torch.set_num_threads(threads)  # a library call leaves the process as it found it


def probe_neighbours(vectors: Vectors, words=("good", "movie", "actor", "horror", "funny"), topn: int = 5):
    """Nearest neighbours of the probe words that are in the vocabulary (for the summary)."""
    return {w: vectors.most_similar(w, topn=topn) for w in words if w in vectors}


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
    base = config.pop("config", None) or Config()
    Config.check_keys(config)
    cfg = dataclasses.replace(base, **config)
    group = join("cpu" if cfg.resolved_backend() == "hogwild" else cfg.device, cfg.sync_timeout)  # hogwild: gloo
    if group is None:
        return _train(
            dataset,
            data,
            corpus,
            text_column,
            splits,
            output,
            cache_dir,
            progress,
            streaming,
            dataset_config,
            cfg,
            None,
        )
    # this machine's cores shared among its ranks; each rank its own GPU
    cfg = dataclasses.replace(
        cfg,
        workers=cfg.workers or threads_per_process(group),
        device=str(group.device) if cfg.device in ("auto", "cuda") else cfg.device,
    )
    try:
        vectors = _train(
            dataset,
            data,
            corpus,
            text_column,
            splits,
            output,
            cache_dir,
            progress and group.is_writer,
            streaming,
            dataset_config,
            cfg,
            group,
        )
    except RankLost:
        raise  # the process group cannot be ended in order with a rank missing: the process exit closes it
    except BaseException:
        group.close()
        raise
    group.close()
    return vectors


def _train(
    dataset,
    data,
    corpus,
    text_column,
    splits,
    output,
    cache_dir,
    progress,
    streaming,
    dataset_config,
    cfg: Config,
    group: Group | None,
) -> Vectors:
    dataset, data, output, cache_dir = (None if p is None else os.fspath(p) for p in (dataset, data, output, cache_dir))
    if output is not None:
        Vectors.check_path(output)  # before hours of training, not after
    if corpus is None and dataset is not None and is_encoded_folder(dataset):
        for given, flag in ((data, "--data"), (splits, "--split"), (text_column != "text", "--text-column")):
            if given:
                raise UserError(f"{dataset!r} is an encoded corpus (its text is already chosen): drop {flag}")
        corpus = EncodedCorpus.load(dataset)  # encoded elsewhere: its tokenizer and vocabulary are fixed
        note_fixed_settings(corpus, cfg)
    if corpus is None:
        source = open_source(
            dataset=dataset,
            data=data,
            text_column=text_column,
            splits=splits,
            encoding_errors=cfg.encoding_errors,
            streaming=streaming,
            dataset_config=dataset_config,
        )
        inputs = {os.path.realpath(f) for f in source.files}
        for path in Vectors.paths_written(output) if output is not None else ():
            if os.path.realpath(path) in inputs:
                raise UserError(
                    f"--output {output!r} would overwrite the input file {path!r}: choose another output path"
                )
        if group is None:
            corpus = encode_with(source, cfg, cache_dir=cache_dir, progress=progress)
        else:  # the first rank of each machine encodes; the others then read the cache entry it wrote
            first = group.local_rank == 0
            if not first:
                group.barrier("waiting for the first rank of this machine to encode the text")
            corpus = encode_with(source, cfg, cache_dir=cache_dir, progress=progress)
            if first:
                group.barrier("waiting for the first rank of this machine to encode the text")
    if group is not None:
        group.check_same("the encoded corpus", fingerprint(corpus))
    vectors, stats = train_corpus(corpus, cfg, progress=progress, group=group)
    stats.min_count = (corpus.settings or {}).get("min_count")
    stats.encode_seconds, stats.raw_tokens = corpus.encode_seconds, corpus.raw_tokens
    check_trained(vectors, stats)
    vectors.stats = stats
    if output is not None and (group is None or group.is_writer):
        vectors.save(output)
    return vectors


def encode_with(source, config: Config, **options) -> EncodedCorpus:
    """``encode`` with a Config's corpus settings (tokenizer, min_count, vocabulary bounds, piece length) on its
    threads (``--workers`` bounds the tokenizer too); ``options`` go to ``encode`` (cache_dir, progress, vocab...)."""
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
    if stats.pairs == 0:
        raise UserError(
            "no (center, context) pair to train on: every document keeps fewer than 2 tokens after "
            "min_count and sub-sampling; give longer documents, or lower --min-count or --sample"
        )
    if not np.isfinite(vectors.vectors).all() or np.abs(vectors.vectors).max() > DIVERGED_ABOVE:
        raise diverged(stats.start_lr)
