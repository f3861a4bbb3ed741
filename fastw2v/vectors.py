"""The result: word vectors with gensim's KeyedVectors names, and their file formats.

Formats, chosen by the file name when saving: ``.txt`` word2vec text, ``.bin`` word2vec binary (both load in
gensim's ``KeyedVectors.load_word2vec_format``), ``.npy`` a float32 matrix with a ``.vocab.txt`` word list beside
it. Loading tells the two word2vec formats apart by their first vector, whatever the name.
Every save writes to a temporary name in the same folder and renames it: a file is whole or absent.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np

from .errors import UserError


class Vectors:
    def __init__(self, index_to_key: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key):
            raise ValueError(f"{len(index_to_key)} words but vectors of shape {vectors.shape}")
        self.index_to_key = list(index_to_key)
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self.vectors = vectors
        self.counts = counts
        self._unit = None

    # -- lookup -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: str) -> bool:
        return word in self.key_to_index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.get_index(word)]

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def get_index(self, word: str) -> int:
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary ({len(self)} words): "
                           "check its spelling and case (the tokenizer lowercases), or lower min_count") from None

    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to length 1 (cached); zero rows stay zero."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = self.vectors / np.maximum(norms, 1e-12)
        return self._unit

    def most_similar(self, positive: str | np.ndarray | Iterable = (), negative: Iterable = (), topn: int = 10,
                     restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """The ``topn`` words of highest cosine similarity to mean(positive) - mean(negative), as gensim.

        Words given as input are left out of the answer.
        """
        if isinstance(positive, (str, np.ndarray)):
            positive = [positive]
        positive, negative = list(positive), list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word or vector")
        unit = self.unit_vectors
        terms, exclude = [], set()
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for item in items:
                if isinstance(item, str):
                    i = self.get_index(item)
                    exclude.add(i)
                    terms.append(sign * unit[i])
                else:
                    terms.append(sign * np.asarray(item, dtype=np.float32))
        query = np.mean(terms, axis=0)
        query /= max(np.linalg.norm(query), 1e-12)
        limit = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        scores = unit[:limit] @ query
        order = np.argsort(-scores)[: topn + len(exclude)]
        return [(self.index_to_key[i], float(scores[i])) for i in order if i not in exclude][:topn]

    def similarity(self, w1: str, w2: str) -> float:
        return float(self.unit_vectors[self.get_index(w1)] @ self.unit_vectors[self.get_index(w2)])

    # -- files --------------------------------------------------------------------------------------
    @staticmethod
    def check_path(path: str) -> None:
        """Fail early, with the fix, when ``save(path)`` could not work."""
        if os.path.splitext(path)[1].lower() not in (".txt", ".bin", ".npy"):
            raise UserError(f"cannot tell the format of {path!r}: name the file .txt, .bin or .npy")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UserError(f"folder {folder!r} does not exist: create it or choose another --output")
        if not os.access(folder, os.W_OK):
            raise UserError(f"cannot write to folder {folder!r}: choose another --output")

    @staticmethod
    def paths_written(path: str) -> list[str]:
        """The files ``save(path)`` writes: path, and for .npy the word list beside it."""
        return [path, _vocab_path(path)] if os.path.splitext(path)[1].lower() == ".npy" else [path]

    def save(self, path: str) -> None:
        self.check_path(path)
        ext = os.path.splitext(path)[1].lower()
        if ext == ".npy":
            _atomic_write(path, lambda f: np.save(f, self.vectors))
            _atomic_write(_vocab_path(path), lambda f: f.write("".join(w + "\n" for w in self.index_to_key).encode("utf-8")))
        else:
            self.save_word2vec_format(path, binary=ext == ".bin")

    @classmethod
    def load(cls, path: str) -> Vectors:
        """A vectors file: ``.npy`` (with its ``.vocab.txt``), else word2vec text or binary, told apart by
        their content (a text file named .bin loads as text)."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise UserError(f"no such vectors file {path!r}: train first (fastw2v train --output {path})")
        if os.path.splitext(path)[1].lower() == ".npy":
            return cls._load_npy(path)
        return cls.load_word2vec_format(path)

    @classmethod
    def _load_npy(cls, path: str) -> Vectors:
        vocab = _vocab_path(path)
        if not os.path.isfile(vocab):
            raise UserError(f"{path!r} has no word list beside it ({os.path.basename(vocab)} is missing): "
                            "copy it along, or save the vectors as .bin or .txt")
        try:
            with open(vocab, encoding="utf-8") as f:
                words = f.read().split("\n")
            if words and words[-1] == "":  # the last line's newline (a file written without one is fine too)
                words.pop()
            matrix = np.load(path, allow_pickle=False)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UserError(f"cannot read {path!r} ({reason[:120]}): is it a file that fastw2v saved?") from None
        if matrix.ndim != 2 or matrix.shape[0] != len(words) or matrix.dtype.kind != "f":
            raise UserError(f"{path!r} holds a {matrix.dtype} array of shape {matrix.shape} for the "
                            f"{len(words):,} words of {os.path.basename(vocab)}: they do not belong together")
        return cls(words, matrix)

    def save_word2vec_format(self, fname: str, binary: bool = False) -> None:
        """word2vec.c's formats: a "V d" header, then per word ``word v1 v2 ...`` (text) or ``word `` followed
        by d little-endian float32 and a newline (binary, as word2vec.c writes it)."""
        for w in self.index_to_key:
            if not w or any(c.isspace() for c in w):
                raise UserError(f"word {w!r} is empty or has white space, which word2vec formats cannot hold: save as .npy")

        def write(f):
            f.write(f"{len(self)} {self.vector_size}\n".encode())
            if binary:
                data = self.vectors.astype("<f4")
                for w, row in zip(self.index_to_key, data):
                    f.write(w.encode("utf-8") + b" " + row.tobytes() + b"\n")
            else:
                # repr-precision floats make the text round-trip exact
                for w, row in zip(self.index_to_key, self.vectors.tolist()):
                    f.write((w + " " + " ".join(map(repr, row)) + "\n").encode("utf-8"))

        _atomic_write(fname, write)

    @classmethod
    def load_word2vec_format(cls, fname: str, binary: bool | None = None) -> Vectors:
        """word2vec.c's text or binary format; binary=None tells them apart by the first vector."""
        with open(fname, "rb") as f:
            header = f.readline().split()
            if len(header) != 2 or not all(h.isdigit() for h in header):
                raise UserError(f"{fname!r} does not start with a 'count dim' header: is it a word2vec file?")
            n, d = int(header[0]), int(header[1])
            if binary is None:
                start = f.tell()
                binary = not _is_text(f.read(4 * d + 64))
                f.seek(start)
            words, vectors = [], np.empty((n, d), dtype=np.float32)
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
                    vectors[i] = np.frombuffer(raw, dtype="<f4")
                else:
                    line = f.readline()
                    if not line:
                        raise UserError(f"{fname!r} ends after {i} of {n} words: the file is truncated")
                    row = _text_vector(line, d)
                    if row is None:
                        raise UserError(f"line {i + 2} of {fname!r} is not a word and {d} numbers "
                                        f"(it has {len(line.split()) - 1} fields after the word): the file is damaged")
                    word, vectors[i] = row
                try:
                    words.append(word.decode("utf-8"))
                except UnicodeDecodeError:
                    raise UserError(f"word {i + 1} of {fname!r} ({word[:40]!r}) is not UTF-8: "
                                    "convert the file to UTF-8") from None
        return cls(words, vectors)


def _is_text(sample: bytes) -> bool:
    """Is the start of the first vector text (a word and numbers), not a word and raw float32 bytes? Raw
    floats are almost never printable UTF-8 (a sample cut inside a character is allowed for)."""
    text = sample.decode("utf-8", errors="replace")
    return text.count("\ufffd") <= 1 and all(c.isprintable() or c in "\t\r\n " for c in text)


def _text_vector(line: bytes, d: int):
    """(word, d floats) from one line of the text format (word2vec.c ends a line with a space), or None."""
    parts = line.split()
    if len(parts) != d + 1:
        return None
    try:
        return parts[0], np.array(parts[1:], dtype=np.float32)
    except ValueError:
        return None


def _vocab_path(npy_path: str) -> str:
    return os.path.splitext(npy_path)[0] + ".vocab.txt"


def _atomic_write(path: str, write) -> None:
    folder, base = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    _remove_stale_tmp(folder, f".{base}.tmp")
    tmp = os.path.join(folder, f".{base}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _remove_stale_tmp(folder: str, prefix: str) -> None:
    """Temporary files ``PREFIX<pid>`` left by saves whose process was killed (its pid no longer runs)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):]
        if name.startswith(prefix) and pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's process, or a system that cannot tell: leave it
        return True
    return True
