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
    """Vose's alias method. Returns table int64[V, 2]: (threshold, alias) of each column side by side.

    Column i is kept when a 32-bit coin is below table[i, 0], else table[i, 1] is taken. Thresholds are
    32-bit integers so that the CPU and the torch builder compare the same integers; the two fields share a
    cache line, so a draw costs one miss instead of two (negatives were 4 of 7 s of a NumbaBatches epoch).
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
    table = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        table[i, 0] = min(np.int64(prob[i] * TWO32), np.int64(MASK32) + 1)
        table[i, 1] = alias[i]
    return table


@numba.njit(cache=True, inline="always")
def alias_draw(table, base_col, base_coin, index):
    col = (draw(base_col, index) * table.shape[0]) >> 32
    return col if draw(base_coin, index) < table[col, 0] else table[col, 1]


def partition_sampler(q, partition, n):
    """The alias tables of ``n`` partitions' negatives stacked (int64[V', 3]): partition b's rows are
    ``starts[b]:starts[b + 1]``, each (threshold, the column's word, its alias's word), so that a draw reads one
    row. Returns (sampler, starts); a partition without words has one row, never drawn from."""
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
    col = lo + ((draw(base_col, index) * size) >> 32)
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
def window_reach(window, shrink, base, i):
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
            r = window_reach(window, shrink, base, i)
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
            r = window_reach(window, shrink, base, i)
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


@numba.njit(cache=True, parallel=True)
def _fill_cbow_windows(kept, kept_starts, offsets, window, shrink, base, centers, contexts):
    for p in numba.prange(kept_starts.shape[0] - 1):
        s, e = kept_starts[p], kept_starts[p + 1]
        if e - s < 2:
            continue
        o = offsets[p]
        for i in range(s, e):
            r = window_reach(window, shrink, base, i)
            centers[o] = i
            m = 0
            for j in range(max(s, i - r), min(e, i + r + 1)):
                if j != i:
                    contexts[o, m] = kept[j]
                    m += 1
            o += 1


def cbow_windows(kept, kept_starts, window, shrink, base):
    """CBOW's examples of a sub-sampled chunk, in text order: each kept position with a context (every position of
    a piece of 2+ kept tokens), as (its kept position: the key of its negatives, int64[n]; its window's context ids,
    int64[n, 2 * window], -1 after the last). The windows are the skip-gram pairs' (``window_reach``)."""
    lengths = np.diff(kept_starts)
    offsets = np.zeros(kept_starts.shape[0], dtype=np.int64)
    np.cumsum(np.where(lengths >= 2, lengths, 0), out=offsets[1:])
    centers = np.empty(offsets[-1], dtype=np.int64)
    contexts = np.full((offsets[-1], 2 * window), -1, dtype=np.int64)
    _fill_cbow_windows(kept, kept_starts, offsets, window, shrink, base, centers, contexts)
    return centers, contexts


@numba.njit(cache=True, parallel=True)
def draw_negatives_keyed(table, base_col, base_coin, keys, out):
    """Fill ``out[i, t]`` with the negative for slot ``keys[i] * k + t`` of the stream: the negatives of CBOW
    windows keyed by their centers' kept positions, as hogwild draws them."""
    k = out.shape[1]
    for i in numba.prange(keys.shape[0]):
        for t in range(k):
            out[i, t] = alias_draw(table, base_col, base_coin, keys[i] * k + t)


def windowed_chunk(ids, starts, keep_threshold, window, shrink, seed, epoch, chunk):
    """A chunk sub-sampled and windowed as every trainer and batch builder sees it in ``epoch``: (kept ids, their
    pieces' starts, each piece's first pair index in the chunk and the total, the window stream's base)."""
    kept, kept_starts = subsample(ids, starts, keep_threshold, stream_base(seed, epoch, STREAM_SUBSAMPLE, chunk))
    window_base = stream_base(seed, epoch, STREAM_WINDOW, chunk)
    pair_offsets = np.zeros(kept_starts.shape[0], dtype=np.int64)
    np.cumsum(count_pairs(kept_starts, window, shrink, window_base), out=pair_offsets[1:])
    return kept, kept_starts, pair_offsets, int(window_base)


@numba.njit(cache=True, parallel=True)
def kept_positions(starts, kept_starts):
    """Each kept token's position in its chunk's text (float64): its piece's first position plus its rank among the
    piece's kept tokens, spread over the piece's length (the learning rate's token position, as hogwild reckons it)."""
    out = np.empty(kept_starts[-1], dtype=np.float64)
    for p in numba.prange(kept_starts.shape[0] - 1):
        s, e = kept_starts[p], kept_starts[p + 1]
        span = (starts[p + 1] - starts[p]) / max(e - s, 1)
        for i in range(s, e):
            out[i] = starts[p] + (i - s) * span
    return out


@numba.njit(cache=True, inline="always")
def _bucket_key(kept, partition, part, n_parts, slot_of, i, j, output_is_center):
    """The bucket of pair (center i, context j): slot * n_parts + the input row's part, the slot being that of the
    output row's partition, or -1 when that has none (another rank's). Hogwild's orientation (output_is_center)
    trains the context's input row against the center's output row; the tutorial's the center's input row against
    the context's output row."""
    x, y = (j, i) if output_is_center else (i, j)
    slot = slot_of[partition[kept[y]]]
    if slot < 0:
        return -1
    return slot * n_parts + part[kept[x]]


@numba.njit(cache=True, parallel=True)
def _bucket_pair_counts(
    kept, kept_starts, blocks, window, shrink, base, partition, part, n_parts, slot_of, output_is_center
):
    counts = np.zeros((blocks.shape[0] - 1, (slot_of.max() + 1) * n_parts), dtype=np.int64)
    for b in numba.prange(blocks.shape[0] - 1):
        for p in range(blocks[b], blocks[b + 1]):
            s, e = kept_starts[p], kept_starts[p + 1]
            for i in range(s, e):
                if output_is_center and slot_of[partition[kept[i]]] < 0:
                    continue  # none of this center's pairs is wanted
                r = window_reach(window, shrink, base, i)
                for j in range(max(s, i - r), min(e, i + r + 1)):
                    if j != i:
                        k = _bucket_key(kept, partition, part, n_parts, slot_of, i, j, output_is_center)
                        if k >= 0:
                            counts[b, k] += 1
    return counts


@numba.njit(cache=True, parallel=True)
def _fill_bucket_pairs(
    kept,
    kept_starts,
    pair_offsets,
    blocks,
    window,
    shrink,
    base,
    partition,
    part,
    n_parts,
    slot_of,
    output_is_center,
    slots,
    x,
    y,
    o,
):
    for b in numba.prange(blocks.shape[0] - 1):
        at = slots[b].copy()
        for p in range(blocks[b], blocks[b + 1]):
            s, e = kept_starts[p], kept_starts[p + 1]
            q = pair_offsets[p]  # the chunk's index of the next pair
            for i in range(s, e):
                r = window_reach(window, shrink, base, i)
                lo, hi = max(s, i - r), min(e, i + r + 1)
                if output_is_center and slot_of[partition[kept[i]]] < 0:
                    q += hi - lo - 1
                    continue
                for j in range(lo, hi):
                    if j != i:
                        k = _bucket_key(kept, partition, part, n_parts, slot_of, i, j, output_is_center)
                        if k >= 0:
                            t = at[k]
                            x[t], y[t] = (j, i) if output_is_center else (i, j)
                            o[t] = q
                            at[k] = t + 1
                        q += 1


def bucket_pairs(
    kept, kept_starts, pair_offsets, pieces, window, shrink, base, partition, part, n_parts, slot_of, output_is_center
):
    """The pairs of pieces ``pieces[0]:pieces[1]`` of a chunk whose output row's word is in a wanted partition,
    grouped by bucket: pairs ``key_starts[key]:key_starts[key + 1]`` are those whose output row's partition has slot
    ``key // n_parts`` (``slot_of[partition]``, -1 for one not wanted) and whose input row's part is
    ``key % n_parts``, in text order. Returns (x, y, o, key_starts): the kept positions of each pair's input-row
    word and output-row word, and the pair's index in its chunk (``fill_pairs``' order: what its random draws are
    keyed by). A stable counting sort over blocks of pieces: the result does not depend on the threads; the work is
    the pieces' windows, once."""
    p0, p1 = pieces
    targets = np.linspace(pair_offsets[p0], pair_offsets[p1], min(64, p1 - p0) + 1)[1:-1]  # ~equal pairs a block
    inner = p0 + np.searchsorted(pair_offsets[p0 : p1 + 1], targets, side="right") - 1
    blocks = np.unique(np.concatenate([[p0], inner, [p1]])).astype(np.int64)
    args = (window, shrink, base, partition, part, n_parts, slot_of, output_is_center)
    counts = _bucket_pair_counts(kept, kept_starts, blocks, *args)
    key_starts = np.zeros(counts.shape[1] + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=key_starts[1:])
    slots = key_starts[:-1] + np.cumsum(counts, axis=0) - counts  # block b's first slot in each bucket
    total = int(key_starts[-1])
    x, y, o = np.empty(total, np.int32), np.empty(total, np.int32), np.empty(total, np.int64)
    _fill_bucket_pairs(kept, kept_starts, pair_offsets, blocks, *args, slots, x, y, o)
    return x, y, o, key_starts


SHUFFLE_BUCKET = 1 << 15  # pairs per bucket on average: a bucket of two int64 arrays (512 KiB) stays in L2
SHUFFLE_BLOCK = 1 << 16  # input block of the parallel scatter; fixed, so the result ignores the thread count


@numba.njit(cache=True, inline="always")
def _bucket(base, i, n_buckets):
    return (draw(base, i) * n_buckets) >> 32


@numba.njit(cache=True, parallel=True)
def _bucket_counts(n, n_buckets, base):
    n_blocks = (n + SHUFFLE_BLOCK - 1) // SHUFFLE_BLOCK
    counts = np.zeros((n_blocks, n_buckets), dtype=np.int64)
    for b in numba.prange(n_blocks):
        for i in range(b * SHUFFLE_BLOCK, min(n, (b + 1) * SHUFFLE_BLOCK)):
            counts[b, _bucket(base, i, n_buckets)] += 1
    return counts


@numba.njit(cache=True, parallel=True)
def _scatter_to_buckets(center, context, n_buckets, base, offsets, out_center, out_context):
    n = center.shape[0]
    for b in numba.prange(offsets.shape[0]):
        for i in range(b * SHUFFLE_BLOCK, min(n, (b + 1) * SHUFFLE_BLOCK)):
            q = _bucket(base, i, n_buckets)
            o = offsets[b, q]
            out_center[o] = center[i]
            out_context[o] = context[i]
            offsets[b, q] = o + 1


@numba.njit(cache=True, parallel=True)
def _shuffle_buckets(center, context, bucket_starts, base):
    for q in numba.prange(bucket_starts.shape[0] - 1):
        s = bucket_starts[q]
        bq = draw(base, q)  # each bucket its own stream
        for i in range(bucket_starts[q + 1] - 1, s, -1):
            j = s + ((draw(bq, i - s) * (i - s + 1)) >> 32)
            center[i], center[j] = center[j], center[i]
            context[i], context[j] = context[j], context[i]


def shuffle_pairs_into(center, context, base, out_center, out_context):
    """A uniform random permutation of the pairs written to out_*, parallel and cache-friendly.

    Rao-Sandelius: every pair goes to a uniformly drawn bucket (a stable, parallel scatter), then each bucket
    is Fisher-Yates shuffled on its own stream; iid buckets + uniform shuffles within them give a uniform
    permutation. The plain Fisher-Yates this replaces was sequential and took a cache miss per swap (a
    chunk's pairs are ~70 MB): 1.9 of 7 s of the NumbaBatches epoch on IMDB. The permutation is a
    function of (n, base) only, never of the thread count.
    """
    n = center.shape[0]
    if n < 2:
        out_center[:] = center
        out_context[:] = context
        return
    n_buckets = max(1, n // SHUFFLE_BUCKET)
    bucket_base = hash32(base ^ 0x2545F491)
    offsets, bucket_starts = _bucket_layout(_bucket_counts(n, n_buckets, bucket_base))
    _scatter_to_buckets(center, context, n_buckets, bucket_base, offsets, out_center, out_context)
    _shuffle_buckets(out_center, out_context, bucket_starts, hash32(base ^ 0x6C8E9CF5))


@numba.njit(cache=True, parallel=True)
def _bucket_counts_ranges(bounds, n_buckets, base):
    """counts[b, q]: pair indices in [bounds[b], bounds[b + 1]) that fall in bucket q."""
    counts = np.zeros((bounds.shape[0] - 1, n_buckets), dtype=np.int64)
    for b in numba.prange(bounds.shape[0] - 1):
        for i in range(bounds[b], bounds[b + 1]):
            counts[b, _bucket(base, i, n_buckets)] += 1
    return counts


@numba.njit(cache=True, parallel=True)
def _fill_pairs_bucketed(
    ids,
    starts,
    offsets,
    window,
    shrink,
    base,
    piece_bounds,
    n_buckets,
    bucket_base,
    block_offsets,
    out_center,
    out_context,
):
    """fill_pairs fused with the bucket scatter of ``shuffle_pairs_into``: pair o goes straight to the next
    free slot of its bucket, skipping the text-order arrays (16 bytes a pair written and read back)."""
    for b in numba.prange(piece_bounds.shape[0] - 1):
        slots = block_offsets[b].copy()
        for p in range(piece_bounds[b], piece_bounds[b + 1]):
            s = starts[p]
            e = starts[p + 1]
            o = offsets[p]
            for i in range(s, e):
                r = window_reach(window, shrink, base, i)
                for j in range(max(s, i - r), min(e, i + r + 1)):
                    if j != i:
                        q = _bucket(bucket_base, o, n_buckets)
                        at = slots[q]
                        out_center[at] = ids[i]
                        out_context[at] = ids[j]
                        slots[q] = at + 1
                        o += 1


def _bucket_layout(counts):
    """Scatter offsets [block, bucket] (buckets in order, blocks in order within) and bucket starts."""
    n_blocks, n_buckets = counts.shape
    starts = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts.T.ravel(), out=starts[1:])
    return starts[:-1].reshape(n_buckets, n_blocks).T.copy(), starts[::n_blocks].copy()


def skipgram_pairs_shuffled(ids, starts, window, shrink, base, shuffle_base):
    """``skipgram_pairs`` then ``shuffle_pairs(center, context, shuffle_base)``: the same arrays, made in two
    parallel passes over the pairs instead of four (fill, bucket count, scatter, per-bucket shuffle)."""
    counts = count_pairs(starts, window, shrink, base)
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    n = int(offsets[-1])
    center = np.empty(n, dtype=np.int64)
    context = np.empty(n, dtype=np.int64)
    if n < 2:
        fill_pairs(ids, starts, offsets, window, shrink, base, center, context)
        return center, context
    n_buckets = max(1, n // SHUFFLE_BUCKET)
    bucket_base = hash32(shuffle_base ^ 0x2545F491)
    # blocks of whole pieces, ~SHUFFLE_BLOCK pairs each: a function of the pair counts, not of the threads
    piece_bounds = np.unique(
        np.concatenate(
            [[0], np.searchsorted(offsets, np.arange(0, n, SHUFFLE_BLOCK), side="right") - 1, [counts.shape[0]]]
        )
    )
    block_offsets, bucket_starts = _bucket_layout(_bucket_counts_ranges(offsets[piece_bounds], n_buckets, bucket_base))
    _fill_pairs_bucketed(
        ids, starts, offsets, window, shrink, base, piece_bounds, n_buckets, bucket_base, block_offsets, center, context
    )
    _shuffle_buckets(center, context, bucket_starts, hash32(shuffle_base ^ 0x6C8E9CF5))
    return center, context


def shuffle_pairs(center, context, base):
    """Shuffle both arrays in place with the same permutation (see ``shuffle_pairs_into``)."""
    out_center, out_context = np.empty_like(center), np.empty_like(context)
    shuffle_pairs_into(center, context, base, out_center, out_context)
    center[:] = out_center
    context[:] = out_context


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


@numba.njit(cache=True)
def piece_starts(lengths, max_piece_length):
    """Each document cut into pieces of at most max_piece_length tokens, empty documents dropped: the first
    position of every piece and the total last (int64[P + 1]). One output array, no per-document temporaries."""
    n = 0
    for d in range(lengths.shape[0]):
        n += (lengths[d] + max_piece_length - 1) // max_piece_length
    starts = np.empty(n + 1, dtype=np.int64)
    p, pos = 0, 0
    for d in range(lengths.shape[0]):
        for k in range(0, lengths[d], max_piece_length):
            starts[p] = pos + k
            p += 1
        pos += lengths[d]
    starts[n] = pos
    return starts
