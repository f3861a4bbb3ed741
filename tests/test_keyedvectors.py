"""fastw2v.Vectors answers gensim's KeyedVectors queries as gensim does, on the same vectors."""

import gzip

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


# -- gensim's evaluation and normalisation methods, on the same vectors ----------------------------------------

ANALOGY_WORDS = ["the", "man", "woman", "king", "queen", "paris", "france", "berlin", "germany", "rome", "italy",
                 "boy", "girl", "King", "MAN", "big", "bigger", "small", "smaller", "good", "better", "rare"]

ANALOGIES = """\
: capital-common-countries
paris france berlin germany
paris france rome italy
Berlin Germany Paris France
berlin germany rome atlantis
paris france rome
rome italy paris france

: family
man woman king queen
Man Woman King Queen
man woman boy girl
king queen man woman
MAN woman king queen
man woman king King
: empty-section
: gram2-comparative
big bigger small smaller
good better big bigger
small smaller good better
big bigger rare rarer
good better small rare
"""


@pytest.fixture(scope="module")
def analogy_pair():
    """Random 4-d vectors (so that some answers are right by chance and others wrong), with three answers planted
    on the 3CosAdd direction, case variants after their lower-case words, and "rare" last."""
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(len(ANALOGY_WORDS), 4))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    at = {w: i for i, w in enumerate(ANALOGY_WORDS)}
    for a, b, c, d in [("man", "woman", "king", "queen"), ("paris", "france", "berlin", "germany"),
                       ("big", "bigger", "small", "smaller")]:
        vecs[at[d]] = 2.0 * (vecs[at[b]] - vecs[at[a]] + vecs[at[c]])
    ours = fastw2v.Vectors(ANALOGY_WORDS, vecs.astype(np.float32), np.arange(len(ANALOGY_WORDS), 0, -1) * 10)
    theirs = gensim.models.KeyedVectors(4)
    theirs.add_vectors(ANALOGY_WORDS, vecs.astype(np.float32))
    return ours, theirs


@pytest.mark.parametrize("kw", [{}, {"restrict_vocab": 19}, {"restrict_vocab": None}, {"case_insensitive": False},
                                {"dummy4unknown": True}, {"restrict_vocab": 8, "dummy4unknown": True},
                                {"case_insensitive": False, "dummy4unknown": True}, {"restrict_vocab": 0},
                                {"restrict_vocab": -3}])
def test_evaluate_word_analogies_equals_gensims(analogy_pair, tmp_path, kw):
    ours, theirs = analogy_pair
    path = tmp_path / "questions.txt"
    path.write_text(ANALOGIES, encoding="utf-8")
    score, sections = ours.evaluate_word_analogies(path, **kw)
    assert (score, sections) == theirs.evaluate_word_analogies(str(path), **kw)
    assert [s["section"] for s in sections] == ["capital-common-countries", "family", "empty-section",
                                                "gram2-comparative", "Total accuracy"]
    if not kw:
        total = sections[-1]
        assert len(total["correct"]) >= 3 and len(total["incorrect"]) >= 3  # both outcomes are compared
        assert ("MAN", "WOMAN", "KING", "QUEEN") in total["correct"]  # upper-cased, as gensim's
        gz = tmp_path / "questions.txt.gz"
        gz.write_bytes(gzip.compress(ANALOGIES.encode("utf-8")))
        assert ours.evaluate_word_analogies(gz) == (score, sections)


def test_evaluate_word_analogies_in_blocks_equals_gensims(analogy_pair, tmp_path, monkeypatch):
    """Many random questions, scored a few at a time (the blocks of a large file): each answer is gensim's."""
    import fastw2v.evaluate

    ours, theirs = analogy_pair
    rng = np.random.default_rng(11)
    lines = [": random"] + [" ".join(rng.choice(ANALOGY_WORDS, 4)) for _ in range(300)]
    path = tmp_path / "random.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(fastw2v.evaluate, "BLOCK", 7)
    for kw in ({}, {"case_insensitive": False}, {"restrict_vocab": 12}):
        assert ours.evaluate_word_analogies(path, **kw) == theirs.evaluate_word_analogies(str(path), **kw)


def test_evaluate_word_analogies_errors(analogy_pair, tmp_path):
    ours, _ = analogy_pair
    with pytest.raises(fastw2v.UserError, match="line 1 of .* comes before any ': section' line"):
        ours.evaluate_word_analogies(write(tmp_path / "a.txt", "man woman king queen\n: s\n"))
    with pytest.raises(fastw2v.UserError, match="holds no 'a b c d' question"):
        ours.evaluate_word_analogies(write(tmp_path / "b.txt", ": s\n\n: t\n"))
    with pytest.raises(fastw2v.UserError, match="no such file"):
        ours.evaluate_word_analogies(tmp_path / "missing.txt")
    with pytest.raises(fastw2v.UserError, match="similarity_function='cosmul': pass 'most_similar'"):
        ours.evaluate_word_analogies(write(tmp_path / "c.txt", ": s\nman woman king queen\n"),
                                     similarity_function="cosmul")


def test_evaluate_word_analogies_takes_gensims_cosmul_name_and_answers_as_gensim(analogy_pair, tmp_path):
    """gensim 4.4 takes similarity_function='most_similar_cosmul' and answers by 3CosAdd all the same (its own
    test_evaluate_word_analogies asserts the equal results): fastw2v does too, and says so in a warning."""
    ours, theirs = analogy_pair
    path = write(tmp_path / "questions.txt", ANALOGIES)
    with pytest.warns(UserWarning, match="is ignored, as gensim 4.4 ignores it"):
        got = ours.evaluate_word_analogies(path, similarity_function="most_similar_cosmul")
    assert got == ours.evaluate_word_analogies(path)
    assert got == theirs.evaluate_word_analogies(str(path), similarity_function="most_similar_cosmul")


PAIRS = """\
# a comment
Word 1\tWord 2\tHuman (mean)
man\twoman\t8.3
king\tqueen\t8.58
KING\tMAN\t5.1
king\tking\t10
queen\tqueen\t10
paris\tfrance\t7.2
rome\titaly\t7.7
big\tsmall\t2.5
good\tbetter\t6.1
berlin\tatlantis\t1.0
girl\tboy\t5.5
rare\tthe\t0.5
bad line
the\ta\tb\tc
"""


@pytest.mark.parametrize("kw", [{}, {"dummy4unknown": True}, {"case_insensitive": False}, {"restrict_vocab": 15},
                                {"restrict_vocab": 15, "dummy4unknown": True}])
def test_evaluate_word_pairs_equals_gensims(analogy_pair, tmp_path, kw):
    ours, theirs = analogy_pair
    path = write(tmp_path / "pairs.tsv", PAIRS)
    same_correlations(ours.evaluate_word_pairs(path, **kw), theirs.evaluate_word_pairs(path, **kw))


def test_evaluate_word_pairs_delimiter_and_encoding(analogy_pair, tmp_path):
    ours, theirs = analogy_pair
    rows = [("man", "woman", "8.3"), ("king", "queen", "8.5"), ("big", "small", "2.5"), ("good", "better", "6"),
            ("café", "the", "1")]
    path = tmp_path / "pairs.csv"
    path.write_text("".join(",".join(r) + "\n" for r in rows), encoding="latin-1")
    kw = {"delimiter": ",", "encoding": "latin-1"}
    same_correlations(ours.evaluate_word_pairs(path, **kw), theirs.evaluate_word_pairs(str(path), **kw))
    with pytest.raises(fastw2v.UserError, match="is not utf8 .*pass the file's encoding"):
        ours.evaluate_word_pairs(path, delimiter=",")
    with pytest.raises(fastw2v.UserError, match="no pair in .* has both words among the first 22 words"):
        ours.evaluate_word_pairs(path, encoding="latin-1")  # tab-delimited by default: no line splits in three


def same_correlations(ours, theirs):
    (p, s, oov), (gp, gs, goov) = ours, theirs
    assert type(p) is type(gp) and type(s) is type(gs)
    np.testing.assert_allclose([p[0], p[1], s[0], s[1]], [gp[0], gp[1], gs[0], gs[1]], rtol=1e-6, atol=1e-6)
    assert oov == goov


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_normed_vectors_and_norms_equal_gensims():
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(30)]
    vecs = rng.normal(size=(30, 6)).astype(np.float32) * rng.uniform(0.1, 5, size=(30, 1)).astype(np.float32)
    ours = fastw2v.Vectors(words, vecs.copy())
    theirs = gensim.models.KeyedVectors(6)
    theirs.add_vectors(words, vecs.copy())
    ours.fill_norms()
    theirs.fill_norms()
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)
    normed = ours.get_normed_vectors()
    np.testing.assert_allclose(normed, theirs.get_normed_vectors(), rtol=1e-6, atol=1e-7)
    assert normed.dtype == np.float32 and normed.shape == (30, 6)
    normed[0] = 0  # a copy: the cached unit vectors are untouched
    np.testing.assert_allclose(ours.get_normed_vectors()[0], theirs.get_normed_vectors()[0], rtol=1e-6)
    # written in place: the norms stay cached until fill_norms(force=True), in both
    for kv in (ours, theirs):
        kv.vectors[3] *= 2
        kv.fill_norms()
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)
    for kv in (ours, theirs):
        kv.fill_norms(force=True)
    np.testing.assert_allclose(ours.norms[3], np.linalg.norm(vecs[3]) * 2, rtol=1e-6)
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)
    np.testing.assert_allclose(ours.get_normed_vectors(), theirs.get_normed_vectors(), rtol=1e-6, atol=1e-7)
    ours.norms = None  # gensim's way to have them computed again
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)


def test_most_similar_to_given_equals_gensims(pair):
    ours, kv = pair
    for key, candidates in [("w1", ["w2", "w3", "w4"]), ("w5", ["w5", "w6"]), ("w7", [f"w{i}" for i in range(20)]),
                            ("w9", ["w30"])]:
        assert ours.most_similar_to_given(key, candidates) == kv.most_similar_to_given(key, candidates)
    for key, candidates in [("nope", ["w1"]), ("w1", ["w2", "nope"])]:
        with pytest.raises(KeyError, match="nope"):
            kv.most_similar_to_given(key, candidates)
        with pytest.raises(KeyError, match="nope"):
            ours.most_similar_to_given(key, candidates)
    with pytest.raises(ValueError):
        kv.most_similar_to_given("w1", [])
    with pytest.raises(fastw2v.UserError, match="needs at least one candidate: pass a non-empty keys_list"):
        ours.most_similar_to_given("w1", [])
