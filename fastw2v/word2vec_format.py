"""word2vec.c's file formats, read and written as gensim 4.4 does: a "count dim" header line, then per word
``word v1 v2 ...`` (text) or ``word `` followed by dim little-endian float32 and a newline (binary); the vocabulary
file of ``word count`` lines (word2vec.c's ``-save-vocab``). The ``Vectors`` methods with gensim's arguments
(vector_files.py) are built on these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO

import numpy as np

from .errors import UserError
from .fileio import open_file


def _is_text(sample: bytes) -> bool:
    """Is the start of the first vector text (a word and numbers), not a word and raw float32 bytes? Raw
    floats are almost never printable UTF-8 (a sample cut inside a character is allowed for)."""
    text = sample.decode("utf-8", errors="replace")
    return text.count("\ufffd") <= 1 and all(c.isprintable() or c in "\t\r\n " for c in text)


def _text_vector(line: bytes, d: int, dtype=np.float32):
    """(word, d floats) from one line of the text format (word2vec.c ends a line with a space), or None."""
    parts = line.split()
    if len(parts) != d + 1:
        return None
    try:
        return parts[0], np.array(parts[1:], dtype=dtype)
    except ValueError:
        return None


class WordDecodeError(UserError, UnicodeDecodeError):
    """A word that its encoding cannot decode: a UserError with the fix, and the UnicodeDecodeError gensim
    raises (its tests expect that type)."""

    def __init__(self, message: str, error: UnicodeDecodeError):
        UnicodeDecodeError.__init__(self, error.encoding, error.object, error.start, error.end, error.reason)
        self.message = message

    def __str__(self) -> str:
        return self.message


def decode_word(word: bytes, encoding: str, errors: str, where: str) -> str:
    try:
        return word.decode(encoding, errors=errors)
    except UnicodeDecodeError as e:
        raise WordDecodeError(
            f"{where} ({word[:40]!r}) is not {encoding}: pass the file's encoding (e.g. "
            "encoding='latin-1'), or unicode_errors='replace' to keep the rest",
            e,
        ) from None
    except LookupError:
        raise UserError(
            f"encoding={encoding!r} or unicode_errors={errors!r} is unknown to Python: pass e.g. "
            "encoding='utf8', unicode_errors='strict'"
        ) from None


def read_header(f, fname: str) -> tuple[int, int]:
    """The "count dim" line of a word2vec file."""
    header = f.readline().split()
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise UserError(
            f"{fname!r} does not start with a 'count dim' header: is it a word2vec file? (a text file without "
            "one, such as GloVe's, loads with Vectors.load_word2vec_format(path, no_header=True))"
        )
    return int(header[0]), int(header[1])


def _text_sizes(f, fname: str, limit: int | None) -> tuple[int, int]:
    """(vectors, dim) of a text file without a header: its lines (up to ``limit``) and the first one's numbers."""
    n, d = 0, None
    for line in f:
        if limit and n == limit:
            break
        if d is None:
            d = len(line.split()) - 1
        n += 1
    if not d or d < 1:
        raise UserError(f"{fname!r} has no 'word v1 v2 ...' line: is it a word2vec text file?")
    return n, d


def tell_binary(f, d: int) -> bool:
    """Is the first vector after the header raw float32 (not text)? The file is left where it was."""
    start = f.tell()
    binary = not _is_text(f.read(4 * d + 64))
    f.seek(start)
    return binary


def read_rows(
    f, fname: str, n: int, d: int, binary: bool, encoding: str, errors: str, dtype, first_line: int
) -> Iterator[tuple[str, np.ndarray]]:
    """(word, vector) for the ``n`` vectors after the header (line ``first_line`` on) of word2vec text or binary."""
    for i in range(n):
        if binary:
            word = b""
            while (ch := f.read(1)) != b" ":
                if not ch:
                    raise UserError(f"{fname!r} ends after {i} of {n} words: the file is truncated")
                if ch != b"\n":  # word2vec.c puts a newline after each vector; gensim may not
                    word += ch
            raw = f.read(4 * d)
            if len(raw) != 4 * d:
                raise UserError(f"{fname!r} ends after {i} of {n} words: the file is truncated")
            if i == 0 and _is_text(raw) and _is_number(raw.split()[0] if raw.split() else b""):
                raise UserError(
                    f"{fname!r} holds text after its first word, not float32 bytes: it is the text "
                    "format, pass binary=False"
                )
            row = np.frombuffer(raw, dtype="<f4").astype(dtype)
        else:
            line = f.readline()
            if not line:
                raise UserError(f"{fname!r} ends after {i} of {n} words: the file is truncated")
            parsed = _text_vector(line, d, dtype)
            if parsed is None:
                hint = " (it looks binary: pass binary=True)" if not _is_text(line[: 4 * d]) else ""
                raise UserError(
                    f"line {i + first_line} of {fname!r} is not a word and {d} numbers (it has "
                    f"{len(line.split()) - 1} fields after the word){hint}: the file is damaged"
                )
            word, row = parsed
        yield decode_word(word, encoding, errors, f"word {i + 1} of {fname!r}"), row


def _is_number(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_vocab_file(path: str, errors: str) -> dict[str, int]:
    """word -> count from ``word count`` lines (word2vec.c's -save-vocab), the words decoded as gensim does."""
    counts = {}
    with open_file(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            fields = decode_word(line, "utf8", errors, f"line {line_no} of {path!r}").split()
            if len(fields) != 2 or not fields[1].lstrip("-").isdigit():
                raise UserError(
                    f"line {line_no} of {path!r} is not 'word count': pass a vocabulary file (word2vec.c's -save-vocab)"
                )
            counts[fields[0]] = int(fields[1])
    return counts


def read_word2vec(
    fname: str,
    binary: bool | None,
    encoding: str,
    unicode_errors: str,
    limit: int | None,
    datatype,
    no_header: bool,
) -> tuple[list[str], np.ndarray, int]:
    """(words, their vectors as ``datatype``, the vectors read) of a text or binary file (None: told by the first
    vector); of a word found twice the first vector is kept, so there may be fewer words than vectors read."""
    with open_file(fname, "rb") as f:
        if no_header:
            if binary:
                raise UserError(
                    "no_header works with the text format only (binary files have a header): drop "
                    "no_header, or binary=True"
                )
            n, d = _text_sizes(f, fname, limit)
            f.seek(0)
            binary = False
        else:
            n, d = read_header(f, fname)
        if limit:
            n = min(n, limit)
        binary = tell_binary(f, d) if binary is None else binary
        words, seen, matrix = [], set(), np.empty((n, d), dtype=datatype)
        for word, row in read_rows(f, fname, n, d, binary, encoding, unicode_errors, datatype, 2 - no_header):
            if word not in seen:  # gensim keeps the first of a word found twice
                seen.add(word)
                matrix[len(words)] = row
                words.append(word)
    return words, matrix[: len(words)], n


def check_words(words: Sequence[str], prefix: str) -> None:
    """Each of ``words`` (after ``prefix``) is one non-empty token, as the word2vec formats need."""
    for w in words:
        if not isinstance(w, str) or not (prefix + w) or any(c.isspace() for c in prefix + w):
            raise UserError(
                f"word {prefix + w!r} is empty or has white space, which word2vec formats cannot hold: save as .npy"
            )


def write_word2vec(
    f: IO[bytes],
    words: Sequence[str],
    vectors: np.ndarray,
    order: Sequence[int],
    binary: bool,
    prefix: str = "",
    header: str | None = None,
) -> None:
    """The rows ``order`` of ``vectors`` with their words (``prefix`` before each), after the ``header`` line
    (none when None)."""
    if header is not None:
        f.write(f"{header}\n".encode())
    if binary:
        data = vectors.astype("<f4")
        for i in order:
            f.write((prefix + words[i]).encode("utf-8") + b" " + data[i].tobytes() + b"\n")
    else:
        rows = vectors.tolist()  # Python floats, each a float32 exactly: repr's text reads back the same value
        for i in order:
            f.write((prefix + words[i] + " " + " ".join(map(repr, rows[i])) + "\n").encode("utf-8"))


def write_vocab_file(f: IO[bytes], words: Sequence[str], counts: np.ndarray, order: Sequence[int], prefix: str) -> None:
    """``word count`` lines for the rows ``order``, as word2vec.c's ``-save-vocab``."""
    for i in order:
        f.write(f"{prefix}{words[i]} {counts[i]}\n".encode())
