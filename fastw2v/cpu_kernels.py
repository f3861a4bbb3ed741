"""The CPU trainer's parallel kernels: per-pair SGD over a chunk in text order (``train_chunk``), over a round's
bucket pair lists (``train_pairs``) and CBOW over a chunk (``train_cbow_chunk``), each on numba threads that claim
blocks, with the per-pair step of ``pair_step`` and ``hs_step`` and the thread machinery of ``kernel_threads``. Their
fixed arguments travel as NamedTuples: ``Model`` (``CbowModel`` for CBOW), ``Draws`` and ``LrDecay``. ``hogwild``
drives them.

Blocks. Each thread claims the next block (``intrinsics.claim_block``, an atomic counter) until none is left, so
a thread that runs slower (a core shared with another process, a block with rarer, uncached rows) takes fewer blocks,
and the threads reach the chunk's end within one block of each other. The blocks' order does not change what a pair
is: its negatives, sampled loss and learning rate come from its index and position, so one thread, taking the blocks
in order, trains as on one block.

Row reads. The rows are memory-bound random reads: the negatives of the next pair are drawn one pair ahead (negatives
depend on the pair index only) and their rows prefetched, with the next center's output row and the input row
entering the window. A pair's 1 + k scores are computed before its updates (their row reads and dot products
overlap), and with the default k = 5 one pass over the columns then updates all six rows (``pair_step.update_pair6``);
a pair whose negatives repeat or hit the center takes the general loop, where a negative drawn twice is rescored after
its first update, as in word2vec.c. The two orders of the float32 sums differ only in rounding.

Shared negatives (``Config.shared_negatives``; Ji et al. 2016, "HogBatch"): one set of negatives per center, keyed by
the center's index, for every context of its window; the window is then one small matrix product: each context's
input row is trained against the same 1 + k output rows (the center's and the negatives'), whose updates are summed
over the window and applied once at its end. That reads k + 1 output rows per window instead of per pair.

Hot rows (``Config.hot_rows``, 256 by default, used with 2+ threads): the most frequent words (ids below ``hot``)
take a large share of every pair's row writes, as negatives and as kept tokens, and a cache line that two cores keep
writing travels between them at each write. Each thread trains on a private copy of those rows of both matrices (and
of the tree's ``hot_nodes`` rows nearest the root) and merges its changes into the shared rows every ``merge_every``
pairs and at the chunk's end (``kernel_threads.merge_hot``): the other threads' updates of a hot row arrive up to
``merge_every`` pairs late. hot=0: every row is shared, as in word2vec.c. CBOW trains every word row in place: its
kernel takes no hot rows.

``train_pairs`` trains lists of pairs, the buckets of a round (``buckets.SpanPairs``): pair t trains the input row
of kept[x[t]] (the context) against the output rows of kept[y[t]] (the center) and of its negatives, drawn for its
chunk index o[t] (shared negatives: for y[t]). Block b is the pairs blocks[b, 0] .. blocks[b, 1] - 1 of one bucket, a
center's pairs in one block, their negatives from the partition blocks[b, 2] (rows ``sampler_starts[p]:
sampler_starts[p + 1]`` of ``draws``' table, the buckets' stacked sampler); ``positions``: the kept tokens'
positions, the learning rate's (``windows.kept_positions``). One thread, in order, is a pure function of the pairs,
whatever the blocks. A job of several ranks trains no tree (``train_corpus``).

``train_chunk``'s arguments: kept/kept_starts, the chunk after ``windows.subsample``; starts, its pieces before
sub-sampling (for the learning rate's token position); pair_offsets[p], the index of piece p's first pair; blocks,
the bounds of blocks of consecutive pieces; window, shrink, base_window, the windows' draw (``windows.window_reach``);
``model`` (``Model``), ``draws`` (``Draws``, of the alias table) and ``lr_decay`` (``LrDecay``), the fixed arguments;
out, a row per thread: out[t] = (loss estimate, pairs) of thread t.

Names in the loops: claimed the blocks claimed so far (shared by the threads), b a block, p a piece, s and e its
first and end kept position, i a center's kept position, j a context's, r the center's window reach, o the index of
the next pair in the chunk; in a bucket's pair list t a pair, x[t] and y[t] its context's and center's kept
positions, and the pairs g .. h - 1 one center's.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from .example_step import train_cbow_window, train_skipgram_pair
from .huffman import HuffmanTree
from .intrinsics import claim_block
from .kernel_threads import (
    center_end,
    draw_ahead,
    draw_next,
    end_thread,
    hot_copies,
    lr_at,
    merge_copies,
    merge_hot,
    prefetch_pair,
    prefetch_row,
    thread_scratch,
)
from .pair_step import LOSS_EVERY_MASK, apply_window, lock_factor, spread_error, train_targets, window_input
from .windows import window_reach

PREFETCH_PAIRS = 2  # train_pairs prefetches the rows of the pair this many ahead (its negatives: the next pair's)


class Model(NamedTuple):
    """The kernels' matrices: rows padded to whole cache lines (``padded_rows``), of which the first d columns are
    the vectors; the hot rows (ids below ``hot``: each thread trains its own copy) and how often they merge;
    hierarchical softmax's inner nodes ``syn1`` (no rows: hs is off), root first (``tree_rows``), of which the
    ``hot_nodes`` nearest the root are trained on per-thread copies like the hot rows, and the Huffman ``tree``
    (``huffman``) with its points as those rows; each input row's lock factor ``lockf`` (gensim's ``vectors_lockf``:
    one for all rows, or one per row)."""

    w_in: np.ndarray
    w_out: np.ndarray
    d: int
    hot: int
    merge_every: int
    syn1: np.ndarray
    hot_nodes: int
    tree: HuffmanTree
    lockf: np.ndarray

    def for_cbow(self) -> CbowModel:
        """The fields ``train_cbow_chunk`` takes: all but ``hot`` (CBOW trains every word row in place)."""
        return CbowModel(
            self.w_in, self.w_out, self.d, self.merge_every, self.syn1, self.hot_nodes, self.tree, self.lockf
        )


class CbowModel(NamedTuple):
    """``Model`` without the hot word rows, for ``train_cbow_chunk``: a CBOW window writes a pair's rows twice, and
    merging private copies would cost it more than they save. The tree's ``hot_nodes`` stay on per-thread copies."""

    w_in: np.ndarray
    w_out: np.ndarray
    d: int
    merge_every: int
    syn1: np.ndarray
    hot_nodes: int
    tree: HuffmanTree
    lockf: np.ndarray


class Draws(NamedTuple):
    """Where a chunk's negatives come from: ``table`` (an alias table, or the buckets' stacked sampler), the chunk's
    two random streams (``draws.stream_base``), k, and whether a center's contexts share them."""

    table: np.ndarray
    base_neg: int
    base_coin: int
    negative: int
    shared: bool


class LrDecay(NamedTuple):
    """The learning rate from ``start`` to ``end`` over ``total`` token positions; the chunk's first is
    ``position0``."""

    start: float
    end: float
    position0: float
    total: float


@numba.njit(parallel=True, nogil=True, fastmath=True, cache=True)
def train_chunk(
    kept, kept_starts, starts, pair_offsets, blocks, window, shrink, base_window, model, draws, lr_decay, out
):
    """Per-pair SGD over the pairs of one sub-sampled chunk (word2vec.c:495-544), in text order: the module's
    docstring says what its arguments are."""
    w_in, w_out, d, hot, merge_every, syn1, hot_nodes, tree, lockf = model
    codes, points, offsets = tree
    table, base_neg, base_coin, negative, shared = draws
    lr_start, lr_end, position0, total = lr_decay
    matrices, n_blocks, claimed = (w_in, w_out, syn1), blocks.shape[0] - 1, np.zeros(1, dtype=np.int64)
    for thread in numba.prange(out.shape[0]):
        neu1e, ring, scores, grads, grad_out, hs_err, node_scores = thread_scratch(negative, d)
        copies = hot_copies(w_in, w_out, syn1, hot, hot_nodes)
        hot_in, hot_out, hot_syn1 = copies[0], copies[1], copies[2]
        loss, pairs, next_merge = 0.0, 0, merge_every
        while True:
            b = claim_block(claimed)
            if b >= n_blocks:
                break
            o = pair_offsets[blocks[b]]  # the index of the next pair
            last = kept_starts[blocks[b + 1]]
            first_key = kept_starts[blocks[b]] if shared else o  # the block's first center, or pair
            draw_ahead(ring, first_key, table, base_neg, base_coin, negative, hot, w_out, d)
            for p in range(blocks[b], blocks[b + 1]):
                s, e = kept_starts[p], kept_starts[p + 1]
                span = (starts[p + 1] - starts[p]) / max(e - s, 1)
                for i in range(s, e):
                    lr = np.float32(lr_at(lr_start, lr_end, position0 + starts[p] + (i - s) * span, total))
                    center, sampled = kept[i], False  # sampled: is this pair's loss in the progress estimate
                    if negative > 0 and i + 1 < last and kept[i + 1] >= hot:
                        prefetch_row(w_out, kept[i + 1], d)
                    if i + window + 1 < last and kept[i + window + 1] >= hot:
                        prefetch_row(w_in, kept[i + window + 1], d)
                    if shared:
                        draw_ahead(ring, i + 1, table, base_neg, base_coin, negative, hot, w_out, d)
                        sampled = (i & LOSS_EVERY_MASK) == 0
                    r = window_reach(window, shrink, base_window, i)
                    for j in range(max(s, i - r), min(e, i + r + 1)):
                        if j == i:
                            continue
                        if not shared:
                            draw_ahead(ring, o + 1, table, base_neg, base_coin, negative, hot, w_out, d)
                            sampled = (o & LOSS_EVERY_MASK) == 0
                        ctx = kept[j]
                        # fmt: off
                        loss = train_skipgram_pair(
                            loss, hot_in if ctx < hot else w_in, ctx, center, (i if shared else o) & 1,
                            lock_factor(lockf, ctx), w_out, hot_out, hot, d, syn1, hot_syn1, hot_nodes, codes, points,
                            offsets, neu1e, ring, scores, grads, grad_out, hs_err, node_scores, negative, shared,
                            sampled, lr
                        )
                        # fmt: on
                        o += 1
                        pairs += 1
                    if shared:
                        apply_window(center, ring, i & 1, negative, hot, hot_out, w_out, grad_out, d)
                    if (hot or hot_nodes) and pairs >= next_merge:
                        next_merge = pairs + merge_every
                        merge_copies(matrices, copies, hot, hot_nodes, d)
        end_thread(matrices, copies, hot, hot_nodes, d, out, thread, loss, pairs)


@numba.njit(parallel=True, nogil=True, fastmath=True, cache=True)
def train_pairs(kept, x, y, o, positions, blocks, sampler_starts, model, draws, lr_decay, out):
    """``train_chunk`` over lists of pairs, the buckets of a round (``buckets.SpanPairs``): the module's docstring
    says what its arguments are."""
    w_in, w_out, d, hot, merge_every, syn1, _, _, lockf = model
    sampler, base_neg, base_coin, negative, shared = draws
    lr_start, lr_end, position0, total = lr_decay
    matrices, n_blocks, claimed = (w_in, w_out, syn1), blocks.shape[0], np.zeros(1, dtype=np.int64)
    for thread in numba.prange(out.shape[0]):
        neu1e, ring, scores, grads, grad_out, _, _ = thread_scratch(negative, d)
        copies = hot_copies(w_in, w_out, syn1, hot, 0)
        hot_in, hot_out = copies[0], copies[1]
        loss, pairs, next_merge = 0.0, 0, merge_every
        while True:
            b = claim_block(claimed)
            if b >= n_blocks:
                break
            first, end, part = blocks[b, 0], blocks[b, 1], blocks[b, 2]
            lo, size = sampler_starts[part], sampler_starts[part + 1] - sampler_starts[part]
            slot, g = 0, first
            # fmt: off
            draw_next(ring, 0, y, o, first, end, shared, sampler, lo, size, base_neg, base_coin, negative, hot, w_out,
                      d)
            # fmt: on
            while g < end:  # the pairs g .. h - 1 of one center
                h = center_end(y, g, end)
                center = kept[y[g]]
                lr = np.float32(lr_at(lr_start, lr_end, position0 + positions[y[g]], total))
                if shared:  # the next center's negatives
                    # fmt: off
                    draw_next(ring, 1 - slot, y, o, h, end, True, sampler, lo, size, base_neg, base_coin, negative,
                              hot, w_out, d)
                    # fmt: on
                    sampled = (y[g] & LOSS_EVERY_MASK) == 0
                for t in range(g, h):
                    ctx = kept[x[t]]
                    if t + PREFETCH_PAIRS < end:
                        prefetch_pair(kept, x, y, t + PREFETCH_PAIRS, hot, w_in, w_out, d)
                    if not shared:  # the next pair's negatives
                        # fmt: off
                        draw_next(ring, 1 - slot, y, o, t + 1, end, False, sampler, lo, size, base_neg, base_coin,
                                  negative, hot, w_out, d)
                        # fmt: on
                        sampled = (o[t] & LOSS_EVERY_MASK) == 0
                    # fmt: off
                    loss += train_targets(
                        hot_in if ctx < hot else w_in, ctx, center, slot, w_out, hot_out, hot, d, neu1e, ring, scores,
                        grads, grad_out, negative, shared, sampled, lr, True, lock_factor(lockf, ctx)
                    )
                    # fmt: on
                    pairs += 1
                    if not shared:  # the next pair's negatives
                        slot = 1 - slot
                if shared:  # the window's output rows move; the next center's negatives
                    apply_window(center, ring, slot, negative, hot, hot_out, w_out, grad_out, d)
                    slot = 1 - slot
                if hot and pairs >= next_merge:
                    next_merge = pairs + merge_every
                    merge_copies(matrices, copies, hot, 0, d)
                g = h
        end_thread(matrices, copies, hot, 0, d, out, thread, loss, pairs)


@numba.njit(parallel=True, nogil=True, fastmath=True, cache=True)
def train_cbow_chunk(
    kept, kept_starts, starts, blocks, window, shrink, base_window, model, draws, lr_decay, cbow_mean, out
):
    """CBOW over one sub-sampled chunk (word2vec.c:446-491): each center is predicted from the mean of its window's
    input rows (``cbow_mean``; their sum without it, gensim's ``cbow_mean=0``) against its own output row and k
    negatives, the output rows move, and the error goes back to every input row of the window.

    The arguments are ``train_chunk``'s, ``model`` a ``CbowModel`` (``Model.for_cbow``); the windows are the same
    draws (``windows.window_reach`` keyed by the center's kept position), a window with no context is skipped
    (word2vec.c's ``if (cw)``), and the negatives are drawn for the center's kept position (one set per window, as
    word2vec.c draws them). Threads claim blocks, and the next center's negatives are drawn one step ahead with their
    rows prefetched, as in ``train_chunk``. out[t] = (loss estimate, examples) of thread t."""
    w_in, w_out, d, merge_every, syn1, hot_nodes, tree, lockf = model
    codes, points, offsets = tree
    table, base_neg, base_coin, negative, _ = draws
    lr_start, lr_end, position0, total = lr_decay
    n_blocks = blocks.shape[0] - 1
    claimed = np.zeros(1, dtype=np.int64)
    for thread in numba.prange(out.shape[0]):
        neu1e, ring, scores, grads, grad_out, _, node_scores = thread_scratch(negative, d)
        neu1 = np.empty((1, d), dtype=np.float32)  # the hidden layer, as a matrix of one row: the pairs' helpers
        hot_syn1 = syn1[:hot_nodes].copy()  # the tree's rows nearest the root: this thread's copy, and its base
        base_syn1 = hot_syn1.copy()
        loss, examples, next_merge = 0.0, 0, merge_every
        while True:
            b = claim_block(claimed)
            if b >= n_blocks:
                break
            last = kept_starts[blocks[b + 1]]
            draw_ahead(ring, kept_starts[blocks[b]], table, base_neg, base_coin, negative, 0, w_out, d)
            for p in range(blocks[b], blocks[b + 1]):
                s, e = kept_starts[p], kept_starts[p + 1]
                span = (starts[p + 1] - starts[p]) / max(e - s, 1)
                for i in range(s, e):
                    lr = np.float32(lr_at(lr_start, lr_end, position0 + starts[p] + (i - s) * span, total))
                    if i + 1 < last and negative > 0:  # the next center's negatives, and its output row
                        draw_ahead(ring, i + 1, table, base_neg, base_coin, negative, 0, w_out, d)
                        prefetch_row(w_out, kept[i + 1], d)
                    if i + window + 1 < last:
                        prefetch_row(w_in, kept[i + window + 1], d)
                    r = window_reach(window, shrink, base_window, i)
                    lo, hi = max(s, i - r), min(e, i + r + 1)
                    if hi - lo == 1:  # no context: word2vec.c's `if (cw)`
                        continue
                    window_input(neu1[0], kept, lo, hi, i, w_in, cbow_mean, d)
                    slot, sampled = i & 1, (i & LOSS_EVERY_MASK) == 0
                    # fmt: off
                    loss = train_cbow_window(
                        loss, neu1, kept[i], slot, w_out, d, syn1, hot_syn1, hot_nodes, codes, points, offsets, neu1e,
                        ring, scores, grads, grad_out, node_scores, negative, sampled, lr
                    )
                    # fmt: on
                    spread_error(neu1e, kept, lo, hi, i, w_in, cbow_mean, d, lockf)
                    examples += 1
                    if hot_nodes and examples >= next_merge:
                        next_merge = examples + merge_every
                        merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        out[thread, 0] = loss * (LOSS_EVERY_MASK + 1)
        out[thread, 1] = examples
