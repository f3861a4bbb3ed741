"""Hierarchical softmax's step (word2vec.c:511-524) as numba helpers inlined into the CPU trainer's kernels
(``cpu_kernels``): an input row against the inner nodes of a word's path in the Huffman tree (``huffman``), every
node's score first, then every node's update, four nodes to a pass over the columns.

Names: u a node's place on the path, n0 .. n3 four nodes (rows of syn1) and s0 .. s3 their matrices (the shared rows
or a thread's copies of those nearest the root), f a score, g a gradient, c a column."""

from __future__ import annotations

import numba
import numpy as np

from .pair_step import MAX_EXP, dot_rows, gradient, pair_loss


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
def score_path(m_in, row, points, start, n, syn1, hot_syn1, hot_nodes, d, node_scores):
    """The scores of m_in[row] on the n nodes of a word's path (``points[start:start + n]``, rows of syn1, those
    below ``hot_nodes`` this thread's copies in ``hot_syn1``) into node_scores[:n], four nodes to a pass."""
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


@numba.njit(cache=True, fastmath=True, inline="always")
def path_gradients(codes, start, n, lr, node_scores, sampled):
    """Each node's score in node_scores[:n] becomes its gradient towards the turn taken there (label 1 - code); a node
    scored past ±MAX_EXP gets 0, as in word2vec.c and gensim. Returns the sampled loss."""
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
    return loss


@numba.njit(cache=True, fastmath=True, inline="always")
def update_path(m_in, row, points, start, n, syn1, hot_syn1, hot_nodes, d, node_scores, err):
    """The path's node rows move by their gradients (node_scores[:n]) times m_in[row], and err adds each gradient times
    the node's row before its move, four nodes to a pass (``update4``)."""
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


@numba.njit(cache=True, fastmath=True, inline="always")
def train_hs(m_in, row, word, syn1, hot_syn1, hot_nodes, codes, points, offsets, lr, d, err, node_scores, sampled):
    """Hierarchical softmax for one input row m_in[row] and the word it predicts (word2vec.c:511-524): at each
    inner node of the word's path the node's row moves towards predicting the turn taken there, and the input row's
    error adds up in ``err`` (applied by the caller, after the negatives, which read the row unchanged). ``codes``,
    ``points``, ``offsets``: the Huffman tree (``huffman.HuffmanTree``), its points rows of syn1, of which those below
    ``hot_nodes`` are this thread's copies in ``hot_syn1``; ``node_scores``: room for a path's scores, then its
    gradients. The path's nodes are distinct and the input row does not move within the step, so every score is
    computed first and every update after: word2vec.c's arithmetic in another order. Returns the sampled loss."""
    start, end = offsets[word], offsets[word + 1]
    n = end - start
    score_path(m_in, row, points, start, n, syn1, hot_syn1, hot_nodes, d, node_scores)
    loss = path_gradients(codes, start, n, lr, node_scores, sampled)
    update_path(m_in, row, points, start, n, syn1, hot_syn1, hot_nodes, d, node_scores, err)
    return loss
