"""The result: word vectors with gensim's KeyedVectors names, and their file formats.

Formats, chosen by the file name when saving: ``.txt`` word2vec text, ``.bin`` word2vec binary (both load in
gensim's ``KeyedVectors.load_word2vec_format``), ``.npy`` a float32 matrix with a ``.vocab.txt`` word list beside
it. Loading tells the two word2vec formats apart by their first vector, whatever the name.
Every save writes to a temporary name in the same folder and renames it: a file is whole or absent.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

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
        self._norms = None

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

    def vectors_changed(self) -> None:
        """Say that ``vectors`` was written in place (continued training): the cached norms and unit vectors
        are dropped."""
        self._unit = None
        self._norms = None

    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to length 1 (cached); zero rows stay zero."""
        if self._unit is None:
            self._unit = self.vectors / np.maximum(self.norms[:, np.newaxis], 1e-12)
        return self._unit

    def __repr__(self) -> str:
        return f"<fastw2v.Vectors: {len(self):,} words, vector_size={self.vector_size}>"

    def has_index_for(self, key: str) -> bool:
        return key in self.key_to_index

    def get_vecattr(self, key: str, attr: str):
        """gensim's per-word attributes: only ``count`` (the word's corpus count) is kept."""
        if attr != "count" or self.counts is None:
            raise KeyError(f"no attribute {attr!r}: fastw2v vectors keep only 'count'")
        return int(self.counts[self.get_index(key)])

    @property
    def norms(self) -> np.ndarray:
        """Each row's L2 length (cached, as gensim's ``norms``; ``fill_norms(force=True)`` computes it again)."""
        self.fill_norms()
        return self._norms

    @norms.setter
    def norms(self, value) -> None:
        # gensim's code sets ``norms = None`` after changing vectors, to have them computed again
        self._unit = None
        self._norms = None if value is None else np.asarray(value)

    def fill_norms(self, force: bool = False) -> None:
        """Compute the rows' L2 lengths, unless they are cached already, as gensim's ``fill_norms``.

        Parameters
        ----------
        force : bool, optional
            Compute them again even when cached: after writing into ``vectors`` in place.
        """
        if force:
            self.vectors_changed()
        if self._norms is None:
            self._norms = np.linalg.norm(self.vectors, axis=1)

    def get_normed_vectors(self) -> np.ndarray:
        """All vectors scaled to unit L2 length, as gensim's ``get_normed_vectors``.

        Returns
        -------
        numpy.ndarray
            A new ``(len(self), vector_size)`` float32 array, row ``i`` being ``index_to_key[i]``'s unit vector.
            A zero row stays zero (gensim's is nan there).
        """
        return self.unit_vectors.copy()

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The word's vector (read-only), or with ``norm`` its unit vector."""
        v = (self.unit_vectors if norm else self.vectors)[self.get_index(key)]
        v = v.view()
        v.setflags(write=False)
        return v

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """The weighted mean of words' (unit, with ``pre_normalize``) vectors and raw vectors, as gensim's."""
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        weights = np.ones(len(keys), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        if weights.shape[0] != len(keys):
            raise ValueError("keys and weights array must have same number of elements")
        mean, total = np.zeros(self.vector_size, dtype=np.float32), 0.0
        for key, w in zip(keys, weights):
            if isinstance(key, np.ndarray):
                mean += w * key
            elif key in self.key_to_index:
                mean += w * self.get_vector(key, norm=pre_normalize)
            elif not ignore_missing:
                raise KeyError(f"Key '{key}' not present in vocabulary")
            else:
                continue
            total += abs(float(w))
        if total > 0:
            mean /= total
        if post_normalize:
            mean = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return mean

    def most_similar(self, positive=(), negative=(), topn: int | None = 10,
                     restrict_vocab: int | None = None) -> list[tuple[str, float]] | np.ndarray:
        """The ``topn`` words of highest cosine similarity to the mean of the positive (unit) vectors minus the
        negative ones, as gensim's: words, vectors or (word, weight) pairs; the input words are left out of the
        answer; ``topn=None`` gives the similarity of every word."""
        positive, negative = _as_list(positive), _as_list(negative)
        if isinstance(topn, int) and not isinstance(topn, bool) and topn < 1:
            return []
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word or vector")
        keys, weights = [], []
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for item in items:
                if isinstance(item, tuple):  # (key, weight)
                    keys.append(item[0])
                    weights.append(float(item[1]))
                else:
                    keys.append(item)
                    weights.append(sign)
        for key in keys:
            if isinstance(key, str):
                self.get_index(key)  # a KeyError naming the word
        query = self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True, ignore_missing=False)
        exclude = {self.key_to_index[k] for k in keys if isinstance(k, str)}
        return self._best(self.unit_vectors[:restrict_vocab or len(self)] @ query, topn, exclude)

    def _best(self, scores: np.ndarray, topn, exclude: set) -> list[tuple[str, float]] | np.ndarray:
        if not topn:
            return scores
        k = min(topn + len(exclude), scores.shape[0])
        top = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
        order = top[np.argsort(-scores[top], kind="stable")]
        return [(self.index_to_key[i], float(scores[i])) for i in order if i not in exclude][:topn]

    def similar_by_word(self, word: str, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def similar_by_vector(self, vector: np.ndarray, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=(), negative=(), topn: int | None = 10, restrict_vocab: int | None = None):
        """Levy and Goldberg's 3CosMul: the product of the positive cosines over the product of the negative
        ones, each shifted to [0, 1], as gensim's."""
        positive, negative = _as_list(positive), _as_list(negative)
        if isinstance(topn, int) and not isinstance(topn, bool) and topn < 1:
            return []
        if not positive:
            raise ValueError("cannot compute similarity with no input")
        exclude = {self.get_index(w) for w in positive + negative if isinstance(w, str)}
        unit = self.unit_vectors[:restrict_vocab or len(self)]

        def shifted(term):
            v = self.get_vector(term, norm=True) if isinstance(term, str) else np.asarray(term, dtype=np.float32)
            return (1 + unit @ v) / 2

        scores = np.prod([shifted(t) for t in positive], axis=0) / (
            np.prod([shifted(t) for t in negative], axis=0) + 1e-6 if negative else 1 + 1e-6)
        return self._best(scores, topn, exclude)

    def rank_by_centrality(self, words, use_norm: bool = True) -> list[tuple[float, str]]:
        used = [w for w in words if w in self]
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vectors = np.vstack([self.get_vector(w, norm=use_norm) for w in used])
        mean = self.get_mean_vector(list(vectors), post_normalize=True)
        return sorted(zip((float(x) for x in vectors @ mean), used), reverse=True)

    def doesnt_match(self, words) -> str:
        """The word furthest from the mean of the others (words not in the vocabulary are ignored)."""
        return self.rank_by_centrality(words)[-1][1]

    def similarity(self, w1: str, w2: str) -> float:
        return float(self.unit_vectors[self.get_index(w1)] @ self.unit_vectors[self.get_index(w2)])

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine similarity of the means of two sets of words."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")
        a = self.get_mean_vector(list(ws1), pre_normalize=False)
        b = self.get_mean_vector(list(ws2), pre_normalize=False)
        return float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        return (vectors_all @ vector_1) / (np.linalg.norm(vector_1) * np.linalg.norm(vectors_all, axis=1))

    def distance(self, w1: str, w2: str) -> float:
        return 1 - self.similarity(w1, w2)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """1 - cosine similarity to ``other_words`` (all words when empty)."""
        v = self.get_vector(word_or_vector) if isinstance(word_or_vector, str) else word_or_vector
        others = self.vectors if not other_words else self.vectors[[self.get_index(w) for w in other_words]]
        return 1 - self.cosine_similarities(v, others)

    def closer_than(self, key1: str, key2: str) -> list[str]:
        """The words closer to key1 than key2 is."""
        d = self.distances(key1)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        return [self.index_to_key[i] for i in np.flatnonzero(d < d[i2]) if i != i1]

    words_closer_than = closer_than

    def rank(self, key1: str, key2: str) -> int:
        """key2's rank among key1's neighbours (1: the nearest)."""
        return len(self.closer_than(key1, key2)) + 1

    def most_similar_to_given(self, key1: str, keys_list) -> str:
        """The key of ``keys_list`` most similar (cosine) to ``key1``, as gensim's ``most_similar_to_given``.

        Parameters
        ----------
        key1 : str
            The word compared with each of ``keys_list``.
        keys_list : list of str
            The candidates; the first of equally similar ones is chosen.

        Returns
        -------
        str
            The chosen item of ``keys_list``.

        Raises
        ------
        KeyError
            When ``key1`` or a candidate is not in the vocabulary.
        """
        if len(keys_list) == 0:
            raise UserError("most_similar_to_given needs at least one candidate: pass a non-empty keys_list")
        return keys_list[int(np.argmax([self.similarity(key1, key) for key in keys_list]))]

    # -- evaluation ---------------------------------------------------------------------------------
    def evaluate_word_analogies(self, analogies, restrict_vocab: int | None = 300000, case_insensitive: bool = True,
                                dummy4unknown: bool = False, similarity_function: str = "most_similar"):
        """Accuracy on analogy questions, with gensim's ``evaluate_word_analogies`` arguments and result.

        Each question ``a b c expected`` is answered by 3CosAdd over the ``restrict_vocab`` first (most
        frequent) words: the word nearest (cosine) to unit(b) + unit(c) - unit(a), leaving out a, b and c
        themselves and, among the five nearest words, their case variants (with ``case_insensitive``). The
        questions are scored a block at a time as matrix products (``fastw2v.evaluate`` does the same).

        Parameters
        ----------
        analogies : str or os.PathLike
            A file in the questions-words.txt format (``.gz`` and ``.bz2`` are read decompressed): ``: section``
            lines, each followed by lines of four words. Lines of another number of words are skipped.
        restrict_vocab : int or None, optional
            Only the first ``restrict_vocab`` words take part, as questions and as answers (None: all).
        case_insensitive : bool, optional
            Compare words upper-cased; a word with several case variants takes the first (most frequent) one's
            vector. The words in the result are then upper-case.
        dummy4unknown : bool, optional
            Count a question with a word outside the restricted vocabulary as incorrect instead of skipping it.
        similarity_function : str, optional
            Only ``'most_similar'`` (3CosAdd), the one gensim 4 uses whatever this says.

        Returns
        -------
        score : float
            Correct over correct plus incorrect, over all sections (0.0 when no question was scored).
        sections : list of dict
            Per section, in file order, ``{'section': name, 'correct': [(a, b, c, expected), ...],
            'incorrect': [...]}``, then the same for all questions under the name ``'Total accuracy'``.

        Raises
        ------
        fastw2v.UserError
            When the file is missing, not UTF-8, has a line before its first section header, or holds no
            question.
        """
        from .evaluate import gensim_analogies

        if similarity_function != "most_similar":
            raise UserError(f"similarity_function={similarity_function!r}: only 'most_similar' (3CosAdd) is "
                            "implemented, as in gensim 4 (which ignores the argument): leave it out")
        return gensim_analogies(self, os.fspath(analogies), restrict_vocab, case_insensitive, dummy4unknown)

    def evaluate_word_pairs(self, pairs, delimiter: str = "\t", encoding: str = "utf8",
                            restrict_vocab: int | None = 300000, case_insensitive: bool = True,
                            dummy4unknown: bool = False):
        """Correlation of the words' cosine similarity with human judgements, as gensim's
        ``evaluate_word_pairs`` (its arguments, its parsing and its scipy results).

        Parameters
        ----------
        pairs : str or os.PathLike
            A file of ``word1<delimiter>word2<delimiter>score`` lines (the WordSim353 format; ``.gz`` and
            ``.bz2`` are read decompressed); lines that start with ``#`` or do not split into two words and a
            number are skipped.
        delimiter : str, optional
            What separates the three fields.
        encoding : str, optional
            The file's text encoding.
        restrict_vocab : int or None, optional
            Only the first ``restrict_vocab`` words count as known (None: all).
        case_insensitive : bool, optional
            Compare words upper-cased; a word with several case variants takes the first (most frequent) one's
            vector.
        dummy4unknown : bool, optional
            Give a pair with an unknown word similarity 0 instead of skipping it.

        Returns
        -------
        pearson : scipy.stats PearsonRResult
            Pearson's r and its two-sided p-value (``pearson[0]``, ``pearson[1]``).
        spearman : scipy.stats SignificanceResult
            Spearman's rho and its two-sided p-value.
        oov_ratio : float
            Pairs with an unknown word, in percent of the pairs used (with ``dummy4unknown``: of those scored).

        Raises
        ------
        fastw2v.UserError
            When scipy is not installed, the file is missing or not in ``encoding``, or no pair has both words
            known.
        """
        from .evaluate import gensim_word_pairs

        return gensim_word_pairs(self, os.fspath(pairs), delimiter, encoding, restrict_vocab, case_insensitive,
                                 dummy4unknown)

    def to_gensim(self):
        """A ``gensim.models.KeyedVectors`` with these words, vectors and counts (gensim must be installed)."""
        try:
            from gensim.models import KeyedVectors
        except ImportError:
            raise UserError("to_gensim needs gensim: pip install gensim") from None
        kv = KeyedVectors(self.vector_size, count=0, dtype=np.float32)
        kv.add_vectors(self.index_to_key, self.vectors)
        if self.counts is not None:
            kv.allocate_vecattrs(["count"], [np.int64])
            kv.expandos["count"][:] = np.asarray(self.counts, dtype=np.int64)
        return kv

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
        """By the name: .txt / .bin word2vec text / binary, .npy a matrix with a word list beside it; any other
        name, gensim's own KeyedVectors file (``KeyedVectors.load`` reads it), when gensim is installed."""
        ext = os.path.splitext(path)[1].lower()
        if ext not in (".txt", ".bin", ".npy") and _has_gensim():
            self.check_path(os.path.splitext(path)[0] + ".txt")  # the folder's checks
            self.to_gensim().save(path)
            return
        self.check_path(path)
        if ext == ".npy":
            _atomic_write(path, lambda f: np.save(f, self.vectors))
            words = "".join(w + "\n" for w in self.index_to_key).encode("utf-8")
            _atomic_write(_vocab_path(path), lambda f: f.write(words))
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
        with open(path, "rb") as f:
            pickled = f.read(1) == b"\x80"
        if pickled and _has_gensim():  # gensim's KeyedVectors.save (a pickle)
            from gensim.models import KeyedVectors

            kv = KeyedVectors.load(path)
            counts = kv.expandos.get("count")
            return cls(kv.index_to_key, kv.vectors, None if counts is None else np.asarray(counts, dtype=np.int64))
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
                raise UserError(f"word {w!r} is empty or has white space, which word2vec formats cannot hold: "
                                "save as .npy")

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


def _has_gensim() -> bool:
    try:
        import gensim  # noqa: F401
    except ImportError:
        return False
    return True


def _open(path: str, mode: str, **kw):
    """A file, or (by the name, as gensim's smart_open) a .gz or .bz2 one decompressed."""
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, mode, **kw)
    if path.endswith(".bz2"):
        import bz2

        return bz2.open(path, mode, **kw)
    return open(path, mode, **kw)


def _lines(path: str, what: str):
    """The lines of a UTF-8 file, as gensim reads them (split at newlines only, each with its ending)."""
    if not os.path.isfile(path):
        raise UserError(f"no such file {path!r} (the {what} file): pass an existing file")
    with _open(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                raise UserError(f"line {line_no} of {path!r} is not UTF-8: convert the file to UTF-8") from None


def _unitvec(v: np.ndarray, nrm2) -> np.ndarray:
    """gensim's ``matutils.unitvec``: the length and the scaling in float64, then back to the vector's dtype
    (so that cosines, and their ties, are gensim's to the last bit). A zero vector stays as it is."""
    length = nrm2(v)
    return (v.astype(np.float64) * (1.0 / length)).astype(v.dtype) if length > 0 else v


def _as_list(items) -> list:
    """gensim's _ensure_list: one word or vector stands for a list of one."""
    if items is None:
        return []
    if isinstance(items, (str, np.ndarray)):
        return [items]
    return list(items)


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
