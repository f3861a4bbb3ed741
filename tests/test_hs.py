"""Hierarchical softmax: the Huffman tree is word2vec.c's, hogwild's kernels equal word2vec.c's hs written in numpy
(skip-gram and CBOW, alone and beside negatives, with lock factors), a small corpus learns, and the settings around
it say what they do."""

import dataclasses
import re

import numpy as np
import pytest

import fastw2v
from fastw2v.batching import NumbaBatches
from fastw2v.errors import UserError, setting
from fastw2v.hogwild import init_weights
from fastw2v.huffman import build_tree, score_sentences
from fastw2v.stats import Weights
from fastw2v.train import train_corpus

from .reference import hs_step, neg_step, reference_cbow
from .test_hogwild import BASE, own_group_precision, reference_case


def test_the_tree_is_word2vec_cs_on_a_hand_computed_vocabulary():
    """Counts 5 4 3 2 1 (word2vec.c, CreateBinaryTree): merge 1+2 -> node 0 (count 3); then node 0 and the leaf of
    count 3 tie, and the inner node is taken first -> node 1 = node 0 + leaf 2 (6); leaves 4 and 5 -> node 2 (9);
    nodes 1 and 2 -> the root, node 3. The second of each pair gets code 1."""
    tree = build_tree(np.array([5, 4, 3, 2, 1]))
    expected = {
        0: ([1, 1], [3, 2]),
        1: ([1, 0], [3, 2]),
        2: ([0, 1], [3, 1]),
        3: ([0, 0, 1], [3, 1, 0]),
        4: ([0, 0, 0], [3, 1, 0]),
    }
    for word, (code, point) in expected.items():
        assert tree.code(word).tolist() == code and tree.point(word).tolist() == point


def test_the_tree_follows_the_counts_not_the_order():
    """Words in any order (a vocabulary grown by build_vocab(update=True)) get the paths they get sorted by count;
    ties keep their order."""
    counts = np.array([2, 5, 1, 3, 4])
    sorted_tree, tree = build_tree(np.array([5, 4, 3, 2, 1])), build_tree(counts)
    for word, rank in enumerate([3, 0, 4, 2, 1]):
        assert tree.code(word).tolist() == sorted_tree.code(rank).tolist()
        assert tree.point(word).tolist() == sorted_tree.point(rank).tolist()


def test_words_counted_zero_times_make_no_chain():
    """Counts of 0 (build_vocab_from_freq, a slice recounted) are placed as 1: a balanced tree, not a chain."""
    counts = np.concatenate([[100, 50], np.zeros(1000, dtype=np.int64)])
    tree = build_tree(counts)
    assert np.diff(tree.offsets).max() <= 12
    assert tree.code(5).tolist() == build_tree(np.maximum(counts, 1)).code(5).tolist()


@pytest.mark.parametrize("seed", range(3))
def test_the_tree_is_a_huffman_code(seed):
    """Prefix-free codes whose lengths meet Kraft's equality, every inner node used, the root first on every path,
    and the weighted length of an optimal code (scipy-free: the classic two-queue merge cost)."""
    counts = np.random.default_rng(seed).zipf(1.3, size=300).clip(max=10**6)
    tree = build_tree(counts)
    codes = ["".join(map(str, tree.code(w))) for w in range(len(counts))]
    assert sum(2.0 ** -len(c) for c in codes) == pytest.approx(1.0)
    assert len(set(codes)) == len(codes) and not any(a != b and b.startswith(a) for a in codes for b in codes)
    assert set(tree.points.tolist()) == set(range(len(counts) - 1))
    assert all(tree.point(w)[0] == len(counts) - 2 for w in range(len(counts)))
    queue, cost = sorted(counts.tolist()), 0
    while len(queue) > 1:
        a, b = queue.pop(0), queue.pop(0)
        cost += a + b
        queue.append(a + b)
        queue.sort()
    assert sum(c * len(code) for c, code in zip(counts.tolist(), codes)) == cost


def reference_sg(corpus, cfg, lockf):
    """word2vec.c's skip-gram (word2vec.c:495-544) in numpy over NumbaBatches(shuffle=False), constant lr: the
    context's input row against the center's path (hs) and then the center and its negatives, both from the input
    row before the pair; the row moves by its lock factor times the summed error."""
    V, d = len(corpus.vocab), cfg.vector_size
    w_in, w_out = init_weights(V, d, cfg.seed)
    syn1, tree, lr = np.zeros((V, d), np.float32), build_tree(corpus.vocab.counts), np.float32(cfg.lr)
    batches = NumbaBatches(
        corpus,
        batch_size=1000,
        window=cfg.window,
        negative=max(cfg.negative, 1),
        sample=cfg.sample,
        shrink_windows=cfg.shrink_windows,
        shuffle=False,
        seed=cfg.seed,
        chunk_tokens=cfg.chunk_tokens,
    )
    for epoch in range(cfg.epochs):
        batches.set_epoch(epoch)
        for center, context, negs in batches:
            for c, x, ns in zip(center.tolist(), context.tolist(), negs.tolist()):
                h, neu1e = w_in[x].copy(), np.zeros(d, np.float32)
                hs_step(h, c, tree, syn1, lr, neu1e)
                if cfg.negative:
                    neg_step(h, c, ns, w_out, lr, neu1e)
                w_in[x] += lockf[x] * neu1e
    return w_in, w_out, syn1


@pytest.mark.parametrize(
    "sg, negative, cbow_mean, locked, hot",
    [
        (1, 0, 1, False, False),
        (1, 5, 1, False, False),
        (1, 3, 1, True, False),
        (0, 0, 1, False, False),
        (0, 5, 1, True, False),
        (0, 0, 0, False, False),
        (1, 0, 1, False, True),
        (0, 0, 1, True, True),
    ],
)
def test_equals_word2vec_c_in_numpy(sg, negative, cbow_mean, locked, hot, monkeypatch):
    """One thread, a constant lr: every matrix equals the numpy reference to rounding (fastmath reorders sums).
    locked: the three most frequent words' input rows held still (lock factor 0), one moving at half speed.
    hot: 2 threads on one-document chunks (in fact serial), every row of this small tree on the threads' copies
    (HOT_NODES), merged every 16 pairs: the same arithmetic up to a merge's rounding."""
    corpus, cfg = reference_case(hot, max(negative, 1), False, monkeypatch)
    cfg = dataclasses.replace(cfg, sg=sg, hs=True, negative=negative, cbow_mean=cbow_mean)
    V = len(corpus.vocab)
    lockf = np.ones(V, np.float32)
    if locked:
        lockf[:3], lockf[5] = 0.0, 0.5
    reference = (reference_sg if sg else reference_cbow)(corpus, cfg, lockf)
    start = init_weights(V, cfg.vector_size, cfg.seed)
    weights = Weights(
        start[0].copy(),
        start[1].copy() if negative else np.zeros((0, cfg.vector_size), np.float32),
        np.zeros((V, cfg.vector_size), np.float32),
        lockf if locked else None,
    )
    train_corpus(corpus, cfg, progress=False, weights=weights)
    assert np.abs(reference[2]).max() > 0.01  # the tree trained
    np.testing.assert_allclose(weights.w_in, reference[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights.syn1, reference[2], rtol=1e-4, atol=1e-5)
    if negative:
        np.testing.assert_allclose(weights.w_out, reference[1], rtol=1e-4, atol=1e-5)
    if locked:
        np.testing.assert_array_equal(weights.w_in[:3], start[0][:3])


@pytest.mark.parametrize("options", [{"sg": 1}, {"sg": 0}, {"sg": 1, "workers": 2}, {"sg": 0, "negative": 5}])
def test_planted_structure_is_learnt(planted_corpus, options):
    cfg = dataclasses.replace(BASE, **{"hs": True, "negative": 0, **options})
    vectors, stats = train_corpus(planted_corpus, cfg, progress=False)
    assert own_group_precision(vectors) >= 0.9
    losses = [loss for _, loss in stats.loss_history]
    assert np.mean(losses[-4:]) < np.mean(losses[:4]) - 0.3


def test_score_is_gensims_log_probability():
    """gensim's score_sentence_sg / _cbow: every context in the full window, log sigma(+-x . syn1[node]) summed over
    the path, a node past +-6 left out; a sentence of one word has no context (0 under skip-gram)."""
    rng = np.random.default_rng(0)
    V, d = 6, 4
    w_in, syn1 = rng.normal(size=(V, d)).astype(np.float32), rng.normal(size=(V, d)).astype(np.float32)
    tree = build_tree(np.array([9, 7, 5, 3, 2, 1]))
    sentence = np.array([0, 3, 1, 5])

    def logsig(h, w):
        total = 0.0
        for code, node in zip(tree.code(w).tolist(), tree.point(w).tolist()):
            f = float(h @ syn1[node]) * (-1 if code else 1)
            total += 0.0 if abs(f) >= 6 else -np.log1p(np.exp(-f))
        return total

    sg = sum(
        logsig(w_in[sentence[j]], sentence[i]) for i in range(4) for j in range(max(0, i - 2), min(4, i + 3)) if j != i
    )
    cbow = sum(
        logsig(w_in[[sentence[j] for j in range(max(0, i - 2), min(4, i + 3)) if j != i]].mean(axis=0), sentence[i])
        for i in range(4)
    )
    got = score_sentences([sentence, np.array([2])], w_in, syn1, tree, window=2, sg=True, cbow_mean=True)
    assert got[0] == pytest.approx(sg, rel=1e-5) and got[1] == 0.0
    got = score_sentences([sentence], w_in, syn1, tree, window=2, sg=False, cbow_mean=True)
    assert got[0] == pytest.approx(cbow, rel=1e-5)


def test_settings():
    with pytest.raises(UserError, match="nothing to train"):
        fastw2v.Config(negative=0)
    with pytest.raises(UserError, match="hogwild backend"):
        fastw2v.Config(hs=True, backend="torch")
    with pytest.raises(UserError, match=re.escape(f"pass {setting('final_vectors', 'in')}")):
        fastw2v.Config(hs=True, negative=0, final_vectors="avg")
    assert fastw2v.Config(hs=1, device="cpu").hs is True and fastw2v.Config(hs=True).resolved_backend() == "hogwild"
    assert not fastw2v.Config(hs=True, negative=0).resolved_shared_negatives()


def test_a_job_of_several_ranks_refuses_hs_in_one_line(planted_corpus):
    with pytest.raises(UserError, match=rf"which every word shares: \w+ {re.escape(setting('hs'))}"):
        train_corpus(planted_corpus, dataclasses.replace(BASE, hs=True), progress=False, as_ranks=2)


def test_vectors_lockf_of_the_wrong_length_is_one_line(planted_corpus):
    V, d = len(planted_corpus.vocab), BASE.vector_size
    w_in, w_out = init_weights(V, d, 1)
    with pytest.raises(UserError, match="one per word"):
        train_corpus(planted_corpus, BASE, progress=False, weights=Weights(w_in, w_out, None, np.ones(3)))


def test_word2vec_score_is_the_kernels_log_probability():
    """fastw2v.Word2Vec(hs=1).score: one figure a sentence, words outside the vocabulary skipped, as
    ``score_sentences`` over the model's own tree; gensim's RuntimeError without hs."""
    texts = [t.split() for t in ["a b c a b", "b c d", "a a b d c", "d c b a"]] * 20
    model = fastw2v.Word2Vec(texts, vector_size=8, min_count=1, hs=1, negative=0, sg=1, workers=1, epochs=2)
    got = model.score([["a", "b", "zzz", "c"], ["d"]], total_sentences=5)
    tree = build_tree(np.asarray(model.wv.counts))
    rows = [np.array([model.wv.key_to_index[w] for w in s]) for s in (["a", "b", "c"], ["d"])]
    want = score_sentences(rows, model.wv.vectors, model.syn1, tree, model.window, True, True)
    assert got.dtype == np.float32 and got.shape == (2,) and got[0] < 0 and got[1] == 0
    np.testing.assert_allclose(got, want)
    assert model.score(texts, total_sentences=3).shape == (3,)
    with pytest.raises(RuntimeError, match="hs=0"):
        fastw2v.Word2Vec(texts, vector_size=8, min_count=1, workers=1, epochs=1).score(texts)


def test_a_gensim_model_keeps_gensims_tree(tmp_path):
    """gensim's Huffman tree breaks ties another way than word2vec.c's, and a gensim model's syn1 rows are its
    inner nodes: loaded into fastw2v (and saved and loaded again), the model keeps gensim's paths, and its score is
    the exact log-probability along them (gensim's own reads a table of log sigma: within 3% here)."""
    gensim = pytest.importorskip("gensim")
    texts = [t.split() for t in ["a b c d e", "b c d e f", "c d e f a", "a a b b c"]] * 30
    theirs = gensim.models.Word2Vec(
        texts, vector_size=8, min_count=1, hs=1, negative=0, sg=1, workers=1, epochs=3, seed=2
    )
    ours = fastw2v.Word2Vec.from_gensim(theirs)
    assert [c.tolist() for c in ours.wv.expandos["code"]] == [
        theirs.wv.get_vecattr(w, "code").tolist() for w in theirs.wv.index_to_key
    ]
    sample = texts[:4]

    def exact(sentence):
        ids, total = [theirs.wv.key_to_index[w] for w in sentence], 0.0
        for i, w in enumerate(ids):
            for j in range(max(0, i - theirs.window), min(len(ids), i + theirs.window + 1)):
                for code, node in zip(theirs.wv.get_vecattr(w, "code"), theirs.wv.get_vecattr(w, "point")):
                    f = float(theirs.wv.vectors[ids[j]] @ theirs.syn1[node]) * (-1 if code else 1)
                    total += 0.0 if j == i or abs(f) >= 6 else -np.log1p(np.exp(-f))
        return total

    np.testing.assert_allclose(ours.score(sample), [exact(s) for s in sample], rtol=1e-5)
    np.testing.assert_allclose(ours.score(sample), theirs.score(sample, total_sentences=4), rtol=0.03)
    ours.save(str(tmp_path / "m"))
    np.testing.assert_allclose(fastw2v.Word2Vec.load(str(tmp_path / "m")).score(sample), ours.score(sample))
    word2vec_c = build_tree(np.asarray(ours.wv.counts))
    assert any(word2vec_c.code(w).tolist() != ours.wv.expandos["code"][w].tolist() for w in range(len(ours.wv)))
