"""Buckets: how the ranks of a job (``group``) split the work of one model so that no row has two writers.

The vocabulary is cut into one partition per rank (``vocab_partitions``: equal shares of the kept tokens and of the
negative distribution). A pair trains one word's input row against another word's output row and the output rows
of its negatives; its bucket is (the input row's partition, the output row's partition), and its negatives are
drawn from the output row's partition (unigram^0.75 within it). PyTorch-BigGraph trains its entity partitions'
buckets the same way.

Rank r owns the output rows of partition r: it trains every bucket (a, r), and no other rank ever writes those
rows. The input rows travel. The text is trained in spans (``Config.span_tokens``); each span in N rounds, and in
round s rank r trains bucket ((r + s) mod N, r) of the span's pairs. In a round the ranks write disjoint input
partitions, and after it each rank passes the input rows written since the next holder last held them to rank
r - 1, which trains that partition in the next round (``RingSync``): the rows a rank sends follow the words of the
text it trained, not the size of the vocabulary, and the output rows (which the negatives touch all over) never
move while training. After N rounds every pair of the span was trained once, and each rank again holds the input
partition of its own number.

A row has one writer between two hand-overs, so the job trains, bit for bit, the model of one process that takes
the N x N buckets in turn (``train_corpus(..., as_ranks=N)``). What differs from one process training every
pair in text order is where the negatives come from (1/N of the vocabulary, holding about 1/N of the negative
distribution) and the order of the pairs within a span: docs/distributed.md measures both.
"""

from __future__ import annotations

import numpy as np
import torch

from . import kernels as K
from .group import Group, SyncTimer

NEVER = -(1 << 62)  # the round stamp of a row not written since training started


def vocab_partitions(mass: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    """Each word's partition (int32[V]) of ``n``, about equal in both ``mass`` (the kept tokens: the pairs a word
    is in) and ``q`` (its share of the negatives): words in decreasing order of mass, each into the partition with
    the least of the two shares summed so far (greedy, as in longest-processing-time scheduling)."""
    mass = np.asarray(mass, dtype=np.float64)
    share = mass / max(mass.sum(), 1e-300) + np.asarray(q, dtype=np.float64) / max(float(np.sum(q)), 1e-300)
    load = np.zeros(n)
    partition = np.empty(mass.shape[0], dtype=np.int32)
    for w in np.argsort(-mass, kind="stable"):
        k = int(np.argmin(load))
        partition[w] = k
        load[k] += share[w]
    return partition


class Buckets:
    """The vocabulary cut into ``n`` partitions, and which ranks' buckets this process trains (``owners``: its own
    rank in a job, every rank in turn alone). ``words[b]``: partition b's words; ``sampler``: the alias tables of
    the partitions' negatives (``kernels.partition_sampler``, ``table(b)``)."""

    def __init__(self, counts: np.ndarray, keep_threshold: np.ndarray, q: np.ndarray, n: int,
                 owners: list[int] | None = None):
        self.n = n
        self.owners = list(range(n)) if owners is None else list(owners)
        keep = np.minimum(np.asarray(keep_threshold, dtype=np.float64) / K.TWO32, 1.0)
        self.partition = vocab_partitions(np.asarray(counts, dtype=np.float64) * keep, q, n)
        self.words = [np.flatnonzero(self.partition == k).astype(np.int64) for k in range(n)]
        self.sampler, self.sampler_starts = K.partition_sampler(np.asarray(q, dtype=np.float64), self.partition, n)
        self.slot_of = np.full(n, -1, dtype=np.int32)  # each owned output partition's place in a span's pairs
        self.slot_of[self.owners] = np.arange(len(self.owners), dtype=np.int32)

    def table(self, b: int) -> tuple[int, int]:
        """Where partition b's negatives are in ``sampler``: (first row, rows)."""
        lo = int(self.sampler_starts[b])
        return lo, int(self.sampler_starts[b + 1]) - lo

    def input_partition(self, owner: int, s: int) -> int:
        """The input rows rank ``owner`` trains in round s of a span: bucket (this, owner)."""
        return (owner + s) % self.n

    def spans(self, starts: np.ndarray, span_tokens: int) -> list[tuple[int, int]]:
        """A chunk's pieces (``starts``: their first token positions and the end) cut into spans of about
        ``span_tokens`` tokens: (first piece, end piece) of each, whole pieces, none empty."""
        n_pieces = starts.shape[0] - 1
        cuts = np.searchsorted(starts, np.arange(starts[0] + span_tokens, starts[-1], span_tokens), side="left")
        bounds = np.unique(np.concatenate([[0], np.clip(cuts, 0, n_pieces), [n_pieces]]))
        return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]

    def span_pairs(self, kept, kept_starts, pair_offsets, pieces, config, window_base: int,
                   output_is_center: bool) -> "SpanPairs":
        """The pairs of one span that this process trains, grouped by bucket (``kernels.bucket_pairs``)."""
        x, y, o, key_starts = K.bucket_pairs(kept, kept_starts, pair_offsets, pieces, config.window,
                                             config.shrink_windows, window_base, self.partition, self.slot_of,
                                             output_is_center)
        return SpanPairs(self, x, y, o, key_starts)


class SpanPairs:
    """One span's pairs of the buckets this process trains: ``x``, ``y`` the kept positions of each pair's input-row
    and output-row words, ``o`` its index in the chunk (its draws' key); ``bucket(owner, s)`` the slice of rank
    ``owner``'s bucket in round s."""

    def __init__(self, buckets: Buckets, x, y, o, key_starts):
        self.buckets, self.x, self.y, self.o, self.key_starts = buckets, x, y, o, key_starts

    def bucket(self, owner: int, s: int) -> slice:
        b = self.buckets
        k = b.slot_of[owner] * b.n + b.input_partition(owner, s)
        return slice(int(self.key_starts[k]), int(self.key_starts[k + 1]))


def job_buckets(group: Group | None, corpus, config, as_ranks: int = 0) -> Buckets | None:
    """The Buckets of a job of several ranks, or of one process training a job's model (``as_ranks`` > 1); None
    when one process trains every pair in text order."""
    n = group.world if group is not None else as_ranks
    if n < 2:
        return None
    vocab = corpus.vocab
    return Buckets(vocab.counts, K.keep_thresholds(vocab.counts, config.sample),
                   vocab.unigram_weights(config.ns_exponent), n, None if group is None else [group.rank])


class RingSync:
    """The input rows' hand-over between rounds (the output rows stay with their owner), and ``collect()``, which
    makes every rank's matrices whole (before a checkpoint, a callback and at the end).

    After round s of a span rank r holds input partition p = r + s. Rank r - 1 trains p next, and last held it
    N - 1 rounds ago; since then p's rows were written in rounds g - N + 2 .. g (g: this round) by the ranks that
    held it. Each rank stamps the rows it writes with the round, and sends the rows of p stamped since then (their
    ids, stamps and values; it got the earlier ones from its neighbour, stamps included): at 2 ranks, the rows it
    wrote itself. ``w_in``, ``w_out``: numpy arrays (views are fine: the hogwild trainer's padded rows) or torch
    tensors, changed in place."""

    def __init__(self, group: Group, w_in, w_out, buckets: Buckets):
        self.group, self.buckets = group, buckets
        self.w_in, self.w_out = w_in, w_out
        self.numpy = isinstance(w_in, np.ndarray)
        self.device = torch.device("cpu") if self.numpy else w_in.device
        self.stamp = np.full(w_in.shape[0], NEVER, dtype=np.int64)  # the round each input row was last written
        self.round = 0  # rounds this run has trained
        self.current_from = 0  # every rank held every row as of this round (the last collect)
        self.held = group.rank  # the input partition this rank holds: its own at each span's start
        self.timer = SyncTimer(group, self.device)

    def round_done(self, written: np.ndarray, what: str) -> None:
        """After a round in which this rank wrote the input rows ``written`` (word ids, repeats allowed)."""
        n, rank = self.group.world, self.group.rank
        with self.timer():
            self.stamp[written] = self.round
            words = self.buckets.words[self.held]
            send = words[self.stamp[words] >= max(self.round - n + 2, self.current_from)]
            self._pass(send, (rank - 1) % n, (rank + 1) % n, what)
        self.round += 1
        self.held = (self.held + 1) % n

    def _pass(self, send: np.ndarray, to: int, source: int, what: str) -> None:
        """Send rows ``send`` (ids, stamps and values) to rank ``to``; take rank ``source``'s."""
        group, place = self.group, self.group.collective_device
        count, theirs = torch.tensor([send.shape[0]], device=place), torch.empty(1, dtype=torch.int64, device=place)
        group.exchange([(count, to)], [(theirs, source)], what)
        m = int(theirs.item())
        keys = torch.from_numpy(np.stack([send, self.stamp[send]])).to(place)
        rows = self._rows(self.w_in, send).to(place)
        their_keys = torch.empty((2, m), dtype=torch.int64, device=place)
        their_rows = torch.empty((m, rows.shape[1]), dtype=rows.dtype, device=place)
        group.exchange([(keys, to), (rows, to)], [(their_keys, source), (their_rows, source)], what)
        ids = their_keys[0].cpu().numpy()
        self.stamp[ids] = their_keys[1].cpu().numpy()
        self._set_rows(self.w_in, ids, their_rows)
        group.sync_bytes += their_keys.nbytes + their_rows.nbytes

    def collect(self, what: str) -> None:
        """Every rank's matrices whole: rank r's current input partition and its own output partition, sent to
        every other rank."""
        n, rank = self.group.world, self.group.rank
        held = [(r + self.held - rank) % n for r in range(n)]  # the input partition each rank holds now
        with self.timer():
            self._share(self.w_in, held, f"{what} (input rows)")
            self._share(self.w_out, list(range(n)), f"{what} (output rows)")
        self.current_from = self.round

    def _share(self, m, partitions: list[int], what: str) -> None:
        """Every rank r's rows of partition ``partitions[r]`` of ``m``, into every rank's ``m``."""
        group, words = self.group, self.buckets.words
        place, others = group.collective_device, [r for r in range(group.world) if r != group.rank]
        mine = self._rows(m, words[partitions[group.rank]]).to(place)
        theirs = {r: torch.empty((words[partitions[r]].shape[0], mine.shape[1]), dtype=mine.dtype, device=place)
                  for r in others}
        group.exchange([(mine, r) for r in others], [(theirs[r], r) for r in others], what)
        for r, rows in theirs.items():
            self._set_rows(m, words[partitions[r]], rows)
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
