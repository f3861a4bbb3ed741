"""Vector quality: analogy accuracy (questions-words format) and word-similarity Spearman (WordSim353 format).

Both follow gensim's ``KeyedVectors.evaluate_word_analogies`` / ``evaluate_word_pairs`` question for question,
so a number here can be set beside gensim's (tests/test_evaluate.py checks that they are equal):

* case-insensitive matching upper-cases both sides, and a word with several case variants takes the vector of the
  first, most frequent one (the vocabulary is ordered by count);
* an analogy ``a b c d`` is answered by 3CosAdd over the ``restrict_vocab`` most frequent words: the word nearest
  (cosine) to unit(b) + unit(c) - unit(a), leaving out a, b and c. A question with a word outside that set is
  skipped, counted, and left out of the accuracy (gensim's "Total accuracy"; word2vec.c's compute-accuracy does
  the same with its threshold of 30,000 words);
* similarity is the cosine of the two words; rho is Spearman's (average ranks for ties, then Pearson of the
  ranks: scipy.stats.spearmanr, here in numpy so scipy stays a test dependency).

Unlike gensim, all analogy questions are scored as matrix products, a block of questions at a time, so the
19,544 questions of questions-words.txt take seconds rather than minutes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .errors import UserError
from .vectors import Vectors, _lines, _open, _unitvec

BLOCK = 1024  # questions scored per matrix product: (BLOCK, restrict_vocab) float32 scores, ~120 MB at 30k words
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


def _ok_vocab(vectors: Vectors, restrict_vocab: int | None, case_insensitive: bool) -> dict[str, int]:
    """Normalised word -> row among the first restrict_vocab words; the first (most frequent) case variant wins."""
    keys = vectors.index_to_key if restrict_vocab is None else vectors.index_to_key[:restrict_vocab]
    ok = {}
    for i, w in enumerate(keys):
        ok.setdefault(w.upper() if case_insensitive else w, i)
    return ok


def check_inputs(analogies: str | None = None, similarity=(), restrict_vocab: int | None = 30000) -> None:
    """The checks of evaluate_analogies / evaluate_word_pairs that need no vectors, so that a caller can run
    them before loading a large vectors file."""
    if analogies is not None:
        _check_file(analogies, "analogy", "--analogies")
    for path in similarity:
        _check_file(path, "word-similarity", "--similarity")
    if restrict_vocab is not None and restrict_vocab < 1:
        raise UserError(f"restrict_vocab must be >= 1, got {restrict_vocab}: pass e.g. --restrict-vocab 30000")


def _check_file(path: str, what: str, flag: str) -> None:
    if not os.path.isfile(path):
        raise UserError(f"no such file {path!r} (the {what} file): pass an existing file with {flag}")


def _open_lines(path: str, what: str, flag: str):
    _check_file(path, what, flag)
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def evaluate_analogies(
    vectors: Vectors, path: str, restrict_vocab: int | None = 30000, case_insensitive: bool = True
) -> AnalogyResult:
    """Accuracy on analogy questions ``a b c d`` ("a is to b as c is to d") under ``: section`` headers.

    ``restrict_vocab``: only the most frequent words take part, as questions and as answers (None: all).
    """
    check_inputs(restrict_vocab=restrict_vocab)
    ok = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    limit = len(vectors) if restrict_vocab is None else min(restrict_vocab, len(vectors))
    sections: list[SectionResult] = []
    quads, owner = [], []  # (a, b, c, expected) as normalised words, and their section's index
    skipped = 0
    for line_no, line in enumerate(_open_lines(path, "analogy", "--analogies"), 1):
        if line.startswith(": "):
            sections.append(SectionResult(line[2:].strip()))
            continue
        words = line.split()
        if len(words) != 4:
            continue  # gensim skips blank and malformed lines too
        if not sections:
            raise UserError(
                f"line {line_no} of {path!r} is a question before any ': section' line: "
                "start the file with a section header such as ': capital-common-countries'"
            )
        if case_insensitive:
            words = [w.upper() for w in words]
        if not all(w in ok for w in words):
            skipped += 1
            continue
        quads.append(words)
        owner.append(len(sections) - 1)
    if not sections:
        raise UserError(
            f"{path!r} has no ': section' line and no 'a b c d' question: pass a file in the questions-words.txt format"
        )
    if not quads and skipped:
        raise UserError(
            f"none of the {skipped:,} questions in {path!r} has all four words among the "
            f"{limit:,} words used: raise --restrict-vocab or train on a larger corpus"
        )
    if not quads:
        raise UserError(
            f"{path!r} has no 'a b c d' question under its section lines: pass a file in the questions-words.txt format"
        )

    idx = np.array([[ok[w] for w in q[:3]] for q in quads], dtype=np.int64)  # (Q, 3)
    predicted = answer_analogies(vectors, idx, limit, case_insensitive, BLOCK, TOPN)
    correct = np.array([p == q[3] for p, q in zip(predicted, quads)], dtype=bool)
    for s, ok_ in zip(owner, correct):
        sections[s].total += 1
        sections[s].correct += int(ok_)
    return AnalogyResult(
        correct=int(correct.sum()), total=len(quads), skipped=skipped, sections=sections, restrict_vocab=limit
    )


def answer_analogies(
    vectors: Vectors, rows: np.ndarray, limit: int, case_insensitive: bool, block: int, topn: int
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
    vectors: Vectors, path: str, restrict_vocab: int | None, case_insensitive: bool, dummy4unknown: bool
) -> tuple[float, list[dict]]:
    """``Vectors.evaluate_word_analogies``: gensim's (score, sections) for the questions of ``path``."""
    ok = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    sections, entries = [], []  # entries[s]: (question, row in `asked`, or -1 for an unknown word) in file order
    asked = []  # the (a, b, c) rows of the questions scored
    questions = 0
    for line_no, line in enumerate(_lines(path, "analogy"), 1):
        if line.startswith(": "):
            sections.append({"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []})
            entries.append([])
            continue
        if not sections:
            raise UserError(
                f"line {line_no} of {path!r} comes before any ': section' line: start the file "
                "with a section header such as ': capital-common-countries'"
            )
        words = line.split()
        if len(words) != 4:
            continue  # gensim skips blank and malformed lines
        question = tuple(w.upper() for w in words) if case_insensitive else tuple(words)
        questions += 1
        if all(w in ok for w in question):
            entries[-1].append((question, len(asked)))
            asked.append([ok[w] for w in question[:3]])
        elif dummy4unknown:
            entries[-1].append((question, -1))
    if not questions:
        raise UserError(
            f"{path!r} holds no 'a b c d' question under a ': section' line: pass a file in the "
            "questions-words.txt format"
        )
    limit = len(range(len(vectors))[:restrict_vocab])  # the rows gensim's index_to_key[:restrict_vocab] keeps
    block = max(1, BLOCK * 30000 // max(limit, 30000))  # BLOCK's memory bound, at any restrict_vocab
    predicted = answer_analogies(
        vectors, np.array(asked, dtype=np.int64).reshape(-1, 3), limit, case_insensitive, block, TOPN
    )
    for section, found in zip(sections, entries):
        for question, j in found:
            right = j >= 0 and predicted[j] == question[3]
            section["correct" if right else "incorrect"].append(question)
    total = {
        "section": "Total accuracy",
        "correct": [q for s in sections for q in s["correct"]],
        "incorrect": [q for s in sections for q in s["incorrect"]],
    }
    scored = len(total["correct"]) + len(total["incorrect"])
    sections.append(total)
    return (len(total["correct"]) / scored if scored else 0.0), sections


def gensim_word_pairs(
    vectors: Vectors,
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
        from scipy.linalg.blas import dnrm2
    except ImportError:
        raise UserError(
            "evaluate_word_pairs returns scipy's correlation results and needs scipy: pip install scipy"
        ) from None
    if not os.path.isfile(path):
        raise UserError(f"no such file {path!r} (the word-pairs file): pass an existing file")
    ok = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    gold, model = [], []
    oov = 0
    try:
        with _open(path, "rt", encoding=encoding) as f:
            for line in f:
                if not line or line.startswith("#"):
                    continue
                fields = line.split(delimiter)
                if case_insensitive:
                    fields = [w.upper() for w in fields]
                try:
                    a, b, sim = fields
                    sim = float(sim)
                except (ValueError, TypeError):
                    continue  # gensim skips a line that is not two words and a number
                if a not in ok or b not in ok:
                    oov += 1
                    if dummy4unknown:
                        gold.append(sim)
                        model.append(0.0)
                    continue
                gold.append(sim)
                model.append(np.dot(_unitvec(vectors.vectors[ok[a]], dnrm2), _unitvec(vectors.vectors[ok[b]], dnrm2)))
    except UnicodeDecodeError as e:
        raise UserError(
            f"{path!r} is not {encoding} ({e.reason}): pass the file's encoding, e.g. encoding='latin-1'"
        ) from None
    if not gold:
        known = len(range(len(vectors))[:restrict_vocab])
        raise UserError(
            f"no pair in {path!r} has both words among the first {known:,} words: check the file's "
            f"format (delimiter={delimiter!r}) and the case of the words, or raise restrict_vocab"
        )
    oov_ratio = float(oov) / (len(gold) if dummy4unknown else len(gold) + oov) * 100  # gensim's rounding
    return stats.pearsonr(gold, model), stats.spearmanr(gold, model), oov_ratio


def evaluate_word_pairs(
    vectors: Vectors, path: str, restrict_vocab: int | None = 300000, case_insensitive: bool = True
) -> SimilarityResult:
    """Spearman's rho between cosine similarity and human scores in ``w1<TAB>w2<TAB>score`` lines
    (white space between the fields also works); ``#`` lines are comments."""
    ok = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    gold, model = [], []
    oov = valid = 0
    for line in _open_lines(path, "word-similarity", "--similarity"):
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            parts = line.split()
        if len(parts) != 3:
            continue
        w1, w2 = parts[0].strip(), parts[1].strip()
        try:
            score = float(parts[2])
        except ValueError:
            continue  # e.g. a header line without '#'
        valid += 1
        if case_insensitive:
            w1, w2 = w1.upper(), w2.upper()
        if w1 not in ok or w2 not in ok:
            oov += 1
            continue
        gold.append(score)
        model.append(_cosine(vectors.vectors, ok[w1], ok[w2]))
    if not valid:
        raise UserError(f"{path!r} has no 'word1<TAB>word2<TAB>score' line: pass a file in the WordSim353 format")
    if not gold:
        raise UserError(
            f"none of the {valid} pairs in {path!r} has both words in the vocabulary: "
            "check the language and case of the vectors, or train with a lower min_count"
        )
    gold_a, model_a = np.array(gold), np.array(model)
    return SimilarityResult(
        spearman=spearman(gold_a, model_a), pearson=_pearson(gold_a, model_a), pairs=len(gold), oov=oov
    )


def _cosine(vectors: np.ndarray, i: int, j: int) -> float:
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
