"""Both batch builders: identical streams, exact lengths, the negative distribution, determinism."""

import numpy as np
import pytest
import torch
from scipy import stats

import fastw2v
from fastw2v import kernels as K
from fastw2v import naive
from fastw2v.batching import DeviceBatches, NumbaBatches, hash32

BUILDERS = [NumbaBatches, DeviceBatches]


def collect(builder):
    return [tuple(t.clone() for t in batch) for batch in builder]


def test_torch_hash_equals_numba_hash():
    x = np.random.default_rng(0).integers(0, 2**40, 10_000)
    expected = np.array([K.hash32(int(v)) for v in x])
    np.testing.assert_array_equal(hash32(torch.from_numpy(x)).numpy(), expected)


@pytest.mark.parametrize("shrink", [True, False])
def test_numba_and_device_builders_yield_identical_batches(zipf_corpus, shrink):
    kw = dict(batch_size=1000, shuffle=False, shrink_windows=shrink, sample=1e-3, seed=5, chunk_tokens=5000)
    a = collect(NumbaBatches(zipf_corpus, **kw))
    b = collect(DeviceBatches(zipf_corpus, device="cpu", **kw))
    assert len(a) == len(b) > 10
    for x, y in zip(a, b):
        for s, t in zip(x, y):
            assert torch.equal(s, t)


@pytest.mark.parametrize("cls", BUILDERS)
def test_static_window_without_subsampling_yields_the_tutorial_pairs(cls):
    docs = [[0, 1, 2, 3], [4, 5], [6], [1, 2, 3, 4, 5, 6, 0]]
    builder = fastw2v.SkipGramBatches(docs, batch_size=7, window=2, shuffle=True, seed=3)
    if cls is DeviceBatches:
        builder = DeviceBatches(builder.corpus, batch_size=7, window=2, shrink_windows=False, sample=0, seed=3)
    got = sorted((int(c), int(p)) for center, pos, _ in builder for c, p in zip(center, pos))
    assert got == sorted(naive.build_skipgram_pairs_docs(docs, 2))


@pytest.mark.parametrize("cls", BUILDERS)
def test_len_is_exact_and_batches_are_full(zipf_corpus, cls):
    builder = cls(zipf_corpus, batch_size=777, chunk_tokens=3000, seed=2)
    for epoch in range(2):
        builder.set_epoch(epoch)
        sizes = [c.shape[0] for c, _, _ in builder]
        assert len(sizes) == len(builder)
        assert sum(sizes) == builder.n_pairs()
        assert all(s == 777 for s in sizes[:-1]) and 0 < sizes[-1] <= 777


@pytest.mark.parametrize("cls", BUILDERS)
def test_shapes_and_dtypes(zipf_corpus, cls):
    center, pos, negs = next(iter(cls(zipf_corpus, batch_size=64, negative=7)))
    assert center.shape == pos.shape == (64,) and negs.shape == (64, 7)
    assert center.dtype == pos.dtype == negs.dtype == torch.int64


@pytest.mark.parametrize("cls", BUILDERS)
def test_negatives_follow_unigram_075_chi_square(zipf_corpus, cls):
    builder = cls(zipf_corpus, batch_size=4096, seed=11)
    negs = torch.cat([n.reshape(-1) for _, _, n in builder]).numpy()
    counts = zipf_corpus.vocab.counts
    expected = counts**0.75 / (counts**0.75).sum() * negs.size
    observed = np.bincount(negs, minlength=len(counts))
    # pool the rarest words so every expected cell is >= 5, as the chi-square test needs
    order = np.argsort(expected)
    cut = max(1, int(np.searchsorted(np.cumsum(expected[order]), 50)))
    obs = np.append(observed[order[cut:]], observed[order[:cut]].sum())
    exp = np.append(expected[order[cut:]], expected[order[:cut]].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-3


@pytest.mark.parametrize("cls", BUILDERS)
def test_same_seed_same_batches_new_epoch_new_batches(zipf_corpus, cls):
    a = collect(cls(zipf_corpus, batch_size=500, seed=9))
    b = collect(cls(zipf_corpus, batch_size=500, seed=9))
    assert all(torch.equal(s, t) for x, y in zip(a, b) for s, t in zip(x, y))
    builder = cls(zipf_corpus, batch_size=500, seed=9)
    first, second = collect(builder), collect(builder)  # two iterations = two epochs
    assert builder.epoch == 1
    assert not torch.equal(first[0][0], second[0][0])


def test_numba_builder_is_identical_with_one_and_two_threads(zipf_corpus):
    a = collect(NumbaBatches(zipf_corpus, batch_size=999, threads=1, seed=4))
    b = collect(NumbaBatches(zipf_corpus, batch_size=999, threads=2, seed=4))
    assert len(a) == len(b)
    assert all(torch.equal(s, t) for x, y in zip(a, b) for s, t in zip(x, y))


def test_shuffled_batches_hold_the_same_pairs_as_unshuffled(zipf_corpus):
    pairs = {}
    for shuffle in (False, True):
        rows = [torch.stack([c, p], 1) for c, p, _ in NumbaBatches(zipf_corpus, batch_size=1000, shuffle=shuffle)]
        pairs[shuffle] = torch.cat(rows)
    assert not torch.equal(pairs[False], pairs[True])
    key = lambda t: sorted(map(tuple, t.tolist()))  # noqa: E731
    assert key(pairs[False]) == key(pairs[True])


def test_bad_builder_arguments_are_one_line_errors(zipf_corpus):
    with pytest.raises(fastw2v.UserError, match="batch_size must be >= 1"):
        NumbaBatches(zipf_corpus, batch_size=0)


@pytest.mark.parametrize("cls", BUILDERS)
def test_len_follows_the_tutorials_loop_when_epochs_differ(zipf_corpus, cls):
    """With sub-sampling and shrinking windows every epoch has its own length. The tutorial asks len() inside
    and after each epoch (``total_loss / len(dataloader)``): both give that epoch's batch count; set_epoch(e)
    before a loop gives it beforehand too (for ``tqdm(builder)``)."""
    builder = cls(zipf_corpus, batch_size=101, chunk_tokens=3000, seed=2, sample=1e-3, shrink_windows=True)
    lengths = []
    for epoch in range(3):
        yielded = 0
        for _ in builder:
            yielded += 1
            assert len(builder) == -(-builder.n_pairs(epoch) // 101)
        assert len(builder) == yielded
        lengths.append(yielded)
    assert len(set(lengths)) > 1  # the epochs differ, so the test can tell them apart
    builder.set_epoch(7)
    before = len(builder)
    assert before == sum(1 for _ in builder) == len(builder)


@pytest.mark.parametrize(
    "docs, vocab_size, message",
    [
        ([[0, 1, 6000]], 10, "word id 6000, outside 0..9 for vocab_size=10"),
        ([[0, -1, 2]], None, "word id -1, outside"),
        ([["the", "cat"]], None, "must be lists of integer word ids"),
        ([[0, 1.5]], None, "must be lists of integer word ids"),
    ],
)
def test_dropin_rejects_ids_the_model_cannot_embed(docs, vocab_size, message):
    with pytest.raises(fastw2v.UserError, match=message):
        fastw2v.SkipGramBatches(docs, vocab_size)


@pytest.mark.parametrize(
    "setting, message",
    [({"sample": "1e-3"}, "sample must be a finite number"), ({"window": 2.5}, "window must be a whole number")],
)
def test_dropin_checks_its_settings_as_train_does(setting, message):
    with pytest.raises(fastw2v.UserError, match=message):
        fastw2v.SkipGramBatches([[0, 1, 2]], 3, **setting)


def test_dropin_takes_a_generator_of_documents():
    docs = [[0, 1, 2, 1], [2, 0, 1]]
    a = fastw2v.SkipGramBatches((d for d in docs), 3, window=1, shuffle=False)
    b = fastw2v.SkipGramBatches(docs, 3, window=1, shuffle=False)
    assert [c.tolist() for c, _, _ in a] == [c.tolist() for c, _, _ in b] and len(a) == len(b) == 1
