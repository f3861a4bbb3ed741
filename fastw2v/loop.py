"""The training loop both backends share: the schedule of a run (its epochs, each epoch's chunks, from where a
resumed run starts) and, chunk after chunk, the one place where a chunk is trained, a checkpoint is written, the
epoch's callback runs and, in a job of several ranks, the model is gathered.

A backend brings a chunk trainer (``hogwild.ChunkTrainer``, ``train.TorchChunks``): ``train(epoch, c, progress)``
trains chunk c, reporting its pairs and loss to the progress; ``matrices()`` are its matrices by name (w_in,
w_out; syn1 with hs) as a checkpoint saves them, ``optimizer_state()`` the optimizer's state_dict or None,
``input_vectors()`` the input rows as a numpy array for the epoch's callback. Inside ``train`` a chunk may be cut into spans and rounds of buckets
(``buckets``), with the ring's hand-overs between them.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Iterator

import torch

from .checkpoint import RunCheckpoints, TrainState, next_position
from .progress import Progress
from .stats import TrainStats, diverged


def chunks(start: TrainState, epochs: int, n_chunks: int) -> Iterator[tuple[int, int]]:
    """(epoch, chunk) of every chunk a run trains, in order, from ``start``'s position (a resumed run's)."""
    for epoch in range(start.epoch, epochs):
        for c in range(start.chunk if epoch == start.epoch else 0, n_chunks):
            yield epoch, c


def fit(
    trainer,
    run: RunCheckpoints,
    progress: RunProgress,
    start: TrainState,
    sync=None,
    on_epoch_end=None,
    output_rows: bool = False,
) -> None:
    """Train ``trainer``'s chunks from ``start`` to the end of the last epoch. After each chunk a checkpoint when
    one is due (``run``), after each epoch ``on_epoch_end(epoch, input_vectors, stats)``; a job's ring (``sync``)
    gathers every rank's rows before either, and at the end (the output rows only when ``output_rows``)."""
    last = trainer.n_chunks - 1
    with run, contextlib.closing(progress.bar):
        for epoch, c in chunks(start, progress.epochs, trainer.n_chunks):
            trainer.train(epoch, c, progress)
            if c == last:
                progress.end_epoch(epoch)
            run.chunk_done(
                functools.partial(snapshot, trainer, progress, sync, *next_position(epoch, c, last + 1)),
                epoch_end=c == last,
            )
            if c == last and on_epoch_end is not None:
                if sync is not None:
                    sync.collect("gathering the model for the end of an epoch")
                on_epoch_end(epoch, trainer.input_vectors(), progress.stats)
        if sync is not None:
            sync.collect("gathering the trained model", output_rows=output_rows)
    progress.finish()


def snapshot(trainer, progress: RunProgress, sync, epoch: int, chunk: int) -> tuple:
    """What a checkpoint taken before chunk ``chunk`` of ``epoch`` saves (``RunCheckpoints.chunk_done``)."""
    if sync is not None:
        sync.collect("gathering the model for a checkpoint")
    return progress.state(epoch, chunk), trainer.matrices(), trainer.optimizer_state()


class RunProgress:
    """A run's progress bar, its loss figures and its clock, from where a resumed run was. The torch backend adds
    its batches (``batch``): their loss stays on the device in ``loss_sum``, read every ``every`` batches and at
    an epoch's end, never per batch (a sync). hogwild adds its chunks' figures (``chunk``)."""

    def __init__(
        self,
        stats: TrainStats,
        epochs: int,
        progress: bool,
        start: TrainState,
        tokens_done: int,
        device: torch.device | None = None,
        every: int = 50,
    ):
        self.stats, self.epochs, self.every, self.device = stats, epochs, every, device
        self.bar = Progress("train", total=stats.tokens * epochs, initial=tokens_done, unit="w", enabled=progress)
        self.loss_sum = torch.zeros((), device=device)  # the torch backend's loss of its pairs since the last read
        self.pairs_since = 0
        self.batches = start.batches
        self.smoothed = start.smoothed_loss
        self.prior_seconds = start.seconds
        self.start = time.perf_counter()

    def chunk(self, epoch: int, loss: float, pairs: int, tokens_done: int, lr: float) -> None:
        """After a chunk of ``pairs`` pairs and summed ``loss`` (hogwild's figures, the whole job's); ``tokens_done``:
        the epoch's tokens done so far. A loss that is not finite stops the run: nothing after it can be used."""
        self.stats.pairs += pairs
        self.stats.loss_total += loss
        if pairs:
            mean = loss / pairs
            if not math.isfinite(mean):
                raise diverged(self.stats.start_lr)
            self.stats.loss_history.append((len(self.stats.loss_history) + 1, mean))
            self.smoothed = mean if self.smoothed is None else 0.7 * self.smoothed + 0.3 * mean
        self.bar.set(
            epoch=f"{epoch + 1}/{self.epochs}",
            loss="-" if self.smoothed is None else f"{self.smoothed:.4f}",
            lr=f"{lr:.5f}",
        )
        self._advance(epoch, tokens_done)

    def batch(self, epoch: int, pairs: int, tokens_done: int, trained: bool = True) -> None:
        """After a batch of ``pairs`` pairs; ``tokens_done``: the epoch's tokens done so far. ``trained``: by this
        process (in a job of several ranks the others train the rest; the loss is this rank's)."""
        self.stats.pairs += pairs
        if trained:
            self.trained(epoch, pairs)
        self._advance(epoch, tokens_done)

    def trained(self, epoch: int, pairs: int) -> None:
        """After this process trained a batch of ``pairs`` pairs (whose loss is in ``loss_sum``)."""
        self.pairs_since += pairs
        self.batches += 1
        if self.batches % self.every == 0:
            self._read_loss(epoch)

    def _advance(self, epoch: int, tokens_done: int) -> None:
        self.bar.update(epoch * self.stats.tokens + tokens_done - self.bar.n)

    def end_epoch(self, epoch: int) -> None:
        if self.pairs_since:
            self._read_loss(epoch)
        self._advance(epoch + 1, 0)
        self.bar.epoch_done(epoch, self.epochs, self.smoothed)

    def _read_loss(self, epoch: int) -> None:
        total = self.loss_sum.item()
        mean = total / self.pairs_since
        self.stats.loss_total += total
        self.stats.loss_history.append((self.batches, mean))
        self.smoothed = mean if self.smoothed is None else 0.7 * self.smoothed + 0.3 * mean
        self.loss_sum.zero_()
        self.pairs_since = 0
        self.bar.set(epoch=f"{epoch + 1}/{self.epochs}", loss=f"{self.smoothed:.4f}")

    def state(self, epoch: int, chunk: int) -> TrainState:
        """The run's TrainState for a checkpoint taken when ``chunk`` of ``epoch`` is next."""
        if self.pairs_since:  # a checkpoint's loss figures include the batches since the last read
            self._read_loss(min(epoch, self.epochs - 1))
        return TrainState(
            epoch,
            chunk,
            pairs=self.stats.pairs,
            seconds=self.seconds(),
            smoothed_loss=self.smoothed,
            loss_history=self.stats.loss_history,
            batches=self.batches,
        )

    def seconds(self) -> float:
        """Training time, this run's and the runs' before it (a resumed run's)."""
        return self.prior_seconds + time.perf_counter() - self.start

    def finish(self) -> None:
        """The clock stops (once the device's work is done): the run's times and its final loss into ``stats``."""
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.synchronize()
        self.stats.seconds, self.stats.resumed_seconds = self.seconds(), self.prior_seconds
        self.stats.final_loss = self.smoothed if self.smoothed is not None else float("nan")
