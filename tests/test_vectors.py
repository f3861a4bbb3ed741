"""Vectors: lookups, most_similar, and exact round-trips of every file format (gensim reads ours)."""

import os

import numpy as np
import pytest

import fastw2v
from fastw2v import Vectors


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    words = ["movie", "film", "good", "great", "café", "don't", "x"]
    return Vectors(words, rng.standard_normal((len(words), 7)).astype(np.float32))


@pytest.mark.parametrize("name", ["v.txt", "v.bin", "v.npy"])
def test_round_trip_is_exact(tmp_path, vectors, name):
    path = str(tmp_path / name)
    vectors.save(path)
    loaded = Vectors.load(path)
    assert loaded.index_to_key == vectors.index_to_key
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_loads_our_word2vec_files_and_we_load_gensims(tmp_path, vectors, binary):
    from gensim.models import KeyedVectors

    ours = str(tmp_path / "ours")
    vectors.save_word2vec_format(ours, binary=binary)
    kv = KeyedVectors.load_word2vec_format(ours, binary=binary)
    assert list(kv.index_to_key) == vectors.index_to_key
    np.testing.assert_array_equal(kv.vectors, vectors.vectors)
    theirs = str(tmp_path / "theirs")
    kv.save_word2vec_format(theirs, binary=binary)
    back = Vectors.load_word2vec_format(theirs, binary=binary)
    np.testing.assert_array_equal(back.vectors, vectors.vectors)


def test_most_similar_matches_brute_force_cosine(vectors):
    unit = vectors.vectors / np.linalg.norm(vectors.vectors, axis=1, keepdims=True)
    cos = unit @ unit[0]
    expected = [vectors.index_to_key[i] for i in np.argsort(-cos) if i != 0][:3]
    got = vectors.most_similar("movie", topn=3)
    assert [w for w, _ in got] == expected
    assert abs(got[0][1] - np.sort(cos)[-2]) < 1e-6


def test_most_similar_analogy_arithmetic():
    v = Vectors(["king", "man", "woman", "queen", "apple"],
                np.array([[1, 1], [1, 0], [0, 1], [0.1, 2], [-1, -1]], dtype=np.float32))
    assert v.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"


def test_unknown_word_is_a_clear_error(vectors):
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        vectors.most_similar("nope")
    assert "movie" in vectors and "nope" not in vectors


def test_failed_save_leaves_no_file(tmp_path, vectors):
    vectors.index_to_key[-1] = "bad\ud800"  # cannot be encoded: the write fails half-way
    for name in ("v.bin", "v.txt"):
        with pytest.raises(UnicodeEncodeError):
            vectors.save(str(tmp_path / name))
    assert os.listdir(tmp_path) == []


def test_bad_paths(tmp_path, vectors):
    with pytest.raises(fastw2v.UserError, match=r"\.txt, \.bin or \.npy"):
        vectors.save(str(tmp_path / "v.dat"))
    with pytest.raises(fastw2v.UserError, match="does not exist"):
        vectors.save(str(tmp_path / "no" / "v.bin"))
    with pytest.raises(fastw2v.UserError, match="no such vectors file"):
        Vectors.load(str(tmp_path / "missing.bin"))
    (tmp_path / "junk.txt").write_text("hello world\n")
    with pytest.raises(fastw2v.UserError, match="header"):
        Vectors.load(str(tmp_path / "junk.txt"))
