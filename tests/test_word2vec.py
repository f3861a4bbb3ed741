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
    run = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TQDM_DISABLE="1"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "epoch 2 begins" in run.stdout and "words 12" in run.stdout


def test_tokens_are_used_as_given():
    sentences = [["New_York", "is", "big"], ["new_york", "IS", "Café"], ["New_York", "Café", "x y"]] * 5
    model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=1)
    assert set(model.wv.index_to_key) == {"New_York", "new_york", "is", "IS", "big", "Café", "x y"}
    assert model.wv.get_vecattr("New_York", "count") == 10
    assert model.corpus_count == 15 and model.corpus_total_words == 45


@pytest.mark.parametrize("sg", [0, 1])
def test_planted_groups_are_learnt_as_gensim_learns_them(sg):
    """The same token lists through both, CBOW and skip-gram: both find each word's group (the quality check on
    real text, IMDB at 5 epochs, is benchmarks/gensim_api.py)."""
    sentences = [t.split() for t in planted_texts()]
    ours = Word2Vec(sentences, sg=sg, vector_size=16, window=3, min_count=1, epochs=5, seed=3, workers=1)
    theirs = gensim.models.Word2Vec(sentences, sg=sg, vector_size=16, window=3, min_count=1, epochs=5, seed=3,
                                    workers=1)
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
    assert model.wv.index_to_key[:len(before)] == list(before)  # old ids kept
    assert model.wv.index_to_key[len(before):] == ["novel", "words"]  # rare: under min_count
    assert model.wv.get_vecattr("g0w1", "count") == count + 1
    assert all(np.array_equal(model.wv[w], v) for w, v in before.items())  # untouched until trained
    assert np.abs(model.wv["novel"]).max() > 0 and model.syn1neg.shape == model.wv.vectors.shape
    model.train(new, total_examples=3, epochs=1)


def test_one_line_errors():
    with pytest.raises(fastw2v.UserError, match="sg must be 0 or 1, got 2"):
        Word2Vec(sg=2)
    with pytest.raises(fastw2v.UserError, match="hs=1 asks for hierarchical softmax.*negative sampling only"):
        Word2Vec(hs=1)
    with pytest.raises(fastw2v.UserError, match="one-shot iterator .*LineSentence"):
        Word2Vec((s for s in [["a", "b"]]), min_count=1)
    with pytest.raises(fastw2v.UserError, match="one is a str"):
        Word2Vec(["a sentence as a string", "another"], min_count=1)
    with pytest.raises(fastw2v.UserError, match="train\\(\\) needs a vocabulary: call build_vocab"):
        Word2Vec().train([["a", "b"]], total_examples=1, epochs=1)
    with pytest.raises(fastw2v.UserError, match="update=True\\) extends a vocabulary"):
        Word2Vec().build_vocab([["a", "b"]], update=True)
    with pytest.raises(fastw2v.UserError, match="unknown setting"):
        Word2Vec(vector_sizes=10)


def test_a_gensim_pickle_is_not_a_model(tmp_path):
    gensim.models.Word2Vec([["a", "b"]], min_count=1, vector_size=4).save(str(tmp_path / "g.model"))
    with pytest.raises(fastw2v.UserError, match="not a model saved by fastw2v.Word2Vec.save"):
        Word2Vec.load(tmp_path / "g.model")


@pytest.mark.parametrize("sg", [0, 1])
def test_the_torch_backend_trains_on_from_the_model_matrices(sg):
    """Continued training on the torch backend starts from the model's rows (not a fresh initialisation)."""
    sentences = [t.split() for t in planted_texts()]
    model = Word2Vec(sentences, sg=sg, vector_size=16, window=3, min_count=1, epochs=5, seed=3, backend="torch",
                     device="cpu", batch_size=1024)
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
    for context, topn in [(["g0w1", "g0w2"], 10), (["g1w3"], 5), (["the", "g2w0", "unknown"], 3),
                          (["g3w1", "g3w1", "g3w2", "a"], None), (["g0w1"], 0)]:
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


@pytest.mark.parametrize("settings, kw", [
    ({"min_count": 1}, {}),
    ({"min_count": 3}, {"corpus_count": 42, "keep_raw_vocab": True}),
    ({"min_count": 3}, {"trim_rule": lambda w, c, m: 2 if w == "rare" else (1 if w == "drop" else 0)}),
    ({"min_count": 1, "max_final_vocab": 4}, {})])
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
    np.testing.assert_array_equal(ours.wv.vectors[:len(before)], before)
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
    with pytest.raises(fastw2v.UserError, match="no word of word_freq has a count of at least min_count=5 "
                                                "\\(the largest is 4\\): lower min_count"):
        Word2Vec().build_vocab_from_freq({"a": 4, "b": 1})
    with pytest.raises(fastw2v.UserError, match="build_vocab_from_freq\\(update=True\\) extends a vocabulary"):
        Word2Vec().build_vocab_from_freq({"a": 4}, update=True)
    with pytest.raises(fastw2v.UserError) as e:
        Word2Vec(hs=1)
    assert "\n" not in str(e.value)


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
