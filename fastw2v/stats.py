"""What the trainers share, below both: the statistics a run reports, how it reports divergence, and the weights
it may start from and leave its result in. (The training loop and both backends import this; it imports none of
them.)"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UserError, setting

# SGNS vectors have components of order 1 (word2vec.c's and gensim's too); a component past this has run
# away (their squared norms overflow float32 from ~1e18 on, so similarities are meaningless long before).
DIVERGED_ABOVE = 1e6


@dataclass
class Weights:
    """A model's matrices, float32 (V, d): a run given them starts from them instead of a fresh initialisation, and
    writes its result back into them (continued training, ``fastw2v.Word2Vec``). ``w_out`` are the negatives'
    output rows (gensim's syn1neg; (0, d) without negatives), ``syn1`` hierarchical softmax's inner nodes (with
    hs), whose rows are the inner nodes of ``tree`` (a ``huffman.HuffmanTree``; None: word2vec.c's tree of the
    counts). ``lockf`` (gensim's ``vectors_lockf``): each input row's updates are scaled by its factor (0: the row
    never changes), one factor for all rows or one per row; None: all 1."""

    w_in: np.ndarray
    w_out: np.ndarray
    syn1: np.ndarray | None = None
    lockf: np.ndarray | None = None
    tree: object = None


@dataclass
class TrainStats:
    """A run's figures (``vectors.stats``). Its ``examples`` are the updates it trained: (center, context) pairs
    under skip-gram, windows (a center with its context) under CBOW; ``pairs`` reads the same count."""

    backend: str
    device: str
    epochs: int
    vocab_size: int
    tokens: int  # in-vocabulary tokens per epoch (before sub-sampling)
    start_lr: float = float("nan")  # the learning rate at the start (Config.start_lr)
    examples: int = 0  # examples trained on, all epochs: skip-gram's (center, context) pairs, CBOW's windows
    seconds: float = 0.0  # training time, this run's and, for a resumed run, the runs' before it
    resumed_seconds: float = 0.0  # of ``seconds``, the training time of the runs before (a resumed run's checkpoint)
    final_loss: float = float("nan")  # mean loss per example over the last part of training
    kernel: str | None = None  # the torch backend's sgd step: triton (fastw2v.fused) or torch
    checkpoint_seconds: float = 0.0  # of ``seconds``, the time spent writing checkpoints
    min_count: int | None = None  # the corpus's, when known (an encoded folder keeps the one it was encoded with)
    encode_seconds: float | None = None  # reading and encoding the text (both passes); None: it came encoded or cached
    raw_tokens: int | None = None  # tokens of the text read when it was encoded (before min_count)
    loss_total: float = 0.0  # the loss summed over every example trained on (gensim's running_training_loss)
    loss_history: list = field(default_factory=list)
    world_size: int = 1  # processes of a distributed job (torchrun); examples, loss and words/s are the whole job's
    rank: int = 0  # this process's rank (0 writes the job's files)
    sync_seconds: float = (
        0.0  # of ``seconds``, the time its training waited for the others' rows (hand-overs, collects)
    )
    sync_bytes: int = 0  # bytes this rank received from the others
    transfer_seconds: float = 0.0  # time this rank's transfers took, most of it beside training (``buckets``)
    buckets: bool = False  # the run trained bucket by bucket (``buckets``), not every pair in text order
    span_tokens: int | None = None  # with buckets: the tokens of a span (Config.resolved_span_tokens)

    def note_group(self, group) -> None:
        """A job's figures (``group.Group``)."""
        self.world_size, self.rank = group.world, group.rank
        self.sync_seconds, self.sync_bytes = group.sync_seconds, group.sync_bytes
        self.transfer_seconds = group.transfer_seconds

    @property
    def run_seconds(self) -> float:
        """This run's training time (``seconds`` less the runs' before it)."""
        return self.seconds - self.resumed_seconds

    @property
    def words_per_sec(self) -> float:
        """word2vec.c's count: in-vocabulary corpus tokens per second of training (kernels compiled before its clock
        starts), before sub-sampling."""
        return self.tokens * self.epochs / self.seconds if self.seconds else float("nan")


def diverged(start_lr: float) -> UserError:
    """The error of a run whose loss or vectors ran away, at start learning rate ``start_lr``."""
    return UserError(
        f"training diverged (the loss or the vectors became NaN, inf or larger than {DIVERGED_ABOVE:g}) "
        f"at start learning rate {start_lr:g}: lower {setting('alpha')} (word2vec's default is 0.025)"
    )
