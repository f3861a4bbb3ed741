"""fastw2v.Vectors answers gensim's KeyedVectors queries as gensim does, on the same vectors."""

import numpy as np
import pytest

import fastw2v

gensim = pytest.importorskip("gensim")


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(60)]
    vectors = fastw2v.Vectors(words, rng.normal(size=(60, 8)).astype(np.float32), np.arange(60, 0, -1))
    return vectors, vectors.to_gensim()


def same_ranking(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5, atol=1e-6)


def test_to_gensim_keeps_words_vectors_and_counts(pair):
    ours, kv = pair
    assert kv.index_to_key == ours.index_to_key
    np.testing.assert_array_equal(kv.vectors, ours.vectors)
    assert kv.get_vecattr("w3", "count") == ours.get_vecattr("w3", "count") == 57
    assert repr(ours) == "<fastw2v.Vectors: 60 words, vector_size=8>"


@pytest.mark.parametrize("query", [
    dict(positive=["w1"]), dict(positive="w1"), dict(positive=["w1", "w2"], negative=["w3"]),
    dict(positive=["w1"], negative="w4", topn=3), dict(positive=[("w1", 2.0), "w5"], negative=["w6"]),
    dict(positive=["w7"], restrict_vocab=20), dict(negative=["w8"])])
def test_most_similar(pair, query):
    ours, kv = pair
    same_ranking(ours.most_similar(**query), kv.most_similar(**query))


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`")
@pytest.mark.parametrize("query", [dict(positive=["w1", "w2"], negative=["w3"]), dict(positive="w9", topn=4),
                                   dict(positive=["w1"], negative=["w2", "w3"])])
def test_most_similar_cosmul(pair, query):
    ours, kv = pair
    same_ranking(ours.most_similar_cosmul(**query), kv.most_similar_cosmul(**query))


def test_most_similar_cosmul_keeps_to_restrict_vocab(pair):
    """gensim 4.4 takes restrict_vocab here but searches every word; fastw2v searches the first ones, as its
    most_similar does."""
    ours, _ = pair
    everyone = ours.most_similar_cosmul(["w1"], ["w2"], topn=None)
    first = ours.most_similar_cosmul(["w1"], ["w2"], topn=5, restrict_vocab=30)
    best = [ours.index_to_key[i] for i in np.argsort(-everyone[:30]) if i not in (1, 2)][:5]
    assert [w for w, _ in first] == best


def test_the_other_queries(pair):
    ours, kv = pair
    same_ranking(ours.similar_by_word("w10", topn=5), kv.similar_by_word("w10", topn=5))
    same_ranking(ours.similar_by_vector(ours["w11"], topn=5), kv.similar_by_vector(kv["w11"], topn=5))
    assert ours.doesnt_match(["w1", "w2", "w3", "w4", "nope"]) == kv.doesnt_match(["w1", "w2", "w3", "w4", "nope"])
    assert ours.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(kv.n_similarity(["w1", "w2"], ["w3"]), rel=1e-5)
    assert ours.distance("w1", "w2") == pytest.approx(kv.distance("w1", "w2"), abs=1e-6)
    np.testing.assert_allclose(ours.distances("w1"), kv.distances("w1"), atol=1e-6)
    np.testing.assert_allclose(ours.distances("w1", ["w2", "w5"]), kv.distances("w1", ["w2", "w5"]), atol=1e-6)
    assert ours.closer_than("w1", "w20") == kv.closer_than("w1", "w20")
    assert ours.rank("w1", "w20") == kv.rank("w1", "w20")
    np.testing.assert_allclose(ours.get_vector("w2", norm=True), kv.get_vector("w2", norm=True), rtol=1e-6)
    np.testing.assert_array_equal(ours.get_vector("w2"), kv.get_vector("w2"))
    np.testing.assert_allclose(ours.most_similar("w1", topn=None), kv.most_similar("w1", topn=None), rtol=1e-5)
    assert ours.most_similar("w1", topn=0) == kv.most_similar("w1", topn=0) == []


def test_a_missing_word_is_a_key_error_naming_it(pair):
    ours, _ = pair
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        ours.most_similar(["w1", "nope"])
    with pytest.raises(KeyError, match="nope"):
        ours.rank("w1", "nope")
