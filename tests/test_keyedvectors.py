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


@pytest.mark.parametrize(
    "query",
    [
        dict(positive=["w1"]),
        dict(positive="w1"),
        dict(positive=["w1", "w2"], negative=["w3"]),
        dict(positive=["w1"], negative="w4", topn=3),
        dict(positive=[("w1", 2.0), "w5"], negative=["w6"]),
        dict(positive=["w7"], restrict_vocab=20),
        dict(negative=["w8"]),
    ],
)
def test_most_similar(pair, query):
    ours, kv = pair
    same_ranking(ours.most_similar(**query), kv.most_similar(**query))


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`")
@pytest.mark.parametrize(
    "query",
    [
        dict(positive=["w1", "w2"], negative=["w3"]),
        dict(positive="w9", topn=4),
        dict(positive=["w1"], negative=["w2", "w3"]),
    ],
)
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

ANALOGY_WORDS = [
    "the",
    "man",
    "woman",
    "king",
    "queen",
    "paris",
    "france",
    "berlin",
    "germany",
    "rome",
    "italy",
    "boy",
    "girl",
    "King",
    "MAN",
    "big",
    "bigger",
    "small",
    "smaller",
    "good",
    "better",
    "rare",
]

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
    for a, b, c, d in [
        ("man", "woman", "king", "queen"),
        ("paris", "france", "berlin", "germany"),
        ("big", "bigger", "small", "smaller"),
    ]:
        vecs[at[d]] = 2.0 * (vecs[at[b]] - vecs[at[a]] + vecs[at[c]])
    ours = fastw2v.Vectors(ANALOGY_WORDS, vecs.astype(np.float32), np.arange(len(ANALOGY_WORDS), 0, -1) * 10)
    theirs = gensim.models.KeyedVectors(4)
    theirs.add_vectors(ANALOGY_WORDS, vecs.astype(np.float32))
    return ours, theirs


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"restrict_vocab": 19},
        {"restrict_vocab": None},
        {"case_insensitive": False},
        {"dummy4unknown": True},
        {"restrict_vocab": 8, "dummy4unknown": True},
        {"case_insensitive": False, "dummy4unknown": True},
        {"restrict_vocab": 0},
        {"restrict_vocab": -3},
    ],
)
def test_evaluate_word_analogies_equals_gensims(analogy_pair, tmp_path, kw):
    ours, theirs = analogy_pair
    path = tmp_path / "questions.txt"
    path.write_text(ANALOGIES, encoding="utf-8")
    score, sections = ours.evaluate_word_analogies(path, **kw)
    assert (score, sections) == theirs.evaluate_word_analogies(str(path), **kw)
    assert [s["section"] for s in sections] == [
        "capital-common-countries",
        "family",
        "empty-section",
        "gram2-comparative",
        "Total accuracy",
    ]
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
        ours.evaluate_word_analogies(
            write(tmp_path / "c.txt", ": s\nman woman king queen\n"), similarity_function="cosmul"
        )


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


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"dummy4unknown": True},
        {"case_insensitive": False},
        {"restrict_vocab": 15},
        {"restrict_vocab": 15, "dummy4unknown": True},
    ],
)
def test_evaluate_word_pairs_equals_gensims(analogy_pair, tmp_path, kw):
    ours, theirs = analogy_pair
    path = write(tmp_path / "pairs.tsv", PAIRS)
    same_correlations(ours.evaluate_word_pairs(path, **kw), theirs.evaluate_word_pairs(path, **kw))


def test_evaluate_word_pairs_delimiter_and_encoding(analogy_pair, tmp_path):
    ours, theirs = analogy_pair
    rows = [
        ("man", "woman", "8.3"),
        ("king", "queen", "8.5"),
        ("big", "small", "2.5"),
        ("good", "better", "6"),
        ("café", "the", "1"),
    ]
    path = tmp_path / "pairs.csv"
    path.write_text("".join(",".join(r) + "\n" for r in rows), encoding="latin-1")
    kw = {"delimiter": ",", "encoding": "latin-1"}
    same_correlations(ours.evaluate_word_pairs(path, **kw), theirs.evaluate_word_pairs(str(path), **kw))
    with pytest.raises(fastw2v.UserError, match="is not utf8 .*pass the file's encoding"):
        ours.evaluate_word_pairs(path, delimiter=",")
    with pytest.raises(fastw2v.UserError, match=r"has no 'word1 word2 score' line split by '\\t': pass its delim"):
        ours.evaluate_word_pairs(path, encoding="latin-1")  # tab-delimited by default: no line splits in three
    with pytest.raises(fastw2v.UserError, match="no pair in .* has both words among the first 2 words"):
        ours.evaluate_word_pairs(path, encoding="latin-1", delimiter=",", restrict_vocab=2)


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
    for key, candidates in [
        ("w1", ["w2", "w3", "w4"]),
        ("w5", ["w5", "w6"]),
        ("w7", [f"w{i}" for i in range(20)]),
        ("w9", ["w30"]),
    ]:
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


# -- gensim's argument types: numpy integers, 2-D arrays -------------------------------------------------------


def test_topn_of_a_numpy_integer_type_is_an_int(pair):
    """``isinstance(np.int64(0), int)`` is False: topn=np.int64(0) returned every similarity instead of []."""
    ours, kv = pair
    for topn in (np.int64(0), np.int32(-2), np.uint8(0)):
        assert ours.most_similar("w1", topn=topn) == kv.most_similar("w1", topn=topn) == []
        assert ours.most_similar_cosmul("w1", topn=topn) == kv.most_similar_cosmul("w1", topn=topn) == []
    same_ranking(ours.most_similar("w1", topn=np.int64(4)), kv.most_similar("w1", topn=np.int64(4)))
    same_ranking(ours.similar_by_word("w2", topn=np.int16(3)), kv.similar_by_word("w2", topn=np.int16(3)))
    with pytest.raises(fastw2v.UserError, match=r"topn='3': pass an int"):
        ours.most_similar("w1", topn="3")


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`")
def test_a_2d_array_is_a_list_of_vectors(pair):
    """gensim takes ``positive=kv.vectors[0:5]`` as five vectors; fastw2v crashed with numpy's broadcast error."""
    ours, kv = pair
    same_ranking(ours.most_similar(positive=ours.vectors[0:5]), kv.most_similar(positive=kv.vectors[0:5]))
    same_ranking(
        ours.most_similar(positive=["w9"], negative=ours.vectors[3:5], topn=6),
        kv.most_similar(positive=["w9"], negative=kv.vectors[3:5], topn=6),
    )
    same_ranking(
        ours.most_similar_cosmul(positive=ours.vectors[0:2], negative=ours.vectors[7:8]),
        kv.most_similar_cosmul(positive=kv.vectors[0:2], negative=kv.vectors[7:8]),
    )
    np.testing.assert_allclose(
        ours.most_similar(ours.vectors[[4]], topn=None),
        kv.most_similar(kv.vectors[[4]], topn=None),
        rtol=1e-5,
        atol=1e-6,
    )


def test_bad_vectors_and_pairs_are_one_line_errors(pair):
    ours, _ = pair
    for call, match in [
        (lambda: ours.most_similar(positive=np.zeros((2, 2, 8))), "array of shape \\(2, 2, 8\\)"),
        (lambda: ours.most_similar(positive=[np.zeros(5)]), "vector of shape \\(5,\\).*length 8"),
        (lambda: ours.most_similar_cosmul(positive=[np.zeros(3)]), "vector of shape \\(3,\\)"),
        (lambda: ours.most_similar(positive=[("w1", 1.0, 2.0)]), "neither a key, a vector nor"),
        (lambda: ours.most_similar(), "at least one key or vector"),
    ]:
        with pytest.raises(fastw2v.UserError, match=match) as e:
            call()
        assert "\n" not in str(e.value)


def test_clip_start_clip_end_and_int_keys_as_gensims(pair):
    ours, kv = pair
    for kw in [dict(clip_start=10, clip_end=30), dict(clip_start=5), dict(clip_end=20, restrict_vocab=40)]:
        same_ranking(ours.most_similar("w12", **kw), kv.most_similar("w12", **kw))
    np.testing.assert_allclose(
        ours.most_similar("w1", topn=None, clip_start=10, clip_end=30),
        kv.most_similar("w1", topn=None, clip_start=10, clip_end=30),
        rtol=1e-5,
        atol=1e-6,
    )
    same_ranking(
        ours.most_similar(positive=[3, "w4"], negative=[np.int64(5)]),
        kv.most_similar(positive=[3, "w4"], negative=[np.int64(5)]),
    )
    assert ours.get_index(7) == kv.get_index(7) == 7 and ours.get_index("nope", -1) == kv.get_index("nope", -1) == -1
    assert (7 in ours, 60 in ours, "w7" in ours) == (7 in kv, 60 in kv, "w7" in kv) == (True, False, True)
    np.testing.assert_array_equal(ours[np.int64(7)], kv[np.int64(7)])


class FakeIndexer:
    def most_similar(self, vector, topn):
        return [("from the indexer", float(vector[0])), topn]


def test_an_indexer_answers_instead(pair):
    ours, kv = pair
    got = ours.most_similar("w3", topn=2, indexer=FakeIndexer())
    want = kv.most_similar("w3", topn=2, indexer=FakeIndexer())
    assert got[0][0] == want[0][0] == "from the indexer" and got[1] == want[1] == 2
    assert got[0][1] == pytest.approx(want[0][1], rel=1e-6)


# -- similarities computed as gensim's ------------------------------------------------------------------------


def test_similarity_and_n_similarity_are_gensims_to_the_last_bit(pair):
    ours, kv = pair
    for a, b in [("w1", "w2"), ("w3", "w40"), ("w59", "w0"), ("w5", "w5")]:
        assert ours.similarity(a, b) == kv.similarity(a, b)
        assert ours.n_similarity([a], [b]) == ours.similarity(a, b)  # gensim's test_similarities asserts this
        assert ours.n_similarity([a, "w9"], [b]) == kv.n_similarity([a, "w9"], [b])
    with pytest.raises(ZeroDivisionError):
        ours.n_similarity([], ["w1"])


def test_relative_cosine_similarity_as_gensims(pair):
    ours, kv = pair
    for a, b, topn in [("w1", "w2", 10), ("w3", "w30", 4), ("w7", "w7", 1), ("w8", "w9", np.int64(5))]:
        assert ours.relative_cosine_similarity(a, b, topn) == pytest.approx(
            kv.relative_cosine_similarity(a, b, topn), rel=1e-5
        )
    with pytest.raises(ValueError, match="without any similar words"):
        ours.relative_cosine_similarity("w1", "w2", topn=0)


# -- adding vectors, per-word attributes ---------------------------------------------------------------------


def fresh_pair(n=12, d=5, seed=4):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)]
    ours = fastw2v.Vectors(words, rng.normal(size=(n, d)).astype(np.float32), np.arange(n, 0, -1) * 3)
    return ours, ours.to_gensim(), rng


def same_vectors(ours, kv):
    assert ours.index_to_key == kv.index_to_key
    assert ours.key_to_index == kv.key_to_index
    np.testing.assert_array_equal(ours.vectors, kv.vectors)
    assert ours.vectors.dtype == kv.vectors.dtype and ours.vectors.flags.c_contiguous


def test_add_vectors_as_gensims():
    ours, kv, rng = fresh_pair()
    new = rng.normal(size=(4, 5)).astype(np.float32)
    keys = ["w1", "x1", "w3", "x2"]
    for v in (ours, kv):
        v.add_vectors(keys, new)
    same_vectors(ours, kv)
    np.testing.assert_array_equal(ours["w1"], ours.vectors[1])  # kept: replace=False
    assert ours.norms.shape == (14,) and ours.unit_vectors.shape == (14, 5)  # the caches follow
    np.testing.assert_array_equal(ours.counts, np.r_[np.arange(12, 0, -1) * 3, 0, 0])
    assert ours.counts is ours.expandos["count"]
    more = rng.normal(size=(3, 5))
    for v in (ours, kv):
        v.add_vectors(["w2", "x3", "x1"], list(more), replace=True)  # a list of float64 rows
    same_vectors(ours, kv)
    np.testing.assert_array_equal(ours["x1"], more[2].astype(np.float32))
    same_ranking(ours.most_similar("x1"), kv.most_similar("x1"))
    for v in (ours, kv):
        v.add_vectors("y", np.ones(5))  # one key
    same_vectors(ours, kv)
    assert ours.get_vecattr("y", "count") == 0


def test_add_vector_and_item_assignment_as_gensims():
    ours, kv, rng = fresh_pair()
    vec = rng.normal(size=5).astype(np.float32)
    with pytest.warns(UserWarning):  # gensim warns that growing by one is slow
        assert kv.add_vector("new", vec) == 12
    assert ours.add_vector("new", vec) == 12
    assert ours.add_vector("w2", vec) == 2 and not np.array_equal(ours["w2"], vec)  # present: kept, as gensim's
    same_vectors(ours, kv)
    assert ours.get_vecattr("new", "count") == kv.get_vecattr("new", "count") == 0
    rows = rng.normal(size=(3, 5)).astype(np.float32)
    for v in (ours, kv):
        v["w0"] = rows[0]
        v[["w4", "other", "new"]] = rows
    same_vectors(ours, kv)
    np.testing.assert_array_equal(ours[["w0", "other", "w4"]], kv[["w0", "other", "w4"]])
    np.testing.assert_array_equal(ours[["w0", "other"]], rows[[0, 1]])
    assert ours[["w0"]].shape == (1, 5)
    with pytest.raises(KeyError, match="nope"):
        ours[["w0", "nope"]]


def test_adding_bad_keys_or_weights_is_a_one_line_error():
    ours, _, _ = fresh_pair()
    for call, match in [
        (lambda: ours.add_vectors(["a", "b"], np.zeros((3, 5))), "2 keys but weights of shape \\(3, 5\\)"),
        (lambda: ours.add_vectors(["a"], np.zeros((1, 4))), "one vector of length 5"),
        (lambda: ours.__setitem__(["a", "b"], np.zeros(5)), "2 keys but weights of shape \\(5,\\)"),
        (lambda: ours.add_vectors([1.5], np.zeros((1, 5))), "key 1.5 is a float: keys are words"),
        (
            lambda: ours.add_vectors(["a"], np.zeros((1, 5)), extras={"count": [1, 2]}),
            "extras\\['count'\\] has shape \\(2,\\) for 1 keys",
        ),
    ]:
        with pytest.raises(fastw2v.UserError, match=match) as e:
            call()
        assert "\n" not in str(e.value)
    assert len(ours) == 12 and ours.vectors.shape == (12, 5)


def test_add_vectors_with_extras():
    ours, _, _ = fresh_pair()
    ours.add_vectors(["w0", "a", "b"], np.ones((3, 5)), extras={"count": np.array([99, 7, 8])})
    assert [ours.get_vecattr(w, "count") for w in ("w0", "a", "b")] == [36, 7, 8]  # w0 kept its count
    ours.add_vectors(
        ["w0", "c"], np.ones((2, 5)), extras={"count": np.array([99, 5]), "tag": np.array([1.5, 2.5])}, replace=True
    )
    assert [ours.get_vecattr(w, "count") for w in ("w0", "c")] == [99, 5]
    np.testing.assert_array_equal(ours.expandos["tag"], [1.5] + [0] * 13 + [2.5])


def test_vecattrs_as_gensims():
    ours, kv, _ = fresh_pair()
    for v in (ours, kv):
        v.set_vecattr("w3", "count", 1000)
        v.set_vecattr("w4", "flag", 2.5)
        v.allocate_vecattrs(["tags"], [int])
    assert set(ours.expandos) == set(kv.expandos) == {"count", "flag", "tags"}
    for attr in ours.expandos:
        np.testing.assert_array_equal(ours.expandos[attr], kv.expandos[attr])
        assert ours.expandos[attr].dtype == kv.expandos[attr].dtype
    assert ours.get_vecattr("w3", "count") == kv.get_vecattr("w3", "count") == 1000 == ours.counts[3]
    with pytest.raises(TypeError, match="conflicts with its existing type"):
        kv.allocate_vecattrs(["count"], [np.float32])
    with pytest.raises(TypeError, match="conflicts with its existing type"):
        ours.allocate_vecattrs(["count"], [np.float32])
    with pytest.raises(KeyError, match="no per-word attribute 'nope'.*set it with set_vecattr"):
        ours.get_vecattr("w1", "nope")
    ours.counts = None
    assert "count" not in ours.expandos and ours.counts is None
    ours.counts = [5] * 12
    assert ours.expandos["count"].dtype == np.int64 and ours.get_vecattr("w0", "count") == 5
    with pytest.raises(ValueError, match="12 words but counts of shape \\(3,\\)"):
        ours.counts = [1, 2, 3]


def test_vectors_for_all_as_gensims():
    ours, kv, _ = fresh_pair()
    keys = ["w5", "nope", "w1", "w5", "w11"]
    for copy in (False, True):
        got, want = ours.vectors_for_all(keys, copy_vecattrs=copy), kv.vectors_for_all(keys, copy_vecattrs=copy)
        assert isinstance(got, fastw2v.Vectors)
        same_vectors(got, want)
        assert set(got.expandos) == set(want.expandos) == {"count"}  # gensim makes counts up without copy_vecattrs
        np.testing.assert_array_equal(got.counts, want.expandos["count"])
        assert got.counts.tolist() == ([21, 33, 3] if copy else [3, 2, 1])
    got = ours.vectors_for_all(iter(["w2"]))
    got.vectors[0] = 0  # a copy
    assert np.any(ours["w2"])
    assert len(ours.vectors_for_all(["nope"])) == 0


def test_sort_by_descending_frequency_as_gensims():
    ours, kv, _ = fresh_pair()
    for v in (ours, kv):
        v.set_vecattr("w7", "count", 100)
        v.set_vecattr("w2", "count", 30)  # a tie with w2's neighbour w1... kept in row order
        v.sort_by_descending_frequency()
    same_vectors(ours, kv)
    np.testing.assert_array_equal(ours.counts, kv.expandos["count"])


# -- lock factors, and starting from pretrained vectors ---------------------------------------------------------


def test_vectors_lockf_is_one_factor_or_one_per_word():
    ours, _, _ = fresh_pair()
    assert ours.vectors_lockf.dtype == np.float32 and ours.vectors_lockf.tolist() == [1.0]
    ours.add_vectors(["a"], np.ones((1, 5)))
    assert ours.vectors_lockf.tolist() == [1.0]  # still one for all
    ours.vectors_lockf = np.ones(13)
    ours.vectors_lockf[0] = 0.0  # in place, as gensim's test does
    ours.add_vectors(["b", "c"], np.ones((2, 5)))
    assert ours.vectors_lockf.dtype == np.float32 and ours.vectors_lockf.tolist() == [0.0] + [1.0] * 14
    with pytest.raises(fastw2v.UserError, match="vectors_lockf of shape \\(3,\\) for 15 words: pass one factor"):
        ours.vectors_lockf = np.ones(3)


@pytest.mark.parametrize("binary", [False, True])
def test_intersect_word2vec_format_as_gensims(tmp_path, binary):
    """gensim 4.4's binary branch fails under numpy 2 (np.fromstring): both formats are compared with its text
    branch."""
    ours, kv, rng = fresh_pair()
    kv.vectors_lockf = np.ones(len(kv), dtype=np.float32)  # gensim's Word2Vec sets it; KeyedVectors has none
    pretrained = gensim.models.KeyedVectors(5)
    pretrained.add_vectors(["w3", "zz", "w0", "w11"], rng.normal(size=(4, 5)).astype(np.float32))
    path = str(tmp_path / "pre")
    pretrained.save_word2vec_format(path + ".txt")
    pretrained.save_word2vec_format(path + ".bin", binary=True)
    ours.fill_norms()  # cached: must be dropped
    assert ours.intersect_word2vec_format(path + (".bin" if binary else ".txt"), lockf=0.5, binary=binary) == 3
    kv.intersect_word2vec_format(path + ".txt", lockf=0.5)
    same_vectors(ours, kv)
    np.testing.assert_array_equal(ours.vectors_lockf, kv.vectors_lockf)
    assert ours.vectors_lockf.dtype == np.float32 and ours.vectors_lockf[[0, 3, 11]].tolist() == [0.5] * 3
    np.testing.assert_allclose(ours.norms[3], np.linalg.norm(pretrained["w3"]), rtol=1e-6)
    assert "zz" not in ours


def test_intersect_word2vec_format_errors(tmp_path):
    ours, _, _ = fresh_pair()
    other = fastw2v.Vectors(["w1"], np.ones((1, 4)))
    other.save_word2vec_format(str(tmp_path / "four.txt"))
    with pytest.raises(fastw2v.UserError, match="vectors of size 4, these are of size 5"):
        ours.intersect_word2vec_format(str(tmp_path / "four.txt"))
    fastw2v.Vectors(["w1"], np.ones((1, 5))).save_word2vec_format(str(tmp_path / "five.bin"), binary=True)
    with pytest.raises(fastw2v.UserError, match="it looks binary: pass binary=True"):
        ours.intersect_word2vec_format(str(tmp_path / "five.bin"))
    assert ours.vectors_lockf.tolist() == [1.0]
    assert ours.intersect_word2vec_format(str(tmp_path / "five.bin"), binary=None) == 1


@pytest.mark.filterwarnings("ignore:Call to deprecated")
def test_unit_normalize_all_and_init_sims_as_gensims():
    ours, kv, _ = fresh_pair()
    ours.fill_norms()  # cached before: must follow the new lengths
    ours.init_sims()
    kv.init_sims()
    np.testing.assert_allclose(ours.norms, kv.norms, rtol=1e-6)
    ours.init_sims(replace=True)
    kv.init_sims(replace=True)
    np.testing.assert_allclose(ours.vectors, kv.vectors, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.norms, 1.0, rtol=1e-6)
    np.testing.assert_array_equal(ours.word_vec("w3"), ours.get_vector("w3"))


def test_gensims_own_file_keeps_every_per_word_attribute(tmp_path):
    ours, _, _ = fresh_pair()
    ours.set_vecattr("w2", "weight", 0.25)
    ours.save(str(tmp_path / "v.kv"))  # gensim's KeyedVectors.save
    back = fastw2v.Vectors.load(str(tmp_path / "v.kv"))
    assert set(back.expandos) == {"count", "weight"}
    np.testing.assert_array_equal(back.counts, ours.counts)
    assert back.get_vecattr("w2", "weight") == 0.25 and back.get_vecattr("w1", "weight") == 0.0
