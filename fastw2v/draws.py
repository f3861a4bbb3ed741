"""Counter-based random draws, the layer under every trainer and batch builder: each draw is
``hash32(base + index * GOLDEN)``, where ``base`` comes from (seed, epoch, stream, chunk) and ``index`` is the position
of the thing drawn for (a token, a pair, a negative slot). So a draw never depends on which thread made it, and the
same seed gives the same pairs and negatives with any thread count. ``hash32`` is Chris Wellons' "lowbias32" integer
hash, a bijection on 32-bit integers; it only uses shifts, xor, multiply and masks on int64 so that ``batching`` can
evaluate the identical function with torch tensor ops on a GPU.

Here: the hash and the streams, word2vec.c's keep thresholds of sub-sampling, the alias table of the negatives
(Vose: O(V) build, O(1) draw), the stacked tables of a job's partitions, and the negatives drawn in bulk.
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
    """lowbias32 of the low 32 bits of x (int64 arithmetic, masked)."""
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


@numba.njit(cache=True)
def build_alias_table(weights):
    """Vose's alias method. Returns table int64[V, 2]: (threshold, alias) of each column side by side.

    Column i is kept when a 32-bit coin is below table[i, 0], else table[i, 1] is taken. Thresholds are
    32-bit integers so that the CPU and the torch builder compare the same integers; the two fields share a
    cache line, so a draw reads one line instead of two.
    """
    n = weights.shape[0]
    scaled = weights.astype(np.float64) * n / weights.sum()  # a column's weight; 1 is a column's fair share
    alias = np.arange(n).astype(np.int32)
    prob = np.ones(n, dtype=np.float64)
    small = np.empty(n, dtype=np.int64)  # columns under their share, a stack of n_small
    large = np.empty(n, dtype=np.int64)  # columns at or over it, a stack of n_large
    n_small = 0
    n_large = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        under = small[n_small]
        over = large[n_large - 1]
        prob[under] = scaled[under]
        alias[under] = over
        scaled[over] = (scaled[over] + scaled[under]) - 1.0
        if scaled[over] < 1.0:
            n_large -= 1
            small[n_small] = over
            n_small += 1
    # Whatever is left has probability 1 up to rounding (Vose's note on numerical stability).
    table = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        table[i, 0] = min(np.int64(prob[i] * TWO32), np.int64(MASK32) + 1)
        table[i, 1] = alias[i]
    return table


@numba.njit(cache=True, inline="always")
def alias_column(n, base_col, index):
    """The column of an alias table of ``n`` columns that slot ``index`` of the column's stream picks: what a
    draw reads, so that the kernels can prefetch it a step early."""
    return (draw(base_col, index) * n) >> 32


@numba.njit(cache=True, inline="always")
def alias_draw(table, base_col, base_coin, index):
    """The word drawn from ``table`` (``build_alias_table``) at slot ``index`` of the column's and the coin's streams:
    the column, or its alias."""
    col = alias_column(table.shape[0], base_col, index)
    return col if draw(base_coin, index) < table[col, 0] else table[col, 1]


def partition_sampler(q, partition, n):
    """The alias tables of ``n`` partitions' negatives stacked (int64[V', 3]), from each word's weight ``q`` and
    its ``partition``: partition b's rows are ``starts[b]:starts[b + 1]``, each (threshold, the column's word, its
    alias's word), so that a draw reads one row. Returns (sampler, starts); a partition without words has one row,
    never drawn from."""
    tables = []
    for b in range(n):
        words = np.flatnonzero(partition == b)
        if words.shape[0] and q[words].sum() > 0:
            table = build_alias_table(q[words])
            tables.append(np.column_stack([table[:, 0], words, words[table[:, 1]]]))
        else:
            tables.append(np.array([[1 << 32, 0, 0]], dtype=np.int64))
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([t.shape[0] for t in tables], out=starts[1:])
    return np.ascontiguousarray(np.concatenate(tables), dtype=np.int64), starts


@numba.njit(cache=True, inline="always")
def partition_draw(sampler, lo, size, base_col, base_coin, index):
    """``alias_draw`` from the partition whose rows of ``sampler`` are lo .. lo + size - 1: the word drawn."""
    col = lo + alias_column(size, base_col, index)
    return sampler[col, 1] if draw(base_coin, index) < sampler[col, 0] else sampler[col, 2]


@numba.njit(cache=True, parallel=True)
def draw_negatives_at(sampler, lo, size, base_col, base_coin, rows, out):
    """Fill ``out[i, t]`` with the draw for slot ``rows[i] * k + t`` of the stream from one partition of
    ``sampler`` (``partition_sampler``): the negatives of pairs ``rows`` of a bucket (``buckets.Buckets``)."""
    k = out.shape[1]
    for i in numba.prange(rows.shape[0]):
        for t in range(k):
            out[i, t] = partition_draw(sampler, lo, size, base_col, base_coin, rows[i] * k + t)


@numba.njit(cache=True, parallel=True)
def draw_negatives(table, base_col, base_coin, first_row, out):
    """Fill ``out[r, t]`` with the negative for slot ``(first_row + r) * k + t`` of the stream."""
    rows, k = out.shape
    flat = out.reshape(-1)
    start = first_row * k
    for i in numba.prange(rows * k):
        flat[i] = alias_draw(table, base_col, base_coin, start + i)


@numba.njit(cache=True, parallel=True)
def draw_negatives_keyed(table, base_col, base_coin, keys, out):
    """Fill ``out[i, t]`` with the negative for slot ``keys[i] * k + t`` of the stream: the negatives of CBOW
    windows keyed by their centers' kept positions, as hogwild draws them."""
    k = out.shape[1]
    for i in numba.prange(keys.shape[0]):
        for t in range(k):
            out[i, t] = alias_draw(table, base_col, base_coin, keys[i] * k + t)


def keep_thresholds(counts, sample):
    """word2vec.c's keep probability, as 32-bit thresholds for ``draw() < threshold``.

    ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn   (word2vec.c:400)
    A word is kept when ran >= a uniform draw; ran > 1 means always. sample <= 0 turns it off.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.full(counts.shape[0], 1 << 32, dtype=np.int64)
    threshold_count = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # a word of count 0 (SkipGramBatches' unseen ids,
        keep = (np.sqrt(counts / threshold_count) + 1.0) * threshold_count / counts  # an empty corpus) is never drawn
    return np.minimum(np.floor(np.nan_to_num(keep, nan=1.0, posinf=1.0) * TWO32), TWO32).astype(np.int64)
