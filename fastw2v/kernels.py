"""Numba kernels: arrays and scalars in, arrays out. No strings, dicts or tensors here.

Randomness is counter-based: every draw is ``hash32(base + index * GOLDEN)`` where ``base`` is derived
from (seed, epoch, stream, chunk) and ``index`` is the position of the thing drawn for (a token, a pair,
a negative slot). So a draw never depends on which thread made it, and the same seed gives the same
pairs and negatives with any thread count. ``hash32`` is Chris Wellons' "lowbias32" integer hash, a
bijection on 32-bit integers; it only uses shifts, xor, multiply and masks on int64 so that
``batching.py`` can evaluate the identical function with torch tensor ops on a GPU.
"""

import numba
import numpy as np

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9  # odd, so index -> index * GOLDEN is a bijection mod 2**32
TWO32 = 4294967296.0

# Stream ids: one per kind of draw, so the sub-sampling coin of token i and the window of token i differ.
STREAM_SUBSAMPLE = 1
STREAM_WINDOW = 2
STREAM_NEGATIVE = 3
STREAM_NEGATIVE_COIN = 4  # second hash of a negative draw: the alias table's coin
STREAM_SHUFFLE = 5


@numba.njit(cache=True, inline="always")
def hash32(x):
    x = x & MASK32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & MASK32
    x ^= x >> 15
    x = (x * 0x846CA68B) & MASK32
    x ^= x >> 16
    return x


@numba.njit(cache=True)
def stream_base(seed, epoch, stream, chunk):
    """The base of one random stream: a hash chain over its four coordinates."""
    h = hash32(np.int64(seed) & MASK32)
    h = hash32(h ^ (np.int64(seed) >> 32) ^ 0x68E31DA4)
    h = hash32(h ^ np.int64(epoch))
    h = hash32(h ^ np.int64(stream))
    h = hash32(h ^ (np.int64(chunk) & MASK32))
    return hash32(h ^ (np.int64(chunk) >> 32))


@numba.njit(cache=True, inline="always")
def draw(base, index):
    """A uniform 32-bit integer for position ``index`` of the stream ``base``."""
    return hash32(base + (index * GOLDEN))


# ---------------------------------------------------------------------------------------------------
# Alias table (Vose): O(V) build, O(1) draw.


@numba.njit(cache=True)
def build_alias_table(weights):
    """Vose's alias method. Returns (threshold uint32[V], alias int32[V]).

    Column i is kept when a 32-bit coin is below threshold[i], else alias[i] is taken. Thresholds are
    stored as 32-bit integers so that the CPU and the torch builder compare the same integers.
    """
    n = weights.shape[0]
    p = weights.astype(np.float64) * n / weights.sum()
    alias = np.arange(n).astype(np.int32)
    prob = np.ones(n, dtype=np.float64)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if p[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        prob[s] = p[s]
        alias[s] = g
        p[g] = (p[g] + p[s]) - 1.0
        if p[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    # Whatever is left has probability 1 up to rounding (Vose's note on numerical stability).
    threshold = np.empty(n, dtype=np.int64)
    for i in range(n):
        t = np.int64(prob[i] * TWO32)
        threshold[i] = min(t, np.int64(MASK32) + 1)
    return threshold, alias


@numba.njit(cache=True, inline="always")
def alias_draw(threshold, alias, base_col, base_coin, index):
    n = threshold.shape[0]
    col = (draw(base_col, index) * n) >> 32
    if draw(base_coin, index) < threshold[col]:
        return col
    return alias[col]


@numba.njit(cache=True, parallel=True)
def draw_negatives(threshold, alias, base_col, base_coin, first_row, out):
    """Fill ``out[r, t]`` with the negative for slot ``(first_row + r) * k + t`` of the stream."""
    rows, k = out.shape
    for r in numba.prange(rows):
        start = (first_row + r) * k
        for t in range(k):
            out[r, t] = alias_draw(threshold, alias, base_col, base_coin, start + t)


# ---------------------------------------------------------------------------------------------------
# Sub-sampling and skip-gram pairs over one chunk of token ids cut into pieces (documents, or parts of
# over-long documents). ``starts`` holds each piece's first position plus the end as a last entry.


@numba.njit(cache=True)
def subsample(ids, starts, keep_threshold, base):
    """Drop frequent tokens: token i survives when draw(base, i) < keep_threshold[ids[i]].

    word2vec.c (`ReadWord` loop in TrainModelThread) discards before windowing, so the window then spans
    the surviving neighbours; we do the same. Returns (kept ids, starts of the pieces in the kept ids).
    """
    kept = np.empty(ids.shape[0], dtype=np.int32)
    kept_starts = np.empty(starts.shape[0], dtype=np.int64)
    n = 0
    for p in range(starts.shape[0] - 1):
        kept_starts[p] = n
        for i in range(starts[p], starts[p + 1]):
            w = ids[i]
            if draw(base, i) < keep_threshold[w]:
                kept[n] = w
                n += 1
    kept_starts[starts.shape[0] - 1] = n
    return kept[:n], kept_starts


@numba.njit(cache=True, inline="always")
def _reach(window, shrink, base, i):
    # word2vec.c: b = next_random % window; the window is window - b on each side.
    if shrink:
        return window - (draw(base, i) % window)
    return window


@numba.njit(cache=True, parallel=True)
def count_pairs(starts, window, shrink, base):
    """Number of (center, context) pairs each piece yields."""
    n_pieces = starts.shape[0] - 1
    counts = np.zeros(n_pieces, dtype=np.int64)
    for p in numba.prange(n_pieces):
        s = starts[p]
        e = starts[p + 1]
        c = 0
        for i in range(s, e):
            r = _reach(window, shrink, base, i)
            c += min(e - 1, i + r) - max(s, i - r)
        counts[p] = c
    return counts


@numba.njit(cache=True, parallel=True)
def fill_pairs(ids, starts, offsets, window, shrink, base, center, context):
    """Write the pairs of piece p at center/context[offsets[p]:offsets[p+1]], centers in text order and,
    for each center, contexts left to right (the order of the tutorial's build_skipgram_pairs_docs)."""
    for p in numba.prange(starts.shape[0] - 1):
        s = starts[p]
        e = starts[p + 1]
        o = offsets[p]
        for i in range(s, e):
            r = _reach(window, shrink, base, i)
            for j in range(max(s, i - r), min(e, i + r + 1)):
                if j != i:
                    center[o] = ids[i]
                    context[o] = ids[j]
                    o += 1


def skipgram_pairs(ids, starts, window, shrink, base):
    """All pairs of a chunk as two int64 arrays (center, context); the thin wrapper over the kernels."""
    counts = count_pairs(starts, window, shrink, base)
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    center = np.empty(offsets[-1], dtype=np.int64)
    context = np.empty(offsets[-1], dtype=np.int64)
    fill_pairs(ids, starts, offsets, window, shrink, base, center, context)
    return center, context


@numba.njit(cache=True)
def shuffle_pairs(center, context, base):
    """Fisher-Yates over both arrays with the counter RNG (sequential; O(n))."""
    for i in range(center.shape[0] - 1, 0, -1):
        j = (draw(base, i) * (i + 1)) >> 32
        center[i], center[j] = center[j], center[i]
        context[i], context[j] = context[j], context[i]


@numba.njit(cache=True)
def unigram_weights(counts, power):
    return counts.astype(np.float64) ** power


def keep_thresholds(counts, sample):
    """word2vec.c's keep probability, as 32-bit thresholds for ``draw() < threshold``.

    ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn   (word2vec.c:400)
    A word is kept when ran >= a uniform draw; ran > 1 means always. sample <= 0 turns it off.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.full(counts.shape[0], 1 << 32, dtype=np.int64)
    threshold_count = sample * counts.sum()
    keep = (np.sqrt(counts / threshold_count) + 1.0) * threshold_count / counts
    return np.minimum(np.floor(keep * TWO32), TWO32).astype(np.int64)
