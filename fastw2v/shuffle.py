"""The skip-gram pairs of a chunk in a uniform random order, made in parallel and a function of the seed only
(Rao-Sandelius): every pair goes to a bucket drawn for its index (a stable, parallel scatter), then each bucket is
shuffled on its own stream (Fisher-Yates). Buckets drawn independently and uniform shuffles within them make a
uniform permutation, and a bucket small enough for the cache makes each swap a cache hit.

Names in the loops: b a block of the input, q a bucket, i a pair's index, at its slot in the output; in
``_fill_pairs_bucketed``, whose loops are ``windows.fill_pairs``', p, s, e, i, j, r and o are ``windows``'.
"""

import numba
import numpy as np

from .draws import draw, hash32
from .windows import count_pairs, fill_pairs, window_reach

SHUFFLE_BUCKET = 1 << 15  # pairs per bucket on average: a bucket of two int64 arrays (512 KiB) stays in L2
SHUFFLE_BLOCK = 1 << 16  # input block of the parallel scatter; fixed, so the result ignores the thread count


@numba.njit(cache=True, inline="always")
def _bucket(base, i, n_buckets):
    """The bucket of pair i: drawn uniformly from 0 .. n_buckets - 1."""
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
            at = offsets[b, q]
            out_center[at] = center[i]
            out_context[at] = context[i]
            offsets[b, q] = at + 1


@numba.njit(cache=True, parallel=True)
def _shuffle_buckets(center, context, bucket_starts, base):
    for q in numba.prange(bucket_starts.shape[0] - 1):
        s = bucket_starts[q]
        bq = draw(base, q)  # each bucket its own stream
        for i in range(bucket_starts[q + 1] - 1, s, -1):
            j = s + ((draw(bq, i - s) * (i - s + 1)) >> 32)  # swapped with a slot j in s .. i
            center[i], center[j] = center[j], center[i]
            context[i], context[j] = context[j], context[i]


def shuffle_pairs_into(center, context, base, out_center, out_context):
    """A uniform random permutation of the pairs written to out_*, parallel and cache-friendly (the module's
    Rao-Sandelius shuffle). The permutation is a function of (n, base) only, never of the thread count."""
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
