"""What each thread of the CPU trainer's parallel kernels (``cpu_kernels``) does around its pairs, as numba helpers
inlined into them: the learning rate at a token position, the negatives drawn one step ahead and the rows
prefetched, a center's run in a list of pairs, a thread's own arrays, its private copies of the hot rows and their
merges into the shared ones, and its figures at the end.

Names: t a negative's slot and w the word drawn for it, r a hot row, c a column, v a merged value."""

from __future__ import annotations

import numba
import numpy as np

from .draws import alias_column, alias_draw, partition_draw
from .huffman import MAX_CODE_LENGTH
from .intrinsics import prefetch_read, prefetch_write
from .pair_step import LOSS_EVERY_MASK


@numba.njit(cache=True, inline="always")
def prefetch_row(w, row, d):
    """Prefetch the d columns of w[row] for writing, a line at a time."""
    for c in range(0, d, 16):  # one 64-byte line holds 16 float32
        prefetch_write(w, (row, c))


@numba.njit(cache=True, inline="always")
def prefetch_pair(kept, x, y, t, hot, w_in, w_out, d):
    """Prefetch the rows of pair t of a list of pairs (``cpu_kernels.train_pairs``) that are shared (not hot): its
    context's input row, and its center's output row unless the pair before has the same center (and fetched it)."""
    if kept[x[t]] >= hot:
        prefetch_row(w_in, kept[x[t]], d)
    if kept[y[t]] >= hot and y[t] != y[t - 1]:
        prefetch_row(w_out, kept[y[t]], d)


@numba.njit(cache=True, inline="always")
def lr_at(lr_start, lr_end, position, total):
    """Linear decay over all epochs as a function of the token position, so no thread counter is involved."""
    return lr_start - (lr_start - lr_end) * min(position / total, 1.0)


@numba.njit(cache=True, fastmath=True, inline="always")
def draw_ahead(ring, key, alias_table, base_neg, base_coin, negative, hot, w_out, d):
    """Draw the negatives of index ``key`` (a pair, or a center with shared negatives) into ``ring[key & 1]``
    and prefetch their output rows: they are needed one step later, when the row reads would stall. The alias
    table's entries that index key + 1's draws read are prefetched too (the table outgrows L2 at V in the tens of
    thousands, and each draw's row address waits on its entry). The draws: ``cpu_kernels.Draws``' alias table,
    streams and k, unpacked (a tuple argument costs atomic reference counts)."""
    n = alias_table.shape[0]
    for t in range(negative):
        w = alias_draw(alias_table, base_neg, base_coin, key * negative + t)
        ring[key & 1, t] = w
        if w >= hot:
            prefetch_row(w_out, w, d)
        prefetch_read(alias_table, (alias_column(n, base_neg, (key + 1) * negative + t), 0))


@numba.njit(cache=True, fastmath=True, inline="always")
def draw_bucket(ring, slot, key, next_key, sampler, lo, size, base_neg, base_coin, negative, hot, w_out, d):
    """``draw_ahead`` in a bucket (``buckets.Buckets``): the negatives of index ``key`` from the partition at rows
    lo .. lo + size - 1 of the stacked ``sampler``, with the two streams and k, into ``ring[slot]``, and their rows
    prefetched, with the sampler's entries that index ``next_key``'s draws read."""
    for t in range(negative):
        w = partition_draw(sampler, lo, size, base_neg, base_coin, key * negative + t)
        ring[slot, t] = w
        if w >= hot:
            prefetch_row(w_out, w, d)
        prefetch_read(sampler, (lo + alias_column(size, base_neg, next_key * negative + t), 0))


@numba.njit(cache=True, fastmath=True, inline="always")
def draw_next(ring, slot, y, o, nxt, end, shared, sampler, lo, size, base_neg, base_coin, negative, hot, w_out, d):
    """``draw_bucket`` into ``ring[slot]`` of the draw that pair ``nxt`` of a list of pairs ending before ``end``
    (``cpu_kernels.train_pairs``) trains with, if there is one: with shared negatives its center's (``nxt`` is the
    center's first pair), else its own; the entries of the draw after it are prefetched."""
    if nxt < end:
        if shared:
            key, after = y[nxt], y[min(center_end(y, nxt, end), end - 1)]
        else:
            key, after = o[nxt], o[min(nxt + 1, end - 1)]
        draw_bucket(ring, slot, key, after, sampler, lo, size, base_neg, base_coin, negative, hot, w_out, d)


@numba.njit(cache=True, inline="always")
def center_end(y, first, end):
    """The end of the run of pairs from ``first`` (before ``end``) whose center is y[first]'s."""
    last = first + 1
    while last < end and y[last] == y[first]:
        last += 1
    return last


@numba.njit(cache=True, inline="always")
def merge_hot(shared, private, base, hot, d):
    """Add this thread's changes to the hot rows (private - base) into the shared rows, then take the sum as
    the new private copy and base: the other threads' changes since the last merge arrive here. A value this
    thread did not change is only read: writing it back could undo another thread's merge (and costs a
    cache line transfer)."""
    for r in range(hot):
        for c in range(d):  # not the padding (padded_rows)
            delta = private[r, c] - base[r, c]
            if delta != 0.0:
                v = shared[r, c] + delta
                shared[r, c] = v
            else:
                v = shared[r, c]
            private[r, c] = v
            base[r, c] = v


@numba.njit(cache=True, inline="always")
def thread_scratch(negative, d):
    """A training thread's own arrays: neu1e (a pair's input-row error); the ring of negatives (this pair's or
    center's, and the next's); a pair's 1 + k scores and gradients; grad_out (shared negatives: the window's output
    updates); hs_err (hierarchical softmax: a pair's input-row error from the tree) and node_scores (its scores on the
    path's nodes, then their gradients)."""
    return (
        np.empty(d, dtype=np.float32),
        np.empty((2, negative), dtype=np.int64),
        np.empty(negative + 1, dtype=np.float32),
        np.empty(negative + 1, dtype=np.float32),
        np.zeros((negative + 1, d), dtype=np.float32),
        np.zeros(d, dtype=np.float32),
        np.empty(MAX_CODE_LENGTH, dtype=np.float32),
    )


@numba.njit(cache=True, inline="always")
def hot_copies(w_in, w_out, syn1, hot, hot_nodes):
    """A thread's private copies of the hot rows (ids below ``hot`` of both matrices, and the tree's ``hot_nodes``
    rows nearest the root), then the bases they merge from (``merge_hot``): (hot_in, hot_out, hot_syn1, base_in,
    base_out, base_syn1)."""
    hot_in, hot_out, hot_syn1 = w_in[:hot].copy(), w_out[:hot].copy(), syn1[:hot_nodes].copy()
    return hot_in, hot_out, hot_syn1, hot_in.copy(), hot_out.copy(), hot_syn1.copy()


@numba.njit(cache=True, inline="always")
def merge_copies(matrices, copies, hot, hot_nodes, d):
    """Merge a thread's ``hot_copies`` into the shared rows of ``matrices`` (w_in, w_out, syn1). Called once in many
    pairs: its tuple arguments' reference counts cost nothing there."""
    w_in, w_out, syn1 = matrices
    hot_in, hot_out, hot_syn1, base_in, base_out, base_syn1 = copies
    merge_hot(w_in, hot_in, base_in, hot, d)
    merge_hot(w_out, hot_out, base_out, hot, d)
    merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)


@numba.njit(cache=True, inline="always")
def end_thread(matrices, copies, hot, hot_nodes, d, out, thread, loss, pairs):
    """A thread's last merge, and its figures into out[thread]: the loss estimate (the sampled pairs' loss scaled to
    all pairs) and its pairs."""
    merge_copies(matrices, copies, hot, hot_nodes, d)
    out[thread, 0] = loss * (LOSS_EVERY_MASK + 1)
    out[thread, 1] = pairs
