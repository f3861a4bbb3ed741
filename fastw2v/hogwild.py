"""The CPU backend: word2vec.c's per-pair SGD in numba, on lock-free ("Hogwild") threads.

Each chunk of the corpus goes through the same kernels as the batch builders (``kernels.subsample``, the
window draw of ``kernels.window_reach``, the pair order of ``kernels.fill_pairs``, negatives keyed by pair index
as in ``kernels.draw_negatives``), so with ``shuffle=False`` this trainer sees exactly the pairs and
negatives that ``NumbaBatches`` yields; it just trains on each pair as soon as it is made, without
materialising it. A chunk's pieces (documents) are cut into blocks of consecutive pieces, which the threads
claim one at a time, and the threads write into the shared matrices without locks, as word2vec.c and
gensim do, except for the rows of the most frequent words (``Config.hot_rows``): each thread trains those on
a private copy and merges its changes every ``MERGE_EVERY`` pairs. With one thread the result is a pure
function of the seed. ``Config.shared_negatives`` (HogBatch) trades that pair-for-pair identity for speed:
one set of negatives per center, shared by its window. Hierarchical softmax (``Config.hs``) trains each pair's
input row along its center's path in the Huffman tree (``huffman``), before or instead of the negatives; the rows
nearest the tree's root take the private copies (``HOT_NODES``). In a job of several ranks (``buckets``) each rank
trains lists of pairs instead, a bucket's at a time (``train_pairs``), with the same per-pair step.

Orientation: word2vec.c's. For a pair (center, context) the CONTEXT word's input row is trained against the
CENTER's output row, and the negatives replace the center (``l1 = last_word * layer1_size``, word2vec.c:502).
The batch builders follow the tutorial (center's input row against the context's output row); over a
symmetric window both orientations see the same set of pairs, so the two objectives are the same sum.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from . import kernels as K
from .batching import numba_threads
from .buckets import RingSync, job_buckets, spans
from .config import Config
from .corpus import EncodedCorpus
from .errors import UserError
from .group import Group
from .huffman import MAX_CODE_LENGTH, HuffmanTree, build_tree, empty_tree
from .loop import RunProgress, fit
from .progress import compiling
from .stats import TrainStats, Weights
from .vectors import Vectors

MAX_EXP = np.float32(6.0)  # word2vec.c clips scores to [-MAX_EXP, MAX_EXP] before its sigmoid table (word2vec.c:517)
# The loss (an exp and a log per score) is only for the progress bar: it is summed over one pair in 16
# (by pair index, so deterministic) and scaled up: an exp and a log on every pair would slow the kernel down.
LOSS_EVERY_MASK = 15
MERGE_EVERY = 1024  # pairs between two merges of a thread's hot rows (Config.hot_rows) into the shared ones
BLOCKS_PER_THREAD = 32  # a chunk's pieces are cut into this many blocks per thread, which the threads claim in turn
PREFETCH_PAIRS = 2  # train_pairs prefetches the rows of the pair this many ahead (its negatives: the next pair's)
HOT_NODES = 256  # hs, 2+ threads: the tree's rows nearest the root, which every pair writes, on per-thread copies


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


def init_weights(vocab_size: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Input rows uniform in [-0.5/d, 0.5/d) (word2vec.c:355, the tutorial's init), output rows zero.

    Zero output rows are word2vec.c's syn1neg (word2vec.c:349) and gensim's: the first updates then move
    only the output rows, and the input rows start learning from a clean signal. (The tutorial's uniform
    output init trains as well; zeros need no random draw.)
    """
    rng = np.random.default_rng(seed)
    w_in = (rng.random((vocab_size, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)
    return w_in, np.zeros((vocab_size, dim), dtype=np.float32)


@intrinsic
def _prefetch(typingctx, arr, i, j):
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
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, i, j), codegen


@intrinsic
def _claim(typingctx, counter):
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
def _prefetch_row(w, row, d):
    for c in range(0, d, 16):  # one 64-byte line holds 16 float32
        _prefetch(w, row, c)


@numba.njit(cache=True, fastmath=True, inline="always")
def _score(w_in, w_out, a, b, d):
    f = np.float32(0.0)
    for c in range(d):
        f += w_in[a, c] * w_out[b, c]
    return f


@numba.njit(cache=True, fastmath=True, inline="always")
def _gradient(f, label, lr):
    """g = (label - σ(f))·lr: word2vec.c's "gradient multiplied by the learning rate" (word2vec.c:519).

    f is clipped to ±MAX_EXP as word2vec.c's table is; an exact float32 sigmoid is as fast as its table
    here, and fastmath assumes no infinities, so exp must not overflow anyway.
    """
    f = min(max(f, -MAX_EXP), MAX_EXP)
    return (np.float32(label) - np.float32(1.0) / (np.float32(1.0) + np.float32(math.exp(-f)))) * lr


@numba.njit(cache=True, fastmath=True, inline="always")
def _loss(f, label):
    """-log σ(f) for the positive, -log σ(-f) for a negative (for the progress bar only)."""
    f = min(max(f, -MAX_EXP), MAX_EXP)
    return math.log(1.0 + math.exp(-f if label else f))


@numba.njit(cache=True, inline="always")
def _distinct(ring, slot, center, negative):
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
def _update_pair6(m_in, ctx, m0, r0, m1, r1, m2, r2, m3, r3, m4, r4, m5, r5, g, d, neu1e, apply, lock):
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
def _accumulate_pair6(m_in, ctx, m0, r0, m1, r1, m2, r2, m3, r3, m4, r4, m5, r5, g, grad_out, d, lock):
    """_update_pair6 for shared negatives: the six output rows only add to the window's grad_out (applied at
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
        m_in[ctx, c] = x + lock * (((((g0 * m0[r0, c] + g1 * m1[r1, c]) + g2 * m2[r2, c]) + g3 * m3[r3, c])
                                    + g4 * m4[r4, c]) + g5 * m5[r5, c])


@numba.njit(cache=True, fastmath=True, inline="always")
def _train_pair6(m_in, ctx, center, ring, slot, hot, hot_out, w_out, scores, grads, grad_out, shared_negatives,
                 sampled, lr, d, neu1e, apply, lock):
    """One pair with the default k = 5, from its six scores: one pass over the columns updates all six rows
    (with shared negatives: adds to the window's grad_out), and the input row m_in[ctx] with ``apply`` (else the
    error goes into neu1e: CBOW's window, whose hidden layer is m_in[ctx]). Returns the pair's sampled loss."""
    loss = 0.0
    for t in range(6):
        grads[t] = 0.0  # a negative equal to the center is skipped: its gradient stays 0
        if t == 0 or ring[slot, t - 1] != center:
            if sampled:
                loss += _loss(scores[t], t == 0)
            grads[t] = _gradient(scores[t], 1 if t == 0 else 0, lr)
    r0, r1, r2, r3, r4 = ring[slot, 0], ring[slot, 1], ring[slot, 2], ring[slot, 3], ring[slot, 4]
    m0 = hot_out if center < hot else w_out
    m1 = hot_out if r0 < hot else w_out
    m2 = hot_out if r1 < hot else w_out
    m3 = hot_out if r2 < hot else w_out
    m4 = hot_out if r3 < hot else w_out
    m5 = hot_out if r4 < hot else w_out
    if shared_negatives:  # the output rows' updates wait in grad_out for the window's end
        _accumulate_pair6(m_in, ctx, m0, center, m1, r0, m2, r1, m3, r2, m4, r3, m5, r4, grads, grad_out, d, lock)
    else:
        _update_pair6(m_in, ctx, m0, center, m1, r0, m2, r1, m3, r2, m4, r3, m5, r4, grads, d, neu1e, apply, lock)
    return loss


@numba.njit(cache=True, fastmath=True, inline="always")
def _train_pair(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, neu1e, grad_out,
                shared_negatives, sampled, lr, d, apply, lock):
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
                    f = _score(m_in, m_out, ctx, target, d)
                    break
        if sampled:
            loss += _loss(f, label)
        g = _gradient(f, label, lr)
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
def _score4(m_in, row, s0, n0, s1, n1, s2, n2, s3, n3, d, scores, t):
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
def _update4(m_in, row, s0, n0, s1, n1, s2, n2, s3, n3, g0, g1, g2, g3, err, d):
    """Four distinct rows (s_t[n_t]) move by g_t * m_in[row], and err adds sum_t g_t * (row t before its move), in
    one pass over the columns: err is read and written once for the four (what ``_update_pair6`` does for k = 5)."""
    for c in range(d):
        x = m_in[row, c]
        o0, o1, o2, o3 = s0[n0, c], s1[n1, c], s2[n2, c], s3[n3, c]
        err[c] += ((g0 * o0 + g1 * o1) + g2 * o2) + g3 * o3
        s0[n0, c] = o0 + g0 * x
        s1[n1, c] = o1 + g1 * x
        s2[n2, c] = o2 + g2 * x
        s3[n3, c] = o3 + g3 * x


@numba.njit(cache=True, fastmath=True, inline="always")
def _train_hs(m_in, row, word, syn1, hot_syn1, hot_nodes, codes, points, offsets, lr, d, err, node_scores, sampled):
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
        _score4(m_in, row, hot_syn1 if n0 < hot_nodes else syn1, n0, hot_syn1 if n1 < hot_nodes else syn1, n1,
                hot_syn1 if n2 < hot_nodes else syn1, n2, hot_syn1 if n3 < hot_nodes else syn1, n3, d, node_scores, t)
        t += 4
    for u in range(t, n):
        node = points[start + u]
        node_scores[u] = _score(m_in, hot_syn1 if node < hot_nodes else syn1, row, node, d)
    loss = 0.0
    for u in range(n):
        f = node_scores[u]
        if f <= -MAX_EXP or f >= MAX_EXP:
            node_scores[u] = 0.0
            continue
        label = 1 - codes[start + u]
        if sampled:
            loss += _loss(f, label)
        node_scores[u] = _gradient(f, label, lr)
    t = 0
    while t + 4 <= n:
        n0, n1, n2, n3 = points[start + t], points[start + t + 1], points[start + t + 2], points[start + t + 3]
        _update4(m_in, row, hot_syn1 if n0 < hot_nodes else syn1, n0, hot_syn1 if n1 < hot_nodes else syn1, n1,
                 hot_syn1 if n2 < hot_nodes else syn1, n2, hot_syn1 if n3 < hot_nodes else syn1, n3, node_scores[t],
                 node_scores[t + 1], node_scores[t + 2], node_scores[t + 3], err, d)
        t += 4
    for u in range(t, n):
        node, g = points[start + u], node_scores[u]
        m = hot_syn1 if node < hot_nodes else syn1
        for c in range(d):
            err[c] += g * m[node, c]
            m[node, c] += g * m_in[row, c]
    return loss


@numba.njit(cache=True, inline="always")
def _lock(lockf, row):
    """Row's lock factor: its own, or the one factor for all rows."""
    return lockf[row] if lockf.shape[0] > 1 else lockf[0]


@numba.njit(cache=True, fastmath=True, inline="always")
def _score_targets(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, d):
    """A pair's 1 + k scores (the center's output row, then the negatives'), all before any update: their row
    reads and dot products are independent, so they overlap."""
    for t in range(negative + 1):
        target = center if t == 0 else ring[slot, t - 1]
        m_out = hot_out if target < hot else w_out
        scores[t] = _score(m_in, m_out, ctx, target, d)


@numba.njit(cache=True, fastmath=True, inline="always")
def _apply_window(center, ring, slot, negative, hot, hot_out, w_out, grad_out, d):
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
def _lr(lr_start, lr_end, position, total):
    """Linear decay over all epochs as a function of the token position, so no thread counter is involved."""
    return lr_start - (lr_start - lr_end) * min(position / total, 1.0)


@numba.njit(cache=True, inline="always")
def _merge_hot(shared, private, base, hot, d):
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
def _draw_ahead(ring, key, alias_table, base_neg, base_coin, negative, hot, w_out, d):
    """Draw the negatives of index ``key`` (a pair, or a center with shared negatives) into ``ring[key & 1]``
    and prefetch their output rows: they are needed one step later, when the row reads would stall."""
    for t in range(negative):
        w = K.alias_draw(alias_table, base_neg, base_coin, key * negative + t)
        ring[key & 1, t] = w
        if w >= hot:
            _prefetch_row(w_out, w, d)


@numba.njit(cache=True, fastmath=True, inline="always")
def _draw_bucket(ring, slot, key, sampler, lo, size, base_neg, base_coin, negative, hot, w_out, d):
    """``_draw_ahead`` in a bucket (``buckets.Buckets``): the negatives of index ``key`` from the partition at rows
    lo .. lo + size - 1 of ``sampler``, into ``ring[slot]``, and their rows prefetched."""
    for t in range(negative):
        w = K.partition_draw(sampler, lo, size, base_neg, base_coin, key * negative + t)
        ring[slot, t] = w
        if w >= hot:
            _prefetch_row(w_out, w, d)


@numba.njit(cache=True, inline="always")
def _thread_state(w_in, w_out, hot, negative, d):
    """A training thread's own arrays: neu1e; the ring of negatives (this pair's or center's, and the next's); a
    pair's 1 + k scores and gradients; grad_out (shared negatives: the window's output updates); its copies of the
    hot rows of both matrices and their bases (``_merge_hot``)."""
    hot_in, hot_out = w_in[:hot].copy(), w_out[:hot].copy()
    return (np.empty(d, dtype=np.float32), np.empty((2, negative), dtype=np.int64),
            np.empty(negative + 1, dtype=np.float32), np.empty(negative + 1, dtype=np.float32),
            np.zeros((negative + 1, d), dtype=np.float32), hot_in, hot_out, hot_in.copy(), hot_out.copy())


@numba.njit(parallel=True, nogil=True, fastmath=True, cache=True)
def train_chunk(kept, kept_starts, starts, pair_offsets, blocks, window, shrink, base_window, model, draws, lr_decay,
                out):
    """Per-pair SGD over the pairs of one sub-sampled chunk (word2vec.c:495-544).

    kept/kept_starts: the chunk after ``kernels.subsample``; starts: its pieces before sub-sampling (for
    the learning rate's token position); pair_offsets[p]: the index of piece p's first pair; blocks: the
    bounds of blocks of consecutive pieces; window, shrink, base_window: the windows' draw (``kernels.window_reach``).
    ``model`` (a ``Model``), ``draws`` (``Draws``, of the alias table) and ``lr_decay`` (``LrDecay``) are the fixed
    arguments. out has a row per thread: out[t] = (loss estimate, pairs) of thread t.

    Each thread claims the next block (``_claim``, an atomic counter) until none is left, so a thread that
    runs slower (a core shared with another process, a block with rarer, uncached rows) takes fewer blocks,
    and the threads reach the chunk's end within one block of each other: with one fixed block per thread
    the chunk waited for the slowest.
    The blocks' order does not change what a pair is: its negatives, sampled loss and learning rate come
    from its index and position, so one thread, taking the blocks in order, trains as on one block.

    The rows are memory-bound random reads (two 23 MB matrices on IMDB): the negatives of the next pair are
    drawn one pair ahead (negatives depend on the pair index only) and their rows prefetched, with the next
    center's output row and the input row entering the window. That halves the time per pair. A pair's 1 + k
    scores are computed before its updates (their row reads and dot products overlap), and with the default
    k = 5 one pass over the columns then updates all six rows (``_update_pair6``); a pair whose negatives
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
    those rows of both matrices and merges its changes into the shared rows every ``merge_every`` pairs and at the chunk's end (``_merge_hot``): the other threads' updates of a hot row
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
        neu1e, ring, scores, grads, grad_out, hot_in, hot_out, base_in, base_out = _thread_state(w_in, w_out, hot,
                                                                                                negative, d)
        hs_err = np.zeros(d, dtype=np.float32)  # a pair's input-row error from the tree
        node_scores = np.empty(MAX_CODE_LENGTH, dtype=np.float32)  # its scores on the path's nodes
        hot_syn1 = syn1[:hot_nodes].copy()  # the tree's rows nearest the root: this thread's copy, and its base
        base_syn1 = hot_syn1.copy()
        loss = 0.0
        pairs = 0
        next_merge = merge_every
        while True:
            b = _claim(claimed)
            if b >= n_blocks:
                break
            o = pair_offsets[blocks[b]]  # the index of the next pair
            last = kept_starts[blocks[b + 1]]
            first_key = kept_starts[blocks[b]] if shared_negatives else o  # the block's first center, or pair
            _draw_ahead(ring, first_key, alias_table, base_neg, base_coin, negative, hot, w_out, d)
            for p in range(blocks[b], blocks[b + 1]):
                s, e = kept_starts[p], kept_starts[p + 1]
                span = (starts[p + 1] - starts[p]) / max(e - s, 1)
                for i in range(s, e):
                    lr = np.float32(_lr(lr_start, lr_end, position0 + starts[p] + (i - s) * span, total))
                    center = kept[i]
                    sampled = False  # is this pair's loss in the progress estimate
                    if negative > 0 and i + 1 < last and kept[i + 1] >= hot:
                        _prefetch_row(w_out, kept[i + 1], d)
                    if i + window + 1 < last and kept[i + window + 1] >= hot:
                        _prefetch_row(w_in, kept[i + window + 1], d)
                    if shared_negatives:
                        _draw_ahead(ring, i + 1, alias_table, base_neg, base_coin, negative, hot, w_out, d)
                        sampled = (i & LOSS_EVERY_MASK) == 0
                    r = K.window_reach(window, shrink, base_window, i)
                    for j in range(max(s, i - r), min(e, i + r + 1)):
                        if j == i:
                            continue
                        if not shared_negatives:
                            _draw_ahead(ring, o + 1, alias_table, base_neg, base_coin, negative, hot, w_out, d)
                            sampled = (o & LOSS_EVERY_MASK) == 0
                        ctx = kept[j]  # its input row is trained against the center (word2vec.c:502)
                        m_in = hot_in if ctx < hot else w_in
                        lock = _lock(lockf, ctx)
                        if hs:  # the tree first, as word2vec.c: the negatives read the input row unchanged
                            hs_err[:] = 0.0
                            loss += _train_hs(m_in, ctx, center, syn1, hot_syn1, hot_nodes, codes, points, offsets,
                                              lr, d, hs_err, node_scores, sampled)
                        if negative > 0:
                            slot = (i if shared_negatives else o) & 1  # this pair's negatives in the ring
                            _score_targets(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, d)
                            if negative == 5 and (shared_negatives or _distinct(ring, slot, center, negative)):
                                loss += _train_pair6(m_in, ctx, center, ring, slot, hot, hot_out, w_out, scores,
                                                     grads, grad_out, shared_negatives, sampled, lr, d, neu1e, True,
                                                     lock)
                            else:
                                loss += _train_pair(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out,
                                                    scores, neu1e, grad_out, shared_negatives, sampled, lr, d, True,
                                                    lock)
                        if hs:
                            for c in range(d):
                                m_in[ctx, c] += lock * hs_err[c]
                        o += 1
                        pairs += 1
                    if shared_negatives:
                        _apply_window(center, ring, i & 1, negative, hot, hot_out, w_out, grad_out, d)
                    if (hot or hot_nodes) and pairs >= next_merge:
                        next_merge = pairs + merge_every
                        _merge_hot(w_in, hot_in, base_in, hot, d)
                        _merge_hot(w_out, hot_out, base_out, hot, d)
                        _merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        _merge_hot(w_in, hot_in, base_in, hot, d)
        _merge_hot(w_out, hot_out, base_out, hot, d)
        _merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
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
        neu1e, ring, scores, grads, grad_out, hot_in, hot_out, base_in, base_out = _thread_state(w_in, w_out, hot,
                                                                                                negative, d)
        loss = 0.0
        pairs = 0
        next_merge = merge_every
        while True:
            b = _claim(claimed)
            if b >= n_blocks:
                break
            first, end, part = blocks[b, 0], blocks[b, 1], blocks[b, 2]
            lo, size = sampler_starts[part], sampler_starts[part + 1] - sampler_starts[part]
            slot = 0
            if first < end:
                _draw_bucket(ring, 0, y[first] if shared_negatives else o[first], sampler, lo, size, base_neg,
                             base_coin, negative, hot, w_out, d)
            g = first
            while g < end:  # the pairs g .. h - 1 of one center
                h = g + 1
                while h < end and y[h] == y[g]:
                    h += 1
                center = kept[y[g]]
                lr = np.float32(_lr(lr_start, lr_end, position0 + positions[y[g]], total))
                if shared_negatives:
                    if h < end:  # the next center's
                        _draw_bucket(ring, 1 - slot, y[h], sampler, lo, size, base_neg, base_coin, negative, hot,
                                     w_out, d)
                    sampled = (y[g] & LOSS_EVERY_MASK) == 0
                for t in range(g, h):
                    ctx = kept[x[t]]
                    ahead = t + PREFETCH_PAIRS
                    if ahead < end:
                        if kept[x[ahead]] >= hot:
                            _prefetch_row(w_in, kept[x[ahead]], d)
                        if kept[y[ahead]] >= hot and y[ahead] != y[ahead - 1]:  # a new center's row
                            _prefetch_row(w_out, kept[y[ahead]], d)
                    if not shared_negatives:
                        if t + 1 < end:
                            _draw_bucket(ring, 1 - slot, o[t + 1], sampler, lo, size, base_neg, base_coin, negative,
                                         hot, w_out, d)
                        sampled = (o[t] & LOSS_EVERY_MASK) == 0
                    m_in = hot_in if ctx < hot else w_in
                    lock = _lock(lockf, ctx)
                    _score_targets(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores, d)
                    if negative == 5 and (shared_negatives or _distinct(ring, slot, center, negative)):
                        loss += _train_pair6(m_in, ctx, center, ring, slot, hot, hot_out, w_out, scores, grads,
                                             grad_out, shared_negatives, sampled, lr, d, neu1e, True, lock)
                    else:
                        loss += _train_pair(m_in, ctx, center, ring, slot, negative, hot, hot_out, w_out, scores,
                                            neu1e, grad_out, shared_negatives, sampled, lr, d, True, lock)
                    pairs += 1
                    if not shared_negatives:  # the next pair's negatives
                        slot = 1 - slot
                if shared_negatives:  # the window's output rows move; the next center's negatives
                    _apply_window(center, ring, slot, negative, hot, hot_out, w_out, grad_out, d)
                    slot = 1 - slot
                if hot and pairs >= next_merge:
                    next_merge = pairs + merge_every
                    _merge_hot(w_in, hot_in, base_in, hot, d)
                    _merge_hot(w_out, hot_out, base_out, hot, d)
                g = h
        _merge_hot(w_in, hot_in, base_in, hot, d)
        _merge_hot(w_out, hot_out, base_out, hot, d)
        out[thread, 0] = loss * (LOSS_EVERY_MASK + 1)
        out[thread, 1] = pairs


@numba.njit(cache=True, fastmath=True, inline="always")
def _window_input(neu1, kept, lo, hi, i, w_in, cbow_mean, d):
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
def _spread_error(neu1e, kept, lo, hi, i, w_in, cbow_mean, d, lockf):
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
        lock = _lock(lockf, row)
        for c in range(d):
            w_in[row, c] += lock * neu1e[c]


@numba.njit(parallel=True, nogil=True, fastmath=True, cache=True)
def train_cbow_chunk(kept, kept_starts, starts, blocks, window, shrink, base_window, model, draws, lr_decay, cbow_mean,
                     out):
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
        neu1e, ring, scores, grads, grad_out, _, hot_out, _, _ = _thread_state(w_in, w_out, hot, negative, d)
        neu1 = np.empty((1, d), dtype=np.float32)  # the hidden layer, as a matrix of one row: the pairs' helpers
        node_scores = np.empty(MAX_CODE_LENGTH, dtype=np.float32)  # a window's scores on its center's path
        hot_syn1 = syn1[:hot_nodes].copy()  # the tree's rows nearest the root: this thread's copy, and its base
        base_syn1 = hot_syn1.copy()
        next_merge = merge_every
        loss = 0.0
        examples = 0
        while True:
            b = _claim(claimed)
            if b >= n_blocks:
                break
            last = kept_starts[blocks[b + 1]]
            _draw_ahead(ring, kept_starts[blocks[b]], alias_table, base_neg, base_coin, negative, hot, w_out, d)
            for p in range(blocks[b], blocks[b + 1]):
                s, e = kept_starts[p], kept_starts[p + 1]
                span = (starts[p + 1] - starts[p]) / max(e - s, 1)
                for i in range(s, e):
                    lr = np.float32(_lr(lr_start, lr_end, position0 + starts[p] + (i - s) * span, total))
                    center = kept[i]
                    if i + 1 < last and negative > 0:  # the next center's negatives, and its output row
                        _draw_ahead(ring, i + 1, alias_table, base_neg, base_coin, negative, hot, w_out, d)
                        if kept[i + 1] >= hot:
                            _prefetch_row(w_out, kept[i + 1], d)
                    if i + window + 1 < last and kept[i + window + 1] >= hot:
                        _prefetch_row(w_in, kept[i + window + 1], d)
                    r = K.window_reach(window, shrink, base_window, i)
                    lo, hi = max(s, i - r), min(e, i + r + 1)
                    if hi - lo == 1:  # no context: word2vec.c's `if (cw)`
                        continue
                    _window_input(neu1[0], kept, lo, hi, i, w_in, cbow_mean, d)
                    slot, sampled = i & 1, (i & LOSS_EVERY_MASK) == 0
                    # the window is one pair of the hidden layer (row 0 of neu1) and the center; its error stays in
                    # neu1e (apply False) for every context row
                    if negative > 0:
                        _score_targets(neu1, 0, center, ring, slot, negative, hot, hot_out, w_out, scores, d)
                        if negative == 5 and _distinct(ring, slot, center, negative):
                            loss += _train_pair6(neu1, 0, center, ring, slot, hot, hot_out, w_out, scores, grads,
                                                 grad_out, False, sampled, lr, d, neu1e, False, np.float32(1.0))
                        else:
                            loss += _train_pair(neu1, 0, center, ring, slot, negative, hot, hot_out, w_out, scores,
                                                neu1e, grad_out, False, sampled, lr, d, False, np.float32(1.0))
                    else:
                        neu1e[:] = 0.0
                    if hs:  # the tree adds its error to the negatives' (word2vec.c:463-475)
                        loss += _train_hs(neu1, 0, center, syn1, hot_syn1, hot_nodes, codes, points, offsets, lr, d,
                                          neu1e, node_scores, sampled)
                    _spread_error(neu1e, kept, lo, hi, i, w_in, cbow_mean, d, lockf)
                    examples += 1
                    if hot_nodes and examples >= next_merge:
                        next_merge = examples + merge_every
                        _merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        _merge_hot(syn1, hot_syn1, base_syn1, hot_nodes, d)
        out[thread, 0] = loss * (LOSS_EVERY_MASK + 1)
        out[thread, 1] = examples


def padded_rows(m: np.ndarray) -> np.ndarray:
    """A copy of m whose rows start on 64-byte cache-line boundaries, each padded with zeros to whole lines.

    With d = 100 a row is 400 bytes, so unpadded the rows share their first and last lines with their
    neighbours: two threads writing neighbouring rows (the most frequent words have neighbouring ids) then
    pass those lines between their cores although they share no row. Padded, a row is 7 lines of its own
    (12% more memory at d = 100, 1% at d = 300), and the kernels still read and write only its d columns.
    """
    rows, d = m.shape
    stride = -(-d // 16) * 16  # 16 float32 to a line
    buf = np.zeros(rows * stride + 16, dtype=np.float32)
    first = (-buf.ctypes.data % 64) // 4  # the first float32 on a line boundary
    out = buf[first:first + rows * stride].reshape(rows, stride)
    out[:, :d] = m
    return out


def shares(pair_offsets: np.ndarray, n: int) -> np.ndarray:
    """Piece bounds of ``n`` runs of consecutive pieces with about equal numbers of pairs, which together cover
    every piece once (``pair_offsets``: each piece's first pair index, and the total): the threads' blocks."""
    targets = np.linspace(0, pair_offsets[-1], n + 1)
    bounds = np.searchsorted(pair_offsets, targets, side="left")
    bounds[0], bounds[-1] = 0, pair_offsets.shape[0] - 1
    return np.maximum.accumulate(bounds).astype(np.int64)


def pair_blocks(y: np.ndarray, n: int) -> np.ndarray:
    """Bounds of about ``n`` blocks of a pair list with about equal numbers of pairs, each cut where the center
    (``y``) changes: a center's pairs stay in one block (shared negatives apply its window at its last pair)."""
    centers = np.concatenate([[0], np.flatnonzero(y[1:] != y[:-1]) + 1, [y.shape[0]]])
    return np.unique(centers[np.searchsorted(centers, np.linspace(0, y.shape[0], n + 1))]).astype(np.int64)


def round_blocks(pairs, buckets, s: int, i: int, n_blocks: int) -> np.ndarray:
    """``train_pairs``' blocks of the i-th buckets of round s of a span: each owner's (``buckets.SpanPairs``) cut
    into its share of ``n_blocks`` (``pair_blocks``), as rows (first pair, end, the owner: its centers' partition)."""
    rows = []
    for owner in buckets.owners:
        b = pairs.bucket(owner, s, i)
        cuts = b.start + pair_blocks(pairs.y[b], max(1, n_blocks // len(buckets.owners)))
        rows.append(np.column_stack([cuts[:-1], cuts[1:], np.full(cuts.shape[0] - 1, owner)]))
    return np.concatenate(rows).astype(np.int64)


class ChunkTrainer:
    """How hogwild trains one chunk of an epoch: every pair in text order (``train_chunk``), or, with ``buckets``,
    span by span and bucket by bucket (``train_pairs``), each of this rank's buckets between the ring's
    ``wait()`` and ``trained()`` (``sync``, a job's). Holds the padded matrices (``matrices``: w_in, w_out and with
    hs syn1, its rows root first: ``tree_rows``), the tables and the threads' blocks; from ``weights`` the input
    rows' lock factors and syn1's tree (``Weights.lockf``, ``Weights.tree``)."""

    def __init__(self, corpus: EncodedCorpus, config: Config, matrices: dict, buckets, sync, n_threads: int,
                 weights: Weights | None = None):
        self.corpus, self.config, self.padded = corpus, config, matrices
        self.w_in, self.w_out = matrices["w_in"], matrices["w_out"]
        self.buckets, self.sync, self.n_threads = buckets, sync, n_threads
        V = len(corpus.vocab)
        self.d, self.n_blocks = config.vector_size, n_threads * BLOCKS_PER_THREAD
        # one thread shares no lines; CBOW writes every row in place: a window writes twice a pair's rows, and the
        # merges of private copies cost it more than they save; with hs the tree's root rows are the private ones
        self.hot = min(config.hot_rows, V) if n_threads > 1 and config.sg and not config.hs else 0
        self.keep_threshold = K.keep_thresholds(corpus.vocab.counts, config.sample)
        self.alias_table = K.build_alias_table(corpus.vocab.unigram_weights(config.ns_exponent))
        self.bounds = corpus.chunk_bounds(config.chunk_tokens)
        self.n_chunks = self.bounds.shape[0] - 1
        syn1 = matrices.get("syn1", np.zeros((0, self.w_in.shape[1]), dtype=np.float32))
        tree = empty_tree(V)
        if config.hs:
            given = weights.tree if weights is not None else None
            tree = tree_rows(given if given is not None else build_tree(corpus.vocab.counts), V)
        hot_nodes = min(HOT_NODES, syn1.shape[0]) if n_threads > 1 and config.hot_rows else 0
        lockf = lock_factors(None if weights is None else weights.lockf, V)
        self.model = Model(self.w_in, self.w_out, self.d, self.hot, MERGE_EVERY, syn1, hot_nodes, tree, lockf)

    def chunk(self, epoch: int, c: int):
        """Chunk c of an epoch as the batch builders see it: its piece starts, and the sub-sampled and windowed chunk
        (``kernels.windowed_chunk``)."""
        cfg = self.config
        ids, local = self.corpus.chunk(self.bounds, c)
        return (local, *K.windowed_chunk(ids, local, self.keep_threshold, cfg.window, cfg.shrink_windows,
                                              cfg.seed, epoch, c))

    def schedule(self, epoch: int, c: int, table: np.ndarray) -> tuple[Draws, LrDecay]:
        """The kernels' negatives (from ``table``) and learning rate for chunk c."""
        cfg, N = self.config, self.corpus.n_tokens
        first = int(self.corpus.starts[self.bounds[c]])
        negatives, coins = (int(K.stream_base(cfg.seed, epoch, stream, c))
                            for stream in (K.STREAM_NEGATIVE, K.STREAM_NEGATIVE_COIN))
        return (Draws(table, negatives, coins, cfg.negative, cfg.resolved_shared_negatives()),
                LrDecay(cfg.lr, cfg.end_lr, float(epoch * N + first), float(cfg.epochs * N)))

    def train(self, epoch: int, c: int, progress: RunProgress) -> None:
        """Train chunk c of ``epoch``; its pairs and loss (a job's: every rank's) go to ``progress``."""
        local, kept, kept_starts, offsets, w_base = self.chunk(epoch, c)
        out = np.zeros((self.n_threads, 2), dtype=np.float64)
        if self.buckets is None:
            self.train_plain(epoch, c, local, kept, kept_starts, offsets, w_base, shares(offsets, self.n_blocks), out)
        else:
            self.train_buckets(epoch, c, local, kept, kept_starts, offsets, w_base, out)
        loss, n_pairs = float(out[:, 0].sum()), int(out[:, 1].sum())
        if self.sync is not None:  # the whole job's: every rank decides on the same figures
            loss, n_pairs = self.sync.group.sum([loss, n_pairs], f"summing the loss of chunk {c + 1}")
        N, epochs = self.corpus.n_tokens, self.config.epochs
        tokens_done = int(self.corpus.starts[self.bounds[c + 1]])
        progress.chunk(epoch, loss, int(n_pairs), tokens_done, self.config.lr_at((epoch * N + tokens_done) / (epochs * N)))

    def matrices(self) -> dict[str, np.ndarray]:
        """w_in, w_out (views) and with hs syn1 (a copy, in the tree's order), without the padding."""
        return {name: np.ascontiguousarray(m[::-1, :self.d]) if name == "syn1" else m[:, :self.d]
                for name, m in self.padded.items()}

    def optimizer_state(self) -> None:
        return None

    def input_vectors(self) -> np.ndarray:
        return self.w_in[:, :self.d]

    def train_plain(self, epoch, c, local, kept, kept_starts, offsets, w_base, blocks, out) -> None:
        """Every pair of chunk c (or of ``blocks`` of its pieces), in text order."""
        cfg = self.config
        if cfg.sg:
            train_chunk(kept, kept_starts, local, offsets, blocks, cfg.window, cfg.shrink_windows, w_base, self.model,
                        *self.schedule(epoch, c, self.alias_table), out)
        else:
            train_cbow_chunk(kept, kept_starts, local, blocks, cfg.window, cfg.shrink_windows, w_base, self.model,
                             *self.schedule(epoch, c, self.alias_table), bool(cfg.cbow_mean), out)

    def train_buckets(self, epoch, c, local, kept, kept_starts, offsets, w_base, out) -> None:
        """Chunk c span by span, each span bucket by bucket: in round s this rank's buckets (alone, every rank's in
        turn), each followed by the hand-over of the input rows it wrote."""
        buckets, sync = self.buckets, self.sync
        positions = K.kept_positions(local, kept_starts)
        round_out = np.zeros_like(out)  # train_pairs writes its figures into it: added up here
        for pieces in spans(local, self.config.resolved_span_tokens(self.corpus.n_tokens)):
            pairs = buckets.span_pairs(kept, kept_starts, offsets, pieces, self.config, w_base, output_is_center=True)
            for s in range(buckets.n):
                for i in range(buckets.k):
                    if sync is not None:
                        sync.wait()
                    self.train_pairs(epoch, c, kept, pairs, positions, round_blocks(pairs, buckets, s, i, self.n_blocks),
                                     round_out)
                    out += round_out
                    if sync is not None:
                        sync.trained(kept[pairs.x[pairs.bucket(sync.group.rank, s, i)]],
                                     f"handing on input rows in round {s + 1} of chunk {c + 1}, epoch {epoch + 1}")

    def train_pairs(self, epoch, c, kept, pairs, positions, blocks, out) -> None:
        b = self.buckets
        train_pairs(kept, pairs.x, pairs.y, pairs.o, positions, blocks, b.sampler_starts, self.model,
                    *self.schedule(epoch, c, b.sampler), out)

    def warm_up(self) -> None:
        """Make numba compile the kernels (tens of seconds in a fresh install, then a cache load) on no block at
        all, before the clock starts, so words/s is training only."""
        if self.bounds.shape[0] < 2:  # a corpus without a chunk
            return
        with compiling():
            local, kept, kept_starts, offsets, w_base = self.chunk(0, 0)
            figures = np.zeros((self.n_threads, 2), dtype=np.float64)
            self.train_plain(0, 0, local, kept, kept_starts, offsets, w_base, np.zeros(1, dtype=np.int64), figures)
            if self.buckets is not None:
                pairs = self.buckets.span_pairs(kept, kept_starts, offsets, (0, 1), self.config, w_base, True)
                self.train_pairs(0, 0, kept, pairs, K.kept_positions(local, kept_starts),
                                 np.zeros((0, 3), dtype=np.int64), figures)


def train_hogwild(corpus: EncodedCorpus, config: Config, progress: bool = True, weights: Weights | None = None,
                  on_epoch_end=None, group: Group | None = None, as_ranks: int = 0):
    """Train on ``corpus`` with per-pair SGD on ``config.threads`` threads; returns (Vectors, TrainStats).

    The learning rate decays linearly from config.lr to config.end_lr over all epochs, as a function
    of the token position (epoch·N + position) / (epochs·N): the same schedule whatever the thread count.
    With more than one thread the threads race on shared rows (Hogwild), so only workers=1 is bit-exact.
    In a job of several ranks (a ``group.Group``), or alone as one (``as_ranks``), each chunk is trained span by
    span, each span bucket by bucket (``buckets``), and a job's ranks hand the input rows on after each round.
    The run is ``loop.fit`` over the chunks of a ``ChunkTrainer``.
    """
    from .checkpoint import RunCheckpoints, TrainState

    V, d, N, epochs = len(corpus.vocab), config.vector_size, corpus.n_tokens, config.epochs
    run = RunCheckpoints(config, corpus, "hogwild", group)
    resumed = run.resume_from
    padded = {name: padded_rows(m[::-1] if name == "syn1" else m)  # syn1 root first: tree_rows
              for name, m in start_matrices(config, V, resumed, weights).items()}
    w_in, w_out = padded["w_in"], padded["w_out"]
    state = TrainState() if resumed is None else resumed.state
    stats = TrainStats("hogwild", "cpu", epochs, V, N, start_lr=config.lr, pairs=state.pairs,
                       loss_history=list(state.loss_history))
    buckets = job_buckets(group, corpus, config, as_ranks)
    sync = RingSync(group, w_in[:, :d], w_out[:, :d], buckets) if group is not None else None
    with numba_threads(config.threads):
        trainer = ChunkTrainer(corpus, config, padded, buckets, sync, numba.get_num_threads(), weights)
        trainer.warm_up()
        if group is not None:
            group.barrier("compiling the kernels")  # the clock starts on all ranks together
        bar = RunProgress(stats, epochs, progress, state, state.tokens_done(corpus, trainer.bounds, epochs))
        fit(trainer, run, bar, state, sync, on_epoch_end,
            output_rows=config.final_vectors == "avg" or weights is not None)
    stats.checkpoint_seconds = run.seconds_saving
    if buckets is not None:
        stats.buckets, stats.span_tokens = True, config.resolved_span_tokens(N)
    if group is not None:
        sync.finish()
        stats.note_group(group)
    return _result(corpus, config, trainer.matrices(), weights), stats


def start_matrices(config: Config, V: int, resumed, weights: Weights | None) -> dict[str, np.ndarray]:
    """The matrices a run starts from, by name: a checkpoint's (``resumed``), the caller's ``weights``, or fresh
    (``init_weights``; the tree's rows zero, as word2vec.c's syn1). Without negatives w_out has no rows."""
    d = config.vector_size
    if resumed is not None:
        found = {name: t.numpy() for name, t in resumed.tensors.items() if name in ("w_in", "w_out", "syn1")}
    elif weights is not None:
        found = {"w_in": weights.w_in, "w_out": weights.w_out, "syn1": weights.syn1}
    else:
        w_in, w_out = init_weights(V, d, config.seed)
        found = {"w_in": w_in, "w_out": w_out, "syn1": None}
    matrices = {"w_in": found["w_in"], "w_out": found["w_out"] if config.negative else np.zeros((0, d), np.float32)}
    if config.hs:
        syn1 = found.get("syn1")
        matrices["syn1"] = np.zeros((V, d), dtype=np.float32) if syn1 is None else syn1
    return matrices


def tree_rows(tree: HuffmanTree, V: int) -> HuffmanTree:
    """The tree as the kernels take it: syn1's rows in reverse (the root, inner node V - 2, at row 1; row 0 is the
    unused row V - 1), so the nodes nearest the root, which every pair writes, are the first rows and can be hot
    (``HOT_NODES``) as the most frequent words are. ``ChunkTrainer.matrices`` turns syn1 back."""
    if tree.points.shape[0] and (tree.points.min() < 0 or tree.points.max() > V - 2):
        raise UserError(f"the Huffman tree points to inner nodes outside 0..{V - 2} for {V} words: rebuild the "
                        "model's vocabulary (build_vocab) or load it with the library that saved it")
    return HuffmanTree(tree.codes, (V - 1 - tree.points.astype(np.int64)).astype(np.int32), tree.offsets)


def lock_factors(lockf: np.ndarray | None, V: int) -> np.ndarray:
    """gensim's ``vectors_lockf`` as the kernels take it: float32, one factor for every row or one per row."""
    if lockf is None:
        return np.ones(1, dtype=np.float32)
    lockf = np.ascontiguousarray(np.asarray(lockf, dtype=np.float32).reshape(-1))
    if lockf.shape[0] not in (1, V):
        raise UserError(f"vectors_lockf has {lockf.shape[0]} factors for {V} words: give one per word, e.g. "
                        f"np.ones({V}, dtype=np.float32), or one for all")
    return lockf


def _result(corpus: EncodedCorpus, config: Config, matrices: dict, weights: Weights | None) -> Vectors:
    """The trained vectors (``Vectors`` copies them without the padding); with ``weights``, the matrices back into
    the caller's."""
    w_in, w_out = matrices["w_in"], matrices["w_out"]
    if weights is not None:
        weights.w_in[...] = w_in
        if config.negative:
            weights.w_out[...] = w_out
        if config.hs and weights.syn1 is not None:
            weights.syn1[...] = matrices["syn1"]
    final = w_in if config.final_vectors == "in" else (w_in + w_out) / np.float32(2)
    return Vectors(corpus.vocab.words, final, corpus.vocab.counts)
