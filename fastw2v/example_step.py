"""One training example's step in the CPU trainer's kernels (``cpu_kernels``), as numba helpers inlined into them:
a skip-gram pair (``train_skipgram_pair``) or a CBOW window (``train_cbow_window``), through the Huffman tree
(``hs_step``) and the negatives (``pair_step``), in word2vec.c's order.

Every array comes as its own argument, never in a tuple: a tuple passed to an inlined helper costs an atomic
reference count per array and call, which the kernels cannot afford per pair.
"""

from __future__ import annotations

import numba
import numpy as np

from .hs_step import train_hs
from .pair_step import train_targets


@numba.njit(cache=True, fastmath=True, inline="always")
# fmt: off
def train_skipgram_pair(
    loss,
    m_in,
    ctx,
    center,
    slot,
    lock,
    w_out,
    hot_out,
    hot,
    d,
    syn1,
    hot_syn1,
    hot_nodes,
    codes,
    points,
    offsets,
    neu1e,
    ring,
    scores,
    grads,
    grad_out,
    hs_err,
    node_scores,
    negative,
    shared_negatives,
    sampled,
    lr,
):
    # fmt: on
    """One pair of ``train_chunk``: the context's input row m_in[ctx] (word2vec.c:502; a hot row: the thread's copy)
    against the center's path in the tree with hs, first, as word2vec.c (the negatives read the input row unchanged),
    then against the center and its negatives (``pair_step.train_targets``); the tree's error moves the row last, by
    its lock factor. The per-pair helpers take every array as its own argument: an inlined helper's tuple argument
    costs an atomic reference count per array and call. Returns ``loss`` plus the pair's sampled loss."""
    if syn1.shape[0] > 0:
        hs_err[:] = 0.0
        loss += train_hs(
            m_in, ctx, center, syn1, hot_syn1, hot_nodes, codes, points, offsets, lr, d, hs_err, node_scores, sampled
        )
    if negative > 0:
        # fmt: off
        loss += train_targets(
            m_in, ctx, center, slot, w_out, hot_out, hot, d, neu1e, ring, scores, grads, grad_out, negative,
            shared_negatives, sampled, lr, True, lock
        )
        # fmt: on
    if syn1.shape[0] > 0:
        for c in range(d):
            m_in[ctx, c] += lock * hs_err[c]
    return loss


@numba.njit(cache=True, fastmath=True, inline="always")
# fmt: off
def train_cbow_window(
    loss,
    neu1,
    center,
    slot,
    w_out,
    d,
    syn1,
    hot_syn1,
    hot_nodes,
    codes,
    points,
    offsets,
    neu1e,
    ring,
    scores,
    grads,
    grad_out,
    node_scores,
    negative,
    sampled,
    lr,
):
    # fmt: on
    """CBOW's step for one window whose hidden layer is neu1[0] (``pair_step.window_input``): the window is one pair
    of the hidden layer and the center, its error left in neu1e (not applied) for ``pair_step.spread_error``: the
    negatives' (``pair_step.train_targets``, or none), then the tree's added with hs (word2vec.c:463-475).
    ``hot_syn1``: the thread's copies of the tree's rows nearest the root. Returns ``loss`` plus the window's sampled
    loss."""
    if negative > 0:
        # fmt: off
        loss += train_targets(
            neu1, 0, center, slot, w_out, w_out, 0, d, neu1e, ring, scores, grads, grad_out, negative, False, sampled,
            lr, False, np.float32(1.0)
        )
        # fmt: on
    else:
        neu1e[:] = 0.0
    if syn1.shape[0] > 0:
        loss += train_hs(
            neu1, 0, center, syn1, hot_syn1, hot_nodes, codes, points, offsets, lr, d, neu1e, node_scores, sampled
        )
    return loss
