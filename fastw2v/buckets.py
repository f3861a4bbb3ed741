"""Buckets: how the ranks of a job (``group``) split the work of one model so that no row has two writers.

The vocabulary is cut into one partition per rank (``vocab_partitions``: equal shares of the kept tokens and of the
negative distribution). A pair trains one word's input row against another word's output row and the output rows
of its negatives; its bucket is (the input row's word's part, the output row's partition), and its negatives are
drawn from the output row's partition (unigram^0.75 within it). PyTorch-BigGraph trains its entity partitions'
buckets the same way.

Rank r owns the output rows of partition r: it trains every bucket (a, r), and no other rank ever writes those
rows. The input rows travel. The text is trained in spans (``Config.span_tokens``); each span in N rounds, and in
round s rank r trains the buckets of input partition (r + s) mod N, part by part (each partition is cut into
``SUBPARTS`` parts: ``Buckets.subparts``). After a part, the rank hands the rows of it written since the next holder
last held them to rank r - 1, which trains that part in the next round (``RingSync``): while one part travels, the
next trains. The rows sent follow the words of the text trained, not the size of the vocabulary, and the output
rows (which the negatives touch all over) never move while training. After N rounds every pair of the span was
trained once, and each rank again holds the input partition of its own number. ``loop.bucket_rounds`` goes through
a chunk's buckets in this order, for both backends.

A row has one writer between two hand-overs, so the job trains, bit for bit, the model of one process that takes
the buckets in turn (``train_corpus(..., as_ranks=N)``). What differs from one process training every pair in
text order is where the negatives come from (1/N of the vocabulary, holding about 1/N of the negative
distribution) and the order of the pairs within a span: docs/distributed.md measures both.
"""

from __future__ import annotations

import queue
import threading

import numpy as np
import torch

from . import kernels as K
from .group import Group, SyncTimer

NEVER = -(1 << 62)  # the round stamp of a row not written since training started
SUBPARTS = 2  # parts of an input partition: one travels to the next rank while the next one trains


def vocab_partitions(mass: np.ndarray, negative_weights: np.ndarray, n: int) -> np.ndarray:
    """Each word's partition (int32[V]) of ``n``, about equal in both ``mass`` (the kept tokens: the pairs a word
    is in) and ``negative_weights`` (its weight in the negatives' distribution, unigram^0.75): words in decreasing
    order of mass, each into the partition with the least of the two shares summed so far (greedy, as in
    longest-processing-time scheduling)."""
    mass = np.asarray(mass, dtype=np.float64)
    weights = np.asarray(negative_weights, dtype=np.float64)
    share = mass / max(mass.sum(), 1e-300) + weights / max(float(np.sum(weights)), 1e-300)
    load = np.zeros(n)
    partition = np.empty(mass.shape[0], dtype=np.int32)
    for w in np.argsort(-mass, kind="stable"):
        k = int(np.argmin(load))
        partition[w] = k
        load[k] += share[w]
    return partition


class Buckets:
    """The vocabulary cut into ``n`` partitions, each cut into ``subparts`` parts for the input rows, and which ranks'
    buckets this process trains (``owners``: its own rank in a job, every rank in turn alone). ``partition``: each
    word's partition (its output rows' owner); ``part``: its input rows' part, partition * subparts + its part within
    it; ``sampler``: the alias tables of the partitions' negatives (``kernels.partition_sampler``, ``table(b)``),
    drawn by ``negative_weights`` (each word's weight in the negatives' distribution)."""

    def __init__(
        self,
        counts: np.ndarray,
        keep_threshold: np.ndarray,
        negative_weights: np.ndarray,
        n: int,
        owners: list[int] | None = None,
        subparts: int = SUBPARTS,
    ):
        self.n, self.subparts = n, subparts
        self.owners = list(range(n)) if owners is None else list(owners)
        weights = np.asarray(negative_weights, dtype=np.float64)
        mass = np.asarray(counts, dtype=np.float64) * np.minimum(np.asarray(keep_threshold) / K.TWO32, 1.0)
        self.partition = vocab_partitions(mass, weights, n)
        self.words = [np.flatnonzero(self.partition == b).astype(np.int64) for b in range(n)]
        self.part = np.empty(mass.shape[0], dtype=np.int32)
        for b, words in enumerate(self.words):
            self.part[words] = b * subparts + vocab_partitions(mass[words], weights[words], subparts)
        self.part_words = [np.flatnonzero(self.part == j).astype(np.int64) for j in range(n * subparts)]
        self.sampler, self.sampler_starts = K.partition_sampler(weights, self.partition, n)
        self.slot_of = np.full(n, -1, dtype=np.int32)  # each owned output partition's place in a span's pairs
        self.slot_of[self.owners] = np.arange(len(self.owners), dtype=np.int32)

    def input_part(self, owner: int, s: int, i: int) -> int:
        """The input part rank ``owner`` trains i-th in round s of a span: part i of partition owner + s."""
        return (owner + s) % self.n * self.subparts + i

    def table(self, b: int) -> tuple[int, int]:
        """Where partition b's negatives are in ``sampler``: (first row, rows)."""
        lo = int(self.sampler_starts[b])
        return lo, int(self.sampler_starts[b + 1]) - lo

    def span_pairs(
        self, kept, kept_starts, pair_offsets, pieces, config, window_base: int, output_is_center: bool
    ) -> SpanPairs:
        """The pairs of one span that this process trains, grouped by bucket (``kernels.bucket_pairs``)."""
        x, y, pair_index, key_starts = K.bucket_pairs(
            kept,
            kept_starts,
            pair_offsets,
            pieces,
            config.window,
            config.shrink_windows,
            window_base,
            self.partition,
            self.part,
            self.n * self.subparts,
            self.slot_of,
            output_is_center,
        )
        return SpanPairs(self, x, y, pair_index, key_starts)


class SpanPairs:
    """One span's pairs of the buckets this process trains: ``x``, ``y`` the kept positions of each pair's input-row
    and output-row words, ``pair_index`` its index in the chunk (its draws' key); ``bucket(owner, s, i)`` the slice
    of rank ``owner``'s i-th bucket in round s."""

    def __init__(self, buckets: Buckets, x, y, pair_index, key_starts):
        self.buckets, self.x, self.y, self.pair_index, self.key_starts = buckets, x, y, pair_index, key_starts

    def bucket(self, owner: int, s: int, i: int) -> slice:
        b = self.buckets
        key = b.slot_of[owner] * b.n * b.subparts + b.input_part(owner, s, i)
        return slice(int(self.key_starts[key]), int(self.key_starts[key + 1]))


def spans(starts: np.ndarray, span_tokens: int) -> list[tuple[int, int]]:
    """A chunk's pieces (``starts``: their first token positions and the end) cut into spans of about
    ``span_tokens`` tokens: (first piece, end piece) of each, whole pieces, none empty."""
    n_pieces = starts.shape[0] - 1
    cuts = np.searchsorted(starts, np.arange(starts[0] + span_tokens, starts[-1], span_tokens), side="left")
    bounds = np.unique(np.concatenate([[0], np.clip(cuts, 0, n_pieces), [n_pieces]]))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def job_buckets(group: Group | None, corpus, config, as_ranks: int = 0) -> Buckets | None:
    """The Buckets of a job of several ranks, or of one process training a job's model (``as_ranks`` > 1); None
    when one process trains every pair in text order."""
    n = group.world if group is not None else as_ranks
    if n < 2:
        return None
    vocab = corpus.vocab
    return Buckets(
        vocab.counts,
        K.keep_thresholds(vocab.counts, config.sample),
        vocab.unigram_weights(config.ns_exponent),
        n,
        None if group is None else [group.rank],
    )


class RingSync:
    """The input rows' hand-over between buckets (the output rows stay with their owner), and ``collect()``, which
    makes every rank's matrices whole (before a checkpoint, a callback and at the end).

    This rank trains its buckets in a fixed order (``Buckets.input_part``): before each, ``wait()``; after it,
    ``trained(rows written)``. A courier thread then hands the part on to rank r - 1, which trains it next, and takes
    the part rank r + 1 has just trained, which this rank trains in the next round: it travels while this rank trains
    its next part. Rank r - 1 last held the part N - 1 rounds ago; since then its rows were written in rounds
    g - N + 2 .. g (g: the round now) by the ranks that held it. Each rank stamps the rows it writes with the round, and
    sends the rows of the part stamped since then (their ids, stamps and values; it got the earlier ones from its
    neighbour, stamps included): at 2 ranks, the rows it wrote itself. ``w_in``, ``w_out``: numpy arrays (views are
    fine: the hogwild trainer's padded rows) or torch tensors, changed in place."""

    def __init__(self, group: Group, w_in, w_out, buckets: Buckets):
        self.group, self.buckets = group, buckets
        self.w_in, self.w_out = w_in, w_out
        self.numpy = isinstance(w_in, np.ndarray)
        self.device = torch.device("cpu") if self.numpy else w_in.device
        self.stamp = np.full(w_in.shape[0], NEVER, dtype=np.int64)  # the round each input row was last written
        self.current_from = 0  # every rank held every row as of this round (the last collect)
        self.trained_parts = 0  # parts this rank trained (and queued for the courier)
        self.received = 0  # parts received from rank r + 1 and applied
        self.error = None  # the courier's, raised by the next wait
        self.timer = SyncTimer(group, self.device)
        self.tasks = queue.Queue()
        self.changed = threading.Condition()
        threading.Thread(target=self._courier, name="fastw2v-courier", daemon=True).start()

    def wait(self) -> None:
        """Before this rank's next bucket: the rows of its input part are here (those of the first round are)."""
        self._wait_for(self.trained_parts - self.buckets.subparts + 1)

    def trained(self, written: np.ndarray, what: str) -> None:
        """After this rank's bucket, in which it wrote the input rows ``written`` (word ids, repeats allowed): the
        courier hands the part on."""
        self.tasks.put((self.trained_parts, written, what))
        self.trained_parts += 1

    def _wait_for(self, received: int) -> None:
        with self.timer(), self.changed:
            while self.received < received and self.error is None:
                self.changed.wait()
        if self.error is not None:
            raise self.error

    def _courier(self) -> None:
        while True:
            t, written, what = self.tasks.get()
            try:
                self._hand_on(t, written, what)
            except BaseException as e:  # RankLost: the job stops at this rank's next wait
                with self.changed:
                    self.error = e
                    self.changed.notify_all()
                return
            with self.changed:
                self.received += 1
                self.changed.notify_all()

    def _hand_on(self, t: int, written: np.ndarray, what: str) -> None:
        """Part t of this rank's order to rank r - 1, rank r + 1's part t from it."""
        b, group = self.buckets, self.group
        n, rank, round_now = group.world, group.rank, t // b.subparts  # rounds of this run, not of a span
        self.stamp[written] = round_now
        words = b.part_words[b.input_part(rank, round_now % n, t % b.subparts)]
        send = words[self.stamp[words] >= max(round_now - n + 2, self.current_from)]
        to, source, place = (rank - 1) % n, (rank + 1) % n, group.collective_device
        count, theirs = torch.tensor([send.shape[0]], device=place), torch.empty(1, dtype=torch.int64, device=place)
        group.exchange([(count, to)], [(theirs, source)], what)
        keys = torch.from_numpy(np.stack([send, self.stamp[send]])).to(place)
        rows = self._rows(self.w_in, send).to(place)
        their_keys = torch.empty((2, int(theirs.item())), dtype=torch.int64, device=place)
        their_rows = torch.empty((their_keys.shape[1], rows.shape[1]), dtype=rows.dtype, device=place)
        group.exchange([(keys, to), (rows, to)], [(their_keys, source), (their_rows, source)], what)
        ids = their_keys[0].cpu().numpy()
        self.stamp[ids] = their_keys[1].cpu().numpy()
        self._set_rows(self.w_in, ids, their_rows)
        group.sync_bytes += their_keys.nbytes + their_rows.nbytes

    def collect(self, what: str, output_rows: bool = True) -> None:
        """Every rank's matrices whole, between two spans: rank r's input partition (r's, once its last round's
        parts have arrived) and its own output partition (``output_rows``), sent to every other rank."""
        n = self.group.world
        self._wait_for(self.trained_parts)
        with self.timer():
            self._share(self.w_in, f"{what} (input rows)")
            if output_rows:
                self._share(self.w_out, f"{what} (output rows)")
        self.current_from = self.trained_parts // self.buckets.subparts
        assert self.current_from % n == 0, "a collect between two rounds of a span"

    def _share(self, m, what: str) -> None:
        """Every rank r's rows of partition r of ``m``, into every rank's ``m``."""
        group, words = self.group, self.buckets.words
        place, others = group.collective_device, [r for r in range(group.world) if r != group.rank]
        mine = self._rows(m, words[group.rank]).to(place)
        theirs = {r: torch.empty((words[r].shape[0], mine.shape[1]), dtype=mine.dtype, device=place) for r in others}
        group.exchange([(mine, r) for r in others], [(theirs[r], r) for r in others], what)
        for r, rows in theirs.items():
            self._set_rows(m, words[r], rows)
            group.sync_bytes += rows.nbytes

    def _rows(self, m, ids: np.ndarray) -> torch.Tensor:
        if self.numpy:
            return torch.from_numpy(m[ids])
        return m.detach()[torch.from_numpy(ids).to(m.device)]

    def _set_rows(self, m, ids: np.ndarray, rows: torch.Tensor) -> None:
        if ids.shape[0] == 0:
            return
        if self.numpy:
            m[ids] = rows.cpu().numpy()
        else:
            m.detach().index_copy_(0, torch.from_numpy(ids).to(m.device), rows.to(m.device, m.dtype))

    def finish(self) -> None:
        """Add the GPU syncs' times to the group's figures (once training is done: it waits for the device)."""
        self.timer.finish()
