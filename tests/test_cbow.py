"""CBOW (sg=0): hogwild's kernel equals word2vec.c's CBOW written in numpy over the kernels' streams (mean and sum),
learns planted structure, counts its windows exactly, and the settings around it say what they do."""

import dataclasses
import re

import numpy as np
import pytest

import fastw2v
from fastw2v import kernels as K
from fastw2v.errors import UserError, setting
from fastw2v.hogwild import init_weights
from fastw2v.model import cbow_sgd_step
from fastw2v.train import train_corpus

from .reference import chunk_streams, reference_cbow
from .test_hogwild import BASE, own_group_precision, reference_case

CBOW = dataclasses.replace(BASE, sg=0)


@pytest.mark.parametrize(
    "hot, negative, cbow_mean", [(False, 5, 1), (True, 5, 1), (False, 3, 1), (False, 5, 0), (True, 3, 0)]
)
def test_cbow_equals_word2vec_c_in_numpy(hot, negative, cbow_mean, monkeypatch):
    """hot: 2 threads with 8 private hot rows on one-document chunks (one block each: in fact serial). negative=5
    takes the kernel's one-pass update on windows whose six output rows differ and its general loop on the others
    (frequent in this 35-word vocabulary); 3, the general loop."""
    corpus, cfg = reference_case(hot, negative, False, monkeypatch)
    cfg = dataclasses.replace(cfg, sg=0, cbow_mean=cbow_mean, final_vectors="avg")
    w_in, w_out, _, windows = reference_cbow(corpus, cfg)
    assert np.abs(w_in - init_weights(len(corpus.vocab), cfg.vector_size, cfg.seed)[0]).max() > 0.01  # it trained
    got, stats = train_corpus(corpus, cfg, progress=False)
    assert stats.examples == windows
    np.testing.assert_allclose(got.vectors, (w_in + w_out) / 2, rtol=1e-4, atol=1e-5)


def test_a_hand_computed_corpus():
    """The document "x y", window 1, no sub-sampling, k = 1, a constant lr of 0.5, d = 2, from given rows: input
    x = (0, 1), y = (1, 0), output rows 0. Center x is predicted from y's input row, then y from x's. A score of 0
    gives sigma = 1/2, so g = +0.25 for the center and -0.25 for a negative; each center draws one negative, x or
    y (one equal to the center is skipped)."""
    corpus = fastw2v.encode(fastw2v.from_texts(["x y"]), min_count=1, cache_dir=None, tokenizer="whitespace")
    x, y = corpus.vocab.index["x"], corpus.vocab.index["y"]
    cfg = fastw2v.Config(
        sg=0,
        vector_size=2,
        window=1,
        shrink_windows=False,
        sample=0,
        negative=1,
        epochs=1,
        alpha=0.5,
        min_alpha=0.5,
        workers=1,
        seed=4,
    )
    ((kept, _, _, negatives),) = chunk_streams(corpus, cfg)
    neg_of_x, neg_of_y = negatives(0)[0], negatives(1)[0]  # kept positions 0 (x) and 1 (y)
    assert kept.tolist() == [x, y]
    w_in = np.zeros((2, 2), dtype=np.float32)
    w_in[x], w_in[y] = (0, 1), (1, 0)
    w_out = np.zeros((2, 2), dtype=np.float32)
    weights = fastw2v.stats.Weights(w_in.copy(), w_out.copy())
    # center x, h = (1, 0): out[x] = (0.25, 0); a negative y: out[y] = (-0.25, 0). The rows were zero: the error
    # is 0 and y's input row stays.
    out_x, out_y = np.array([0.25, 0.0]), np.array([-0.25, 0.0]) if neg_of_x == y else np.zeros(2)
    # center y, h = (0, 1): its score out[y] . h = 0, g = 0.25: error 0.25 * out[y], out[y] += (0, 0.25); a negative
    # x scores out[x] . h = 0, g = -0.25: error -0.25 * out[x], out[x] += (0, -0.25). x's input row takes the error.
    error = 0.25 * out_y
    out_y = out_y + [0.0, 0.25]
    if neg_of_y == x:
        error = error - 0.25 * out_x
        out_x = out_x + [0.0, -0.25]
    expect_in = w_in.copy()
    expect_in[x] += error
    vectors, stats = train_corpus(corpus, cfg, progress=False, weights=weights)
    assert stats.examples == 2
    np.testing.assert_allclose(weights.w_in, expect_in, atol=1e-7)
    np.testing.assert_allclose(weights.w_out[[x, y]], [out_x, out_y], atol=1e-7)
    np.testing.assert_allclose(vectors.vectors, expect_in, atol=1e-7)


@pytest.mark.parametrize("options", [{}, {"workers": 2}, {"cbow_mean": 0}, {"shrink_windows": False}])
def test_cbow_learns_planted_structure(planted_corpus, options):
    vectors, stats = train_corpus(planted_corpus, dataclasses.replace(CBOW, **options), progress=False)
    losses = [loss for _, loss in stats.loss_history]
    assert len(losses) == 4 * CBOW.epochs and np.mean(losses[-4:]) < np.mean(losses[:4]) - 0.3
    precision = own_group_precision(vectors)
    assert precision >= 0.9, f"own-group precision {precision:.3f} < 0.9"


def test_cbow_on_one_thread_is_reproducible_and_not_skip_gram(planted_corpus):
    a, _ = train_corpus(planted_corpus, CBOW, progress=False)
    b, _ = train_corpus(planted_corpus, CBOW, progress=False)
    sg, _ = train_corpus(planted_corpus, BASE, progress=False)
    assert np.array_equal(a.vectors, b.vectors) and not np.array_equal(a.vectors, sg.vectors)


def test_cbow_settings_are_checked_with_one_line_errors(planted_corpus):
    assert fastw2v.Config().sg == 1 and fastw2v.Config().cbow_mean == 1  # fastw2v train: the tutorial's model
    for bad in ({"sg": 2}, {"sg": 0.5}, {"cbow_mean": -1}):
        with pytest.raises(UserError, match=r"must be 0 or 1"):
            fastw2v.Config(**bad)
    with pytest.raises(UserError, match=rf"one set per window: \w+ {re.escape(setting('shared_negatives'))}"):
        fastw2v.Config(sg=0, shared_negatives=True)
    with pytest.raises(UserError, match=re.escape(f"many partitions at once: pass {setting('sg', 1)}")):
        train_corpus(planted_corpus, dataclasses.replace(CBOW), progress=False, as_ranks=2)


def test_cbow_windows_by_hand():
    """Pieces [5 6 7] and [8] (no context: no window) and [9 4], window 2 without shrinking."""
    kept = np.array([5, 6, 7, 8, 9, 4], dtype=np.int32)
    keys, contexts = K.cbow_windows(kept, np.array([0, 3, 4, 6], dtype=np.int64), 2, False, 0)
    assert keys.tolist() == [0, 1, 2, 4, 5]
    assert contexts.tolist() == [[6, 7, -1, -1], [5, 7, -1, -1], [5, 6, -1, -1], [4, -1, -1, -1], [9, -1, -1, -1]]


def reference_batch_step(w_in, w_out, contexts, center, negs, lr, cbow_mean):
    """model.cbow_sgd_step in numpy, window by window, every update computed from the values before the batch and
    summed."""
    d_in, d_out = np.zeros_like(w_in), np.zeros_like(w_out)
    for ctx, c, ns in zip(contexts.tolist(), center.tolist(), negs.tolist()):
        rows = [x for x in ctx if x >= 0]
        h = w_in[rows].sum(0) / (len(rows) if cbow_mean else 1)
        neu1e = np.zeros_like(h)
        for target, label in [(c, 1)] + [(n, 0) for n in ns if n != c]:
            g = label - 1 / (1 + np.exp(-(h @ w_out[target])))
            neu1e += g * w_out[target]
            d_out[target] += g * h
        for x in rows:
            d_in[x] += neu1e / (1 if cbow_mean else len(rows))
    return w_in + lr * d_in, w_out + lr * d_out


@pytest.mark.parametrize("cbow_mean", [True, False])
def test_the_torch_step_equals_cbow_in_numpy(cbow_mean):
    import torch

    from fastw2v.model import SkipGramNS

    rng = np.random.default_rng(0)
    V, d, B, C, k = 30, 8, 64, 6, 3
    model = SkipGramNS(V, d)
    with torch.no_grad():
        model.in_embed.weight.copy_(torch.from_numpy(rng.normal(0, 0.3, (V, d)).astype(np.float32)))
        model.out_embed.weight.copy_(torch.from_numpy(rng.normal(0, 0.3, (V, d)).astype(np.float32)))
    w_in, w_out = model.in_embed.weight.detach().numpy().copy(), model.out_embed.weight.detach().numpy().copy()
    sizes = rng.integers(1, C + 1, B)
    contexts = np.where(np.arange(C) < sizes[:, None], rng.integers(0, V, (B, C)), -1)
    center, negs = rng.integers(0, V, B), rng.integers(0, V, (B, k))
    negs[:5, 0] = center[:5]  # a negative equal to the center is skipped
    loss = cbow_sgd_step(model, *(torch.from_numpy(a) for a in (contexts, center, negs)), 0.1, cbow_mean, trust=None)
    want_in, want_out = reference_batch_step(w_in, w_out, contexts, center, negs, 0.1, cbow_mean)
    np.testing.assert_allclose(model.in_embed.weight.detach().numpy(), want_in, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.out_embed.weight.detach().numpy(), want_out, rtol=1e-5, atol=1e-6)
    assert float(loss) > 0


@pytest.mark.parametrize("cbow_mean", [1, 0])
def test_torch_cbow_one_window_a_batch_equals_hogwild(planted_corpus, cbow_mean):
    """With one window a batch, one negative (never drawn twice), a constant lr, no trust bound and no shuffling,
    the batch step is the sequential one: the torch backend trains hogwild's CBOW, window for window, from the
    same rows (the same windows, and negatives keyed by the same kept positions)."""
    cfg = fastw2v.Config(
        sg=0,
        cbow_mean=cbow_mean,
        vector_size=8,
        epochs=1,
        negative=1,
        alpha=0.05,
        min_alpha=0.05,
        workers=1,
        seed=2,
        chunk_tokens=3000,
        shuffle=False,
        batch_size=1,
        trust=None,
    )
    w_in, w_out = init_weights(len(planted_corpus.vocab), 8, 3)
    w_out = np.random.default_rng(1).normal(0, 0.1, w_out.shape).astype(np.float32)
    runs = {}
    for backend in ("hogwild", "torch"):
        weights = fastw2v.stats.Weights(w_in.copy(), w_out.copy())
        runs[backend] = (
            train_corpus(
                planted_corpus, dataclasses.replace(cfg, backend=backend, device="cpu"), progress=False, weights=weights
            )[1],
            weights,
        )
    (hog_stats, hog), (torch_stats, tor) = runs["hogwild"], runs["torch"]
    assert hog_stats.examples == torch_stats.examples > 1000
    np.testing.assert_allclose(tor.w_in, hog.w_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tor.w_out, hog.w_out, rtol=1e-4, atol=1e-5)


def test_torch_cbow_learns_planted_structure(planted_corpus):
    cfg = dataclasses.replace(CBOW, backend="torch", device="cpu", batch_size=256)
    vectors, stats = train_corpus(planted_corpus, cfg, progress=False)
    assert stats.backend == "torch" and own_group_precision(vectors) >= 0.9
    with pytest.raises(UserError, match="CBOW trains with SGD"):
        fastw2v.Config(sg=0, optimizer="adam")
