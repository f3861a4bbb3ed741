"""The CPU trainer's parallel kernels: per-pair SGD over a chunk in text order (``train_chunk``), over a round's
bucket pair lists (``train_pairs``) and CBOW over a chunk (``train_cbow_chunk``), each on numba threads that claim
blocks, with the per-pair step of ``pair_step``. Their fixed arguments travel as three NamedTuples: ``Model``,
``Draws`` and ``LrDecay``. ``hogwild`` drives them."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from . import kernels as K
from .huffman import MAX_CODE_LENGTH, HuffmanTree
from .pair_step import (
    LOSS_EVERY_MASK,
    apply_window,
    claim_block,
    distinct_negatives,
    draw_ahead,
    draw_bucket,
    lock_factor,
    lr_at,
    merge_hot,
    prefetch_row,
    score_targets,
    spread_error,
    thread_state,
    train_hs,
    train_pair,
    train_pair6,
    window_input,
)

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


class Draws(NamedTuple):
    """Where a chunk's negatives come from: ``table`` (an alias table, or the buckets' stacked sampler), the chunk's
    two random streams (``kernels.stream_base``), k, and whether a center's contexts share them."""

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
    """Per-pair SGD over the pairs of one sub-sampled chunk (word2vec.c:495-544).

    kept/kept_starts: the chunk after ``kernels.subsample``; starts: its pieces before sub-sampling (for
    the learning rate's token position); pair_offsets[p]: the index of piece p's first pair; blocks: the
    bounds of blocks of consecutive pieces; window, shrink, base_window: the windows' draw (``kernels.window_reach``).
    ``model`` (a ``Model``), ``draws`` (``Draws``, of the alias table) and ``lr_decay`` (``LrDecay``) are the fixed
    arguments. out has a row per thread: out[t] = (loss estimate, pairs) of thread t.

    Each thread claims the next block (``claim_block``, an atomic counter) until none is left, so a thread that
    runs slower (a core shared with another process, a block with rarer, uncached rows) takes fewer blocks,
    and the threads reach the chunk's end within one block of each other: with one fixed block per thread
    the chunk waited for the slowest.
    The blocks' order does not change what a pair is: its negatives, sampled loss and learning rate come
    from its index and position, so one thread, taking the blocks in order, trains as on one block.

    The rows are memory-bound random reads (two 23 MB matrices on IMDB): the negatives of the next pair are
    drawn one pair ahead (negatives depend on the pair index only) and their rows prefetched, with the next
    center's output row and the input row entering the window. That halves the time per pair. A pair's 1 + k
    scores are computed before its updates (their row reads and dot products overlap), and with the default
    k = 5 one pass over the columns then updates all six rows (``update_pair6``); a pair whose negatives
    repeat or hit the center takes the general loop, where a negative drawn twice is rescored after its
    first update, as in word2vec.c. The two orders of the float32 sums differ only in rounding.

    shared_negatives (``Config.shared_negatives``; Ji et al. 2016, "HogBatch"): one set of negatives per
    center, keyed by the center's index, for every context of its window; the window is then one small
    matrix product: each context's input row is trained against the same 1 + k output rows (the center's
    and the negatives'), whose updates are summed over the window and applied once at its end. That reads
    k + 1 output rows per window instead of per pair.

    Hot rows (``Config.hot_rows``, 256 by default, used with 2+ threads): the most frequent words (ids below
    ``hot``) take a large share of every pair's row writes, as negatives and as kept tokens, and a cache line
    that two cores keep writing travels between them at each write. Each thread trains on a private copy of
    those rows of both matrices and merges its changes into the shared rows every ``merge_every`` pairs and at the chunk's end (``merge_hot``): the other threads' updates of a hot row
    arrive up to ``merge_every`` pairs late. hot=0: every row is shared, as in word2vec.c.
    """
    w_in, w_out, d, hot, merge_every, syn1, hot_nodes, tree, lockf = model
    alias_table, base_neg, base_coin, negative, shared_negatives = draws
    lr_start, lr_end, position0, total = lr_decay
    hs = syn1.shape[0] > 0
    codes, points, offsets = tree
    n_blocks = blocks.shape[0] - 1
    claimed = np.zeros(1, dtype=np.int64)  # blocks claimed so far, shared by the threads
    for thread in numba.prange(out.shape[0]):
        neu1e, ring, scores, grads, grad_out, hot_in, hot_out, base_in, base_out = thread_state(
            w_in, w_out, hot, negative, d
        )
        hs_err = np.zeros(d, dtype=np.float32)  # a pair's input-row error from the tree
        node_scores = np.empty(MAX_CODE_LENGTH, dtype=np.float32)  # its scores on the path's nodes
        hot_syn1 = syn1[:hot_nodes].copy()  # the tree's rows nearest the root: this thread's copy, and its base
        base_syn1 = hot_syn1.copy()
        loss = 0.0
        pairs = 0
        next_merge = merge_every
        while True:
            b = claim_block(claimed)
            if b >= n_blocks:
                break
            o = pair_offsets[blocks[b]]  # the index of the next pair
            last = kept_starts[blocks[b + 1]]
            first_key = kept_starts[blocks[b]] if shared_negatives else o  # the block's first center, or pair
            draw_ahead(ring, first_key, alias_table, base_neg, base_coin, negative, hot, w_out, d)
            for p in range(blocks[b], blocks[b + 1]):
                s, e = kept_starts[p], kept_starts[p + 1]
                span = (starts[p + 1] - starts[p]) / max(e - s, 1)
                for i in range(s, e):
                    lr = np.float32(lr_at(lr_start, lr_end, position0 + starts[p] + (i - s) * span, total))
                    center = kept[i]
                    sampled = False  # is this pair's loss in the progress estimate
                    if negative > 0 and i + 1 < last and kept[i + 1] >= hot:
                        prefetch_row(w_out, kept[i + 1], d)
                    if i + window + 1 < last and kept[i + window + 1] >= hot:
                        prefetch_row(w_in, kept[i + window + 1], d)
                    if shared_negatives:
                        draw_ahead(ring, i + 1, alias_table, base_neg, base_coin, negative, hot, w_out, d)
                        sampled = (i & LOSS_EVERY_MASK) == 0
                    r = K.window_reach(window, shrink, base_window, i)
                    for j in range(max(s, i - r), min(e, i + r + 1)):
                        if j == i:
                            continue
                        if not shared_negatives:
                            draw_ahead(ring, o + 1, alias_table, base_neg, base_coin, negative, hot, w_out, d)
                            sampled = (o & LOSS_EVERY_MASK) == 0
                        ctx = kept[j]  # its input row is trained against the center (word2vec.c:502)
                        m_in = hot_in if ctx < hot else w_in
                        lock = lock_factor(lockf, ctx)
                        if hs:  # the tree first, as word2vec.c: the negatives read the input row unchanged
                            hs_err[:] = 0.0
                            loss += train_hs(
                                m_in,
                                ctx,
                                center,
                                syn1,
                                hot_syn1,
                                hot_nodes,
                                codes,
                                points,
                                offsets,
                                lr,
                                d,
                                hs_err,
                                node_scores,
                                sampled,
                            )
                        if negative > 0:
                            slot = (i if shared_negatives else o) & 1  # this pair's negatives in the ring
                            score_targets(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, d)
                            if negative == 5 and (shared_negatives or distinct_negatives(ring, slot, center, negative)):
                                loss += train_pair6(
                                    m_in,
                                    ctx,
                                    center,
                                    ring,
                                    slot,
                                    hot,
                                    hot_out,
                                    w_out,
                                    scores,
                                    grads,
                                    grad_out,
                                    shared_negatives,
                                    sampled,
                                    lr,
                                    d,
                                    neu1e,
                                    True,
                                    lock,
                                )
                            else:
                                loss += train_pair(
                                    m_in,
                                    ctx,
                                    center,
                                    ring,
                                    slot,
                                    negative,
                                    hot,
                                    hot_out,
                                    w_out,
                                    scores,
                                    neu1e,
                                    grad_out,
                                    shared_negatives,
                                    sampled,
                                    lr,
                                    d,
                                    True,
                                    lock,
                                )
                        if hs:
                            for c in range(d):
                                m_in[ctx, c] += lock * hs_err[c]
                        o += 1
                        pairs += 1
                    if shared_negatives:
                        apply_window(center, ring, i & 1, negative, hot, hot_out, w_out, grad_out, d)
                    if (hot or hot_nodes) and pairs >= next_merge:
                        next_merge = pairs + merge_every
                        merge_hot(w_in, hot_in, base_in, hot, d)
                        merge_hot(w_out, hot_out, base_out, hot, d)
                        merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        merge_hot(w_in, hot_in, base_in, hot, d)
        merge_hot(w_out, hot_out, base_out, hot, d)
        merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        out[thread, 0] = loss * (LOSS_EVERY_MASK + 1)
        out[thread, 1] = pairs


@numba.njit(parallel=True, nogil=True, fastmath=True, cache=True)
def train_pairs(kept, x, y, o, positions, blocks, sampler_starts, model, draws, lr_decay, out):
    """``train_chunk`` over lists of pairs: the buckets of a round (``buckets.SpanPairs``). Pair t trains the input
    row of kept[x[t]] (the context) against the output rows of kept[y[t]] (the center) and of its negatives. Block
    b is the pairs blocks[b, 0] .. blocks[b, 1] - 1 of one bucket, whose negatives come from the partition
    blocks[b, 2] (rows ``sampler_starts[p]:sampler_starts[p + 1]`` of ``sampler``: the centers' partition), drawn
    for the pair's chunk index o[t], or with shared negatives for the center's kept position y[t] (a center's pairs
    are consecutive, in one block); the learning rate is the center's token position's (``positions``,
    ``kernels.kept_positions``). The next pair's negatives (or the next center's) are drawn one step ahead and
    their rows prefetched, with the two rows of the pair ``PREFETCH_PAIRS`` ahead. Threads claim the blocks as in
    ``train_chunk``; one thread, in order, is a pure function of the pairs, whatever the blocks. ``draws``' table is
    the buckets' stacked sampler (``buckets.Buckets.sampler``)."""
    w_in, w_out, d, hot, merge_every, _, _, _, lockf = model  # a job of several ranks trains no tree (train_corpus)
    sampler, base_neg, base_coin, negative, shared_negatives = draws
    lr_start, lr_end, position0, total = lr_decay
    n_blocks = blocks.shape[0]
    claimed = np.zeros(1, dtype=np.int64)
    for thread in numba.prange(out.shape[0]):
        neu1e, ring, scores, grads, grad_out, hot_in, hot_out, base_in, base_out = thread_state(
            w_in, w_out, hot, negative, d
        )
        loss = 0.0
        pairs = 0
        next_merge = merge_every
        while True:
            b = claim_block(claimed)
            if b >= n_blocks:
                break
            first, end, part = blocks[b, 0], blocks[b, 1], blocks[b, 2]
            lo, size = sampler_starts[part], sampler_starts[part + 1] - sampler_starts[part]
            slot = 0
            if first < end:
                draw_bucket(
                    ring,
                    0,
                    y[first] if shared_negatives else o[first],
                    sampler,
                    lo,
                    size,
                    base_neg,
                    base_coin,
                    negative,
                    hot,
                    w_out,
                    d,
                )
            g = first
            while g < end:  # the pairs g .. h - 1 of one center
                h = g + 1
                while h < end and y[h] == y[g]:
                    h += 1
                center = kept[y[g]]
                lr = np.float32(lr_at(lr_start, lr_end, position0 + positions[y[g]], total))
                if shared_negatives:
                    if h < end:  # the next center's
                        draw_bucket(
                            ring, 1 - slot, y[h], sampler, lo, size, base_neg, base_coin, negative, hot, w_out, d
                        )
                    sampled = (y[g] & LOSS_EVERY_MASK) == 0
                for t in range(g, h):
                    ctx = kept[x[t]]
                    ahead = t + PREFETCH_PAIRS
                    if ahead < end:
                        if kept[x[ahead]] >= hot:
                            prefetch_row(w_in, kept[x[ahead]], d)
                        if kept[y[ahead]] >= hot and y[ahead] != y[ahead - 1]:  # a new center's row
                            prefetch_row(w_out, kept[y[ahead]], d)
                    if not shared_negatives:
                        if t + 1 < end:
                            draw_bucket(
                                ring,
                                1 - slot,
                                o[t + 1],
                                sampler,
                                lo,
                                size,
                                base_neg,
                                base_coin,
                                negative,
                                hot,
                                w_out,
                                d,
                            )
                        sampled = (o[t] & LOSS_EVERY_MASK) == 0
                    m_in = hot_in if ctx < hot else w_in
                    lock = lock_factor(lockf, ctx)
                    score_targets(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, d)
                    if negative == 5 and (shared_negatives or distinct_negatives(ring, slot, center, negative)):
                        loss += train_pair6(
                            m_in,
                            ctx,
                            center,
                            ring,
                            slot,
                            hot,
                            hot_out,
                            w_out,
                            scores,
                            grads,
                            grad_out,
                            shared_negatives,
                            sampled,
                            lr,
                            d,
                            neu1e,
                            True,
                            lock,
                        )
                    else:
                        loss += train_pair(
                            m_in,
                            ctx,
                            center,
                            ring,
                            slot,
                            negative,
                            hot,
                            hot_out,
                            w_out,
                            scores,
                            neu1e,
                            grad_out,
                            shared_negatives,
                            sampled,
                            lr,
                            d,
                            True,
                            lock,
                        )
                    pairs += 1
                    if not shared_negatives:  # the next pair's negatives
                        slot = 1 - slot
                if shared_negatives:  # the window's output rows move; the next center's negatives
                    apply_window(center, ring, slot, negative, hot, hot_out, w_out, grad_out, d)
                    slot = 1 - slot
                if hot and pairs >= next_merge:
                    next_merge = pairs + merge_every
                    merge_hot(w_in, hot_in, base_in, hot, d)
                    merge_hot(w_out, hot_out, base_out, hot, d)
                g = h
        merge_hot(w_in, hot_in, base_in, hot, d)
        merge_hot(w_out, hot_out, base_out, hot, d)
        out[thread, 0] = loss * (LOSS_EVERY_MASK + 1)
        out[thread, 1] = pairs


@numba.njit(parallel=True, nogil=True, fastmath=True, cache=True)
def train_cbow_chunk(
    kept, kept_starts, starts, blocks, window, shrink, base_window, model, draws, lr_decay, cbow_mean, out
):
    """CBOW over one sub-sampled chunk (word2vec.c:446-491): each center is predicted from the mean of its window's
    input rows (``cbow_mean``; their sum without it, gensim's ``cbow_mean=0``) against its own output row and k
    negatives, the output rows move, and the error goes back to every input row of the window.

    The arguments are ``train_chunk``'s; the windows are the same draws (``kernels.window_reach`` keyed by the
    center's kept position), a window with no context is skipped (word2vec.c's ``if (cw)``), and the negatives are
    drawn for the center's kept position (one set per window, as word2vec.c draws them). Threads claim blocks,
    the next center's negatives are drawn one step ahead with their rows prefetched, as in ``train_chunk``; every
    row is trained in place (no private hot rows: ``ChunkTrainer`` passes hot = 0). out[t] = (loss estimate,
    examples) of thread t.
    """
    w_in, w_out, d, hot, merge_every, syn1, hot_nodes, tree, lockf = model  # hot = 0: word rows in place
    alias_table, base_neg, base_coin, negative, _ = draws
    lr_start, lr_end, position0, total = lr_decay
    hs = syn1.shape[0] > 0
    codes, points, offsets = tree
    n_blocks = blocks.shape[0] - 1
    claimed = np.zeros(1, dtype=np.int64)
    for thread in numba.prange(out.shape[0]):
        neu1e, ring, scores, grads, grad_out, _, hot_out, _, _ = thread_state(w_in, w_out, hot, negative, d)
        neu1 = np.empty((1, d), dtype=np.float32)  # the hidden layer, as a matrix of one row: the pairs' helpers
        node_scores = np.empty(MAX_CODE_LENGTH, dtype=np.float32)  # a window's scores on its center's path
        hot_syn1 = syn1[:hot_nodes].copy()  # the tree's rows nearest the root: this thread's copy, and its base
        base_syn1 = hot_syn1.copy()
        next_merge = merge_every
        loss = 0.0
        examples = 0
        while True:
            b = claim_block(claimed)
            if b >= n_blocks:
                break
            last = kept_starts[blocks[b + 1]]
            draw_ahead(ring, kept_starts[blocks[b]], alias_table, base_neg, base_coin, negative, hot, w_out, d)
            for p in range(blocks[b], blocks[b + 1]):
                s, e = kept_starts[p], kept_starts[p + 1]
                span = (starts[p + 1] - starts[p]) / max(e - s, 1)
                for i in range(s, e):
                    lr = np.float32(lr_at(lr_start, lr_end, position0 + starts[p] + (i - s) * span, total))
                    center = kept[i]
                    if i + 1 < last and negative > 0:  # the next center's negatives, and its output row
                        draw_ahead(ring, i + 1, alias_table, base_neg, base_coin, negative, hot, w_out, d)
                        if kept[i + 1] >= hot:
                            prefetch_row(w_out, kept[i + 1], d)
                    if i + window + 1 < last and kept[i + window + 1] >= hot:
                        prefetch_row(w_in, kept[i + window + 1], d)
                    r = K.window_reach(window, shrink, base_window, i)
                    lo, hi = max(s, i - r), min(e, i + r + 1)
                    if hi - lo == 1:  # no context: word2vec.c's `if (cw)`
                        continue
                    window_input(neu1[0], kept, lo, hi, i, w_in, cbow_mean, d)
                    slot, sampled = i & 1, (i & LOSS_EVERY_MASK) == 0
                    # the window is one pair of the hidden layer (row 0 of neu1) and the center; its error stays in
                    # neu1e (apply False) for every context row
                    if negative > 0:
                        score_targets(neu1, 0, center, ring, slot, negative, hot, hot_out, w_out, scores, d)
                        if negative == 5 and distinct_negatives(ring, slot, center, negative):
                            loss += train_pair6(
                                neu1,
                                0,
                                center,
                                ring,
                                slot,
                                hot,
                                hot_out,
                                w_out,
                                scores,
                                grads,
                                grad_out,
                                False,
                                sampled,
                                lr,
                                d,
                                neu1e,
                                False,
                                np.float32(1.0),
                            )
                        else:
                            loss += train_pair(
                                neu1,
                                0,
                                center,
                                ring,
                                slot,
                                negative,
                                hot,
                                hot_out,
                                w_out,
                                scores,
                                neu1e,
                                grad_out,
                                False,
                                sampled,
                                lr,
                                d,
                                False,
                                np.float32(1.0),
                            )
                    else:
                        neu1e[:] = 0.0
                    if hs:  # the tree adds its error to the negatives' (word2vec.c:463-475)
                        loss += train_hs(
                            neu1,
                            0,
                            center,
                            syn1,
                            hot_syn1,
                            hot_nodes,
                            codes,
                            points,
                            offsets,
                            lr,
                            d,
                            neu1e,
                            node_scores,
                            sampled,
                        )
                    spread_error(neu1e, kept, lo, hi, i, w_in, cbow_mean, d, lockf)
                    examples += 1
                    if hot_nodes and examples >= next_merge:
                        next_merge = examples + merge_every
                        merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        out[thread, 0] = loss * (LOSS_EVERY_MASK + 1)
        out[thread, 1] = examples
