"""The tokenizers: the Python ones, which define the tokens, and ``Tokenizer``, which gives exactly their tokens from
UTF-8 bytes on all cores (its kernels are in ``tokenizer_kernels``).

- ``simple``: lowercase, ``<...>`` tags removed, runs of letters/digits with inner apostrophes;
  ``whitespace``: lowercase, split on white space; ``split``: split on white space, case kept.
- Lowercasing is a table of ``str.lower`` for every code point; the two code points whose lowercase is not one
  code point or depends on the context (U+0130 İ -> "i̇", U+03A3 Σ -> σ or final ς) never reach the kernels:
  a document holding one is lowercased by Python first (``prelower``).
- Letters/digits and white space are ``str.isalnum`` and ``str.isspace`` of the lowercased code point, which is
  what ``re``'s ``[^\\W_]`` and ``str.split`` use.
- Bytes that are not UTF-8 are found with the maximal-subpart rule of Python's decoder, wherever they are (inside
  a tag the simple tokenizer removes too): an error (``strict``), one U+FFFD each (``replace``) or nothing
  (``skip``), and counted.

The tests check the compiled tokens against the Python tokenizers on random Unicode text and random bytes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import NamedTuple

import numba
import numpy as np

from .tokenizer_kernels import (
    IS_SPACE,
    IS_WORD,
    REPLACE,
    SIMPLE,
    SKIP,
    SPLIT,
    STRICT,
    WHITESPACE,
    has_special,
    hash_tokens,
    tokenize_groups,
)

_TAG = re.compile(r"<[^>]*>")  # IMDB reviews carry <br /> tags

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # runs of letters/digits, inner apostrophes kept: don't, o'brien


def simple_tokenize(text: str) -> list[str]:
    """Lowercase, ``<...>`` tags removed, runs of letters/digits with inner apostrophes (``don't``, ``o'brien``)."""
    return _WORD.findall(_TAG.sub(" ", text.lower()))


def whitespace_tokenize(text: str) -> list[str]:
    """The tutorial's tokenizer: ``[w.lower() for w in f.split()]``."""
    return text.lower().split()


def split_tokenize(text: str) -> list[str]:
    """The text's own tokens, case kept: ``text.split()`` (gensim's LineSentence and corpus_file)."""
    return text.split()


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "simple": simple_tokenize,
    "whitespace": whitespace_tokenize,
    "split": split_tokenize,
}

MODES = {"simple": SIMPLE, "whitespace": WHITESPACE, "split": SPLIT}
ERRORS = {"strict": STRICT, "replace": REPLACE, "skip": SKIP}
SPECIAL = ("\u0130", "\u03a3")  # lowercased by Python: "İ".lower() is two code points, Σ depends on its neighbours
_SPECIAL_BYTES = tuple(c.encode() for c in SPECIAL)

_TABLES: list = []


def tables() -> tuple[np.ndarray, np.ndarray]:
    """(lower int32[0x110000], classes uint8[0x110000]): str.lower of each code point, and whether the
    lowercased code point is a letter/digit (IS_WORD) or white space (IS_SPACE). Built once per process."""
    if not _TABLES:
        n = 0x110000
        chars = [chr(c) for c in range(n)]
        lowered = [s.lower() for s in chars]
        lower = np.array([ord(s) if len(s) == 1 else ord(s[0]) for s in lowered], dtype=np.int32)
        lower[0x3A3] = 0x3C3  # never used: documents with a special code point are lowercased by Python
        classes = np.zeros(n, dtype=np.uint8)
        classes[[i for i, s in enumerate(chars) if s.isalnum()]] = IS_WORD
        classes[[i for i, s in enumerate(chars) if s.isspace()]] = IS_SPACE
        _TABLES.extend([lower, classes])
    return _TABLES[0], _TABLES[1]


_PRELOWER_BAD = [0]  # bytes that are not UTF-8 decoded by prelower (replace, skip): the kernel never sees them


def _counting(replacement: str):
    def handler(e: UnicodeDecodeError):
        _PRELOWER_BAD[0] += e.end - e.start
        return replacement, e.end

    return handler


codecs.register_error("fastw2v-replace", _counting("\ufffd"))
codecs.register_error("fastw2v-skip", _counting(""))


def prelower(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, errors: int):
    """(data, starts, ends, bad bytes decoded): the block with every document that holds a special code point
    lowercased by Python (exact ``str.lower``, final sigma included); other documents are copied as they are.
    Bytes that are not UTF-8 stay as they are for strict (the kernel reports them); for replace and skip they
    are decoded here as the kernel would, and counted."""
    raw = data.tobytes()
    handler = {STRICT: "surrogateescape", REPLACE: "fastw2v-replace", SKIP: "fastw2v-skip"}[errors]
    _PRELOWER_BAD[0] = 0
    pieces, new_starts, new_ends, pos = [], np.empty_like(starts), np.empty_like(ends), 0
    for d in range(starts.shape[0]):
        doc = raw[starts[d] : ends[d]]
        if any(s in doc for s in _SPECIAL_BYTES):
            doc = doc.decode("utf-8", handler).lower().encode("utf-8", "surrogateescape")
        pieces.append(doc)
        new_starts[d] = pos
        pos += len(doc)
        new_ends[d] = pos
        pieces.append(b"\n")
        pos += 1
    return np.frombuffer(b"".join(pieces), dtype=np.uint8), new_starts, new_ends, _PRELOWER_BAD[0]


class Tokens(NamedTuple):
    """One tokenized block: token t is tok_bytes[tok_off[t]:tok_off[t] + tok_len[t]] with hash tok_hash[t];
    group g's tokens are group_first[g] .. group_first[g] + group_n[g] - 1, its documents group_docs[g] ..
    group_docs[g + 1] - 1. The arrays are the tokenizer's scratch: valid until its next call."""

    n: int  # tokens
    bad: int  # bytes that were not UTF-8
    first_bad: int  # where the first of them is in the block (strict mode stops there), -1 if none
    doc_tokens: np.ndarray
    group_docs: np.ndarray
    group_first: np.ndarray
    group_n: np.ndarray
    tok_bytes: np.ndarray
    tok_off: np.ndarray
    tok_len: np.ndarray
    tok_hash: np.ndarray


def _group_docs(positions: np.ndarray, total: int, threads: int | None) -> np.ndarray:
    """Documents split into groups of about equal size, one per thread: group g is documents group_docs[g] ..
    group_docs[g + 1] - 1. ``positions``: where each document starts (in bytes or tokens, from 0) of ``total``."""
    n_docs = positions.shape[0]
    groups = max(1, min(threads or numba.get_num_threads(), n_docs, total // 4096 + 1))
    cuts = np.searchsorted(positions, total * np.arange(1, groups) // groups)
    return np.unique(np.concatenate([[0], cuts, [n_docs]])).astype(np.int64)


def given_tokens(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, doc_tokens: np.ndarray, threads: int | None = None
) -> Tokens:
    """``Tokens`` of a block that is already tokenized (UTF-8 bytes, token bounds, tokens per document)."""
    n = starts.shape[0]
    tok_off, tok_len, tok_hash = np.empty(n, np.int64), np.empty(n, np.int32), np.empty(n, np.uint64)
    hash_tokens(data, starts, ends, tok_off, tok_len, tok_hash)
    first_token = np.concatenate([[0], np.cumsum(doc_tokens)]).astype(np.int64)
    group_docs = _group_docs(first_token[:-1], n, threads)
    group_first = first_token[group_docs[:-1]]
    group_n = first_token[group_docs[1:]] - group_first
    return Tokens(
        n, 0, -1, doc_tokens.astype(np.int64), group_docs, group_first, group_n, data, tok_off, tok_len, tok_hash
    )


class Tokenizer:
    """Tokenizes blocks of UTF-8 documents on ``threads`` threads (numba's count by default), as the Python
    tokenizer of the same name does; ``errors`` says what a byte that is not UTF-8 becomes."""

    def __init__(self, tokenizer: str = "simple", errors: str = "strict", threads: int | None = None):
        self.mode, self.errors = MODES[tokenizer], ERRORS[errors]
        self.lower, self.classes = tables()
        self.threads = threads
        self._size = 0
        self.out_ids = np.zeros(0, dtype=np.int32)

    def _scratch(self, span: int) -> None:
        if span > self._size:  # once: blocks are about 4 MiB (np.empty's untouched pages cost no memory)
            self._size = max(span, 1 << 22) * 5 // 4
            self.tok_bytes = np.empty(3 * self._size + 8, dtype=np.uint8)
            self.tok_off = np.empty(self._size, dtype=np.int64)
            self.tok_len = np.empty(self._size, dtype=np.int32)
            self.tok_hash = np.empty(self._size, dtype=np.uint64)
            self.out_ids = np.empty(self._size, dtype=np.int32)

    def tokenize(self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Tokens:
        """The tokens of documents data[starts[d]:ends[d]], in the tokenizer's scratch arrays."""
        decoded_bad = 0
        lo, hi = (int(starts[0]), int(ends[-1])) if starts.shape[0] else (0, 0)
        if self.mode != SPLIT and has_special(data[lo:hi], hi - lo):
            data, starts, ends, decoded_bad = prelower(data, starts, ends, self.errors)
        n_docs = starts.shape[0]
        span = int(ends[-1] - starts[0]) if n_docs else 0
        self._scratch(max(span, 1))
        group_docs = _group_docs(starts - (starts[0] if n_docs else 0), span, self.threads)
        group_out = np.zeros((group_docs.shape[0] - 1, 3), dtype=np.int64)
        doc_tokens = np.zeros(n_docs, dtype=np.int64)
        tokenize_groups(
            data,
            starts,
            ends,
            group_docs,
            self.mode,
            self.errors,
            self.lower,
            self.classes,
            self.tok_bytes,
            self.tok_off,
            self.tok_len,
            self.tok_hash,
            doc_tokens,
            group_out,
        )
        group_first = starts[group_docs[:-1]] - (starts[0] if n_docs else 0)
        bad = group_out[:, 2][group_out[:, 2] >= 0]
        return Tokens(
            int(group_out[:, 0].sum()),
            int(group_out[:, 1].sum()) + decoded_bad,
            int(bad.min()) if bad.size else -1,
            doc_tokens,
            group_docs,
            group_first,
            group_out[:, 0].copy(),
            self.tok_bytes,
            self.tok_off,
            self.tok_len,
            self.tok_hash,
        )
