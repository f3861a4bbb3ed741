"""The buckets of a job of several ranks, in one process: the partitions, each rank's pair lists (hand-computed, and
every pair of a chunk in exactly one rank's list), the spans, the partitions' negatives, and one process taking a
job's buckets in turn (``as_ranks``)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import fastw2v
from fastw2v import kernels
from fastw2v.batching import partition_draws
from fastw2v.buckets import Buckets, spans, vocab_partitions
from fastw2v.hogwild import pair_blocks, shares
from fastw2v.train import train_corpus

SETTINGS = dict(vector_size=20, epochs=3, min_count=1, chunk_tokens=3000, span_tokens=1500, seed=1, workers=1)


def zipf_buckets(corpus, n, **kw):
    vocab = corpus.vocab
    return Buckets(vocab.counts, kernels.keep_thresholds(vocab.counts, 1e-3), vocab.unigram_weights(0.75), n, **kw)


def test_vocab_partitions_balance_the_kept_tokens_and_the_negatives():
    # by hand, masses 8, 4, 3, 3, 2 (and q in the same shares), each word to the least loaded partition so far:
    # 8 -> p0 (8); 4 -> p1 (4); 3 -> p1 (7 < 8); 3 -> p1 (7 < 8: 10); 2 -> p0 (8 < 10)
    mass = np.array([8.0, 4.0, 3.0, 3.0, 2.0])
    assert vocab_partitions(mass, mass, 2).tolist() == [0, 1, 1, 1, 0]
    counts = 1e6 / np.arange(1, 5001)  # Zipf
    q = counts**0.75
    part = vocab_partitions(counts, q, 8)
    for share in (counts, q):
        load = np.bincount(part, weights=share / share.sum(), minlength=8)
        # within the largest single share of the two added (the most frequent word's) of 1/8 each
        assert np.all(np.abs(load - 1 / 8) <= (counts[0] / counts.sum() + q[0] / q.sum()))


def test_each_partition_is_cut_into_parts_of_its_own_words(zipf_corpus):
    b = zipf_buckets(zipf_corpus, 3)
    assert b.subparts == 2 and sorted(np.concatenate(b.words).tolist()) == list(range(len(zipf_corpus.vocab)))
    for p, words in enumerate(b.part_words):
        assert np.all(b.partition[words] == p // b.subparts) and words.shape[0] > 0
    assert b.input_part(owner=2, s=2, i=1) == (2 + 2) % 3 * 2 + 1


# kept = word ids 0 1 2 3 in one piece, window 1: the pairs (center, context) in fill_pairs' order are
# o=0 (0,1), o=1 (1,0), o=2 (1,2), o=3 (2,1), o=4 (2,3), o=5 (3,2). Words 0 and 2 are in partition 0, 1 and 3 in
# partition 1, each partition one part (k = 1).
KEPT = np.array([0, 1, 2, 3], dtype=np.int32)
STARTS = np.array([0, 4], dtype=np.int64)
OFFSETS = np.array([0, 6], dtype=np.int64)
PARTITION = np.array([0, 1, 0, 1], dtype=np.int32)


def hand_pairs(slot_of, output_is_center):
    x, y, o, key_starts = kernels.bucket_pairs(
        KEPT,
        STARTS,
        OFFSETS,
        (0, 1),
        1,
        False,
        0,
        PARTITION,
        PARTITION,
        2,
        np.array(slot_of, dtype=np.int32),
        output_is_center,
    )
    return x.tolist(), y.tolist(), o.tolist(), key_starts.tolist()


def test_bucket_pairs_hand_computed():
    # hogwild's orientation: the context's input row (x) against the center's output row (y); bucket = (slot of the
    # center's partition) * 2 + the context's part. Key 1 = (center in 0, context in 1): o 0, 3, 4; key 2 = (center
    # in 1, context in 0): o 1, 2, 5; keys 0 and 3 are empty.
    assert hand_pairs([0, 1], True) == ([1, 1, 3, 0, 2, 2], [0, 2, 2, 1, 1, 3], [0, 3, 4, 1, 2, 5], [0, 0, 3, 6, 6])
    # rank 1 alone: only the centers of partition 1, its slot 0
    assert hand_pairs([-1, 0], True) == ([0, 2, 2], [1, 1, 3], [1, 2, 5], [0, 3, 3])
    # the tutorial's orientation: the center's input row (x) against the context's output row (y)
    assert hand_pairs([0, 1], False) == ([1, 1, 3, 0, 2, 2], [0, 2, 2, 1, 1, 3], [1, 2, 5, 0, 3, 4], [0, 0, 3, 6, 6])


@settings(max_examples=settings.default.max_examples * 3 // 5)  # the profile's 60 of 100: slower cases
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=12),
    st.integers(1, 4),
    st.integers(1, 2),
    st.integers(1, 3),
    st.booleans(),
    st.booleans(),
    st.integers(0, 1000),
)
def test_every_pair_of_a_chunk_is_in_exactly_one_ranks_list(lengths, n, k, window, shrink, output_is_center, seed):
    """Each rank's lists hold only pairs whose output row is in its partition, grouped by the input row's part, in
    text order; together the ranks' lists are every pair of the chunk once, with its index in fill_pairs' order."""
    rng = np.random.default_rng(seed)
    V = 12
    kept = rng.integers(0, V, sum(lengths)).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(kernels.count_pairs(starts, window, shrink, seed))]).astype(np.int64)
    center, context = kernels.skipgram_pairs(kept, starts, window, shrink, seed)
    partition = rng.integers(0, n, V).astype(np.int32)
    part = (partition * k + rng.integers(0, k, V)).astype(np.int32)
    seen = []
    for rank in range(n):
        slot_of = np.full(n, -1, dtype=np.int32)
        slot_of[rank] = 0
        x, y, o, key_starts = kernels.bucket_pairs(
            kept,
            starts,
            offsets,
            (0, len(lengths)),
            window,
            shrink,
            seed,
            partition,
            part,
            n * k,
            slot_of,
            output_is_center,
        )
        assert key_starts[-1] == x.shape[0] and np.all(np.diff(key_starts) >= 0)
        c, t = (kept[y], kept[x]) if output_is_center else (kept[x], kept[y])
        assert np.array_equal(c, center[o]) and np.array_equal(t, context[o])
        assert np.all(partition[kept[y]] == rank)
        for key in range(n * k):
            lo, hi = key_starts[key], key_starts[key + 1]
            assert np.all(part[kept[x[lo:hi]]] == key) and np.all(np.diff(o[lo:hi]) > 0)
        seen.append(o)
    assert sorted(np.concatenate(seen).tolist()) == list(range(center.shape[0]))


@given(st.lists(st.integers(1, 50), min_size=1, max_size=30), st.integers(1, 200))
def test_spans_are_whole_pieces_of_about_span_tokens(lengths, span_tokens):
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    cut = spans(starts, span_tokens)
    assert cut[0][0] == 0
    assert cut[-1][1] == len(lengths) and all(a < b for a, b in cut)
    assert all(cut[i][1] == cut[i + 1][0] for i in range(len(cut) - 1))
    for a, b in cut[:-1]:  # a span ends at the first piece boundary at or past its span_tokens
        assert starts[b] - starts[a] <= span_tokens + max(lengths) and starts[b] >= starts[a] + 1


@given(st.lists(st.integers(1, 6), min_size=1, max_size=40), st.integers(1, 10))
def test_pair_blocks_keep_a_centers_pairs_together(group_sizes, n):
    y = np.repeat(np.arange(len(group_sizes)), group_sizes).astype(np.int32)
    blocks = pair_blocks(y, n)
    assert blocks[0] == 0 and blocks[-1] == y.shape[0] and np.all(np.diff(blocks) > 0)
    assert all(b == y.shape[0] or y[b] != y[b - 1] for b in blocks[1:])


@given(st.lists(st.integers(0, 50), min_size=1, max_size=40), st.integers(1, 12))
def test_shares_cover_every_piece_once(pair_counts, n):
    offsets = np.concatenate([[0], np.cumsum(pair_counts)]).astype(np.int64)
    parts = shares(offsets, n)
    assert parts.shape == (n + 1,) and parts[0] == 0 and parts[-1] == len(pair_counts)
    assert np.all(np.diff(parts) >= 0)
    assert np.diff(offsets[parts]).max() <= offsets[-1] / n + max(pair_counts) + 1e-9


def test_bucket_negatives_follow_the_unigram_distribution_within_the_partition(zipf_corpus):
    """Chi-square test (fixed seed) of 200k draws from one partition's table against count^0.75 within it."""
    from scipy.stats import chisquare

    b = zipf_buckets(zipf_corpus, 4)
    q = zipf_corpus.vocab.unigram_weights(0.75)
    words = b.words[2]
    draws = np.empty((200_000, 1), dtype=np.int64)
    kernels.draw_negatives_at(b.sampler, *b.table(2), 12345, 67890, np.arange(200_000, dtype=np.int64), draws)
    assert set(np.unique(draws)) <= set(words.tolist())
    drawn = np.bincount(draws[:, 0], minlength=len(q))[words]
    assert chisquare(drawn, q[words] / q[words].sum() * draws.shape[0]).pvalue > 0.001


def test_bucket_negatives_are_the_same_draws_with_numba_and_torch(zipf_corpus):
    """The CPU (numba) and the GPU (torch ops) draw a bucket's negatives for the same pairs alike."""
    b = zipf_buckets(zipf_corpus, 3)
    rows = np.array([0, 5, 6, 1000, 123_456, 7], dtype=np.int64)
    for p in range(3):
        numba_negs = np.empty((rows.shape[0], 5), dtype=np.int64)
        kernels.draw_negatives_at(b.sampler, *b.table(p), 111, 222, rows, numba_negs)
        lo, size = b.table(p)
        slots = torch.from_numpy(rows)[:, None] * 5 + torch.arange(5)
        assert (
            partition_draws(torch.from_numpy(b.sampler[lo : lo + size]), 111, 222, slots).tolist()
            == numba_negs.tolist()
        )
        assert set(b.partition[numba_negs.ravel()]) == {p}


@pytest.mark.parametrize("backend,shared", [("hogwild", False), ("hogwild", True), ("torch", False)])
def test_one_process_taking_the_buckets_trains_every_pair_once_and_learns(planted_corpus, backend, shared):
    from .test_hogwild import own_group_precision

    cfg = fastw2v.Config(**SETTINGS, backend=backend, shared_negatives=shared, batch_size=256)
    plain, plain_stats = train_corpus(planted_corpus, cfg, progress=False)
    alone, stats = train_corpus(planted_corpus, cfg, progress=False, as_ranks=3)
    assert stats.examples == plain_stats.examples and stats.buckets
    assert np.abs(alone.vectors - plain.vectors).max() > 1e-3  # another order and other negatives
    assert own_group_precision(alone) >= 0.9


def test_adam_is_refused_with_buckets(planted_corpus):
    with pytest.raises(fastw2v.UserError, match=r"drop optimizer \(sgd\)"):
        train_corpus(planted_corpus, fastw2v.Config(optimizer="adam"), progress=False, as_ranks=2)


def test_the_default_span_is_a_64th_of_the_corpus_as_a_power_of_two_within_bounds():
    default = fastw2v.Config()
    assert default.span_tokens is None
    # IMDB (23.1M tokens) and the second corpus (9.7M): 2^18, the floor; 40M tokens: 625k -> 2^19
    assert [default.resolved_span_tokens(n) for n in (9_687_366, 23_100_735, 40_000_000)] == [1 << 18, 1 << 18, 1 << 19]
    assert default.resolved_span_tokens(10**9) == default.chunk_tokens == 1 << 20  # a span is at most a chunk
    long_chunks = fastw2v.Config(chunk_tokens=1 << 26)
    assert long_chunks.resolved_span_tokens(10**9) == 1 << 23 and long_chunks.resolved_span_tokens(10**12) == 1 << 24
    assert fastw2v.Config(span_tokens=1500).resolved_span_tokens(10**9) == 1500
    assert fastw2v.Config(span_tokens=1 << 22).resolved_span_tokens(10**9) == 1 << 20
    with pytest.raises(fastw2v.UserError, match="span_tokens must be a whole number >= 1"):
        fastw2v.Config(span_tokens=0)
