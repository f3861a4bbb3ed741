"""The two evaluation file formats, each with one reader that fastw2v's results (``evaluate_analogies``,
``evaluate_word_pairs``) and gensim's (``Vectors.evaluate_word_analogies``, ``Vectors.evaluate_word_pairs``) both
take their questions from, so that the two shapes count the same lines. Both read a file as gensim 4.4 does:

* analogy questions (questions-words.txt): ``: section`` lines, each followed by ``a b c d`` questions ("a is to b
  as c is to d"); a line of another number of words is skipped, and any line before the first section header is an
  error (gensim's ValueError);
* scored word pairs (WordSim353): ``word1<delimiter>word2<delimiter>score`` lines; empty lines, ``#`` comments and
  lines that are not two words and a number are skipped.

A ``.gz`` or ``.bz2`` file is read decompressed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import UserError
from .fileio import open_file

Question = tuple[str, str, str, str]  # a b c expected, as written in the file


@dataclass
class AnalogySection:
    name: str
    questions: list[Question] = field(default_factory=list)


@dataclass(frozen=True)
class ScoredPair:
    first: str
    second: str
    score: float  # the human judgement


def read_analogies(path: str) -> list[AnalogySection]:
    """The sections of an analogy questions file, in file order, each with its four-word questions.

    Raises
    ------
    fastw2v.UserError
        When the file is missing or not UTF-8, a line comes before the first section header, or no section holds
        a question.
    """
    sections: list[AnalogySection] = []
    for line_no, line in enumerate(_utf8_lines(path, "analogy questions"), 1):
        if line.startswith(": "):
            sections.append(AnalogySection(line.lstrip(": ").strip()))
            continue
        if not sections:
            raise UserError(
                f"line {line_no} of {path!r} comes before any ': section' line: pass a file in the "
                "questions-words.txt format, which starts with a section header such as ': capital-common-countries'"
            )
        words = line.split()
        if len(words) == 4:  # gensim skips blank and malformed lines
            sections[-1].questions.append(tuple(words))
    if not any(section.questions for section in sections):
        raise UserError(
            f"{path!r} holds no 'a b c d' question under a ': section' line: pass a file in the "
            "questions-words.txt format"
        )
    return sections


def read_word_pairs(path: str, delimiter: str | None = "\t", encoding: str = "utf8") -> list[ScoredPair]:
    """The scored pairs of a word-pairs file, in file order.

    Parameters
    ----------
    path : str
        The file.
    delimiter : str or None, optional
        What separates the three fields, as gensim's ``evaluate_word_pairs`` splits them (the words are kept as
        split). None: at tabs when a line has three tab-separated fields (the words then stripped), else at any
        white space.
    encoding : str, optional
        The file's text encoding.

    Raises
    ------
    fastw2v.UserError
        When the file is missing or not in ``encoding``, or holds no pair.
    """
    check_file(path, "word pairs")
    pairs = []
    try:
        with open_file(path, "rt", encoding=encoding) as f:
            for line in f:
                if not line or line.startswith("#"):
                    continue
                fields = _fields(line, delimiter)
                if len(fields) != 3:
                    continue
                try:
                    pairs.append(ScoredPair(fields[0], fields[1], float(fields[2])))
                except ValueError:
                    continue  # gensim skips a line that is not two words and a number, e.g. a header
    except UnicodeDecodeError as e:
        raise UserError(
            f"{path!r} is not {encoding} ({e.reason}): pass the file's encoding, e.g. encoding='latin-1', or "
            "convert it to UTF-8"
        ) from None
    if not pairs:
        split, fix = ("white space", "") if delimiter is None else (repr(delimiter), "its delimiter, or ")
        raise UserError(
            f"{path!r} has no 'word1 word2 score' line split by {split}: pass {fix}a file in the WordSim353 format"
        )
    return pairs


def _fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is not None:
        return line.split(delimiter)
    fields = line.split("\t")
    return [f.strip() for f in fields] if len(fields) == 3 else line.split()


def check_file(path: str, what: str) -> None:
    """A one-line error naming the file when ``path`` is not an existing file."""
    if not os.path.isfile(path):
        raise UserError(f"no such file {path!r} (the {what} file): pass the path of an existing file")


def _utf8_lines(path: str, what: str) -> Iterator[str]:
    """The lines of a UTF-8 file, as gensim reads them (split at newlines only, each with its ending)."""
    check_file(path, what)
    with open_file(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                raise UserError(f"line {line_no} of {path!r} is not UTF-8: convert the file to UTF-8") from None
