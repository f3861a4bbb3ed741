"""evaluate.py: hand-made vectors with known answers, numpy Spearman against scipy, both numbers against gensim,
and the ``fastw2v eval`` command."""

import json
import os

import numpy as np
import pytest

from fastw2v import Vectors
from fastw2v.cli import main
from fastw2v.errors import UserError
from fastw2v.evaluate import evaluate_analogies, evaluate_word_pairs, rankdata, spearman

EVAL = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "eval")
QUESTIONS = os.path.join(EVAL, "questions-words.txt")
WORDSIM = os.path.join(EVAL, "wordsim353.tsv")


def unit(*xs):
    v = np.array(xs, dtype=np.float64)
    return v / np.linalg.norm(v)


@pytest.fixture
def royal():
    """2-D vectors in which queen lies exactly along unit(king) - unit(man) + unit(woman)."""
    man, woman, king = unit(1, 0), unit(0, 1), unit(1, 1)
    queen = king - man + woman
    vecs = {
        "the": unit(1, -1),
        "man": man,
        "woman": woman,
        "king": king,
        "queen": queen * 3.0,
        "apple": unit(-1, -0.2),
        "prince": unit(0.9, 0.1),
    }
    words = list(vecs)  # frequency order: "prince" is the rarest
    return Vectors(words, np.array([vecs[w] for w in words]))


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_analogy_known_answers(royal, tmp_path):
    path = write(
        tmp_path / "q.txt",
        ": royal\n"
        "man woman king queen\n"  # right: queen is exactly on the 3CosAdd direction
        "Man Woman King Queen\n"  # case-insensitive, right
        "man woman king apple\n"  # wrong
        "\n"
        "man woman king\n"  # malformed: ignored, like gensim
        ": other\n"
        "man woman king unicorn\n"  # unknown word: skipped and counted
        "man woman king prince\n",
    )  # prince is outside restrict_vocab=6: skipped
    r = evaluate_analogies(royal, path, restrict_vocab=6)
    assert (r.correct, r.total, r.skipped) == (2, 3, 2)
    assert r.accuracy == pytest.approx(2 / 3)
    assert [(s.name, s.correct, s.total) for s in r.sections] == [("royal", 2, 3), ("other", 0, 0)]
    assert r.skipped_percent == pytest.approx(40.0)
    # case-sensitive: the capitalised question is now unknown
    r = evaluate_analogies(royal, path, restrict_vocab=6, case_insensitive=False)
    assert (r.correct, r.total, r.skipped) == (1, 2, 3)
    # with the whole vocabulary prince is a candidate, and the question about it is asked (and wrong)
    r = evaluate_analogies(royal, path, restrict_vocab=None)
    assert (r.correct, r.total, r.skipped) == (2, 4, 1)


def test_analogy_answer_excludes_inputs(tmp_path):
    """The nearest word to b + c - a is often b or c itself; the answer must skip a, b and c."""
    words = ["a", "b", "c", "d", "e"]
    vecs = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-0.2, -0.5, 1], [-1, 1, 1]], dtype=np.float32)
    # unit(b)+unit(c)-unit(a) = (-1, 1, 1): e exactly; then b and c (cos .58, inputs), then d (.36)
    path = write(tmp_path / "q.txt", ": s\na b c e\na b c d\n")
    r = evaluate_analogies(Vectors(words, vecs), path)
    assert (r.correct, r.total) == (1, 2)
    r = evaluate_analogies(Vectors(words[:4], vecs[:4]), write(tmp_path / "q2.txt", ": s\na b c d\n"))
    assert (r.correct, r.total) == (1, 1)


def test_word_pairs_rho_plus_minus_one_and_oov(royal, tmp_path):
    # cosine to "man": prince .99 > king .71 > woman 0 > apple -.98
    up = write(
        tmp_path / "up.tsv",
        "# a comment\nman\tprince\t9.0\nman\tking\t7\nMAN\twoman\t3\nman\tapple\t1\nman\tunicorn\t5\n",
    )
    r = evaluate_word_pairs(royal, up)
    assert r.spearman == 1.0
    assert (r.pairs, r.oov) == (4, 1)
    assert r.oov_percent == pytest.approx(20.0)
    down = write(tmp_path / "down.txt", "man prince 1\nman  king 3\nman woman 7\nman apple 9.5\n")  # white space
    assert evaluate_word_pairs(royal, down).spearman == -1.0


def test_rankdata_and_spearman_ties_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    x = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 1.0])
    np.testing.assert_array_equal(rankdata(x), [5.0, 1.5, 5.0, 3.0, 5.0, 1.5])
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 5, 40).astype(float)  # many ties
        b = a + rng.integers(0, 3, 40)
        assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b)[0], abs=1e-12)
    assert np.isnan(spearman(np.ones(5), np.arange(5.0)))


def test_bad_input_is_a_user_error(royal, tmp_path):
    for fn in (evaluate_analogies, evaluate_word_pairs):
        with pytest.raises(UserError, match="no such"):
            fn(royal, str(tmp_path / "missing.txt"))
        with pytest.raises(UserError, match="format"):
            fn(royal, write(tmp_path / "junk.txt", "# nothing\nhello\n"))
    with pytest.raises(UserError, match="section"):
        evaluate_analogies(royal, write(tmp_path / "nohead.txt", "man woman king queen\n"))
    with pytest.raises(UserError, match="vocabulary"):
        evaluate_word_pairs(royal, write(tmp_path / "oov.tsv", "foo\tbar\t1\n"))
    with pytest.raises(UserError, match="restrict"):
        evaluate_analogies(royal, write(tmp_path / "ok.txt", ": s\nman woman king queen\n"), restrict_vocab=0)


@pytest.mark.parametrize("before", ["\n", "# questions-words.txt\n", "man woman king queen\n"])
def test_a_line_before_the_first_section_fails_the_same_in_both_shapes(royal, tmp_path, before):
    """One reader for both result shapes: a blank line, a comment or a question before the first ': section'
    header is gensim's ValueError ("Missing section header") in fastw2v's results and in gensim's."""
    path = write(tmp_path / "q.txt", before + ": royal\nman woman king queen\n")
    with pytest.raises(UserError, match="line 1 of .* comes before any ': section' line") as ours:
        evaluate_analogies(royal, path)
    with pytest.raises(UserError) as gensim_shape:
        royal.evaluate_word_analogies(path)
    assert str(ours.value) == str(gensim_shape.value)
    with pytest.raises(ValueError, match="Missing section header before line #0"):
        gensim_kv(royal).evaluate_word_analogies(path)


def test_both_shapes_count_the_same_questions(royal, tmp_path):
    """fastw2v's AnalogyResult and gensim's (score, sections) over one file: the same sections, the same questions
    scored and right, the same questions skipped (counted as wrong by gensim's dummy4unknown); likewise the pairs."""
    path = write(
        tmp_path / "q.txt",
        ": : royal\r\nman woman king queen\r\nMan Woman King Queen\n\nman woman king\nman woman king apple\n"
        ": empty\n: other\nman woman king unicorn\nman woman king prince\n",
    )
    for kw in ({"restrict_vocab": 6}, {"restrict_vocab": None}, {"case_insensitive": False}):
        ours = evaluate_analogies(royal, path, **kw)
        score, sections = royal.evaluate_word_analogies(path, **kw)
        assert [(s.name, s.correct, s.total) for s in ours.sections] == [
            (s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections[:-1]
        ]
        assert (ours.accuracy, ours.correct) == (score, len(sections[-1]["correct"]))
        _, with_unknown = royal.evaluate_word_analogies(path, dummy4unknown=True, **kw)
        assert ours.skipped == len(with_unknown[-1]["incorrect"]) - len(sections[-1]["incorrect"]) > 0
    assert [s.name for s in ours.sections] == ["royal", "empty", "other"]  # gensim strips every leading ': '
    pairs = write(
        tmp_path / "p.tsv", "# c\nman\tprince\t9\nMAN\tking\t7\nman\twoman\t3\nman\tapple\t1\nman\tx\t5\nbad\n"
    )
    ours = evaluate_word_pairs(royal, pairs)
    pearson, spearman_rho, oov_ratio = royal.evaluate_word_pairs(pairs)
    assert (ours.pairs, ours.oov, ours.oov_percent) == (4, 1, oov_ratio)
    assert ours.spearman == pytest.approx(spearman_rho[0], abs=1e-9)


def test_messages_name_settings_as_the_entry_point_writes_them(royal, tmp_path):
    from fastw2v.errors import on_command_line

    with pytest.raises(UserError, match=r"pass e\.g\. restrict_vocab=30000"):
        evaluate_analogies(royal, write(tmp_path / "q.txt", ": s\nman woman king queen\n"), restrict_vocab=0)
    with on_command_line(), pytest.raises(UserError, match="pass e.g. --restrict-vocab 30000"):
        evaluate_analogies(royal, str(tmp_path / "q.txt"), restrict_vocab=0)
    with on_command_line(), pytest.raises(UserError, match="raise --restrict-vocab or train"):
        evaluate_analogies(royal, write(tmp_path / "r.txt", ": s\nman woman king prince\n"), restrict_vocab=3)
    with pytest.raises(UserError, match="no such file .*: pass the path of an existing file") as missing:
        evaluate_analogies(royal, str(tmp_path / "missing.txt"))
    assert "--" not in str(missing.value)


# --- the same numbers as gensim -------------------------------------------------------------------------------------


def gensim_kv(vectors):
    models = pytest.importorskip("gensim.models")
    kv = models.KeyedVectors(vectors.vector_size)
    kv.add_vectors(vectors.index_to_key, vectors.vectors)
    return kv


def structured_vectors(words, d=24, seed=0):
    """Random vectors plus a shared offset between the words of each analogy pair, so that a good part of the
    questions are answered right, and some wrong: accuracy is neither 0 nor 1."""
    rng = np.random.default_rng(seed)
    base = {w: rng.normal(size=d) for w in words}
    offset = rng.normal(size=d) * 1.5
    for i, w in enumerate(words[1::2]):
        base[w] = base[words[2 * i]] + offset + rng.normal(size=d) * 1.2
    return Vectors(words, np.array([base[w] for w in words], dtype=np.float32))


def test_analogies_equal_gensim_synthetic(tmp_path):
    words = [f"w{i}" for i in range(300)] + ["Case", "case"]
    vectors = structured_vectors(words)
    rng = np.random.default_rng(1)
    lines = []
    for s in range(3):
        lines.append(f": section{s}")
        for _ in range(200):
            i, j = rng.choice(150, 2, replace=False)
            lines.append(f"w{2 * i} w{2 * i + 1} W{2 * j} w{2 * j + 1}")
        lines += ["w1 w2 w3 unknown", "w1 w2 w3 w299", "case w2 w3 w4", "w0 w1 w2 CASE"]
    path = write(tmp_path / "q.txt", "\n".join(lines) + "\n")
    kv = gensim_kv(vectors)
    for restrict in (250, 302):
        ours = evaluate_analogies(vectors, path, restrict_vocab=restrict)
        score, sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict)
        assert 0.05 < ours.accuracy < 0.95
        assert ours.accuracy == score
        assert [(s.name, s.correct, s.total) for s in ours.sections] == [
            (s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections[:-1]
        ]


@pytest.mark.skipif(not os.path.exists(QUESTIONS), reason="questions-words.txt not in ../shared/data/eval")
def test_analogies_equal_gensim_questions_words():
    words, seen = [], set()
    with open(QUESTIONS) as f:
        for line in f:
            if not line.startswith(":"):
                for w in line.lower().split():
                    if w not in seen:
                        seen.add(w)
                        words.append(w)
    vectors = structured_vectors(words, d=50)
    restrict = len(words) - 40  # some questions skipped
    ours = evaluate_analogies(vectors, QUESTIONS, restrict_vocab=restrict)
    score, sections = gensim_kv(vectors).evaluate_word_analogies(QUESTIONS, restrict_vocab=restrict)
    assert ours.questions == 19544 and ours.skipped > 0
    assert ours.accuracy == score
    assert ours.correct == len(sections[-1]["correct"])


def test_word_pairs_equal_gensim(tmp_path):
    words = [f"w{i}" for i in range(60)]
    vectors = structured_vectors(words, d=8)
    rng = np.random.default_rng(2)
    lines = ["# w1\tw2\tscore"]
    for _ in range(150):
        i, j = rng.choice(70, 2, replace=False)  # w60..w69 are unknown; no self-pairs: gensim's float32 may
        # score a word with itself 1.0000001 for one word and 0.99999994 for another, we score exactly 1
        lines.append(f"w{i}\tW{j}\t{rng.integers(0, 10) / 2}")  # scores with ties
    path = write(tmp_path / "p.tsv", "\n".join(lines) + "\n")
    ours = evaluate_word_pairs(vectors, path)
    _, (rho, _), oov = gensim_kv(vectors).evaluate_word_pairs(path)
    assert ours.spearman == pytest.approx(rho, abs=1e-9)
    assert ours.oov_percent == pytest.approx(oov, abs=1e-12)
    assert 0 < ours.oov < 150


@pytest.mark.skipif(not os.path.exists(WORDSIM), reason="wordsim353.tsv not in ../shared/data/eval")
def test_word_pairs_equal_gensim_wordsim353():
    words = sorted({w.lower() for line in open(WORDSIM) if not line.startswith("#") for w in line.split("\t")[:2]})
    vectors = structured_vectors(words[:-30], d=16)  # 30 words unknown
    ours = evaluate_word_pairs(vectors, WORDSIM)
    _, (rho, _), oov = gensim_kv(vectors).evaluate_word_pairs(WORDSIM)
    assert ours.spearman == pytest.approx(rho, abs=1e-9)
    assert ours.oov_percent == pytest.approx(oov, abs=1e-12)
    assert ours.pairs + ours.oov == 353


# --- fastw2v eval ---------------------------------------------------------------------------------------------------


def test_cli_eval(royal, tmp_path, capsys):
    vec = str(tmp_path / "v.txt")
    royal.save(vec)
    q = write(
        tmp_path / "q.txt", ": royal\nman woman king queen\nman woman king apple\n: other\nman woman king unicorn\n"
    )
    p = write(tmp_path / "p.tsv", "man\tprince\t9\nman\tking\t7\nman\twoman\t3\nman\tapple\t1\n")
    assert main(["eval", vec, "--analogies", q, "--similarity", p, "--sections"]) == 0
    out = capsys.readouterr().out
    assert "50.0%" in out and "royal" in out and "1.000" in out

    assert main(["eval", vec, "--analogies", str(tmp_path / "nope.txt"), "--similarity", p]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastw2v: error:") and "nope.txt" in err and err.count("\n") == 1
    assert main(["eval", str(tmp_path / "missing.bin"), "--analogies", q]) == 2


def test_neighbour_agreement_known_answers():
    """benchmarks.quality's agreement column: 1.0 for the same space (cosine ignores rotation and scale), a
    hand-counted share when neighbours partly differ, and chance level for unrelated vectors."""
    from benchmarks.quality import neighbour_agreement

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    m = rng.normal(size=(300, 20))
    rotation, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    a = Vectors(words, m)
    assert neighbour_agreement(a, Vectors(words, 3.0 * m @ rotation), n_words=100) == 1.0
    # words in a different order and one word missing: only shared words count, matched by name
    order = rng.permutation(299)
    assert neighbour_agreement(a, Vectors([words[i] for i in order], m[order]), n_words=50) == 1.0
    unrelated = neighbour_agreement(a, Vectors(words, rng.normal(size=(300, 20))), n_words=300)
    assert 0.0 <= unrelated < 0.1  # chance: 10 / 299

    # by hand, topn=1, words at angles (degrees): A: a 0, b 10, c 30, d 100 -> a:b, b:a, c:b, d:c
    #                                             B: a 0, b 10, c 30, d 35  -> a:b, b:a, c:d, d:c: 3 of 4 agree
    def at(*degrees):
        r = np.radians(degrees)
        return Vectors(["a", "b", "c", "d"], np.stack([np.cos(r), np.sin(r)], axis=1))

    assert neighbour_agreement(at(0, 10, 30, 100), at(0, 10, 30, 35), n_words=4, topn=1) == 0.75


def test_quality_script_jobs_equal_sequential(tmp_path, capsys):
    """benchmarks.quality --jobs 2 trains rows in worker processes: one-thread hogwild rows are a pure function
    of their seed, so they score exactly what the sequential run scores, and every row is compared with the
    reference gensim row, whichever finished first."""
    pytest.importorskip("gensim")
    from benchmarks.quality import main as quality
    from tests.conftest import planted_texts

    text = tmp_path / "planted.txt"
    text.write_text("\n".join(planted_texts()) + "\n")
    (tmp_path / "q.txt").write_text(": groups\ng0w0 g0w1 g1w0 g1w1\ng0w2 g0w3 g2w2 g2w3\ng1w4 g1w5 g3w4 g3w5\n")
    (tmp_path / "s.tsv").write_text("g0w0\tg0w1\t9\ng0w0\tg1w0\t1\ng2w3\tg2w5\t8\ng1w1\tg3w2\t2\ng3w3\tg3w4\t9\n")
    rows = {}
    for jobs in (1, 2):
        out = tmp_path / f"rows-{jobs}.json"
        assert (
            quality(
                [
                    "--corpus",
                    str(text),
                    "--cache-dir",
                    str(tmp_path / "cache"),
                    "--slice-tokens",
                    "0",
                    "--epochs",
                    "1",
                    "--backends",
                    "gensim,hogwild",
                    "--variant",
                    "hogwild:seed=2",
                    "--variant",
                    "hogwild:window=0",  # a row that fails: the others are kept
                    "--workers",
                    "1",
                    "--jobs",
                    str(jobs),
                    "--analogies",
                    str(tmp_path / "q.txt"),
                    "--similarity",
                    str(tmp_path / "s.tsv"),
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        rows[jobs] = json.loads(out.read_text())["rows"]
        err = capsys.readouterr()
        assert "row 4 (hogwild {'window': 0}) failed: UserError" in err.err
    assert "Rows trained 2 at a time" in err.out
    assert [(r["backend"], r["seed"]) for r in rows[2]] == [("gensim", 1), ("hogwild", 1), ("hogwild", 2)]
    for seq, par in zip(rows[1][1:], rows[2][1:]):
        assert (seq["analogy"], seq["ws353_rho"], seq["probe"]) == (par["analogy"], par["ws353_rho"], par["probe"])
        assert 0.0 < par["agreement"] <= 1.0
    assert rows[2][0]["agreement"] != rows[2][0]["agreement"]  # the reference itself: nan
    assert rows[2][1]["ws353_rho"] != rows[2][2]["ws353_rho"] or rows[2][1]["probe"] != rows[2][2]["probe"]
