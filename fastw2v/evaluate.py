"""Vector quality: analogy accuracy (questions-words format) and word-pair Spearman (WordSim353 format), in two
result shapes over the same questions (eval_files.py reads each format, once for both):

* fastw2v's: ``evaluate_analogies`` -> ``AnalogyResult``, ``evaluate_word_pairs`` -> ``SimilarityResult`` (the
  ``fastw2v eval`` command's numbers);
* gensim's: ``gensim_analogies`` and ``gensim_word_pairs``, behind ``Vectors.evaluate_word_analogies`` and
  ``Vectors.evaluate_word_pairs``: gensim 4.4's results, to the last bit (tests/test_keyedvectors.py).

Both follow gensim's ``KeyedVectors.evaluate_word_analogies`` / ``evaluate_word_pairs`` question for question, so
a number here can be set beside gensim's (tests/test_evaluate.py checks that they are equal):

* case-insensitive matching upper-cases both sides, and a word with several case variants takes the vector of the
  first, most frequent one (the vocabulary is ordered by count);
* an analogy ``a b c d`` is answered by 3CosAdd over the ``restrict_vocab`` most frequent words: the word nearest
  (cosine) to unit(b) + unit(c) - unit(a), leaving out a, b and c. A question with a word outside that set is
  skipped, counted, and left out of the accuracy (gensim's "Total accuracy"; word2vec.c's compute-accuracy does
  the same with its threshold of 30,000 words);
* similarity is the cosine of the two words; rho is Spearman's (average ranks for ties, then Pearson of the
  ranks: scipy.stats.spearmanr, here in numpy so scipy stays a test dependency).

Unlike gensim, which asks ``most_similar`` once per question, the analogy questions are scored as matrix products,
a block of questions at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UserError, setting
from .eval_files import AnalogySection, Question, check_file, read_analogies, read_word_pairs
from .vectors_core import VectorsCore, unitvec

BLOCK = 1024  # questions scored per matrix product at 30,000 words: (BLOCK, 30,000) float32 scores, 123 MB
TOPN = 5  # gensim takes the best of most_similar(topn=5) that is not an input word (matters for case variants)


@dataclass
class SectionResult:
    name: str
    correct: int = 0
    total: int = 0  # questions evaluated: all four words among the restricted vocabulary

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")


@dataclass
class AnalogyResult:
    correct: int  # over all sections
    total: int  # questions evaluated (all four words known)
    skipped: int  # questions with a word outside the restrict_vocab most frequent words
    sections: list[SectionResult] = field(default_factory=list)
    restrict_vocab: int = 0

    @property
    def accuracy(self) -> float:
        """Fraction correct among the evaluated questions (gensim's "Total accuracy"); nan when none was."""
        return self.correct / self.total if self.total else float("nan")

    @property
    def questions(self) -> int:
        return self.total + self.skipped

    @property
    def skipped_percent(self) -> float:
        return 100.0 * self.skipped / self.questions if self.questions else float("nan")


@dataclass
class SimilarityResult:
    spearman: float  # rho of model cosine vs. human score, over the pairs with both words known
    pearson: float
    pairs: int  # pairs evaluated
    oov: int  # pairs skipped for an unknown word

    @property
    def oov_percent(self) -> float:
        """Share of pairs with an unknown word, in percent (gensim's oov_ratio)."""
        return 100.0 * self.oov / (self.pairs + self.oov)


def _known_rows(vectors: VectorsCore, restrict_vocab: int | None, case_insensitive: bool) -> dict[str, int]:
    """Normalised word -> row among the first restrict_vocab words; the first (most frequent) case variant wins."""
    known = {}
    for i, w in enumerate(vectors.index_to_key[:restrict_vocab]):
        known.setdefault(w.upper() if case_insensitive else w, i)
    return known


def _normalised(words: tuple[str, ...], case_insensitive: bool) -> tuple[str, ...]:
    return tuple(w.upper() for w in words) if case_insensitive else tuple(words)


def check_inputs(analogies: str | None = None, similarity=(), restrict_vocab: int | None = 30000) -> None:
    """The checks of evaluate_analogies / evaluate_word_pairs that need no vectors, so that a caller can run
    them before loading a large vectors file."""
    if analogies is not None:
        check_file(analogies, "analogy questions")
    for path in similarity:
        check_file(path, "word pairs")
    if restrict_vocab is not None and restrict_vocab < 1:
        raise UserError(
            f"restrict_vocab must be >= 1, got {restrict_vocab}: pass e.g. {setting('restrict_vocab', 30000)}"
        )


def _questions_asked(
    sections: list[AnalogySection], known: dict[str, int], case_insensitive: bool
) -> tuple[list[list[tuple[Question, int]]], np.ndarray]:
    """Per section, each question (normalised) with its row in the returned ``(questions, 3)`` array of a, b, c
    rows, or with -1 when one of its words is not among the ``known`` words."""
    entries, asked = [], []
    for section in sections:
        found = []
        for question in section.questions:
            question = _normalised(question, case_insensitive)
            if all(w in known for w in question):
                found.append((question, len(asked)))
                asked.append([known[w] for w in question[:3]])
            else:
                found.append((question, -1))
        entries.append(found)
    return entries, np.array(asked, dtype=np.int64).reshape(-1, 3)


def _block(limit: int) -> int:
    """Questions per matrix product: BLOCK at 30,000 words, fewer for more, so the scores take as much memory."""
    return max(1, BLOCK * 30000 // max(limit, 30000))


def evaluate_analogies(
    vectors: VectorsCore, path: str, restrict_vocab: int | None = 30000, case_insensitive: bool = True
) -> AnalogyResult:
    """Accuracy on analogy questions ``a b c d`` ("a is to b as c is to d") under ``: section`` headers.

    ``restrict_vocab``: only the most frequent words take part, as questions and as answers (None: all).
    """
    check_inputs(restrict_vocab=restrict_vocab)
    sections = read_analogies(path)
    entries, asked = _questions_asked(
        sections, _known_rows(vectors, restrict_vocab, case_insensitive), case_insensitive
    )
    limit = len(vectors.index_to_key[:restrict_vocab])
    if not len(asked):
        questions = sum(len(found) for found in entries)
        raise UserError(
            f"none of the {questions:,} questions in {path!r} has all four words among the {limit:,} words used: "
            f"raise {setting('restrict_vocab')} or train on a larger corpus"
        )
    predicted = answer_analogies(vectors, asked, limit, case_insensitive, _block(limit), TOPN)
    results, skipped = [], 0
    for section, found in zip(sections, entries):
        result = SectionResult(section.name)
        for question, j in found:
            if j < 0:
                skipped += 1
                continue
            result.total += 1
            result.correct += int(predicted[j] == question[3])
        results.append(result)
    return AnalogyResult(
        correct=sum(s.correct for s in results),
        total=len(asked),
        skipped=skipped,
        sections=results,
        restrict_vocab=limit,
    )


def answer_analogies(
    vectors: VectorsCore, rows: np.ndarray, limit: int, case_insensitive: bool, block: int, topn: int
) -> list[str | None]:
    """gensim's answer to each question of ``rows`` (its a, b, c rows): 3CosAdd over the first ``limit`` words, and
    among the ``topn`` words nearest to the query, not a, b or c, the first whose (upper-cased) form is none of
    theirs, else the last. ``block`` questions are scored per matrix product."""
    unit, keys = vectors.unit_vectors[:limit], vectors.index_to_key
    answers = []
    for lo in range(0, len(rows), block):
        a, b, c = rows[lo : lo + block].T
        # gensim: the mean of the unit vectors weighted (-1, +1, +1), scaled to length 1
        query = (unit[b] + unit[c] - unit[a]) / np.float32(3.0)
        query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
        scores = query @ unit.T
        at = np.arange(len(a))
        for col in (a, b, c):
            scores[at, col] = -np.inf
        k = min(topn, limit)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < limit else np.tile(np.arange(limit), (len(a), 1))
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)
        for r, candidates in enumerate(top):
            ignore = {keys[i].upper() if case_insensitive else keys[i] for i in (a[r], b[r], c[r])}
            answer = None
            for i in candidates:
                if not np.isfinite(scores[r, i]):
                    continue  # a, b or c: only among the candidates when the vocabulary is tiny
                answer = keys[i].upper() if case_insensitive else keys[i]
                if answer not in ignore:
                    break
            answers.append(answer)
    return answers


def gensim_analogies(
    vectors: VectorsCore, path: str, restrict_vocab: int | None, case_insensitive: bool, dummy4unknown: bool
) -> tuple[float, list[dict]]:
    """``Vectors.evaluate_word_analogies``: gensim's (score, sections) for the questions of ``path``."""
    sections = read_analogies(path)
    entries, asked = _questions_asked(
        sections, _known_rows(vectors, restrict_vocab, case_insensitive), case_insensitive
    )
    limit = len(vectors.index_to_key[:restrict_vocab])  # the rows gensim's index_to_key[:restrict_vocab] keeps
    predicted = answer_analogies(vectors, asked, limit, case_insensitive, _block(limit), TOPN)
    results = []
    for section, found in zip(sections, entries):
        result = {"section": section.name, "correct": [], "incorrect": []}
        for question, j in found:
            if j >= 0 or dummy4unknown:  # gensim counts a question with an unknown word as wrong, or skips it
                right = j >= 0 and predicted[j] == question[3]
                result["correct" if right else "incorrect"].append(question)
        results.append(result)
    total = {
        "section": "Total accuracy",
        "correct": [q for s in results for q in s["correct"]],
        "incorrect": [q for s in results for q in s["incorrect"]],
    }
    scored = len(total["correct"]) + len(total["incorrect"])
    results.append(total)
    return (len(total["correct"]) / scored if scored else 0.0), results


def gensim_word_pairs(
    vectors: VectorsCore,
    path: str,
    delimiter: str,
    encoding: str,
    restrict_vocab: int | None,
    case_insensitive: bool,
    dummy4unknown: bool,
):
    """``Vectors.evaluate_word_pairs``: gensim's (pearson, spearman, oov_ratio) for the pairs of ``path``."""
    try:
        from scipy import stats
    except ImportError:
        raise UserError(
            "evaluate_word_pairs returns scipy's correlation results and needs scipy: pip install scipy"
        ) from None
    pairs = read_word_pairs(path, delimiter, encoding)
    known = _known_rows(vectors, restrict_vocab, case_insensitive)
    gold, model, oov = [], [], 0
    for pair in pairs:
        a, b = _normalised((pair.first, pair.second), case_insensitive)
        if a not in known or b not in known:
            oov += 1
            if dummy4unknown:
                gold.append(pair.score)
                model.append(0.0)  # gensim's similarity 0: a Python float among the float32 cosines, as in gensim
            continue
        gold.append(pair.score)
        model.append(np.dot(unitvec(vectors.vectors[known[a]]), unitvec(vectors.vectors[known[b]])))
    if not gold:
        limit = len(vectors.index_to_key[:restrict_vocab])
        raise UserError(
            f"no pair in {path!r} has both words among the first {limit:,} words: check the case of the words, "
            "or raise restrict_vocab"
        )
    oov_ratio = float(oov) / len(pairs) * 100  # gensim's expression, so that the float is gensim's to the last bit
    return stats.pearsonr(gold, model), stats.spearmanr(gold, model), oov_ratio


def evaluate_word_pairs(
    vectors: VectorsCore, path: str, restrict_vocab: int | None = 300000, case_insensitive: bool = True
) -> SimilarityResult:
    """Spearman's rho between cosine similarity and human scores in ``w1<TAB>w2<TAB>score`` lines
    (white space between the fields also works); ``#`` lines are comments."""
    pairs = read_word_pairs(path, delimiter=None)
    known = _known_rows(vectors, restrict_vocab, case_insensitive)
    gold, model = [], []
    for pair in pairs:
        a, b = _normalised((pair.first, pair.second), case_insensitive)
        if a in known and b in known:
            gold.append(pair.score)
            model.append(_cosine64(vectors.vectors, known[a], known[b]))
    if not gold:
        raise UserError(
            f"none of the {len(pairs)} pairs in {path!r} has both words in the vocabulary: check the language "
            f"and case of the vectors, or train with a lower {setting('min_count')}"
        )
    gold_a, model_a = np.array(gold), np.array(model)
    return SimilarityResult(
        spearman=spearman(gold_a, model_a),
        pearson=_pearson(gold_a, model_a),
        pairs=len(gold),
        oov=len(pairs) - len(gold),
    )


def _cosine64(vectors: np.ndarray, i: int, j: int) -> float:
    """In float64, and exactly 1 for a word with itself ("tiger tiger 10.00" in WordSim353): float32 rounding
    would give some words 1.0000001 and others 0.99999994, which breaks that tie at random."""
    if i == j:
        return 1.0 if np.any(vectors[i]) else 0.0
    a, b = vectors[i].astype(np.float64), vectors[j].astype(np.float64)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom > 0 else 0.0


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n; tied values share the mean of their ranks (scipy.stats.rankdata's 'average')."""
    x = np.asarray(x)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    # start of each run of equal values, in sorted order
    new_run = np.concatenate(([True], sorted_x[1:] != sorted_x[:-1]))
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], len(x))  # exclusive
    mean_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = mean_rank[run_id]
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation: Pearson's r of the average ranks; nan when either side is constant."""
    return _pearson(rankdata(x), rankdata(y))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    denom = np.sqrt((x @ x) * (y @ y))
    if denom == 0:
        return float("nan")
    return float(np.clip((x @ y) / denom, -1.0, 1.0))
