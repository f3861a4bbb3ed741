"""The training loop both backends share: one run's set-up (``Run``: the checkpoints and the position a resumed run
starts from, the buckets and ring of a job of several ranks), its progress and clock (``RunProgress``), ``fit``,
which trains a backend's chunks epoch after epoch, with the checkpoints, the epoch's callback and a job's gathers
between them, and ``bucket_rounds``, the order of a chunk trained bucket by bucket (``buckets``), for both backends.

A backend is a class that meets ``ChunkTrainer`` (``hogwild.ChunkTrainer``, ``torch_backend.TorchChunks``): built
from the Run (its matrices from a checkpoint, the caller's weights or fresh; its kernels compiled before the clock
starts), it trains one chunk of an epoch at a time and reports to the RunProgress. ``fastw2v.train`` picks it.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from typing import ClassVar, NamedTuple, Protocol

import numpy as np

from .buckets import Buckets, RingSync, SpanPairs, job_buckets, spans
from .checkpoint import RunCheckpoints, TrainState, next_position
from .config import Config
from .corpus import EncodedCorpus
from .group import Group
from .kernels import windowed_chunk
from .progress import Progress, compile_seconds
from .stats import TrainStats, Weights
from .vectors import Vectors


class ChunkTrainer(Protocol):
    """What ``fit`` asks of a backend."""

    backend: ClassVar[str]  # its name in checkpoints and statistics: "hogwild" or "torch"
    n_chunks: int  # the chunks of an epoch
    chunk_bounds: np.ndarray  # their piece bounds (``EncodedCorpus.chunk_bounds``)
    stats: TrainStats  # the run's figures (``Run.new_stats``)

    @staticmethod
    def threads(config: Config) -> contextlib.AbstractContextManager:
        """The run's threads (numba's, torch's) for the whole of ``fit``, set-up included."""

    def __init__(self, run: Run) -> None:
        """The matrices the run starts from, the job's ring (``Run.ring``) and the kernels compiled."""

    def train(self, epoch: int, c: int, progress: RunProgress) -> None:
        """Train chunk c of ``epoch``, reporting its examples and tokens (``advance``) and loss (``add_loss``)."""

    def read_loss(self, epoch: int, progress: RunProgress) -> None:
        """Report the loss of the examples trained since the trainer last did (at an epoch's end, a checkpoint)."""

    def matrices(self) -> dict:
        """The matrices a checkpoint saves, by name: w_in, w_out; syn1 with hs."""

    def optimizer_state(self) -> dict | None:
        """The optimizer's state_dict (Adam's moments), or None."""

    def input_vectors(self) -> np.ndarray:
        """The input rows, for the epoch's callback."""

    def synchronize(self) -> None:
        """Wait for the work queued on a device (the clock stops after it)."""

    def result(self) -> Vectors:
        """The trained vectors, and with the run's weights the matrices back in them; ``stats`` the job's figures."""


class Run:
    """One run's set-up, whatever the backend: its checkpoints (``checkpoints``; ``resumed``: the one it continues,
    or None), the position it starts from (``state``), the caller's ``weights`` (or None) and, in a job of several
    ranks or alone as one (``as_ranks``), its ``buckets`` and the ring between the ranks (``ring``)."""

    def __init__(self, backend: str, corpus: EncodedCorpus, config: Config, weights, group, as_ranks: int):
        self.backend, self.corpus, self.config, self.weights, self.group = backend, corpus, config, weights, group
        self.checkpoints = RunCheckpoints(config, corpus, backend, group)
        self.resumed = self.checkpoints.resume_from
        self.state = TrainState() if self.resumed is None else self.resumed.state
        self.buckets: Buckets | None = job_buckets(group, corpus, config, as_ranks)
        self.sync: RingSync | None = None

    def ring(self, w_in, w_out) -> RingSync | None:
        """A job's ring over the trainer's matrices ``w_in``, ``w_out`` (``buckets.RingSync``); None alone."""
        if self.group is not None:
            self.sync = RingSync(self.group, w_in, w_out, self.buckets)
        return self.sync

    def new_stats(self, device: str, start_lr: float, kernel: str | None = None) -> TrainStats:
        """The run's TrainStats, with a resumed run's figures so far."""
        corpus, state = self.corpus, self.state
        return TrainStats(
            self.backend,
            device,
            self.config.epochs,
            len(corpus.vocab),
            corpus.n_tokens,
            start_lr=start_lr,
            examples=state.examples,
            loss_history=list(state.loss_history),
            kernel=kernel,
        )

    @property
    def output_rows(self) -> bool:
        """Whether a job gathers the output rows at the end: they are in the result."""
        return self.config.final_vectors == "avg" or self.weights is not None


def fit(
    backend: type[ChunkTrainer],
    corpus: EncodedCorpus,
    config: Config,
    progress: bool = True,
    weights: Weights | None = None,
    on_epoch_end=None,
    group: Group | None = None,
    as_ranks: int = 0,
) -> tuple[Vectors, TrainStats]:
    """Train ``corpus`` with ``backend``'s chunk trainer from the run's start (a resumed run's position) to the end
    of the last epoch. After each chunk a checkpoint when one is due, after each epoch ``on_epoch_end(epoch,
    input_vectors, stats)``; a job's ring gathers every rank's rows before either, and at the end. The clock starts
    once the kernels are compiled (on all ranks together) and stops once the device is done."""
    with backend.threads(config):
        run = Run(backend.backend, corpus, config, weights, group, as_ranks)
        trainer = backend(run)
        if group is not None:
            group.barrier("compiling the kernels")
        tokens_done = run.state.tokens_done(corpus, trainer.chunk_bounds, config.epochs)
        run_progress = RunProgress(trainer.stats, config.epochs, progress, run.state, tokens_done)
        last, sync = trainer.n_chunks - 1, run.sync
        with run.checkpoints, contextlib.closing(run_progress.bar):
            for epoch, c in chunks(run.state, config.epochs, trainer.n_chunks):
                trainer.train(epoch, c, run_progress)
                if c == last:
                    trainer.read_loss(epoch, run_progress)
                    run_progress.end_epoch(epoch)
                after = next_position(epoch, c, trainer.n_chunks)
                run.checkpoints.chunk_done(
                    functools.partial(snapshot, trainer, run_progress, sync, *after), epoch_end=c == last
                )
                if c == last and on_epoch_end is not None:
                    if sync is not None:
                        sync.collect("gathering the model for the end of an epoch")
                    on_epoch_end(epoch, trainer.input_vectors(), trainer.stats)
            if sync is not None:
                sync.collect("gathering the trained model", output_rows=run.output_rows)
        trainer.synchronize()
        run_progress.finish()
        finish_stats(trainer.stats, run)
        return trainer.result(), trainer.stats


def chunks(start: TrainState, epochs: int, n_chunks: int) -> Iterator[tuple[int, int]]:
    """(epoch, chunk) of every chunk a run trains, in order, from ``start``'s position (a resumed run's)."""
    for epoch in range(start.epoch, epochs):
        for c in range(start.chunk if epoch == start.epoch else 0, n_chunks):
            yield epoch, c


def snapshot(trainer: ChunkTrainer, progress: RunProgress, sync, epoch: int, chunk: int) -> tuple:
    """What a checkpoint taken before chunk ``chunk`` of ``epoch`` saves (``RunCheckpoints.chunk_done``)."""
    if sync is not None:
        sync.collect("gathering the model for a checkpoint")
    trainer.read_loss(min(epoch, progress.epochs - 1), progress)  # the loss figures up to the checkpoint
    return progress.state(epoch, chunk), trainer.matrices(), trainer.optimizer_state()


def finish_stats(stats: TrainStats, run: Run) -> None:
    """The run's figures beside training: checkpoint writes, the buckets' span and a job's syncs."""
    stats.checkpoint_seconds = run.checkpoints.seconds_saving
    if run.buckets is not None:
        stats.buckets, stats.span_tokens = True, run.config.resolved_span_tokens(run.corpus.n_tokens)
    if run.group is not None:
        run.sync.finish()
        stats.note_group(run.group)


class WindowedChunk(NamedTuple):
    """A chunk of an epoch as both backends train it: its pieces' first token positions and the end (``starts``,
    from 0), and the sub-sampled chunk with its windows (``kernels.windowed_chunk``): the ids kept, each piece's
    first kept position (and the end), each piece's first pair index (and the total), and the base of the windows'
    random stream."""

    starts: np.ndarray
    kept: np.ndarray
    kept_starts: np.ndarray
    pair_offsets: np.ndarray
    window_base: int


def windowed(corpus: EncodedCorpus, bounds: np.ndarray, c: int, keep_threshold, config: Config, epoch: int):
    """Chunk c of ``bounds`` in ``epoch``, sub-sampled and windowed (``WindowedChunk``)."""
    ids, starts = corpus.chunk(bounds, c)
    draw = windowed_chunk(ids, starts, keep_threshold, config.window, config.shrink_windows, config.seed, epoch, c)
    return WindowedChunk(starts, *draw)


class BucketRound(NamedTuple):
    """One step of a span trained bucket by bucket: in round ``round`` of the span, input part ``part`` of each
    owner's input partition (``Buckets.input_part``), against the owner's output rows; ``bucket(owner)`` is that
    bucket's slice of the span's ``pairs``. ``span``: the span's number in the chunk, ``pieces`` its pieces."""

    span: int
    pieces: tuple[int, int]
    pairs: SpanPairs
    round: int
    part: int

    def bucket(self, owner: int) -> slice:
        return self.pairs.bucket(owner, self.round, self.part)


def bucket_rounds(
    buckets: Buckets, sync, chunk: WindowedChunk, config: Config, span_tokens: int, output_is_center: bool, where: str
) -> Iterator[BucketRound]:
    """A chunk's buckets in the order a job trains them: span by span (``span_tokens``), each span in ``buckets.n``
    rounds of ``buckets.subparts`` parts; before each part the ring's ``wait()``, after it ``trained()`` with the
    input rows this rank wrote (``sync``, a job's; ``where``: the chunk, for its messages)."""
    for span, pieces in enumerate(spans(chunk.starts, span_tokens)):
        pairs = buckets.span_pairs(
            chunk.kept, chunk.kept_starts, chunk.pair_offsets, pieces, config, chunk.window_base, output_is_center
        )
        for round_number in range(buckets.n):
            for part in range(buckets.subparts):
                if sync is not None:
                    sync.wait()
                yield BucketRound(span, pieces, pairs, round_number, part)
                if sync is not None:
                    written = chunk.kept[pairs.x[pairs.bucket(sync.group.rank, round_number, part)]]
                    sync.trained(written, f"handing on input rows in round {round_number + 1} of {where}")


class RunProgress:
    """A run's progress bar, its loss figures (into ``stats``) and its clock, from where a resumed run was. A chunk
    trainer reports the examples (the whole job's) and tokens it has trained (``advance``) and, when it reads it,
    the loss of its examples (``add_loss``: hogwild each chunk's, the torch backend every few dozen batches, its
    loss summed on the device in between). The clock leaves out kernels compiled while it runs (``compiling``)."""

    def __init__(self, stats: TrainStats, epochs: int, show: bool, start: TrainState, tokens_done: int):
        self.stats, self.epochs = stats, epochs
        self.bar = Progress("train", total=stats.tokens * epochs, initial=tokens_done, unit="w", enabled=show)
        self.steps = start.batches  # the trainer's steps (the torch backend's batches) at its last loss reading
        self.smoothed = start.smoothed_loss
        self.prior_seconds = start.seconds
        self.start, self.compiled_before = time.perf_counter(), compile_seconds()

    def advance(self, epoch: int, examples: int, tokens_done: int, lr: float | None = None) -> None:
        """After ``examples`` examples (the whole job's), up to the first ``tokens_done`` tokens of ``epoch``;
        ``lr``: the learning rate there, to show."""
        self.stats.examples += examples
        if lr is not None:
            self.bar.set(epoch=f"{epoch + 1}/{self.epochs}", loss=self.shown_loss(), lr=f"{lr:.5f}")
        self.move_to(epoch, tokens_done)

    def add_loss(self, epoch: int, loss: float, examples: int, step: int | None = None) -> None:
        """``loss``: the summed loss of ``examples`` examples trained since the last reading; ``step``: the trainer's
        steps so far (the loss history's x axis), or None: the reading's number."""
        mean = loss / examples
        self.stats.loss_total += loss
        if step is not None:
            self.steps = step
        self.stats.loss_history.append((len(self.stats.loss_history) + 1 if step is None else step, mean))
        self.smoothed = mean if self.smoothed is None else 0.7 * self.smoothed + 0.3 * mean
        self.bar.set(epoch=f"{epoch + 1}/{self.epochs}", loss=self.shown_loss())

    def shown_loss(self) -> str:
        return "-" if self.smoothed is None else f"{self.smoothed:.4f}"

    def move_to(self, epoch: int, tokens_done: int) -> None:
        self.bar.update(epoch * self.stats.tokens + tokens_done - self.bar.n)

    def end_epoch(self, epoch: int) -> None:
        self.move_to(epoch + 1, 0)
        self.bar.epoch_done(epoch, self.epochs, self.smoothed)

    def state(self, epoch: int, chunk: int) -> TrainState:
        """The run's TrainState for a checkpoint taken when ``chunk`` of ``epoch`` is next."""
        return TrainState(
            epoch,
            chunk,
            examples=self.stats.examples,
            seconds=self.seconds(),
            smoothed_loss=self.smoothed,
            loss_history=self.stats.loss_history,
            batches=self.steps,
        )

    def seconds(self) -> float:
        """Training time, this run's and the runs' before it (a resumed run's), less kernels compiled meanwhile."""
        compiled = compile_seconds() - self.compiled_before
        return self.prior_seconds + time.perf_counter() - self.start - compiled

    def finish(self) -> None:
        """The clock stops: the run's times and its final loss into ``stats``."""
        self.stats.seconds, self.stats.resumed_seconds = self.seconds(), self.prior_seconds
        self.stats.final_loss = self.smoothed if self.smoothed is not None else float("nan")
