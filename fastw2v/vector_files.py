"""The files of ``fastw2v.Vectors``: ``save`` and ``load`` by the file's name, and word2vec.c's formats with
gensim's arguments (``fvocab``, ``limit``, ``no_header``, ``intersect_word2vec_format`` ...).

Formats, chosen by the file name when saving: ``.txt`` word2vec text, ``.bin`` word2vec binary (both load in
gensim's ``KeyedVectors.load_word2vec_format``), ``.npy`` a float32 matrix with a ``.vocab.txt`` word list beside
it, any other name gensim's own KeyedVectors file (when gensim is installed). Loading tells the two word2vec formats
apart by their first vector, whatever the name. Every save writes to a temporary name in the same folder and renames
it: a file is whole or absent (unless appended to).
"""

from __future__ import annotations

import os
import warnings
from typing import TypeVar

import numpy as np

from .errors import UserError, setting
from .fileio import atomic_write, open_file
from .word2vec_format import (
    check_words,
    read_header,
    read_rows,
    read_vocab_file,
    read_word2vec,
    tell_binary,
    write_vocab_file,
    write_word2vec,
)

LoadedVectors = TypeVar("LoadedVectors", bound="VectorFileMethods")  # the class load is called on: Vectors


class VectorFileMethods:
    """The file methods that ``fastw2v.Vectors`` mixes in; they work on the core's ``index_to_key``, ``vectors``,
    ``expandos`` and ``vectors_lockf`` (vectors_core.py)."""

    @staticmethod
    def check_path(path: str) -> None:
        """Fail early, with the fix, when ``save(path)`` could not work."""
        if os.path.splitext(path)[1].lower() not in (".txt", ".bin", ".npy"):
            raise UserError(f"cannot tell the format of {path!r}: name the file .txt, .bin or .npy")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UserError(f"folder {folder!r} does not exist: create it, or save to a path in another folder")
        if not os.access(folder, os.W_OK):
            raise UserError(f"cannot write to folder {folder!r}: save to a path in another folder")

    @staticmethod
    def paths_written(path: str) -> list[str]:
        """The files ``save(path)`` writes: path, and for .npy the word list beside it."""
        return [path, _vocab_path(path)] if os.path.splitext(path)[1].lower() == ".npy" else [path]

    def save(self, path: str) -> None:
        """By the name: .txt / .bin word2vec text / binary, .npy a matrix with a word list beside it; any other
        name, gensim's own KeyedVectors file (``KeyedVectors.load`` reads it), when gensim is installed."""
        ext = os.path.splitext(path)[1].lower()
        if ext not in (".txt", ".bin", ".npy") and _has_gensim():
            self.check_path(os.path.splitext(path)[0] + ".txt")  # the folder's checks
            self.to_gensim().save(path)
            return
        self.check_path(path)
        if ext == ".npy":
            atomic_write(path, lambda f: np.save(f, self.vectors))
            words = "".join(w + "\n" for w in self.index_to_key).encode("utf-8")
            atomic_write(_vocab_path(path), lambda f: f.write(words))
        else:
            self.save_word2vec_format(path, binary=ext == ".bin", sort_attr=None)  # the rows as they are

    @classmethod
    def load(cls: type[LoadedVectors], path: str) -> LoadedVectors:
        """A vectors file: ``.npy`` (with its ``.vocab.txt``), else word2vec text or binary, told apart by
        their content (a text file named .bin loads as text)."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise UserError(f"no such vectors file {path!r}: train first, with {setting('output', path)}")
        if os.path.splitext(path)[1].lower() == ".npy":
            return cls._load_npy(path)
        with open(path, "rb") as f:
            pickled = f.read(1) == b"\x80"
        if pickled and _has_gensim():  # gensim's KeyedVectors.save (a pickle)
            from gensim.models import KeyedVectors

            kv = KeyedVectors.load(path)
            result = cls(kv.index_to_key, kv.vectors)
            result.expandos = {attr: np.asarray(v) for attr, v in kv.expandos.items()}
            return result
        return cls.load_word2vec_format(path)

    @classmethod
    def _load_npy(cls: type[LoadedVectors], path: str) -> LoadedVectors:
        vocab = _vocab_path(path)
        if not os.path.isfile(vocab):
            raise UserError(
                f"{path!r} has no word list beside it ({os.path.basename(vocab)} is missing): "
                "copy it along, or save the vectors as .bin or .txt"
            )
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
            raise UserError(
                f"{path!r} holds a {matrix.dtype} array of shape {matrix.shape} for the "
                f"{len(words):,} words of {os.path.basename(vocab)}: they do not belong together"
            )
        return cls(words, matrix)

    def to_gensim(self):
        """A ``gensim.models.KeyedVectors`` with these words, vectors and per-word attributes (counts ...); gensim
        must be installed."""
        try:
            from gensim.models import KeyedVectors
        except ImportError:
            raise UserError("to_gensim needs gensim: pip install gensim") from None
        kv = KeyedVectors(self.vector_size, count=0, dtype=self.vectors.dtype)
        kv.add_vectors(self.index_to_key, self.vectors)
        for attr, values in self.expandos.items():
            kv.allocate_vecattrs([attr], [values.dtype])
            kv.expandos[attr][:] = values
        return kv

    def save_word2vec_format(
        self,
        fname: str,
        fvocab: str | None = None,
        binary: bool = False,
        total_vec: int | None = None,
        write_header: bool = True,
        prefix: str = "",
        append: bool = False,
        sort_attr: str | None = "count",
    ) -> None:
        """word2vec.c's formats, with gensim's arguments: a "V d" header, then per word ``word v1 v2 ...`` (text)
        or ``word `` followed by d little-endian float32 and a newline (binary, as word2vec.c writes it).

        Parameters
        ----------
        fname : str
            The vectors file. It is written whole or not at all (unless ``append``).
        fvocab : str, optional
            Also write ``word count`` lines (the ``sort_attr`` values) to this file, as word2vec.c's
            ``-save-vocab``; ``load_word2vec_format(fname, fvocab)`` reads the counts back.
        binary : bool, optional
            The binary format instead of text.
        total_vec : int, optional
            The count in the header (default: the number of words), for files that other vectors are appended to.
        write_header : bool, optional
            Leave out the header line (the GloVe format) when False.
        prefix : str, optional
            Put before each word (in both files).
        append : bool, optional
            Add to the end of the files instead of replacing them.
        sort_attr : str, optional
            Write the words in descending order of this per-word attribute (stable: the most frequent first with
            ``'count'``); in row order when the vectors have no such attribute (or None).

        Raises
        ------
        fastw2v.UserError
            When a word is empty or holds white space, ``fvocab`` is not a path, or ``fvocab`` is asked for
            without ``sort_attr`` values to write in it.
        """
        check_words(self.index_to_key, prefix)
        values = self._values_to_sort_by(sort_attr, fvocab)
        order = range(len(self)) if values is None else np.argsort(-values, kind="stable").tolist()
        header = f"{len(self) if total_vec is None else total_vec} {self.vector_size}" if write_header else None
        writes = [(fname, lambda f: write_word2vec(f, self.index_to_key, self.vectors, order, binary, prefix, header))]
        if fvocab is not None:
            writes.insert(0, (fvocab, lambda f: write_vocab_file(f, self.index_to_key, values, order, prefix)))
        for path, write in writes:
            if append:
                with open(path, "ab") as f:
                    write(f)
            else:
                atomic_write(os.fspath(path), write)

    def _values_to_sort_by(self, sort_attr: str | None, fvocab) -> np.ndarray | None:
        """save_word2vec_format's ``sort_attr`` values (None: row order), checked with ``fvocab``, which writes them."""
        if fvocab is not None and not isinstance(fvocab, (str, os.PathLike)):
            raise UserError(
                f"fvocab={fvocab!r}: the second argument is the vocabulary file, as in gensim: pass a "
                "path, or binary=True by name"
            )
        values = self.expandos.get(sort_attr) if sort_attr is not None else None
        if values is None and fvocab is not None:
            raise UserError(
                f"cannot write the vocabulary file: these vectors have no {sort_attr!r} attribute: "
                "set the counts first (wv.counts = ...), or leave fvocab out"
            )
        return values

    @classmethod
    def load_word2vec_format(
        cls: type[LoadedVectors],
        fname: str,
        fvocab: str | None = None,
        binary: bool | None = None,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
        limit: int | None = None,
        datatype=np.float32,
        no_header: bool = False,
    ) -> LoadedVectors:
        """word2vec.c's text or binary format, with gensim's arguments.

        Parameters
        ----------
        fname : str
            The vectors file (``.gz`` and ``.bz2`` are read decompressed).
        fvocab : str, optional
            A ``word count`` file (word2vec.c's ``-save-vocab``, or ``save_word2vec_format``'s ``fvocab``): the
            counts. Without it, as in gensim, the counts are made up in descending order (the first word's
            is the number of words, the last's 1). A word missing from it gets count 0.
        binary : bool, optional
            The binary format, or text; None (the default here, gensim's is False) tells them apart by the first
            vector.
        encoding, unicode_errors : str, optional
            How the words are decoded (``unicode_errors='replace'`` or ``'ignore'`` for words cut inside a
            character, as word2vec.c may leave them).
        limit : int, optional
            Read only the first ``limit`` vectors.
        datatype : numpy float type, optional
            The type of ``vectors`` (e.g. ``np.float16`` to save memory).
        no_header : bool, optional
            The text file has no "count dim" line (GloVe's format).

        Returns
        -------
        Vectors
            The words, their vectors and counts; of a word found twice, the first.

        Raises
        ------
        fastw2v.UserError
            When the file is not in the format (or is truncated), a word cannot be decoded (also a
            UnicodeDecodeError), or an argument is not one of the above.
        """
        fname = os.fspath(fname)
        if np.dtype(datatype).kind != "f":
            raise UserError(f"datatype={datatype!r}: pass a numpy float type, e.g. np.float32 or np.float16")
        counts = None if fvocab is None else read_vocab_file(os.fspath(fvocab), unicode_errors)
        words, matrix, n = read_word2vec(fname, binary, encoding, unicode_errors, limit, datatype, no_header)
        if len(words) < n:
            twice = f"{fname!r} holds {n - len(words)} words twice: the first vector of each is kept"
            warnings.warn(twice, UserWarning, stacklevel=2)
        result = cls(words, matrix)
        if matrix.dtype != result.vectors.dtype:  # the constructor's float32, unless datatype says otherwise
            result.vectors = np.ascontiguousarray(matrix)
        result.counts = _counts_of_words(words, n, counts, fname, fvocab)
        return result

    def intersect_word2vec_format(
        self,
        fname: str,
        lockf: float = 0.0,
        binary: bool = False,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
    ) -> int:
        """Take the vectors of a word2vec file for the words it shares with these vectors (pretrained vectors
        to start training from), as gensim's: no word is added, the others keep their vectors.

        Parameters
        ----------
        fname : str
            A word2vec.c text or binary file with vectors of the same size.
        lockf : float, optional
            The lock factor of the words taken (``vectors_lockf``, which becomes one factor per word): 0.0, the
            default, keeps them as they are in training, 1.0 lets training update them.
        binary : bool, optional
            The binary format (None: tell by the first vector).
        encoding, unicode_errors : str, optional
            How the words are decoded.

        Returns
        -------
        int
            How many words took the file's vectors.

        Raises
        ------
        fastw2v.UserError
            When the file is not in the format or its vectors have another size.
        """
        fname = os.fspath(fname)
        rows = []
        with open_file(fname, "rb") as f:
            n, d = read_header(f, fname)
            if d != self.vector_size:
                raise UserError(
                    f"{fname!r} holds vectors of size {d}, these are of size {self.vector_size}: pass "
                    "a file of the same size"
                )
            binary = tell_binary(f, d) if binary is None else binary
            for word, row in read_rows(f, fname, n, d, binary, encoding, unicode_errors, self.vectors.dtype, 2):
                i = self.key_to_index.get(word)
                if i is not None:
                    self.vectors[i] = row
                    rows.append(i)
        if rows:
            if len(self.vectors_lockf) != len(self):
                self.vectors_lockf = np.full(len(self), self.vectors_lockf[0], dtype=np.float32)
            self.vectors_lockf[rows] = lockf
            self.vectors_changed()
        return len(set(rows))


def _has_gensim() -> bool:
    try:
        import gensim  # noqa: F401
    except ImportError:
        return False
    return True


def _vocab_path(npy_path: str) -> str:
    return os.path.splitext(npy_path)[0] + ".vocab.txt"


def _counts_of_words(words: list[str], n: int, counts: dict[str, int] | None, fname: str, fvocab) -> np.ndarray:
    """load_word2vec_format's counts: those of the vocabulary file (0 for a word it lacks, with a warning), or
    without one, as gensim's, made up in descending order from ``n``, the vectors read."""
    if counts is None:
        return n - np.arange(len(words), dtype=np.int64)
    missing = [w for w in words if w not in counts]
    if missing:
        warnings.warn(
            f"{len(missing)} words of {fname!r} are not in {os.fspath(fvocab)!r} (e.g. {missing[0]!r}): their "
            "count is 0",
            UserWarning,
            stacklevel=3,
        )
    return np.array([counts.get(w, 0) for w in words], dtype=np.int64)
