"""A chunk's sub-sampling, windows and pairs, in numba: the tokens that survive sub-sampling, each center's
window reach, the skip-gram pairs in text order, CBOW's windows, the learning rate's token positions, and a job's
pairs grouped by bucket. A chunk of token ids is cut into pieces (documents, or parts of over-long documents);
``starts`` holds each piece's first position plus the end as a last entry. Every draw is ``draws.draw`` on a stream
of (seed, epoch, chunk), so the result never depends on the threads.

Names in the loops: p a piece, s and e its first and end position, i a center's position, j a context's, r the
center's window reach, o (or q) the index of a pair in its chunk, b a block of pieces; in a job's buckets x and y
the positions of a pair's input-row and output-row words, k a bucket's key and t a pair's slot in the output.
"""

import numba
import numpy as np

from .draws import STREAM_SUBSAMPLE, STREAM_WINDOW, draw, stream_base


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
            m = 0  # the window's next context slot
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
