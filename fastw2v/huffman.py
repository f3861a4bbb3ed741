"""Hierarchical softmax's tree: word2vec.c's Huffman tree over the vocabulary's counts (``CreateBinaryTree``,
word2vec.c:201-254), and the log-probability of sentences under it (gensim's ``Word2Vec.score``).

Word w's path from the root is ``codes[offsets[w]:offsets[w + 1]]`` (the turn taken at each inner node, 0 or 1)
and ``points[...]`` (those inner nodes, rows of ``syn1``: 0 .. V - 2, the root V - 2). Training word w at a
node with code c raises σ(x · syn1[node]) towards 1 - c (word2vec.c:518-522).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from .errors import UserError, setting

MAX_CODE_LENGTH = 40  # word2vec.c's bound on a path (its `code` and `point` arrays); a longer one is an error here


class HuffmanTree(NamedTuple):
    """Every word's path through the tree, flattened: word w's codes and points are
    ``codes[offsets[w]:offsets[w + 1]]`` and ``points[...]`` (root first)."""

    codes: np.ndarray  # uint8
    points: np.ndarray  # int32: rows of syn1
    offsets: np.ndarray  # int64[V + 1]

    def code(self, word: int) -> np.ndarray:
        return self.codes[self.offsets[word] : self.offsets[word + 1]]

    def point(self, word: int) -> np.ndarray:
        return self.points[self.offsets[word] : self.offsets[word + 1]]


def tree_of_paths(codes, points) -> HuffmanTree:
    """The tree of given per-word paths (gensim's ``wv.expandos['code']`` and ``['point']``, one array a word): a
    model trained by gensim keeps gensim's tree, whose ties differ from word2vec.c's."""
    lengths = np.array([len(c) for c in codes], dtype=np.int64)
    if any(len(p) != n for p, n in zip(points, lengths)) or len(points) != len(codes):
        raise UserError(
            "the Huffman codes and points differ in length: load the model with the gensim version "
            "that saved it and save it again"
        )
    offsets = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = (
        np.concatenate([np.asarray(c, dtype=dtype) for c in paths]) if len(paths) else np.zeros(0, dtype)
        for paths, dtype in ((codes, np.uint8), (points, np.int32))
    )
    return HuffmanTree(*flat, offsets)


def empty_tree(vocab_size: int = 0) -> HuffmanTree:
    """No path for any word (what the kernels get when hs is off)."""
    return HuffmanTree(np.zeros(0, np.uint8), np.zeros(0, np.int32), np.zeros(vocab_size + 1, np.int64))


def build_tree(counts: np.ndarray) -> HuffmanTree:
    """word2vec.c's Huffman tree over ``counts`` (any order: the words are taken by count descending, ties in
    their order, as word2vec.c takes its sorted vocabulary). One word alone has an empty path. A word counted 0
    times (a vocabulary given by counts) is placed as if seen once, as every word of word2vec.c's vocabulary is:
    word2vec.c's merge takes an inner node before a leaf of the same count, so zeros would make a chain.

    word2vec.c merges the two smallest of the leaves (walked from the rarest up) and the inner nodes (made in
    increasing order), the inner node first on ties; the second of a pair gets code 1. Inner node a (the a-th merge)
    is row a of syn1, so the root is V - 2.
    """
    counts = np.maximum(np.asarray(counts, dtype=np.int64), 1)
    V = counts.shape[0]
    if V < 2:
        return empty_tree(V)
    order = np.argsort(-counts, kind="stable")  # word2vec.c's sorted vocabulary: position -> word
    codes, points, lengths = _huffman_paths(counts[order])
    if lengths.max() > MAX_CODE_LENGTH:
        raise UserError(
            f"the Huffman tree of this vocabulary is {int(lengths.max())} levels deep, more than "
            f"word2vec.c's {MAX_CODE_LENGTH}: raise {setting('min_count')}, or train with negative sampling "
            f"({setting('hs', False)})"
        )
    by_word = np.empty(V, dtype=np.int64)
    by_word[order] = lengths
    offsets = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(by_word, out=offsets[1:])
    flat_codes, flat_points = np.empty(offsets[-1], np.uint8), np.empty(offsets[-1], np.int32)
    _scatter_paths(codes, points, lengths, order, offsets, flat_codes, flat_points)
    return HuffmanTree(flat_codes, flat_points, offsets)


@numba.njit(cache=True)
def _huffman_paths(count_sorted):
    """word2vec.c's CreateBinaryTree over counts sorted descending: each position's code and point rows (root
    first, padded to the longest) and their lengths. Nodes 0 .. V - 1 are the leaves (positions), V + a the a-th
    merge; b walks from a leaf up to the root, n counts its steps."""
    V = count_sorted.shape[0]
    count = np.empty(2 * V, dtype=np.float64)
    count[:V] = count_sorted
    count[V:] = 1e15
    parent = np.zeros(2 * V, dtype=np.int64)
    binary = np.zeros(2 * V, dtype=np.uint8)
    pos1, pos2 = V - 1, V
    for a in range(V - 1):
        mins = np.empty(2, dtype=np.int64)
        for m in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                mins[m] = pos1
                pos1 -= 1
            else:
                mins[m] = pos2
                pos2 += 1
        count[V + a] = count[mins[0]] + count[mins[1]]
        parent[mins[0]] = V + a
        parent[mins[1]] = V + a
        binary[mins[1]] = 1
    lengths = np.zeros(V, dtype=np.int64)
    for a in range(V):
        b, n = a, 0
        while b != 2 * V - 2:
            n += 1
            b = parent[b]
        lengths[a] = n
    width = lengths.max()
    codes = np.zeros((V, width), dtype=np.uint8)
    points = np.zeros((V, width), dtype=np.int32)
    for a in range(V):
        n = lengths[a]
        b = a
        for i in range(n):  # from the leaf up: written from the end, so the root comes first
            codes[a, n - 1 - i] = binary[b]
            b = parent[b]
            points[a, n - 1 - i] = b - V
    return codes, points, lengths


@numba.njit(cache=True)
def _scatter_paths(codes, points, lengths, order, offsets, flat_codes, flat_points):
    """Each sorted position's path (``_huffman_paths``) into the flat arrays at its word's offset."""
    for position in range(order.shape[0]):
        word = order[position]
        o = offsets[word]
        for i in range(lengths[position]):
            flat_codes[o + i] = codes[position, i]
            flat_points[o + i] = points[position, i]


def score_sentences(
    sentences: list[np.ndarray],
    w_in: np.ndarray,
    syn1: np.ndarray,
    tree: HuffmanTree,
    window: int,
    sg: bool,
    cbow_mean: bool,
) -> np.ndarray:
    """Each sentence's log-probability under hierarchical softmax, as gensim's ``score_sentence_sg`` /
    ``score_sentence_cbow``: ``sentences`` are word ids (those outside the vocabulary already dropped), every
    context within ``window`` (no shrinking, no sub-sampling), a node whose score is past ±6 left out."""
    lengths = np.array([s.shape[0] for s in sentences], dtype=np.int64)
    starts = np.zeros(len(sentences) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    ids = np.concatenate(sentences).astype(np.int64) if sentences else np.zeros(0, np.int64)
    out = np.zeros(len(sentences), dtype=np.float32)
    _score(ids, starts, w_in, syn1, tree, window, sg, cbow_mean, out)
    return out


@numba.njit(cache=True)
def _log_sigmoid_of_node(x, syn1, node, code, d):
    """log σ(±x · syn1[node]) for the turn ``code`` taken at the node; 0 past ±6, as gensim leaves it out."""
    f = np.float32(0.0)
    for c in range(d):
        f += x[c] * syn1[node, c]
    if code:
        f = -f
    if f <= -6.0 or f >= 6.0:
        return 0.0
    return -math.log(1.0 + math.exp(-f))


@numba.njit(cache=True)
def _score(ids, starts, w_in, syn1, tree, window, sg, cbow_mean, out):
    """``score_sentences``' loop: sentence s at ids[lo:hi], the word w at position i predicted from the window
    a .. b - 1 around it, summed over the nodes t of w's path."""
    codes, points, offsets = tree
    d = w_in.shape[1]
    hidden = np.empty(d, dtype=np.float32)
    for s in range(starts.shape[0] - 1):
        lo, hi = starts[s], starts[s + 1]
        total = 0.0
        for i in range(lo, hi):
            w = ids[i]
            a, b = max(lo, i - window), min(hi, i + window + 1)
            if sg:
                for j in range(a, b):
                    if j != i:
                        for t in range(offsets[w], offsets[w + 1]):
                            total += _log_sigmoid_of_node(w_in[ids[j]], syn1, points[t], codes[t], d)
            else:
                hidden[:] = 0.0
                for j in range(a, b):
                    if j != i:
                        hidden += w_in[ids[j]]
                if cbow_mean and b - a > 1:
                    hidden /= np.float32(b - a - 1)
                for t in range(offsets[w], offsets[w + 1]):
                    total += _log_sigmoid_of_node(hidden, syn1, points[t], codes[t], d)
        out[s] = total
