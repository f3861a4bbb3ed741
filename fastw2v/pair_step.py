"""The per-pair step of the CPU trainer's negative sampling, word2vec.c's arithmetic as numba helpers inlined into
the kernels (``cpu_kernels``): a pair's scores and gradients, the one-pass updates for k = 5 and the general loop, the
choice between them (``train_targets``), shared negatives' window update, and CBOW's hidden layer and its error.

Names in the arithmetic: c a column; t a target (0 the pair's center, t > 0 its negative t - 1, ``ring[slot, t - 1]``);
f a score and g its gradient; x the input row's value in a column; m_t and r_t target t's matrix (the shared rows or a
thread's hot copies) and row, o_t its value before the move."""

from __future__ import annotations

import math

import numba
import numpy as np

MAX_EXP = np.float32(6.0)  # word2vec.c clips scores to [-MAX_EXP, MAX_EXP] before its sigmoid table (word2vec.c:517)
# The loss (an exp and a log per score) is only for the progress bar: it is summed over one pair in 16
# (by pair index, so deterministic) and scaled up: an exp and a log on every pair would slow the kernel down.
LOSS_EVERY_MASK = 15


@numba.njit(cache=True, fastmath=True, inline="always")
def dot_rows(w_in, w_out, a, b, d):
    """The dot product of w_in[a] and w_out[b] over their first d columns."""
    f = np.float32(0.0)
    for c in range(d):
        f += w_in[a, c] * w_out[b, c]
    return f


@numba.njit(cache=True, fastmath=True, inline="always")
def gradient(f, label, lr):
    """g = (label - σ(f))·lr: word2vec.c's "gradient multiplied by the learning rate" (word2vec.c:519).

    f is clipped to ±MAX_EXP as word2vec.c's table is, with an exact float32 sigmoid in place of the table;
    fastmath assumes no infinities, so exp must not overflow anyway.
    """
    f = min(max(f, -MAX_EXP), MAX_EXP)
    return (np.float32(label) - np.float32(1.0) / (np.float32(1.0) + np.float32(math.exp(-f)))) * lr


@numba.njit(cache=True, fastmath=True, inline="always")
def pair_loss(f, label):
    """-log σ(f) for the positive, -log σ(-f) for a negative (for the progress bar only)."""
    f = min(max(f, -MAX_EXP), MAX_EXP)
    return math.log(1.0 + math.exp(-f if label else f))


@numba.njit(cache=True, inline="always")
def distinct_negatives(ring, slot, center, negative):
    """Are the pair's negatives all different, and none of them the center?"""
    for t in range(negative):
        w = ring[slot, t]
        if w == center:
            return False
        for u in range(t):
            if ring[slot, u] == w:
                return False
    return True


@numba.njit(cache=True, fastmath=True, inline="always")
def update_pair6(m_in, ctx, m0, r0, m1, r1, m2, r2, m3, r3, m4, r4, m5, r5, g, d, neu1e, apply, lock):
    """One pair's per-pair SGD step with k = 5, in one pass over the columns: each of the six output rows
    (the center's and the negatives', all distinct) moves by g_t * x, and the context's input row x by
    sum_t g_t * (row t before its move), word2vec.c's neu1e (word2vec.c:538-543); without ``apply`` that sum goes
    into ``neu1e`` instead (CBOW: ``m_in[ctx]`` is the hidden layer); ``lock`` scales the input row's move (its
    lock factor). Each column is read and written once, where the general loop reads the input row and neu1e once
    per row (what it gains: docs/decisions.md)."""
    g0, g1, g2, g3, g4, g5 = g[0], g[1], g[2], g[3], g[4], g[5]
    for c in range(d):
        x = m_in[ctx, c]
        o0 = m0[r0, c]
        o1 = m1[r1, c]
        o2 = m2[r2, c]
        o3 = m3[r3, c]
        o4 = m4[r4, c]
        o5 = m5[r5, c]
        m0[r0, c] = o0 + g0 * x
        m1[r1, c] = o1 + g1 * x
        m2[r2, c] = o2 + g2 * x
        m3[r3, c] = o3 + g3 * x
        m4[r4, c] = o4 + g4 * x
        m5[r5, c] = o5 + g5 * x
        if apply:
            m_in[ctx, c] = x + lock * (((((g0 * o0 + g1 * o1) + g2 * o2) + g3 * o3) + g4 * o4) + g5 * o5)
        else:
            neu1e[c] = ((((g0 * o0 + g1 * o1) + g2 * o2) + g3 * o3) + g4 * o4) + g5 * o5


@numba.njit(cache=True, fastmath=True, inline="always")
def accumulate_pair6(m_in, ctx, m0, r0, m1, r1, m2, r2, m3, r3, m4, r4, m5, r5, g, grad_out, d, lock):
    """update_pair6 for shared negatives: the six output rows only add to the window's grad_out (applied at
    the window's end), the input row moves now. Rows may repeat here: nothing is written to them."""
    g0, g1, g2, g3, g4, g5 = g[0], g[1], g[2], g[3], g[4], g[5]
    for c in range(d):
        x = m_in[ctx, c]
        grad_out[0, c] += g0 * x
        grad_out[1, c] += g1 * x
        grad_out[2, c] += g2 * x
        grad_out[3, c] += g3 * x
        grad_out[4, c] += g4 * x
        grad_out[5, c] += g5 * x
        m_in[ctx, c] = x + lock * (
            ((((g0 * m0[r0, c] + g1 * m1[r1, c]) + g2 * m2[r2, c]) + g3 * m3[r3, c]) + g4 * m4[r4, c]) + g5 * m5[r5, c]
        )


@numba.njit(cache=True, fastmath=True, inline="always")
# fmt: off
def train_pair6(
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
    apply,
    lock,
):
    # fmt: on
    """One pair with the default k = 5, from its six scores: one pass over the columns updates all six rows
    (with shared negatives: adds to the window's grad_out), and the input row m_in[ctx] with ``apply`` (else the
    error goes into neu1e: CBOW's window, whose hidden layer is m_in[ctx]). Returns the pair's sampled loss."""
    loss = 0.0
    for t in range(6):
        grads[t] = 0.0  # a negative equal to the center is skipped: its gradient stays 0
        if t == 0 or ring[slot, t - 1] != center:
            if sampled:
                loss += pair_loss(scores[t], t == 0)
            grads[t] = gradient(scores[t], 1 if t == 0 else 0, lr)
    r0, r1, r2, r3, r4 = ring[slot, 0], ring[slot, 1], ring[slot, 2], ring[slot, 3], ring[slot, 4]
    m0 = hot_out if center < hot else w_out
    m1 = hot_out if r0 < hot else w_out
    m2 = hot_out if r1 < hot else w_out
    m3 = hot_out if r2 < hot else w_out
    m4 = hot_out if r3 < hot else w_out
    m5 = hot_out if r4 < hot else w_out
    if shared_negatives:  # the output rows' updates wait in grad_out for the window's end
        accumulate_pair6(m_in, ctx, m0, center, m1, r0, m2, r1, m3, r2, m4, r3, m5, r4, grads, grad_out, d, lock)
    else:
        update_pair6(m_in, ctx, m0, center, m1, r0, m2, r1, m3, r2, m4, r3, m5, r4, grads, d, neu1e, apply, lock)
    return loss


@numba.njit(cache=True, fastmath=True, inline="always")
# fmt: off
def train_pair(
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
    apply,
    lock,
):
    # fmt: on
    """One pair, any k, target after target (word2vec.c:519-543), from the scores computed first; a negative
    drawn twice is rescored after its first update, as word2vec.c scores it. neu1e ends as the error, added to
    m_in[ctx] with ``apply`` (CBOW: without it, to spread over the window). Returns the pair's sampled loss."""
    loss = 0.0
    for c in range(d):
        neu1e[c] = 0.0
    for t in range(negative + 1):
        if t == 0:
            target, label = center, 1
        else:
            target = ring[slot, t - 1]
            if target == center:  # word2vec.c:530 `if (target == word) continue;`
                continue
            label = 0
        m_out = hot_out if target < hot else w_out
        f = scores[t]
        if not shared_negatives:
            for u in range(t - 1):  # drawn twice: word2vec.c scores it after its first update
                if ring[slot, u] == target:
                    f = dot_rows(m_in, m_out, ctx, target, d)
                    break
        if sampled:
            loss += pair_loss(f, label)
        g = gradient(f, label, lr)
        if shared_negatives:  # the output rows move at the end of the window
            for c in range(d):
                neu1e[c] += g * m_out[target, c]
                grad_out[t, c] += g * m_in[ctx, c]
        else:
            for c in range(d):
                neu1e[c] += g * m_out[target, c]
                m_out[target, c] += g * m_in[ctx, c]
    if apply:
        for c in range(d):
            m_in[ctx, c] += lock * neu1e[c]
    return loss


@numba.njit(cache=True, inline="always")
def lock_factor(lockf, row):
    """Row's lock factor: its own, or the one factor for all rows."""
    return lockf[row] if lockf.shape[0] > 1 else lockf[0]


@numba.njit(cache=True, fastmath=True, inline="always")
def score_targets(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, d):
    """A pair's 1 + k scores (the center's output row, then the negatives'), all before any update: their row
    reads and dot products are independent, so they overlap."""
    for t in range(negative + 1):
        target = center if t == 0 else ring[slot, t - 1]
        m_out = hot_out if target < hot else w_out
        scores[t] = dot_rows(m_in, m_out, ctx, target, d)


@numba.njit(cache=True, fastmath=True, inline="always")
def score_six(m_in, ctx, center, ring, slot, hot, hot_out, w_out, scores, d):
    """``score_targets`` with k = 5, in one pass over the columns: the input row is read once, and the six sums are
    independent, so their reductions overlap where six dot products one after the other would wait on each."""
    r0, r1, r2, r3, r4 = ring[slot, 0], ring[slot, 1], ring[slot, 2], ring[slot, 3], ring[slot, 4]
    m0 = hot_out if center < hot else w_out
    m1 = hot_out if r0 < hot else w_out
    m2 = hot_out if r1 < hot else w_out
    m3 = hot_out if r2 < hot else w_out
    m4 = hot_out if r3 < hot else w_out
    m5 = hot_out if r4 < hot else w_out
    f0 = f1 = f2 = f3 = f4 = f5 = np.float32(0.0)
    for c in range(d):
        x = m_in[ctx, c]
        f0 += x * m0[center, c]
        f1 += x * m1[r0, c]
        f2 += x * m2[r1, c]
        f3 += x * m3[r2, c]
        f4 += x * m4[r3, c]
        f5 += x * m5[r4, c]
    scores[0], scores[1], scores[2], scores[3], scores[4], scores[5] = f0, f1, f2, f3, f4, f5


@numba.njit(cache=True, fastmath=True, inline="always")
def apply_window(center, ring, slot, negative, hot, hot_out, w_out, grad_out, d):
    """Shared negatives, at a window's end: each of its 1 + k output rows moves by the updates its contexts
    summed in grad_out, which is cleared for the next window."""
    for t in range(negative + 1):
        target = center if t == 0 else ring[slot, t - 1]
        if t > 0 and target == center:
            continue  # skipped in the window: its update is zero
        m_out = hot_out if target < hot else w_out
        for c in range(d):
            m_out[target, c] += grad_out[t, c]
            grad_out[t, c] = 0.0


@numba.njit(cache=True, fastmath=True, inline="always")
# fmt: off
def train_targets(
    m_in,
    ctx,
    center,
    slot,
    w_out,
    hot_out,
    hot,
    d,
    neu1e,
    ring,
    scores,
    grads,
    grad_out,
    negative,
    shared_negatives,
    sampled,
    lr,
    apply,
    lock,
):
    # fmt: on
    """Negative sampling for one pair, the input row m_in[ctx] against the center and its negatives ring[slot]: its
    1 + k scores first (``score_targets``; with k = 5 ``score_six``), then with k = 5 one pass over the columns
    (``train_pair6``) when the negatives are shared or the six rows differ, else target after target
    (``train_pair``). ``hot_out``: the thread's copies of the output rows below ``hot``; neu1e .. grad_out: the
    thread's arrays
    (``kernel_threads.thread_scratch``). Every array comes as its own argument, never in a tuple: an inlined helper's
    tuple argument costs an atomic reference count per array and call. Returns the pair's sampled loss."""
    if negative == 5:
        score_six(m_in, ctx, center, ring, slot, hot, hot_out, w_out, scores, d)
    else:
        score_targets(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, d)
    if negative == 5 and (shared_negatives or distinct_negatives(ring, slot, center, negative)):
        # fmt: off
        return train_pair6(
            m_in, ctx, center, ring, slot, hot, hot_out, w_out, scores, grads, grad_out, shared_negatives, sampled, lr,
            d, neu1e, apply, lock
        )
        # fmt: on
    # fmt: off
    return train_pair(
        m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, neu1e, grad_out, shared_negatives,
        sampled, lr, d, apply, lock
    )
    # fmt: on


@numba.njit(cache=True, fastmath=True, inline="always")
def window_input(neu1, kept, lo, hi, i, w_in, cbow_mean, d):
    """CBOW's hidden layer for the center at kept[i]: the sum of its window's input rows (kept[lo:hi] but i;
    word2vec.c:450-458), divided by their number with cbow_mean (word2vec.c:461)."""
    for c in range(d):
        neu1[c] = 0.0
    for j in range(lo, hi):
        if j == i:
            continue
        row = kept[j]
        for c in range(d):
            neu1[c] += w_in[row, c]
    if cbow_mean:
        cw = np.float32(hi - lo - 1)
        for c in range(d):
            neu1[c] /= cw


@numba.njit(cache=True, fastmath=True, inline="always")
def spread_error(neu1e, kept, lo, hi, i, w_in, cbow_mean, d, lockf):
    """neu1e into every input row of the window (word2vec.c:486-491), scaled by the row's lock factor; with a sum
    (cbow_mean=0) divided by their number first, as gensim does (word2vec_inner.pyx, ``fast_sentence_cbow_neg``)."""
    if not cbow_mean:
        cw = np.float32(hi - lo - 1)
        for c in range(d):
            neu1e[c] /= cw
    for j in range(lo, hi):
        if j == i:
            continue
        row = kept[j]
        lock = lock_factor(lockf, row)
        for c in range(d):
            w_in[row, c] += lock * neu1e[c]
