"""The per-pair step of the CPU trainer, word2vec.c's arithmetic as numba helpers inlined into the kernels
(``cpu_kernels``): a pair's scores and gradients, the one-pass updates for k = 5 and the general loop, hierarchical
softmax along a word's path, CBOW's window, the draws and prefetches one step ahead, the merges of a thread's private
hot rows, and the two intrinsics they need (a write prefetch and an atomic block counter)."""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from . import kernels as K

MAX_EXP = np.float32(6.0)  # word2vec.c clips scores to [-MAX_EXP, MAX_EXP] before its sigmoid table (word2vec.c:517)
# The loss (an exp and a log per score) is only for the progress bar: it is summed over one pair in 16
# (by pair index, so deterministic) and scaled up: an exp and a log on every pair would slow the kernel down.
LOSS_EVERY_MASK = 15


@intrinsic
def prefetch_line(typingctx, arr, i, j):
    """llvm.prefetch of arr[i, j]'s cache line for writing (PREFETCHW on x86), kept in all cache levels; a hint,
    never a fault. Every row prefetched here is written soon after it is read; fetched for writing, its line
    arrives exclusive, so when another thread last wrote it the write needs no second trip between cores
    (at 2 threads a few percent over a read prefetch in scratch runs; ``python -m tools.ab`` measures a
    kernel change between two commits)."""

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], sig.args[1:])]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, i, j), codegen


@intrinsic
def claim_block(typingctx, counter):
    """Atomically add 1 to counter[0] and return its value before: the index of the next unclaimed block
    (an LLVM ``atomicrmw add``, LOCK XADD on x86)."""

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [zero], wraparound=False)
        return builder.atomic_rmw("add", ptr, ir.Constant(ir.IntType(64), 1), "monotonic")

    return types.int64(counter), codegen


@numba.njit(cache=True, inline="always")
def prefetch_row(w, row, d):
    for c in range(0, d, 16):  # one 64-byte line holds 16 float32
        prefetch_line(w, row, c)


@numba.njit(cache=True, fastmath=True, inline="always")
def dot_rows(w_in, w_out, a, b, d):
    f = np.float32(0.0)
    for c in range(d):
        f += w_in[a, c] * w_out[b, c]
    return f


@numba.njit(cache=True, fastmath=True, inline="always")
def gradient(f, label, lr):
    """g = (label - σ(f))·lr: word2vec.c's "gradient multiplied by the learning rate" (word2vec.c:519).

    f is clipped to ±MAX_EXP as word2vec.c's table is; an exact float32 sigmoid is as fast as its table
    here, and fastmath assumes no infinities, so exp must not overflow anyway.
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


@numba.njit(cache=True, fastmath=True, inline="always")
def score4(m_in, row, s0, n0, s1, n1, s2, n2, s3, n3, d, scores, t):
    """The scores of m_in[row] on four rows (s_t[n_t]), into scores[t:t + 4], in one pass over the columns."""
    f0, f1, f2, f3 = np.float32(0.0), np.float32(0.0), np.float32(0.0), np.float32(0.0)
    for c in range(d):
        x = m_in[row, c]
        f0 += x * s0[n0, c]
        f1 += x * s1[n1, c]
        f2 += x * s2[n2, c]
        f3 += x * s3[n3, c]
    scores[t], scores[t + 1], scores[t + 2], scores[t + 3] = f0, f1, f2, f3


@numba.njit(cache=True, fastmath=True, inline="always")
def update4(m_in, row, s0, n0, s1, n1, s2, n2, s3, n3, g0, g1, g2, g3, err, d):
    """Four distinct rows (s_t[n_t]) move by g_t * m_in[row], and err adds sum_t g_t * (row t before its move), in
    one pass over the columns: err is read and written once for the four (what ``update_pair6`` does for k = 5)."""
    for c in range(d):
        x = m_in[row, c]
        o0, o1, o2, o3 = s0[n0, c], s1[n1, c], s2[n2, c], s3[n3, c]
        err[c] += ((g0 * o0 + g1 * o1) + g2 * o2) + g3 * o3
        s0[n0, c] = o0 + g0 * x
        s1[n1, c] = o1 + g1 * x
        s2[n2, c] = o2 + g2 * x
        s3[n3, c] = o3 + g3 * x


@numba.njit(cache=True, fastmath=True, inline="always")
def train_hs(m_in, row, word, syn1, hot_syn1, hot_nodes, codes, points, offsets, lr, d, err, node_scores, sampled):
    """Hierarchical softmax for one input row m_in[row] and the word it predicts (word2vec.c:511-524): at each
    inner node of the word's path the node's row moves towards predicting the turn taken there, and the input row's
    error adds up in ``err`` (applied by the caller, after the negatives, which read the row unchanged). A node
    scored past ±MAX_EXP is skipped (its gradient 0), as in word2vec.c and gensim. ``codes``, ``points``,
    ``offsets``: the Huffman tree (``huffman.HuffmanTree``), its points rows of syn1, of which those below
    ``hot_nodes`` are this thread's copies in ``hot_syn1``; ``node_scores``: room for a path's scores, then its
    gradients. The path's nodes are distinct and the input row does not move within the step, so every score is
    computed first and every update after, four nodes to a pass over the columns: word2vec.c's arithmetic in
    another order. Returns the sampled loss."""
    start, end = offsets[word], offsets[word + 1]
    n = end - start
    t = 0
    while t + 4 <= n:
        n0, n1, n2, n3 = points[start + t], points[start + t + 1], points[start + t + 2], points[start + t + 3]
        score4(
            m_in,
            row,
            hot_syn1 if n0 < hot_nodes else syn1,
            n0,
            hot_syn1 if n1 < hot_nodes else syn1,
            n1,
            hot_syn1 if n2 < hot_nodes else syn1,
            n2,
            hot_syn1 if n3 < hot_nodes else syn1,
            n3,
            d,
            node_scores,
            t,
        )
        t += 4
    for u in range(t, n):
        node = points[start + u]
        node_scores[u] = dot_rows(m_in, hot_syn1 if node < hot_nodes else syn1, row, node, d)
    loss = 0.0
    for u in range(n):
        f = node_scores[u]
        if f <= -MAX_EXP or f >= MAX_EXP:
            node_scores[u] = 0.0
            continue
        label = 1 - codes[start + u]
        if sampled:
            loss += pair_loss(f, label)
        node_scores[u] = gradient(f, label, lr)
    t = 0
    while t + 4 <= n:
        n0, n1, n2, n3 = points[start + t], points[start + t + 1], points[start + t + 2], points[start + t + 3]
        update4(
            m_in,
            row,
            hot_syn1 if n0 < hot_nodes else syn1,
            n0,
            hot_syn1 if n1 < hot_nodes else syn1,
            n1,
            hot_syn1 if n2 < hot_nodes else syn1,
            n2,
            hot_syn1 if n3 < hot_nodes else syn1,
            n3,
            node_scores[t],
            node_scores[t + 1],
            node_scores[t + 2],
            node_scores[t + 3],
            err,
            d,
        )
        t += 4
    for u in range(t, n):
        node, g = points[start + u], node_scores[u]
        m = hot_syn1 if node < hot_nodes else syn1
        for c in range(d):
            err[c] += g * m[node, c]
            m[node, c] += g * m_in[row, c]
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


@numba.njit(cache=True, inline="always")
def lr_at(lr_start, lr_end, position, total):
    """Linear decay over all epochs as a function of the token position, so no thread counter is involved."""
    return lr_start - (lr_start - lr_end) * min(position / total, 1.0)


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


@numba.njit(cache=True, fastmath=True, inline="always")
def draw_ahead(ring, key, alias_table, base_neg, base_coin, negative, hot, w_out, d):
    """Draw the negatives of index ``key`` (a pair, or a center with shared negatives) into ``ring[key & 1]``
    and prefetch their output rows: they are needed one step later, when the row reads would stall."""
    for t in range(negative):
        w = K.alias_draw(alias_table, base_neg, base_coin, key * negative + t)
        ring[key & 1, t] = w
        if w >= hot:
            prefetch_row(w_out, w, d)


@numba.njit(cache=True, fastmath=True, inline="always")
def draw_bucket(ring, slot, key, sampler, lo, size, base_neg, base_coin, negative, hot, w_out, d):
    """``draw_ahead`` in a bucket (``buckets.Buckets``): the negatives of index ``key`` from the partition at rows
    lo .. lo + size - 1 of ``sampler``, into ``ring[slot]``, and their rows prefetched."""
    for t in range(negative):
        w = K.partition_draw(sampler, lo, size, base_neg, base_coin, key * negative + t)
        ring[slot, t] = w
        if w >= hot:
            prefetch_row(w_out, w, d)


@numba.njit(cache=True, inline="always")
def thread_state(w_in, w_out, hot, negative, d):
    """A training thread's own arrays: neu1e; the ring of negatives (this pair's or center's, and the next's); a
    pair's 1 + k scores and gradients; grad_out (shared negatives: the window's output updates); its copies of the
    hot rows of both matrices and their bases (``merge_hot``)."""
    hot_in, hot_out = w_in[:hot].copy(), w_out[:hot].copy()
    return (
        np.empty(d, dtype=np.float32),
        np.empty((2, negative), dtype=np.int64),
        np.empty(negative + 1, dtype=np.float32),
        np.empty(negative + 1, dtype=np.float32),
        np.zeros((negative + 1, d), dtype=np.float32),
        hot_in,
        hot_out,
        hot_in.copy(),
        hot_out.copy(),
    )


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
