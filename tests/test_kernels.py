"""The numba kernels against hand-computed cases, brute force and their formulas."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from fastw2v import kernels as K
from fastw2v.batching import numba_threads


def brute_force_pairs(ids, starts, window):
    pairs = []
    for s, e in zip(starts[:-1], starts[1:]):
        for i in range(s, e):
            for j in range(max(s, i - window), min(e, i + window + 1)):
                if i != j:
                    pairs.append((ids[i], ids[j]))
    return pairs


def test_pairs_hand_computed():
    # Two documents: [10 11 12] and [13 14]; window 1, static.
    ids = np.array([10, 11, 12, 13, 14], dtype=np.int32)
    starts = np.array([0, 3, 5], dtype=np.int64)
    center, context = K.skipgram_pairs(ids, starts, 1, False, 0)
    assert list(zip(center, context)) == [(10, 11), (11, 10), (11, 12), (12, 11), (13, 14), (14, 13)]


@pytest.mark.parametrize("window", [1, 2, 5, 12])
def test_static_window_pairs_equal_brute_force(window):
    rng = np.random.default_rng(window)
    lengths = rng.integers(0, 20, 50)
    ids = rng.integers(0, 30, lengths.sum()).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    center, context = K.skipgram_pairs(ids, starts, window, False, 0)
    assert list(zip(center.tolist(), context.tolist())) == brute_force_pairs(ids.tolist(), starts, window)


def test_pairs_never_cross_a_piece_boundary():
    ids = np.arange(100, dtype=np.int32)
    starts = np.array([0, 10, 40, 41, 100], dtype=np.int64)
    center, context = K.skipgram_pairs(ids, starts, 5, True, K.stream_base(1, 0, K.STREAM_WINDOW, 0))
    piece = np.searchsorted(starts, np.arange(100), side="right") - 1
    assert (piece[center] == piece[context]).all()
    assert not (center == 40).any()  # a one-token piece has no pair


def test_shrinking_window_reach_is_uniform():
    # For a center far from any boundary, a reach r yields 2r pairs; r must be uniform on 1..window.
    window, n = 5, 200_000
    base = K.stream_base(7, 0, K.STREAM_WINDOW, 0)
    starts = np.array([0, n], dtype=np.int64)
    total = K.count_pairs(starts, window, True, base)[0]
    expected = 2 * n * (window + 1) / 2  # E[2r] = window + 1, minus edge effects
    assert abs(total - expected) / expected < 0.01
    # The reach itself: per-position counts in a piece of length 2*window+1 centered on each position.
    reaches = np.array([window - (K.draw(base, i) % window) for i in range(20_000)])
    observed = np.bincount(reaches, minlength=window + 1)[1:]
    assert stats.chisquare(observed).pvalue > 1e-3


def test_subsampling_rates_match_word2vec_formula():
    counts = np.array([100_000, 20_000, 2_000, 200, 20], dtype=np.int64)
    sample = 1e-3
    thr = K.keep_thresholds(counts, sample)
    t = sample * counts.sum()
    keep_formula = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    ids = np.repeat(np.arange(5), counts).astype(np.int32)
    starts = np.array([0, ids.size], dtype=np.int64)
    kept, _ = K.subsample(ids, starts, thr, K.stream_base(3, 0, K.STREAM_SUBSAMPLE, 0))
    observed = np.bincount(kept, minlength=5) / counts
    sd = np.sqrt(keep_formula * (1 - keep_formula) / counts) + 1e-12
    assert (np.abs(observed - keep_formula) < 5 * sd + 1e-9).all(), (observed, keep_formula)
    assert observed[-1] == 1.0  # rare words are always kept


def test_sample_zero_keeps_everything():
    thr = K.keep_thresholds(np.array([10**9, 1]), 0.0)
    ids = np.zeros(1000, dtype=np.int32)
    kept, _ = K.subsample(ids, np.array([0, 1000]), thr, 99)
    assert kept.size == 1000


def test_alias_table_matches_distribution_chi_square():
    rng = np.random.default_rng(0)
    weights = rng.zipf(1.5, 300).astype(np.float64) ** 0.75
    table = K.build_alias_table(weights)
    n = 400_000
    out = np.empty((n // 5, 5), dtype=np.int64)
    K.draw_negatives(
        table, K.stream_base(1, 0, K.STREAM_NEGATIVE, 0), K.stream_base(1, 0, K.STREAM_NEGATIVE_COIN, 0), 0, out
    )
    observed = np.bincount(out.ravel(), minlength=300)
    expected = weights / weights.sum() * n
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_alias_table_of_one_word_and_zero_weights():
    table = K.build_alias_table(np.array([0.0, 3.0, 0.0]))
    out = np.empty((1000, 2), dtype=np.int64)
    K.draw_negatives(table, 5, 6, 0, out)
    assert (out == 1).all()


def test_kernels_give_the_same_result_with_one_and_two_threads():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 50, 50_000).astype(np.int32)
    starts = np.concatenate([[0], np.sort(rng.choice(np.arange(1, 50_000), 500, replace=False)), [50_000]])
    results = []
    for n in (1, 2):
        with numba_threads(n):
            c, x = K.skipgram_pairs(ids, starts.astype(np.int64), 5, True, 12345)
            negs = np.empty((1000, 5), dtype=np.int64)
            K.draw_negatives(K.build_alias_table(np.ones(50)), 1, 2, 0, negs)
        results.append((c, x, negs))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_shuffle_is_a_permutation_of_pairs():
    center = np.arange(1000, dtype=np.int64)
    context = center * 10
    K.shuffle_pairs(center, context, 77)
    assert sorted(center.tolist()) == list(range(1000))
    assert (context == center * 10).all()
    assert (center != np.arange(1000)).mean() > 0.9


def test_streams_differ_by_seed_epoch_and_chunk():
    bases = {K.stream_base(s, e, st, c) for s in (1, 2) for e in (0, 1) for st in (1, 2, 3) for c in (0, 1, 2**33)}
    assert len(bases) == 2 * 2 * 3 * 3


@settings(max_examples=settings.default.max_examples * 3 // 5)  # the profile's 60 of 100: slower cases
@given(docs=st.lists(st.lists(st.integers(0, 9), max_size=15), min_size=1, max_size=8), window=st.integers(1, 6))
def test_static_window_pairs_equal_brute_force_on_any_corpus(docs, window):
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    ids = np.array([i for d in docs for i in d], dtype=np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    center, context = K.skipgram_pairs(ids, starts, window, False, 0)
    expected = brute_force_pairs(ids.tolist(), starts, window)
    assert list(zip(center.tolist(), context.tolist())) == expected
    shuffled = K.skipgram_pairs_shuffled(ids, starts, window, False, 0, 99)
    assert sorted(zip(*(a.tolist() for a in shuffled))) == sorted(expected)


def test_piece_starts_cut_long_documents_and_drop_empty_ones():
    """[0, 3, 25, 10] tokens, pieces of at most 10: the empty document has none, the 25-token one three."""
    from fastw2v.kernels import piece_starts

    got = piece_starts(np.array([0, 3, 25, 10], dtype=np.int64), 10)
    assert got.tolist() == [0, 3, 13, 23, 28, 38]
    assert piece_starts(np.zeros(0, dtype=np.int64), 10).tolist() == [0]
