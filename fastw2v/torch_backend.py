"""The torch backend: SkipGramNS trained on whole batches from a batch builder (numba on the CPU, device-resident on
a GPU) with the fused SGD step, the tutorial's Adam, or SparseAdam.

The learning rate decays linearly from alpha to min_alpha over all epochs, as word2vec.c's does, here per batch
(Config.lr_at), for Adam as well, whose default alpha depends on the number of steps (config.ADAM_LR_SCALE); the
tutorial's constant rate is ``alpha=min_alpha=0.001``. ``TorchChunks`` is the chunk trainer ``loop.fit`` runs: a
chunk's batches through ``BatchStep``, or, bucket by bucket (a job's run), through ``BucketStep``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from .batching import DeviceBatches, NumbaBatches, corpus_from_indexed_docs, numba_threads, partition_draws
from .buckets import Buckets
from .checkpoint import Checkpoint
from .config import Config
from .corpus import EncodedCorpus
from .errors import UserError, setting
from .kernels import (
    STREAM_NEGATIVE,
    STREAM_NEGATIVE_COIN,
    STREAM_SHUFFLE,
    draw_negatives_at,
    keep_thresholds,
    stream_base,
)
from .loop import Run, RunProgress, bucket_rounds, windowed
from .model import SkipGramNS, cbow_sgd_step
from .progress import compiling
from .stats import Weights
from .vectors import Vectors


def make_batches(corpus: EncodedCorpus, config: Config, device: torch.device):
    """The batch builder of ``config``'s settings: numba's on the CPU, the device-resident one on a GPU."""
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


class TorchChunks:
    """The torch backend's chunk trainer (``loop.ChunkTrainer``): a chunk's pairs in batches, in order, through
    ``BatchStep`` (CBOW: its windows, ``train_windows``); or, with the run's buckets, span by span and bucket by
    bucket through ``BucketStep``. Each batch's loss is summed on the device (``loss``) and read every
    few dozen batches. Its kernels (numba's batch builders, Triton's fused step) are compiled when it is built."""

    backend = "torch"

    @staticmethod
    @contextlib.contextmanager
    def threads(config: Config):
        """numba's threads, and torch's on a CPU given ``workers``; torch's as they were afterwards."""
        before = torch.get_num_threads()
        if config.workers and config.torch_device().type == "cpu":
            torch.set_num_threads(config.threads)
        try:
            with numba_threads(config.threads):
                yield
        finally:
            torch.set_num_threads(before)  # a library call leaves the process as it found it

    def __init__(self, run: Run):
        corpus, config = run.corpus, run.config
        self.corpus, self.config, self.weights = corpus, config, run.weights
        self.device = device = config.torch_device()
        torch.manual_seed(config.seed)  # the embeddings' initialisation
        sparse = config.optimizer == "sparse_adam"
        self.model = SkipGramNS(len(corpus.vocab), config.vector_size, sparse=sparse).to(device)
        self.batches = make_batches(corpus, config, device)
        self.n_chunks, self.chunk_bounds = self.batches.n_chunks, self.batches.chunk_bounds
        compile_batch_kernels(config, device)
        self.optimizer, self.steps, start_lr = make_optimizer(self.model, config, self.batches, device)
        start_from(self.model, run.resumed, run.weights, self.optimizer)
        kernel = config.resolved_sgd_kernel() if config.optimizer == "sgd" else None
        self.stats = run.new_stats(str(device), start_lr, kernel)
        fused = fused_step(self.model, config, self.batches) if kernel == "triton" else None
        self.sync = run.ring(self.model.in_embed.weight, self.model.out_embed.weight)
        self.group = run.group
        self.step = BatchStep(self.model, config, self.batches, self.optimizer, fused)
        self.loss = DeviceLoss(device, run.state.batches)
        self.bucket_step = None
        if run.buckets is not None:
            self.bucket_step = BucketStep(run.buckets, corpus, config, self.model, fused, self.sync)

    def train(self, epoch: int, c: int, progress: RunProgress) -> None:
        """Train chunk c of ``epoch``; each batch's loss into ``loss``, its examples and tokens to ``progress``."""
        cfg, n_tokens = self.config, self.corpus.n_tokens
        if self.bucket_step is not None:
            examples = self.bucket_step.chunk(self.chunk_bounds, epoch, c, self.loss, progress)
            progress.advance(epoch, examples, int(self.corpus.starts[self.chunk_bounds[c + 1]]))
            return
        if not cfg.sg:
            self.train_windows(epoch, c, progress)
            return
        for batch in self.batches.chunk_batches(epoch, c, c + 1):
            self.step(epoch, batch, cfg.lr_at((epoch + batch.start) / cfg.epochs, self.steps), self.loss.total)
            self.loss.trained(epoch, batch.center.shape[0], progress)
            progress.advance(epoch, batch.center.shape[0], round(batch.end * n_tokens))

    def train_windows(self, epoch: int, c: int, progress: RunProgress) -> None:
        """CBOW: chunk c's windows (``chunk_windows``) in batches of ``batch_size`` windows through the fused
        kernels on a GPU (``FusedStep.cbow_step``), else ``model.cbow_sgd_step``; their negatives drawn for
        their centers' kept positions (hogwild's)."""
        cfg, device = self.config, self.device
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
                self.step.fused.cbow_step(*batch, lr, cfg.trust, self.loss.total, bool(cfg.cbow_mean))
            else:
                self.loss.total += cbow_sgd_step(self.model, *batch, lr, bool(cfg.cbow_mean), cfg.trust)
            self.loss.trained(epoch, last - first, progress)
            progress.advance(epoch, last - first, round(t0 + (t1 - t0) * last / n))

    def read_loss(self, epoch: int, progress: RunProgress) -> None:
        self.loss.read(epoch, progress)

    def matrices(self) -> dict[str, torch.Tensor]:
        return {"w_in": self.model.in_embed.weight.detach(), "w_out": self.model.out_embed.weight.detach()}

    def optimizer_state(self) -> dict | None:
        return self.optimizer.state_dict() if self.optimizer is not None else None

    def input_vectors(self) -> np.ndarray:
        return self.model.in_embed.weight.detach().float().cpu().numpy()

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def result(self) -> Vectors:
        """The trained vectors; with the run's weights, the matrices back into the caller's. In a job, the loss
        figures become the job's: this rank's loss summed over the ranks (its examples are every rank's already)."""
        if self.group is not None:
            self.stats.loss_total = self.group.sum([self.stats.loss_total], "summing the job's loss")[0]
        w_in, w_out = self.model.in_embed.weight.detach(), self.model.out_embed.weight.detach()
        if self.weights is not None:
            self.weights.w_in[...] = w_in.float().cpu().numpy()
            self.weights.w_out[...] = w_out.float().cpu().numpy()
        final = w_in if self.config.final_vectors == "in" else (w_in + w_out) / 2
        return Vectors(self.corpus.vocab.words, final.float().cpu().numpy(), self.corpus.vocab.counts)


def compile_batch_kernels(config: Config, device: torch.device) -> None:
    """numba compiles the batch kernels on first use: on a one-document corpus of the same types, before the clock
    starts, so that words/s is training only."""
    with compiling():
        batches = make_batches(corpus_from_indexed_docs([list(range(50)) * 40], 50), config, device)  # 2,000 tokens
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
            f"({start_lr:.4g}): pass a smaller {setting('min_alpha')}, or {setting('alpha')}"
        )
    if config.optimizer == "adam":
        # fused: one kernel for the whole update on a GPU (the dense (V, d) moments are the cost there)
        optimizer = torch.optim.Adam(model.parameters(), lr=start_lr, fused=device.type == "cuda")
    elif config.optimizer == "sparse_adam":
        optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=start_lr)
    return optimizer, steps, start_lr


def start_from(model: SkipGramNS, resumed: Checkpoint | None, weights: Weights | None, optimizer) -> None:
    """The model's matrices (and the optimizer's state) from the checkpoint a run resumes, or from ``weights``
    (continued training); else they stay as SkipGramNS drew them."""
    W_in, W_out = model.in_embed.weight, model.out_embed.weight
    if resumed is not None:
        with torch.no_grad():
            W_in.copy_(resumed.tensors["w_in"])
            W_out.copy_(resumed.tensors["w_out"])
        if optimizer is not None:
            optimizer.load_state_dict(resumed.optimizer_state())
    elif weights is not None:
        with torch.no_grad():
            W_in.copy_(torch.from_numpy(weights.w_in))
            W_out.copy_(torch.from_numpy(weights.w_out))


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
    The batch's summed loss is added to ``loss_total`` (a tensor on the device: no sync)."""

    def __init__(self, model: SkipGramNS, config: Config, batches, optimizer, fused):
        self.model, self.config, self.batches, self.optimizer, self.fused = model, config, batches, optimizer, fused
        self.device = model.in_embed.weight.device
        if fused is not None:
            from .fused import stream_bases

            self.stream_bases = stream_bases

    def __call__(self, epoch: int, batch, lr: float, loss_total: torch.Tensor) -> None:
        cfg = self.config
        center, pos = batch.center.to(self.device), batch.context.to(self.device)
        if self.fused is not None:  # the negatives are drawn in the kernel
            base_col, base_coin = self.stream_bases(cfg.seed, epoch, batch.chunk)
            self.fused.step(center, pos, lr, cfg.trust, loss_total, draw=(base_col, base_coin, batch.first))
            return
        negs = self.batches.negatives(epoch, batch.chunk, batch.first, center.shape[0]).to(self.device)
        if self.optimizer is None:
            loss_total += self.model.sgd_step(center, pos, negs, lr, trust=cfg.trust)
            return
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self.model(center, pos, negs)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        loss_total += loss.detach() * center.shape[0]


class DeviceLoss:
    """The loss of the batches this process trains, summed on the device (``total``, which each step adds to) and
    read (a sync with the device) every ``every`` batches and when the run asks (``read``: at an epoch's end, for a
    checkpoint), never per batch. ``batches``: the batches trained, a resumed run's before it included."""

    def __init__(self, device: torch.device, batches: int, every: int = 50):
        self.total = torch.zeros((), device=device)
        self.examples = 0  # in ``total``: the examples trained since the last read
        self.batches, self.every = batches, every

    def trained(self, epoch: int, examples: int, progress: RunProgress) -> None:
        """After a batch of ``examples`` examples, whose loss the step added to ``total``."""
        self.examples += examples
        self.batches += 1
        if self.batches % self.every == 0:
            self.read(epoch, progress)

    def read(self, epoch: int, progress: RunProgress) -> None:
        """The loss since the last read to ``progress`` (``RunProgress.add_loss``), and ``total`` back to 0."""
        if not self.examples:
            return
        progress.add_loss(epoch, self.total.item(), self.examples, step=self.batches)
        self.total.zero_()
        self.examples = 0


class BucketStep:
    """The torch backend's buckets (``buckets``): a chunk's pairs made on the CPU span by span, only those of the
    buckets this process trains, grouped by bucket (``kernels.bucket_pairs``), in the order of ``loop.bucket_rounds``,
    each bucket in batches through the SGD step (the fused kernels on a GPU, given the negatives;
    ``SkipGramNS.sgd_step`` elsewhere). Here a pair trains the center's input row against the context's output row
    (the tutorial's orientation), so its bucket is (the center's partition, the context's), and its negatives come
    from the context's partition, drawn for the pair's index in its chunk: numba's draws on the CPU, torch's (the
    same draws) on a GPU. With ``Config.shuffle`` each bucket's pairs are shuffled; the learning rate follows the
    span's tokens over its rounds. ``sync``: a job's ring."""

    def __init__(self, buckets: Buckets, corpus: EncodedCorpus, config: Config, model: SkipGramNS, fused, sync):
        self.buckets, self.corpus, self.config, self.sync = buckets, corpus, config, sync
        self.model, self.fused = model, fused
        self.device = device = model.in_embed.weight.device
        self.keep_threshold = keep_thresholds(corpus.vocab.counts, config.sample)
        if device.type != "cpu":  # each partition's rows of the sampler, for torch's draws
            self.tables = [
                torch.from_numpy(buckets.sampler[lo : lo + size]).to(device)
                for lo, size in map(buckets.table, range(buckets.n))
            ]
        self.warm_up()

    def warm_up(self) -> None:
        """Compile (or load from numba's cache) the kernels of the pairs and their negatives before the clock starts,
        on no pair at all."""
        cfg, corpus = self.config, self.corpus
        if corpus.chunk_bounds(cfg.chunk_tokens).shape[0] < 2:  # a corpus without a chunk
            return
        with compiling():
            chunk = windowed(corpus, corpus.chunk_bounds(cfg.chunk_tokens), 0, self.keep_threshold, cfg, 0)
            self.buckets.span_pairs(
                chunk.kept, chunk.kept_starts, chunk.pair_offsets, (0, 1), cfg, chunk.window_base, False
            )
            if self.device.type == "cpu":
                no_pairs = np.zeros(0, dtype=np.int64)
                draw_negatives_at(
                    self.buckets.sampler, 0, 1, 0, 0, no_pairs, np.empty((0, cfg.negative), dtype=np.int64)
                )

    def chunk(self, bounds: np.ndarray, epoch: int, c: int, loss: DeviceLoss, progress: RunProgress) -> int:
        """Train chunk c of ``epoch`` bucket by bucket, each batch's loss into ``loss``; returns the chunk's examples
        (all ranks' together)."""
        cfg, corpus, buckets = self.config, self.corpus, self.buckets
        chunk = windowed(corpus, bounds, c, self.keep_threshold, cfg, epoch)
        draws = [int(stream_base(cfg.seed, epoch, stream, c)) for stream in (STREAM_NEGATIVE, STREAM_NEGATIVE_COIN)]
        shuffle = int(stream_base(cfg.seed, epoch, STREAM_SHUFFLE, c))
        first = epoch * corpus.n_tokens + int(corpus.starts[bounds[c]])  # the chunk's first token, of all epochs
        span_tokens, where = cfg.resolved_span_tokens(corpus.n_tokens), f"chunk {c + 1}, epoch {epoch + 1}"
        for step in bucket_rounds(buckets, self.sync, chunk, cfg, span_tokens, False, where):
            t0, t1 = (first + int(chunk.starts[p]) for p in step.pieces)
            rounds_done = step.round + (step.part + 1) / buckets.subparts  # of the span's, at the step's end
            for owner in buckets.owners:
                b = step.bucket(owner)
                x, y, pair_index = step.pairs.x[b], step.pairs.y[b], step.pairs.pair_index[b]
                if cfg.shuffle:
                    key = [shuffle, step.span, step.round, step.part, owner]
                    order = np.random.default_rng(key).permutation(x.shape[0])
                    x, y, pair_index = x[order], y[order], pair_index[order]
                where_lr = (t0, t1, rounds_done)
                self.train(owner, chunk.kept[x], chunk.kept[y], pair_index, draws, where_lr, epoch, loss, progress)
        return int(chunk.pair_offsets[-1])

    def train(
        self,
        owner: int,
        center: np.ndarray,
        context: np.ndarray,
        pair_index: np.ndarray,
        draws,
        where,
        epoch: int,
        loss: DeviceLoss,
        progress: RunProgress,
    ) -> None:
        """One bucket's pairs in batches; ``where``: the span's first and end token, and the rounds of the span done
        at the bucket's end (its learning rate moves over the span's tokens as the rounds go)."""
        cfg, device = self.config, self.device
        (t0, t1, done_after), n = where, center.shape[0]
        done_before = done_after - 1 / self.buckets.subparts
        center, context = (torch.from_numpy(a).long().to(device) for a in (center, context))
        for first in range(0, n, cfg.batch_size):
            rows = slice(first, first + cfg.batch_size)
            negs = self.negatives(owner, draws, pair_index[rows])
            done = done_before + (done_after - done_before) * min(first + cfg.batch_size, n) / n
            lr = cfg.lr_at((t0 + (t1 - t0) * done / self.buckets.n) / (cfg.epochs * self.corpus.n_tokens))
            if self.fused is not None:
                self.fused.step(center[rows], context[rows], lr, cfg.trust, loss.total, negs=negs)
            else:
                loss.total += self.model.sgd_step(center[rows], context[rows], negs, lr, trust=cfg.trust)
            loss.trained(epoch, negs.shape[0], progress)

    def negatives(self, owner: int, draws, pair_index: np.ndarray) -> torch.Tensor:
        """The negatives of pairs ``pair_index`` of a chunk, from partition ``owner`` (the contexts')."""
        negative = self.config.negative
        if self.device.type == "cpu":
            negs = np.empty((pair_index.shape[0], negative), dtype=np.int64)
            draw_negatives_at(self.buckets.sampler, *self.buckets.table(owner), *draws, pair_index, negs)
            return torch.from_numpy(negs)
        slots = torch.from_numpy(pair_index).to(self.device)[:, None] * negative
        return partition_draws(self.tables[owner], *draws, slots + torch.arange(negative, device=self.device))
