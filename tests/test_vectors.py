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
    v = Vectors(
        ["king", "man", "woman", "queen", "apple"],
        np.array([[1, 1], [1, 0], [0, 1], [0.1, 2], [-1, -1]], dtype=np.float32),
    )
    assert v.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"


def test_unknown_word_is_a_clear_error(vectors):
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        vectors.most_similar("nope")
    assert "movie" in vectors and "nope" not in vectors


def test_a_missing_word_says_what_the_vocabulary_shows():
    """The vectors may come from fastw2v.train (lowercased tokens by default), Word2Vec (tokens as given) or a
    file: the message says nothing about a tokenizer, only what the vocabulary holds."""
    from fastw2v.errors import on_command_line

    v = Vectors(["king", "Paris"], np.eye(2, dtype=np.float32))
    with pytest.raises(KeyError, match="'King' is not in the vocabulary \\(2 words\\), but 'king' is"):
        v["King"]
    with pytest.raises(KeyError, match="check its spelling and case, or train with a lower min_count") as e:
        v["paris"]
    assert "tokenizer" not in str(e.value)
    with on_command_line(), pytest.raises(KeyError, match="with a lower --min-count"):
        v.most_similar("queen")
    with pytest.raises(KeyError, match="neither a word of the vocabulary nor a row number below 2"):
        v[5]


def test_failed_save_leaves_no_file(tmp_path, vectors):
    vectors.index_to_key[-1] = "bad\ud800"  # cannot be encoded: the write fails half-way
    for name in ("v.bin", "v.txt"):
        with pytest.raises(UnicodeEncodeError):
            vectors.save(str(tmp_path / name))
    assert os.listdir(tmp_path) == []


def test_bad_paths(tmp_path, vectors, monkeypatch):
    monkeypatch.setattr("fastw2v.vector_files._has_gensim", lambda: False)  # with gensim, any other name is its format
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
    (tmp_path / "latin.txt").write_bytes(
        b"\n".join(lines[:1] + [b"caf\xe9" + lines[1][lines[1].index(b" ") :]] + lines[2:])
    )
    error(tmp_path / "latin.txt", "word 1 of .*is not utf8: pass the file's encoding")
    with pytest.raises(UnicodeDecodeError):  # the type gensim raises, too
        Vectors.load(str(tmp_path / "latin.txt"))
    assert Vectors.load_word2vec_format(str(tmp_path / "latin.txt"), encoding="latin-1").index_to_key[0] == "café"
    assert (
        Vectors.load_word2vec_format(str(tmp_path / "latin.txt"), unicode_errors="replace").index_to_key[0]
        == "caf\ufffd"
    )
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


# -- gensim's word2vec-format arguments ------------------------------------------------------------------------


@pytest.fixture
def counted():
    rng = np.random.default_rng(1)
    words = ["the", "movie", "film", "good", "café", "rare"]
    return Vectors(words, rng.standard_normal((len(words), 4)).astype(np.float32), [50, 20, 30, 20, 5, 1])


def test_the_second_argument_is_the_vocabulary_file(tmp_path, counted):
    """gensim's order is (fname, fvocab, binary): fastw2v's second argument was ``binary``, so this call wrote
    binary vectors into vecs.txt and no vocabulary file."""
    vecs, vocab = str(tmp_path / "vecs.txt"), str(tmp_path / "vocab.txt")
    counted.save_word2vec_format(vecs, vocab)
    assert (tmp_path / "vecs.txt").read_text(encoding="utf-8").startswith("6 4\nthe ")  # text, most frequent first
    assert (tmp_path / "vocab.txt").read_text(
        encoding="utf-8"
    ) == "the 50\nfilm 30\nmovie 20\ngood 20\ncafé 5\nrare 1\n"
    with pytest.raises(fastw2v.UserError, match="fvocab=True: the second argument is the vocabulary file"):
        counted.save_word2vec_format(vecs, True)


@pytest.mark.parametrize("binary", [False, True])
def test_a_vocabulary_file_round_trips_through_gensim(tmp_path, counted, binary):
    gensim = pytest.importorskip("gensim")
    vecs, vocab = str(tmp_path / "v"), str(tmp_path / "vocab")
    counted.save_word2vec_format(vecs, vocab, binary=binary)
    kv = gensim.models.KeyedVectors.load_word2vec_format(vecs, vocab, binary=binary)
    assert kv.index_to_key == ["the", "film", "movie", "good", "café", "rare"]  # gensim's sort_attr='count' order
    assert [kv.get_vecattr(w, "count") for w in kv.index_to_key] == [50, 30, 20, 20, 5, 1]
    np.testing.assert_array_equal(kv["film"], counted["film"])
    ours = Vectors.load_word2vec_format(vecs, vocab, binary=binary)
    assert ours.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(ours.vectors, kv.vectors)
    np.testing.assert_array_equal(ours.counts, kv.expandos["count"])
    # gensim's own files: the same vocabulary file, byte for byte; their vectors load here
    kv.save_word2vec_format(str(tmp_path / "g"), str(tmp_path / "gvocab"), binary=binary)
    assert (tmp_path / "gvocab").read_bytes() == (tmp_path / "vocab").read_bytes()
    theirs = Vectors.load_word2vec_format(str(tmp_path / "g"), str(tmp_path / "gvocab"), binary=binary)
    np.testing.assert_array_equal(theirs.vectors, ours.vectors)
    np.testing.assert_array_equal(theirs.counts, ours.counts)


def test_without_a_vocabulary_file_counts_are_made_up_as_gensims(tmp_path, counted):
    gensim = pytest.importorskip("gensim")
    path = str(tmp_path / "v.txt")
    counted.save_word2vec_format(path)
    kv = gensim.models.KeyedVectors.load_word2vec_format(path)
    ours = Vectors.load_word2vec_format(path)
    assert ours.counts.tolist() == kv.expandos["count"].tolist() == [6, 5, 4, 3, 2, 1]
    (tmp_path / "vocab").write_text("the 7\nfilm 3\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="4 words of .* are not in .*: their count is 0"):
        assert Vectors.load_word2vec_format(path, str(tmp_path / "vocab")).counts.tolist() == [7, 3, 0, 0, 0, 0]
    (tmp_path / "bad").write_text("the 7 8\n", encoding="utf-8")
    with pytest.raises(fastw2v.UserError, match="line 1 of .* is not 'word count'"):
        Vectors.load_word2vec_format(path, str(tmp_path / "bad"))


def test_save_options_as_gensims(tmp_path, counted):
    gensim = pytest.importorskip("gensim")
    kv = counted.to_gensim()
    for name, kw in [
        ("noheader", dict(write_header=False)),
        ("prefix", dict(prefix="p_")),
        ("total", dict(total_vec=9)),
        ("rows", dict(sort_attr=None)),
    ]:
        ours, theirs = str(tmp_path / f"{name}.ours"), str(tmp_path / f"{name}.theirs")
        counted.save_word2vec_format(ours, **kw)
        kv.save_word2vec_format(theirs, **kw)
        a = (tmp_path / f"{name}.ours").read_text().splitlines()
        b = (tmp_path / f"{name}.theirs").read_text().splitlines()
        assert len(a) == len(b) and [x.split()[0] for x in a] == [x.split()[0] for x in b]  # header and words
    loaded = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / "noheader.ours"), no_header=True)
    assert loaded.index_to_key == ["the", "film", "movie", "good", "café", "rare"]
    ours = Vectors.load_word2vec_format(str(tmp_path / "noheader.ours"), no_header=True)
    np.testing.assert_array_equal(ours.vectors, loaded.vectors)
    assert Vectors.load_word2vec_format(str(tmp_path / "noheader.ours"), no_header=True, limit=2).index_to_key == [
        "the",
        "film",
    ]
    assert (tmp_path / "rows.ours").read_text().splitlines()[1].startswith("the ")
    assert [line.split()[0] for line in (tmp_path / "rows.ours").read_text().splitlines()[1:]] == counted.index_to_key


def test_append_adds_to_both_files(tmp_path, counted):
    vecs, vocab = str(tmp_path / "v.txt"), str(tmp_path / "vocab.txt")
    counted.save_word2vec_format(vecs, vocab, total_vec=12)
    counted.save_word2vec_format(vecs, vocab, write_header=False, prefix="b_", append=True)
    lines = (tmp_path / "v.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "12 4" and len(lines) == 13 and lines[7].startswith("b_the ")
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines()[6:8] == ["b_the 50", "b_film 30"]
    back = Vectors.load_word2vec_format(vecs, vocab)
    assert len(back) == 12 and back.get_vecattr("b_rare", "count") == 1
    np.testing.assert_array_equal(back["b_good"], counted["good"])


def test_save_without_counts_keeps_row_order_and_refuses_a_vocabulary_file(tmp_path, vectors):
    vectors.save_word2vec_format(str(tmp_path / "v.txt"))
    assert Vectors.load(str(tmp_path / "v.txt")).index_to_key == vectors.index_to_key
    with pytest.raises(fastw2v.UserError, match="no 'count' attribute: set the counts first"):
        vectors.save_word2vec_format(str(tmp_path / "v.txt"), str(tmp_path / "vocab.txt"))
    assert not (tmp_path / "vocab.txt").exists()


def test_save_keeps_the_row_order(tmp_path, counted):
    """``save`` (by the extension) writes the rows as they are, whatever the counts: an exact round trip."""
    for name in ("v.txt", "v.bin"):
        counted.save(str(tmp_path / name))
        back = Vectors.load(str(tmp_path / name))
        assert back.index_to_key == counted.index_to_key
        np.testing.assert_array_equal(back.vectors, counted.vectors)


def test_load_limit_datatype_and_duplicates_as_gensims(tmp_path, counted):
    gensim = pytest.importorskip("gensim")
    path = str(tmp_path / "v.bin")
    counted.save(path)
    for kw in [dict(limit=3), dict(datatype=np.float16), dict(datatype=np.float64, limit=4)]:
        ours = Vectors.load_word2vec_format(path, binary=True, **kw)
        kv = gensim.models.KeyedVectors.load_word2vec_format(path, binary=True, **kw)
        assert ours.index_to_key == kv.index_to_key
        assert ours.vectors.dtype == kv.vectors.dtype
        np.testing.assert_array_equal(ours.vectors, kv.vectors)
        same = [w for w, _ in ours.most_similar("the", topn=2)]
        assert same == [w for w, _ in kv.most_similar("the", topn=2)]
    with pytest.raises(fastw2v.UserError, match="datatype=<class 'numpy.int32'>: pass a numpy float type"):
        Vectors.load_word2vec_format(path, datatype=np.int32)
    text = tmp_path / "dup.txt"
    text.write_text("3 2\na 1 2\nb 3 4\na 5 6\n")
    with pytest.warns(UserWarning, match="holds 1 words twice: the first vector of each is kept"):
        dup = Vectors.load_word2vec_format(str(text))
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(text))
    # gensim's keeps an empty row, with the key None, for the vector it dropped
    assert dup.index_to_key == kv.index_to_key[:2] == ["a", "b"] and kv.index_to_key[2] is None
    np.testing.assert_array_equal(dup.vectors, kv.vectors[:2])


def test_the_wrong_binary_flag_is_a_clear_error(tmp_path, counted):
    counted.save(str(tmp_path / "v.txt"))
    counted.save(str(tmp_path / "v.bin"))
    with pytest.raises(fastw2v.UserError, match="holds text after its first word.*pass binary=False"):
        Vectors.load_word2vec_format(str(tmp_path / "v.txt"), binary=True)
    with pytest.raises(fastw2v.UserError, match="line 2 of .*it looks binary: pass binary=True"):
        Vectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=False)
    with pytest.raises(fastw2v.UserError, match="no_header works with the text format only"):
        Vectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True, no_header=True)
