"""fastw2v.Word2Vec: gensim's scripts run with only the import changed; the build_vocab/train split, continued
training, update=True, save/load, callbacks and the loss behave as gensim's; the errors are one line."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastw2v
from fastw2v import Word2Vec

from .conftest import planted_texts
from .test_train import group_precision

gensim = pytest.importorskip("gensim")

# gensim 4's documented Word2Vec usage (its docstring and "Word2Vec Model" tutorial), as a user would run it:
# the only change is the import of Word2Vec.
GENSIM_SCRIPT = """
import os, sys
from gensim.test.utils import common_texts
from gensim.models import KeyedVectors
from gensim.models.callbacks import CallbackAny2Vec
from gensim.models.word2vec import LineSentence
{import_line}
os.chdir(sys.argv[1])

model = Word2Vec(sentences=common_texts, vector_size=100, window=5, min_count=1, workers=4)
assert model.sg == 0 and model.cbow_mean == 1  # gensim's default model: CBOW, the mean of the window
model.save("word2vec.model")
model = Word2Vec.load("word2vec.model")
model.train([["hello", "world"]], total_examples=1, epochs=1)
vector = model.wv['computer']
sims = model.wv.most_similar('computer', topn=10)
assert len(sims) == 10 and vector.shape == (100,)

word_vectors = model.wv
word_vectors.save("word2vec.wordvectors")
wv = KeyedVectors.load("word2vec.wordvectors", mmap='r')
assert wv['computer'].shape == (100,)
model.wv.save_word2vec_format("vectors.txt")
kv = KeyedVectors.load_word2vec_format("vectors.txt", binary=False)
model.wv.save_word2vec_format("vectors.bin", binary=True)
kv = KeyedVectors.load_word2vec_format("vectors.bin", binary=True)
assert set(kv.index_to_key) == set(model.wv.index_to_key)

more_sentences = [["human", "interface", "computer", "brand_new"], ["brand_new", "graph", "minors"]] * 10
model.build_vocab(more_sentences, update=True)
model.train(more_sentences, total_examples=model.corpus_count, epochs=model.epochs)
assert "brand_new" in model.wv.key_to_index

class EpochLogger(CallbackAny2Vec):
    def __init__(self):
        self.epoch = 0
        self.losses = []
    def on_epoch_begin(self, model):
        print(f"epoch {{self.epoch}} begins")
    def on_epoch_end(self, model):
        self.losses.append(model.get_latest_training_loss())
        self.epoch += 1

logger = EpochLogger()
model = Word2Vec(common_texts, vector_size=10, min_count=1, epochs=3, compute_loss=True, callbacks=[logger])
assert logger.epoch == 3 and logger.losses[-1] > 0, logger.losses

with open("corpus.txt", "w") as f:
    f.write("\\n".join(" ".join(s) for s in common_texts * 20) + "\\n")
model = Word2Vec(sentences=LineSentence("corpus.txt"), vector_size=20, min_count=1, epochs=2)
model = Word2Vec(corpus_file="corpus.txt", vector_size=20, min_count=1, epochs=2)
model = Word2Vec(vector_size=20, min_count=1)
model.build_vocab(corpus_file="corpus.txt")
model.train(corpus_file="corpus.txt", total_words=model.corpus_total_words, epochs=1)
print("words", len(model.wv), model.wv.doesnt_match("human computer interface tree".split()))
print(model.wv.most_similar(positive=["human", "graph"], negative=["system"], topn=1))
print(model.wv.most_similar_cosmul(positive=["human", "graph"], negative=["system"]))
print(model.wv.similarity("human", "computer"), model.wv.n_similarity(["human"], ["computer", "system"]))
"""


@pytest.mark.parametrize("import_line", ["from gensim.models import Word2Vec", "from fastw2v import Word2Vec"])
def test_gensims_documented_usage_runs_with_only_the_import_changed(tmp_path, import_line):
    script = tmp_path / "script.py"
    script.write_text(GENSIM_SCRIPT.format(import_line=import_line))
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TQDM_DISABLE="1"),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "epoch 2 begins" in run.stdout and "words 12" in run.stdout


def test_tokens_are_used_as_given():
    sentences = [["New_York", "is", "big"], ["new_york", "IS", "Café"], ["New_York", "Café", "x y"]] * 5
    model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=1)
    assert set(model.wv.index_to_key) == {"New_York", "new_york", "is", "IS", "big", "Café", "x y"}
    assert model.wv.get_vecattr("New_York", "count") == 10
    assert model.corpus_count == 15 and model.corpus_total_words == 45
    with pytest.raises(KeyError, match="'CAFÉ' is not in the vocabulary .*: check its spelling and case") as e:
        model.wv["CAFÉ"]  # the tokens are as given: no tokenizer lowercased them
    assert "tokenizer" not in str(e.value) and "lowercase" not in str(e.value)
    with pytest.raises(KeyError, match="'Big' is not in the vocabulary .*, but 'big' is"):
        model.wv.most_similar("Big")


@pytest.mark.parametrize("sg", [0, 1])
def test_planted_groups_are_learnt_as_gensim_learns_them(sg):
    """The same token lists through both, CBOW and skip-gram: both find each word's group (the quality check on
    real text, IMDB at 5 epochs, is benchmarks/gensim_api.py)."""
    sentences = [t.split() for t in planted_texts()]
    ours = Word2Vec(sentences, sg=sg, vector_size=16, window=3, min_count=1, epochs=5, seed=3, workers=1)
    theirs = gensim.models.Word2Vec(
        sentences, sg=sg, vector_size=16, window=3, min_count=1, epochs=5, seed=3, workers=1
    )
    assert group_precision(ours.wv) >= 0.9
    assert group_precision(ours.wv) >= group_precision(theirs.wv) - 0.05


def test_build_vocab_then_train_equals_the_one_call():
    sentences = [t.split() for t in planted_texts(n_docs=100)]
    one = Word2Vec(sentences, vector_size=8, min_count=1, epochs=2, workers=1)
    two = Word2Vec(vector_size=8, min_count=1, epochs=2, workers=1)
    two.build_vocab(sentences)
    two.train(sentences, total_examples=two.corpus_count, epochs=two.epochs)
    assert one.wv.index_to_key == two.wv.index_to_key
    np.testing.assert_array_equal(one.wv.vectors, two.wv.vectors)
    np.testing.assert_array_equal(one.syn1neg, two.syn1neg)


def test_save_load_and_continue_equals_training_on(tmp_path):
    """Saved after one call and loaded, a second call gives what the second call gives without the round trip."""
    sentences = [t.split() for t in planted_texts(n_docs=100)]
    a = Word2Vec(sentences, vector_size=8, min_count=1, epochs=1, workers=1)
    a.save(tmp_path / "m.model")
    b = Word2Vec.load(tmp_path / "m.model")
    assert b.wv.index_to_key == a.wv.index_to_key and b.train_count == 1
    np.testing.assert_array_equal(b.wv.vectors, a.wv.vectors)
    for m in (a, b):
        m.train(sentences, total_examples=len(sentences), epochs=1, start_alpha=0.01, end_alpha=0.001)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.syn1neg, b.syn1neg)
    assert a.train_count == 2 and a.get_latest_training_loss() > 0


def test_a_model_saved_before_cbow_loads_as_skip_gram(tmp_path):
    """Files written before sg was saved hold skip-gram models: loaded, they stay skip-gram (not the new default)."""
    import json

    sentences = [t.split() for t in planted_texts(n_docs=50)]
    Word2Vec(sentences, sg=1, vector_size=8, min_count=1, epochs=1, workers=1).save(tmp_path / "new.model")
    with np.load(tmp_path / "new.model") as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays["meta"].tobytes())
    assert meta["settings"]["sg"] == 1
    del meta["settings"]["sg"], meta["settings"]["cbow_mean"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(tmp_path / "old.model", "wb") as f:
        np.savez(f, **arrays)
    assert Word2Vec.load(tmp_path / "old.model").sg == 1
    assert Word2Vec.load(tmp_path / "new.model").sg == 1


def test_update_adds_rows_for_new_words_and_keeps_the_others():
    sentences = [t.split() for t in planted_texts(n_docs=100)]
    model = Word2Vec(sentences, vector_size=8, min_count=2, epochs=1, workers=1)
    before = {w: model.wv[w].copy() for w in model.wv.index_to_key}
    count = model.wv.get_vecattr("g0w1", "count")
    new = [["g0w1", "novel", "words", "novel"], ["words", "novel"], ["rare"]]
    model.build_vocab(new, update=True)
    assert model.wv.index_to_key[: len(before)] == list(before)  # old ids kept
    assert model.wv.index_to_key[len(before) :] == ["novel", "words"]  # rare: under min_count
    assert model.wv.get_vecattr("g0w1", "count") == count + 1
    assert all(np.array_equal(model.wv[w], v) for w, v in before.items())  # untouched until trained
    assert np.abs(model.wv["novel"]).max() > 0 and model.syn1neg.shape == model.wv.vectors.shape
    model.train(new, total_examples=3, epochs=1)


def test_one_line_errors():
    with pytest.raises(fastw2v.UserError, match="sg must be 0 or 1, got 2"):
        Word2Vec(sg=2)
    with pytest.raises(fastw2v.UserError, match="one-shot iterator .*LineSentence"):
        Word2Vec((s for s in [["a", "b"]]), min_count=1)
    with pytest.raises(fastw2v.UserError, match="train\\(\\) needs a vocabulary: call build_vocab"):
        Word2Vec().train([["a", "b"]], total_examples=1, epochs=1)
    with pytest.raises(fastw2v.UserError, match="update=True\\) extends a vocabulary"):
        Word2Vec().build_vocab([["a", "b"]], update=True)
    with pytest.raises(fastw2v.UserError, match="unknown setting"):
        Word2Vec(vector_sizes=10)


def test_a_gensim_pickle_without_gensim_is_a_one_line_error(tmp_path, monkeypatch):
    gensim.models.Word2Vec([["a", "b"]], min_count=1, vector_size=4).save(str(tmp_path / "g.model"))
    monkeypatch.setitem(sys.modules, "gensim.models", None)  # import gensim.models: ImportError
    with pytest.raises(
        fastw2v.UserError,
        match="not a model saved by fastw2v.Word2Vec.save: a gensim model loads when gensim is installed",
    ) as e:
        Word2Vec.load(tmp_path / "g.model")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("sg", [0, 1])
def test_the_torch_backend_trains_on_from_the_model_matrices(sg):
    """Continued training on the torch backend starts from the model's rows (not a fresh initialisation)."""
    sentences = [t.split() for t in planted_texts()]
    model = Word2Vec(
        sentences,
        sg=sg,
        vector_size=16,
        window=3,
        min_count=1,
        epochs=5,
        seed=3,
        backend="torch",
        device="cpu",
        batch_size=1024,
    )
    first = model.wv.vectors.copy()
    model.train(sentences, total_examples=len(sentences), epochs=1, start_alpha=1e-9, end_alpha=1e-9)
    np.testing.assert_allclose(model.wv.vectors, first, atol=1e-5)  # a step of ~0 keeps them
    assert group_precision(model.wv) >= 0.9


def gensim_twin(model):
    """A gensim Word2Vec with the vocabulary, counts, vectors and output rows of ``model`` (same row order)."""
    counts = {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}
    twin = gensim.models.Word2Vec(vector_size=model.vector_size, min_count=1, sg=1, negative=5)
    twin.build_vocab_from_freq(counts)
    rows = [model.wv.key_to_index[w] for w in twin.wv.index_to_key]  # gensim orders ties otherwise
    twin.wv.vectors[:] = model.wv.vectors[rows]
    twin.syn1neg[:] = model.syn1neg[rows]
    return twin


def test_predict_output_word_equals_gensims():
    sentences = [t.split() for t in planted_texts(n_docs=200)]
    model = Word2Vec(sentences, vector_size=16, window=3, min_count=1, epochs=3, seed=3, workers=1)
    assert np.abs(model.syn1neg).max() > 0.1  # the trained output rows, not their zero initialisation
    twin = gensim_twin(model)
    ours_row = model.wv.key_to_index
    for context, topn in [
        (["g0w1", "g0w2"], 10),
        (["g1w3"], 5),
        (["the", "g2w0", "unknown"], 3),
        (["g3w1", "g3w1", "g3w2", "a"], None),
        (["g0w1"], 0),
    ]:
        expected = twin.predict_output_word(context, topn=topn)
        got = model.predict_output_word(context, topn=topn)
        assert [w for w, _ in got] == [w for w, _ in expected]
        np.testing.assert_allclose([p for _, p in got], [p for _, p in expected], rtol=1e-5, atol=1e-9)
    # row numbers stand for words, as in gensim
    got = model.predict_output_word([ours_row["g1w2"], "g1w4", len(model.wv) + 5], topn=4)
    expected = twin.predict_output_word([twin.wv.key_to_index["g1w2"], "g1w4", len(model.wv) + 5], topn=4)
    assert [w for w, _ in got] == [w for w, _ in expected]
    assert model.predict_output_word(["unknown", "words"]) is None is twin.predict_output_word(["unknown", "words"])
    with pytest.raises(fastw2v.UserError, match="is the string 'g0w1': pass a list of words, e.g. \\['g0w1'\\]"):
        model.predict_output_word("g0w1")
    with pytest.raises(fastw2v.UserError, match="predict_output_word needs a trained model"):
        Word2Vec().predict_output_word(["a"])


def gensim_vocab(model):
    return [(w, model.wv.get_vecattr(w, "count")) for w in model.wv.index_to_key]


@pytest.mark.parametrize(
    "settings, kw",
    [
        ({"min_count": 1}, {}),
        ({"min_count": 3}, {"corpus_count": 42, "keep_raw_vocab": True}),
        ({"min_count": 3}, {"trim_rule": lambda w, c, m: 2 if w == "rare" else (1 if w == "drop" else 0)}),
        ({"min_count": 1, "max_final_vocab": 4}, {}),
    ],
)
def test_build_vocab_from_freq_equals_gensims(settings, kw):
    # distinct counts: gensim orders ties by insertion, fastw2v by the word
    freq = {"drop": 50, "rare": 1, "b": 7, "a": 9, "c": 30, "d": 2, "e": 12, "f": 3}
    ours = Word2Vec(vector_size=8, **settings)
    ours.build_vocab_from_freq(freq, **kw)
    theirs = gensim.models.Word2Vec(vector_size=8, sg=1, **settings)
    theirs.build_vocab_from_freq(freq, **kw)
    assert gensim_vocab(ours) == gensim_vocab(theirs)
    assert ours.wv.vectors.shape == ours.syn1neg.shape == theirs.wv.vectors.shape
    assert ours.corpus_count == theirs.corpus_count
    assert (getattr(ours, "raw_vocab", None) == freq) == bool(kw.get("keep_raw_vocab"))
    # update: the current words keep their rows and add their counts, the new ones (by count) come after
    more = {"g": 40, "a": 5, "h": 20, "rare": 1}
    before = ours.wv.vectors.copy()
    ours.build_vocab_from_freq(more, update=True)
    theirs.build_vocab_from_freq(more, update=True)
    assert gensim_vocab(ours) == gensim_vocab(theirs)
    np.testing.assert_array_equal(ours.wv.vectors[: len(before)], before)
    assert ours.wv.vectors.shape == ours.syn1neg.shape == (len(theirs.wv), 8)


def test_build_vocab_from_freq_then_train_equals_build_vocab():
    """The counts of a corpus give the vocabulary, and then the training, that the corpus itself gives."""
    sentences = [t.split() for t in planted_texts(n_docs=100)]
    counts = {}
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    one = Word2Vec(sentences, vector_size=8, min_count=1, epochs=2, workers=1)
    two = Word2Vec(vector_size=8, min_count=1, epochs=2, workers=1)
    two.build_vocab([[w] for w in counts])  # a vocabulary built from other text is replaced
    two.build_vocab_from_freq(counts, corpus_count=len(sentences))
    assert two.wv.index_to_key == one.wv.index_to_key and two.corpus_count == len(sentences)
    two.train(corpus_iterable=sentences, total_examples=two.corpus_count, epochs=two.epochs)
    np.testing.assert_array_equal(one.wv.vectors, two.wv.vectors)
    np.testing.assert_array_equal(one.syn1neg, two.syn1neg)
    # words of the corpus outside the vocabulary are skipped
    three = Word2Vec(vector_size=8, min_count=1, epochs=2, workers=1)
    three.build_vocab_from_freq({w: c for w, c in counts.items() if not w.startswith("g3")})
    start = three.wv.vectors.copy()
    three.train(sentences, total_examples=len(sentences), epochs=2)
    assert "g3w0" not in three.wv and not np.array_equal(three.wv.vectors, start)


def test_build_vocab_from_freq_errors():
    with pytest.raises(fastw2v.UserError, match="word_freq is a list: pass a dict of word -> count"):
        Word2Vec().build_vocab_from_freq(["a", "b"])
    with pytest.raises(fastw2v.UserError, match="word_freq maps 'a' to '3': pass words \\(str\\) and counts"):
        Word2Vec().build_vocab_from_freq({"a": "3"})
    with pytest.raises(
        fastw2v.UserError,
        match="no word of word_freq has a count of at least min_count=5 \\(the largest is 4\\): lower min_count",
    ):
        Word2Vec().build_vocab_from_freq({"a": 4, "b": 1})
    with pytest.raises(fastw2v.UserError, match="build_vocab_from_freq\\(update=True\\) extends a vocabulary"):
        Word2Vec().build_vocab_from_freq({"a": 4}, update=True)
    with pytest.raises(ValueError) as e:  # gensim's type (test_train_hs_and_neg); the message is Config's
        Word2Vec(hs=0, negative=0)
    assert isinstance(e.value, fastw2v.UserError) and "\n" not in str(e.value)


def test_fresh_rows_start_as_gensims_do():
    """gensim's initialisation: input rows uniform in [-1/d, 1/d) (twice word2vec.c's range), output rows zero;
    compared with gensim's own on the same vocabulary by their spread, not their values (another generator)."""
    sentences = [t.split() for t in planted_texts(n_docs=200)]
    ours = Word2Vec(vector_size=50, min_count=1)
    ours.build_vocab(sentences)
    theirs = gensim.models.Word2Vec(vector_size=50, min_count=1)
    theirs.build_vocab(sentences)
    for m in (ours, theirs):
        v = m.wv.vectors
        assert -1 / 50 <= v.min() < -0.9 / 50 and 0.9 / 50 < v.max() < 1 / 50
        assert abs(float(v.std()) - (1 / 50) / np.sqrt(3)) < 0.02 / 50 and not m.syn1neg.any()


def common_texts():
    """gensim's own test corpus: 9 sentences, 29 tokens, 12 words."""
    from gensim.test.utils import common_texts

    return [list(s) for s in common_texts]


def test_min_count_0_keeps_every_word_as_gensim():
    sentences = common_texts() + [["once"]]
    ours = Word2Vec(vector_size=8, min_count=0)
    ours.build_vocab(sentences)
    theirs = gensim.models.Word2Vec(vector_size=8, min_count=0)
    theirs.build_vocab(sentences)
    assert dict(gensim_vocab(ours)) == dict(gensim_vocab(theirs)) and len(ours.wv) == 13
    assert ours.wv.get_vecattr("once", "count") == 1


@pytest.mark.parametrize("name", ["gensim_word2vec.tst", "text8", "corpus", "c.txt.bz2"])
def test_a_corpus_file_of_any_name_is_read_as_gensim_reads_it(tmp_path, name):
    """corpus_file is gensim's: space-separated tokens, one sentence a line, whatever the file's name (compressed
    by its extension)."""
    import bz2

    text = "\n".join(" ".join(s) for s in common_texts()) + "\n"
    path = tmp_path / name
    path.write_bytes(bz2.compress(text.encode()) if name.endswith(".bz2") else text.encode())
    ours = Word2Vec(corpus_file=str(path), vector_size=8, min_count=1, epochs=1)
    plain = tmp_path / "plain.tst"
    plain.write_text(text)
    theirs = gensim.models.Word2Vec(vector_size=8, min_count=1)
    theirs.build_vocab(corpus_file=str(plain))
    assert dict(gensim_vocab(ours)) == dict(gensim_vocab(theirs))
    assert (ours.corpus_count, ours.corpus_total_words) == (9, 29) == (theirs.corpus_count, theirs.corpus_total_words)


def test_a_missing_corpus_file_is_a_one_line_error(tmp_path):
    with pytest.raises(TypeError, match="no such file .*nope.tst'?: check the path given as corpus_file") as e:
        Word2Vec(corpus_file=str(tmp_path / "nope.tst"))
    assert isinstance(e.value, fastw2v.UserError) and "--data" not in str(e.value)
    with pytest.raises(fastw2v.UserError, match="is a folder: pass one text file"):
        Word2Vec(corpus_file=tmp_path)


@pytest.mark.parametrize(
    "sentences, expected",
    [
        # gensim's test_prune_vocab: the table is looked at after each sentence; the first pruning drops nothing
        ([["graph", "system"], ["graph", "system"], ["system", "eps"], ["graph", "system"]], {"system": 4, "graph": 3}),
        (
            [
                ["graph", "system"],
                ["graph", "system"],
                ["system", "eps"],
                ["graph", "system"],
                ["minors", "survey", "minors", "survey", "minors"],
            ],
            {"system": 4, "graph": 3, "minors": 3},
        ),
    ],
)
def test_max_vocab_size_prunes_as_gensim(sentences, expected):
    ours = Word2Vec(vector_size=8, min_count=0, max_vocab_size=2)
    ours.build_vocab(sentences)
    assert dict(gensim_vocab(ours)) == expected
    theirs = gensim.models.Word2Vec(vector_size=8, min_count=0, max_vocab_size=2)
    theirs.build_vocab(sentences)
    assert dict(gensim_vocab(theirs)) == expected


@pytest.mark.parametrize("seed", range(4))
def test_max_vocab_size_keeps_gensims_words_on_random_text(seed):
    """Zipf-like random sentences, a table far smaller than the vocabulary: the words kept are gensim's; their
    counts are the whole text's (gensim's restart at 1 when a pruned word comes back)."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)]
    p = 1 / np.arange(1, 61)
    sentences = [list(rng.choice(words, size=rng.integers(0, 9), p=p / p.sum())) for _ in range(300)]
    true = {}
    for s in sentences:
        for w in s:
            true[w] = true.get(w, 0) + 1

    def rule(word, count, min_count):  # gensim applies it at each pruning too
        return 2 if word in ("w40", "w41") else 1 if word == "w0" else 0

    for limit, min_count, trim_rule in [(10, 1, None), (25, 2, None), (10, 1, rule)]:
        ours = Word2Vec(vector_size=8, min_count=min_count, max_vocab_size=limit)
        ours.build_vocab(sentences, trim_rule=trim_rule)
        theirs = gensim.models.Word2Vec(vector_size=8, min_count=min_count, max_vocab_size=limit)
        theirs.build_vocab(sentences, trim_rule=trim_rule)
        assert set(ours.wv.index_to_key) == set(theirs.wv.index_to_key)
        assert all(c == true[w] for w, c in gensim_vocab(ours))
        assert ours.scan_vocab(sentences, trim_rule=trim_rule) == theirs.scan_vocab(sentences, trim_rule=trim_rule)
        assert set(ours.raw_vocab) == set(theirs.raw_vocab)
        if trim_rule is not None:
            assert "w0" not in ours.wv and {"w40", "w41"} <= set(ours.raw_vocab) & set(true)


@pytest.mark.parametrize(
    "sentences, what",
    [
        ([["a", "b"], None], "sentence 1 is None: pass each sentence as a list of str tokens"),
        ([["a", "b"], (w for w in "ab")], "sentence 1 is a one-shot iterator \\(generator\\)"),
        ([["a", "b"], 7], "sentence 1 is a int, not a list of tokens"),
        ((s for s in [["a", "b"]]), "sentences is a one-shot iterator \\(generator\\)"),
    ],
)
def test_a_sentence_of_the_wrong_kind_is_a_one_line_type_error(sentences, what):
    """gensim's type (TypeError: test_sentences_should_not_be_a_generator), never a raw len(None)."""
    with pytest.raises(TypeError, match=what) as e:
        Word2Vec(sentences, min_count=1)
    assert isinstance(e.value, fastw2v.UserError) and "\n" not in str(e.value)


def test_a_str_sentence_is_read_as_its_characters_with_gensims_warning(caplog):
    sentences = ["human", "machine"]
    ours = Word2Vec(vector_size=8, min_count=1)
    with caplog.at_level("WARNING"):
        ours.build_vocab(sentences)
    assert "Each 'sentences' item should be a list of words (usually unicode strings)." in caplog.text
    theirs = gensim.models.Word2Vec(vector_size=8, min_count=1)
    theirs.build_vocab(sentences)
    assert dict(gensim_vocab(ours)) == dict(gensim_vocab(theirs)) and ours.wv.get_vecattr("h", "count") == 2


@pytest.mark.parametrize(
    "settings, prepare",
    [
        ({"min_count": 4, "max_final_vocab": 4, "sample": 0}, {}),
        ({"min_count": 2, "max_final_vocab": 4, "sample": 0}, {}),
        ({"min_count": 1}, {}),
        ({"min_count": 1, "sample": 0.05}, {"dry_run": True}),
        ({"min_count": 5}, {"min_count": 3, "sample": 2}),
    ],
)
def test_scan_vocab_prepare_vocab_and_prepare_weights_equal_gensims(settings, prepare):
    sentences = common_texts()
    ours = Word2Vec(vector_size=8, **settings)
    theirs = gensim.models.Word2Vec(vector_size=8, **settings)
    assert ours.scan_vocab(sentences) == theirs.scan_vocab(sentences) == (29, 9)
    assert ours.raw_vocab == dict(theirs.raw_vocab)
    report = ours.prepare_vocab(**prepare)
    assert report == theirs.prepare_vocab(**prepare)
    assert ours.effective_min_count == theirs.effective_min_count
    if prepare.get("dry_run"):
        assert ours.wv is None and ours.raw_vocab == dict(theirs.raw_vocab)
        return
    theirs.prepare_weights()
    ours.prepare_weights()
    assert sorted(gensim_vocab(ours)) == sorted(gensim_vocab(theirs))
    assert ours.wv.vectors.shape == ours.syn1neg.shape == theirs.wv.vectors.shape and not ours.syn1neg.any()
    assert ours.raw_vocab == {} and ours.min_count == theirs.min_count
    ours.train(sentences, total_examples=9, epochs=1)


def test_reset_from_takes_the_other_vocabulary_and_fresh_rows():
    sentences, other_sentences = common_texts(), [["computer", "artificial", "intelligence"], ["artificial", "trees"]]
    model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=1)
    other = Word2Vec(other_sentences, vector_size=8, min_count=1, epochs=1)
    model.reset_from(other)
    assert model.wv.key_to_index == other.wv.key_to_index and model.corpus_count == 2
    assert gensim_vocab(model) == gensim_vocab(other) and not model.syn1neg.any()
    model.train(other_sentences, total_examples=2, epochs=1)  # trains on the other corpus's words
    theirs = gensim.models.Word2Vec(sentences, vector_size=8, min_count=1, epochs=1)
    model.reset_from(theirs)  # a gensim model's vocabulary too
    assert model.wv.index_to_key == theirs.wv.index_to_key and gensim_vocab(model) == gensim_vocab(theirs)


def test_save_takes_gensims_options_and_load_takes_mmap(tmp_path):
    model = Word2Vec(common_texts(), vector_size=8, min_count=1, epochs=1)
    model.save(str(tmp_path / "m"), sep_limit=0, ignore=["cum_table"], pickle_protocol=2, separately=[])
    for mmap in (None, "r"):
        loaded = Word2Vec.load(str(tmp_path / "m"), mmap=mmap)
        np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
        np.testing.assert_array_equal(loaded.syn1neg, model.syn1neg)
        np.testing.assert_array_equal(loaded.cum_table, model.cum_table)
    with open(tmp_path / "h", "wb") as f:  # gensim's fname_or_handle
        model.save(f)
    assert Word2Vec.load(tmp_path / "h").wv.index_to_key == model.wv.index_to_key


def test_cum_table_and_estimate_memory_equal_gensims():
    sentences = common_texts()
    for settings in (
        {"negative": 5},
        {"negative": 3, "ns_exponent": 0.5},
        {"hs": 1, "negative": 0},
        {"hs": 1, "negative": 5},
    ):
        ours = Word2Vec(vector_size=12, min_count=2, **settings)
        ours.build_vocab(sentences)
        theirs = gensim.models.Word2Vec(vector_size=12, min_count=2, **settings)
        theirs.build_vocab(sentences)
        rows = [theirs.wv.key_to_index[w] for w in ours.wv.index_to_key]
        if ours.negative:
            # the table's increments are gensim's per word (the rows are ordered otherwise on ties)
            np.testing.assert_allclose(
                np.diff(ours.cum_table, prepend=0), np.diff(theirs.cum_table.astype(np.int64), prepend=0)[rows], atol=1
            )
        else:
            assert ours.cum_table is None
        ours_report, theirs_report = ours.estimate_memory(), theirs.estimate_memory()
        assert set(ours_report) == set(theirs_report)
        assert all(ours_report[k] == theirs_report[k] for k in ("vectors", "syn1", "syn1neg") if k in ours_report)
        assert ours.estimate_memory(vocab_size=1000)["vectors"] == 1000 * 12 * 4


def test_load_on_an_instance_is_gensims_attribute_error(tmp_path):
    Word2Vec(common_texts(), vector_size=8, min_count=1, epochs=1).save(tmp_path / "m")
    with pytest.raises(
        AttributeError, match="load is called on the class, not on a model: model = Word2Vec.load\\(path\\)"
    ):
        Word2Vec().load(tmp_path / "m")
    assert Word2Vec.load(tmp_path / "m").wv is not None


def test_gensims_exception_types_where_its_tests_pin_them(tmp_path):
    sentences = common_texts()
    # as gensim's: build_vocab keeps no word (with a warning), train() is the error
    for corpus, min_count in (([], 5), (sentences, 30)):
        with pytest.raises(
            RuntimeError,
            match=f"build_vocab kept no word of its corpus \\(empty, or every word "
            f"under min_count={min_count}\\): lower min_count",
        ):
            Word2Vec(corpus, min_count=min_count)
    empty = Word2Vec(min_count=30)
    empty.build_vocab(sentences)
    assert len(empty.wv) == 0 and empty.corpus_count == 9
    empty.scan_vocab(sentences)
    assert empty.prepare_vocab()["num_retained_words"] == 0 and len(empty.wv) == 0
    with pytest.raises(RuntimeError, match="build_vocab kept no word of its corpus"):
        empty.train(sentences, total_examples=9, epochs=1)
    model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=1)
    with pytest.raises(ValueError, match="needs total_examples or total_words"):
        model.train(sentences, epochs=1)
    with pytest.raises(ValueError, match="needs an explicit epochs >= 1, got None"):
        model.train(sentences, total_examples=9)
    no_negatives = Word2Vec(vector_size=8, min_count=1, hs=1, negative=0)
    no_negatives.build_vocab(sentences)
    with pytest.raises(RuntimeError, match="this model has negative=0"):
        no_negatives.predict_output_word(["system", "human"])
    # gensim's KeyedVectors in place of the model's vectors: no output rows, a one-line error (not 'counts')
    model.wv.save_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    fresh = Word2Vec()
    fresh.wv = kv
    with pytest.raises(RuntimeError, match="predict_output_word needs a trained model"):
        fresh.predict_output_word(["system", "human"])
    model.wv = kv
    for call in (
        lambda: model.predict_output_word(["system"]),
        lambda: model.train(sentences, total_examples=9, epochs=1),
        lambda: model.build_vocab(sentences, update=True),
    ):
        with pytest.raises(RuntimeError, match="model.wv is a KeyedVectors of other vectors, not this model's own"):
            call()


def test_train_warns_as_gensim_when_alpha_rises(caplog):
    sentences = [["human"], ["graph", "trees"]]
    model = Word2Vec(min_count=1, vector_size=8)
    model.build_vocab(sentences)
    with caplog.at_level("WARNING"):
        model.train(sentences, total_examples=2, epochs=1)
    assert "Effective 'alpha' higher" not in caplog.text  # the first call starts where alpha is
    assert model.min_alpha_yet_reached == model.min_alpha
    model.alpha = model.min_alpha = 0.01
    with caplog.at_level("WARNING"):
        model.train(sentences, total_examples=2, epochs=1)
    assert "Effective 'alpha' higher than previous training cycles" in caplog.text


def assert_carried_over(ours, theirs):
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert [ours.wv.get_vecattr(w, "count") for w in ours.wv.index_to_key] == [
        theirs.wv.get_vecattr(w, "count") for w in theirs.wv.index_to_key
    ]
    np.testing.assert_array_equal(ours.wv.vectors, theirs.wv.vectors)
    for name in ("syn1neg",) * bool(theirs.negative) + ("syn1",) * bool(theirs.hs):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
    for k in (
        "sg",
        "hs",
        "negative",
        "window",
        "alpha",
        "min_alpha",
        "epochs",
        "vector_size",
        "sample",
        "min_count",
        "cbow_mean",
        "ns_exponent",
        "corpus_count",
        "corpus_total_words",
        "max_final_vocab",
    ):
        assert getattr(ours, k) == getattr(theirs, k), k


@pytest.mark.parametrize(
    "settings", [{"sg": 0, "negative": 5}, {"sg": 1, "negative": 3, "window": 3}, {"sg": 1, "hs": 1, "negative": 0}]
)
def test_a_model_saved_by_gensim_loads_and_trains_on(tmp_path, settings):
    sentences = [t.split() for t in planted_texts(n_docs=100)]
    theirs = gensim.models.Word2Vec(sentences, vector_size=16, min_count=1, epochs=2, seed=3, **settings)
    theirs.corpus_total_words = np.int64(theirs.corpus_total_words)  # numpy numbers: saved again as JSON
    theirs.save(str(tmp_path / "g.model"))
    ours = Word2Vec.load(tmp_path / "g.model")
    assert isinstance(ours, Word2Vec)
    assert_carried_over(ours, theirs)
    assert (ours.syn1neg is None) == (not theirs.negative) and (ours.syn1 is None) == (not theirs.hs)
    assert group_precision(ours.wv) >= group_precision(theirs.wv) - 0.05
    ours.build_vocab([["brand_new", "g0w1"]] * 5, update=True)
    ours.train(sentences, total_examples=len(sentences), epochs=1)
    assert "brand_new" in ours.wv and ours.train_count == theirs.train_count + 1
    ours.save(tmp_path / "f.model")  # and on in fastw2v's own file
    again = Word2Vec.load(tmp_path / "f.model")
    np.testing.assert_array_equal(again.wv.vectors, ours.wv.vectors)


def test_old_gensim_models_of_its_test_data_load():
    from gensim.test.utils import datapath

    for name, words in [
        ("old_w2v_models/w2v_1.0.0.mdl", 3),
        ("old_w2v_models/w2v_3.4.0.mdl", 3),
        ("word2vec_old", 12),
        ("word2vec_3.3", 4),
    ]:
        theirs = gensim.models.Word2Vec.load(datapath(name))
        ours = Word2Vec.load(datapath(name))
        assert len(ours.wv) == words
        assert_carried_over(ours, theirs)
    assert ours.corpus_total_words is None  # gensim 3.3 kept none, and says so
    with pytest.raises(AttributeError, match="is not a Word2Vec model"):
        Word2Vec.load(datapath("old_keyedvectors_320.dat"))


def test_hs_matrices_start_at_zero_grow_and_are_saved(tmp_path):
    sentences = common_texts()
    for negative in (0, 5):
        model = Word2Vec(vector_size=8, min_count=1, hs=1, negative=negative)
        model.build_vocab(sentences)
        theirs = gensim.models.Word2Vec(vector_size=8, min_count=1, hs=1, negative=negative)
        theirs.build_vocab(sentences)
        assert model.syn1.shape == theirs.syn1.shape == (12, 8) and not model.syn1.any()
        # each word's Huffman path, as gensim's wv holds it; any Huffman tree has gensim's weighted path length
        for m in (model, theirs):
            assert all(len(m.wv.get_vecattr(w, "code")) == len(m.wv.get_vecattr(w, "point")) for w in m.wv.key_to_index)
        assert sum(len(model.wv.get_vecattr(w, "code")) * c for w, c in gensim_vocab(model)) == sum(
            len(theirs.wv.get_vecattr(w, "code")) * c for w, c in gensim_vocab(theirs)
        )
        assert max(max(model.wv.get_vecattr(w, "point")) for w in model.wv.key_to_index) == 12 - 2  # the root
        assert (model.syn1neg is None) == (not hasattr(theirs, "syn1neg")) == (negative == 0)
        model.syn1[:] = 1.0
        model.build_vocab([["new", "words", "new"]], update=True)
        assert model.syn1.shape == (14, 8) and model.syn1[:12].all() and not model.syn1[12:].any()
        if negative:
            assert model.syn1neg.shape == (14, 8)
        model.save(tmp_path / "hs.model")
        loaded = Word2Vec.load(tmp_path / "hs.model")
        assert loaded.hs == 1 and loaded.negative == negative
        np.testing.assert_array_equal(loaded.syn1, model.syn1)
        assert (loaded.syn1neg is None) == (negative == 0)


@pytest.mark.parametrize("sg, negative", [(1, 0), (0, 0), (1, 5)])
def test_hs_trains_the_models_syn1_as_gensim_learns(sg, negative):
    """hs=1 reaches the trainer with the model's matrices: syn1 is trained in place (from gensim's zeros), and the
    groups are learnt as gensim's hs learns them."""
    sentences = [t.split() for t in planted_texts()]
    ours = Word2Vec(vector_size=16, window=3, min_count=1, epochs=5, seed=3, workers=1, sg=sg, hs=1, negative=negative)
    ours.build_vocab(sentences)
    syn1 = ours.syn1
    ours.train(sentences, total_examples=len(sentences), epochs=ours.epochs)
    assert ours.syn1 is syn1 and np.abs(syn1).max() > 0.1 and (ours.syn1neg is None) == (negative == 0)
    theirs = gensim.models.Word2Vec(
        sentences, vector_size=16, window=3, min_count=1, epochs=5, seed=3, workers=1, sg=sg, hs=1, negative=negative
    )
    assert group_precision(ours.wv) >= min(0.9, group_precision(theirs.wv) - 0.05)
    assert ours.get_latest_training_loss() > 0
