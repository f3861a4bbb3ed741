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


def test_bad_paths(tmp_path, vectors, monkeypatch):
    monkeypatch.setattr("fastw2v.vectors._has_gensim", lambda: False)  # with gensim, any other name is its format
    with pytest.raises(fastw2v.UserError, match=r"\.txt, \.bin or \.npy"):
        vectors.save(str(tmp_path / "v.dat"))
    monkeypatch.undo()
    with pytest.raises(fastw2v.UserError, match="does not exist"):
        vectors.save(str(tmp_path / "no" / "v.bin"))
    with pytest.raises(fastw2v.UserError, match="no such vectors file"):
        Vectors.load(str(tmp_path / "missing.bin"))
    (tmp_path / "junk.txt").write_text("hello world\n")
    with pytest.raises(fastw2v.UserError, match="header"):
        Vectors.load(str(tmp_path / "junk.txt"))


def test_word2vec_c_text_with_a_space_before_each_newline_loads(tmp_path, vectors):
    """word2vec.c writes ``fprintf(fo, "%lf ", ...)`` and then a newline: every line ends with a space."""
    path = tmp_path / "w2vc.txt"
    lines = [f"{len(vectors)} {vectors.vector_size}\n"]
    lines += [w + " " + "".join(f"{x:f} " for x in row) + "\n" for w, row in zip(vectors.index_to_key, vectors.vectors)]
    path.write_text("".join(lines))
    back = Vectors.load(str(path))
    assert back.index_to_key == vectors.index_to_key
    np.testing.assert_allclose(back.vectors, vectors.vectors, atol=1e-6)


def test_the_word2vec_format_is_told_by_content_not_by_name(tmp_path, vectors):
    vectors.save(str(tmp_path / "v.txt"))
    vectors.save(str(tmp_path / "v.bin"))
    os.replace(tmp_path / "v.txt", tmp_path / "text-named.bin")
    os.replace(tmp_path / "v.bin", tmp_path / "binary-named.txt")
    for name in ("text-named.bin", "binary-named.txt"):
        np.testing.assert_array_equal(Vectors.load(str(tmp_path / name)).vectors, vectors.vectors)


def test_damaged_vectors_files_are_one_line_errors(tmp_path, vectors):
    def error(path, match):
        with pytest.raises(fastw2v.UserError, match=match) as e:
            Vectors.load(str(path))
        assert "\n" not in str(e.value)

    text = tmp_path / "v.txt"
    vectors.save(str(text))
    lines = text.read_bytes().split(b"\n")
    (tmp_path / "x.txt").write_bytes(b"\n".join(lines[:2] + [lines[2].replace(b" ", b" x", 1)] + lines[3:]))
    error(tmp_path / "x.txt", "line 3 of .* is not a word and 7 numbers")
    (tmp_path / "first.txt").write_bytes(b"\n".join(lines[:1] + [lines[1].replace(b" ", b" x", 1)] + lines[2:]))
    error(tmp_path / "first.txt", "line 2 of .* is not a word and 7 numbers")  # not read as binary garbage
    (tmp_path / "latin.txt").write_bytes(b"\n".join(lines[:1] + [b"caf\xe9" + lines[1][lines[1].index(b" "):]] + lines[2:]))
    error(tmp_path / "latin.txt", "word 1 of .*is not utf8: pass the file's encoding")
    with pytest.raises(UnicodeDecodeError):  # the type gensim raises, too
        Vectors.load(str(tmp_path / "latin.txt"))
    assert Vectors.load_word2vec_format(str(tmp_path / "latin.txt"), encoding="latin-1").index_to_key[0] == "café"
    assert Vectors.load_word2vec_format(str(tmp_path / "latin.txt"), unicode_errors="replace").index_to_key[0] == \
        "caf\ufffd"
    (tmp_path / "short.txt").write_bytes(b"\n".join(lines[:3]) + b"\n")
    error(tmp_path / "short.txt", "ends after 2 of")
    npy = tmp_path / "v.npy"
    vectors.save(str(npy))
    os.replace(tmp_path / "v.vocab.txt", tmp_path / "elsewhere.txt")
    error(npy, "no word list beside it \\(v.vocab.txt is missing\\)")
    (tmp_path / "v.vocab.txt").write_text("a\nb\n")
    error(npy, "for the 2 words of v.vocab.txt: they do not belong together")
    npy.write_bytes(b"not numpy at all")
    error(npy, "cannot read .*v.npy")


def test_an_npy_word_list_without_a_final_newline_loads(tmp_path, vectors):
    vectors.save(str(tmp_path / "v.npy"))
    (tmp_path / "v.vocab.txt").write_text("\n".join(vectors.index_to_key))
    assert Vectors.load(str(tmp_path / "v.npy")).index_to_key == vectors.index_to_key


def test_any_other_name_is_gensims_own_format(tmp_path, vectors):
    gensim = pytest.importorskip("gensim")
    vectors.save(str(tmp_path / "v.wordvectors"))
    kv = gensim.models.KeyedVectors.load(str(tmp_path / "v.wordvectors"))
    assert kv.index_to_key == vectors.index_to_key
    back = Vectors.load(str(tmp_path / "v.wordvectors"))
    np.testing.assert_array_equal(back.vectors, vectors.vectors)
    assert back.index_to_key == vectors.index_to_key
