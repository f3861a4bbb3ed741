"""``Vectors``: word vectors with gensim 4.4's ``KeyedVectors`` methods and arguments, the result of
``fastw2v.train`` and ``model.wv`` of ``fastw2v.Word2Vec``.

The class is put together by layer: ``VectorsCore`` (vectors_core.py) holds the words, their vectors and
attributes, lookup, adding vectors and the nearest-neighbour queries; ``VectorFileMethods`` (vector_files.py) the
files (``save`` / ``load`` by name, word2vec.c's formats with gensim's arguments); this module adds gensim's other
queries, the evaluation methods and ``to_gensim``.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from .errors import UserError
from .evaluate import gensim_analogies, gensim_word_pairs
from .vector_files import VectorFileMethods
from .vectors_core import VectorsCore, as_terms, checked_topn, cosine, is_key


class Vectors(VectorFileMethods, VectorsCore):
    """Words and their vectors, with gensim 4.4's ``KeyedVectors`` methods and arguments (``model.wv``).

    Per-word attributes live in ``expandos`` as in gensim: ``expandos['count']`` is the words' corpus counts, also
    read and set as ``counts``. ``vectors_lockf`` holds gensim's lock factors: one value for all words (the
    default, ``np.ones(1)``) or one per word.
    """

    def set_vecattr(self, key, attr: str, val) -> None:
        """Set the key's value of a per-word attribute (its array is made at the first value's type)."""
        self.allocate_vecattrs([attr], [type(val)])
        self.expandos[attr][self.get_index(key)] = val

    def get_vecattr(self, key, attr: str):
        """The key's value of a per-word attribute, as gensim's (``count``: the word's corpus count)."""
        index = self.get_index(key)
        if attr not in self.expandos:
            have = ", ".join(map(repr, self.expandos)) or "none"
            raise KeyError(f"no per-word attribute {attr!r} (these vectors have {have}): set it with set_vecattr")
        return self.expandos[attr][index]

    def get_normed_vectors(self) -> np.ndarray:
        """All vectors scaled to unit L2 length, as gensim's ``get_normed_vectors``.

        Returns
        -------
        numpy.ndarray
            A new ``(len(self), vector_size)`` float32 array, row ``i`` being ``index_to_key[i]``'s unit vector.
            A zero row stays zero (gensim's is nan there).
        """
        return self.unit_vectors.copy()

    def unit_normalize_all(self) -> None:
        """Scale every vector to length 1 in place, for good (gensim's; a zero row stays zero)."""
        self.vectors[...] = self.unit_vectors
        self.vectors_changed()

    def vectors_for_all(self, keys, allow_inference: bool = True, copy_vecattrs: bool = False) -> Vectors:
        """New vectors for the given keys that are present, each once, in their first order, as gensim's.

        Parameters
        ----------
        keys : iterable of str
            The keys; those not in the vocabulary are left out.
        allow_inference : bool, optional
            gensim's FastText argument; word vectors infer nothing, so it changes nothing here.
        copy_vecattrs : bool, optional
            Copy the per-word attributes (``count`` ...) along; without it, as in gensim, the counts are made up
            in descending order (as ``load_word2vec_format`` does without a vocabulary file).

        Returns
        -------
        Vectors
            The chosen keys' vectors (a copy), with their attributes when ``copy_vecattrs``.
        """
        chosen, seen = [], set()
        for key in keys:
            if key not in seen:
                seen.add(key)
                if key in self.key_to_index:
                    chosen.append(key)
        rows = [self.key_to_index[k] for k in chosen]
        result = type(self)(chosen, self.vectors[rows].astype(np.float32))
        result.vectors = result.vectors.astype(self.vectors.dtype, copy=False)
        result.counts = len(rows) - np.arange(len(rows), dtype=np.int64)
        if copy_vecattrs:
            result.expandos.update({attr: v[rows] for attr, v in self.expandos.items()})
        return result

    def sort_by_descending_frequency(self) -> None:
        """Put the words in order of descending count (stable), as gensim's: rows, attributes and lock factors
        move together."""
        if self.counts is None:
            raise UserError("these vectors have no word counts to sort by: set them first (wv.counts = ...)")
        order = np.argsort(-self.counts, kind="stable")
        self.index_to_key = [self.index_to_key[i] for i in order]
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self.vectors = np.ascontiguousarray(self.vectors[order])
        self.expandos = {attr: v[order] for attr, v in self.expandos.items()}
        if len(self._lockf) > 1:
            self._lockf = self._lockf[order]
        self.vectors_changed()

    def init_sims(self, replace: bool = False) -> None:
        """gensim's deprecated ``init_sims``: the norms, and with ``replace`` ``unit_normalize_all``."""
        self.fill_norms()
        if replace:
            self.unit_normalize_all()

    def word_vec(self, key, norm: bool = False) -> np.ndarray:
        """gensim's deprecated name of ``get_vector``."""
        return self.get_vector(key, norm=norm)

    def most_similar_cosmul(
        self, positive=None, negative=None, topn: int | None = 10, restrict_vocab: int | None = None
    ):
        """Levy and Goldberg's 3CosMul: the product of the positive cosines over the product of the negative
        ones, each shifted to [0, 1], as gensim's (keys, vectors or 2-D arrays of vectors); unlike gensim's,
        ``restrict_vocab`` limits the search to the first rows, as in ``most_similar``."""
        if checked_topn(topn) < 1:
            return []
        positive, negative = as_terms(positive, "positive"), as_terms(negative, "negative")
        if not positive:
            raise UserError("most_similar_cosmul needs at least one positive key or vector: pass positive=[...]")
        exclude = {self.get_index(w) for w in positive + negative if is_key(w)}
        unit = self.unit_vectors[: restrict_vocab or len(self)]

        def shifted(term):
            if is_key(term):
                v = self.get_vector(term, norm=True)
            else:
                v = np.asarray(term, dtype=np.float32)
                if v.shape != (self.vector_size,):
                    raise UserError(
                        f"a vector of shape {v.shape}: pass vectors of length {self.vector_size}, "
                        "or a 2-D array of them"
                    )
            return (1 + unit @ v) / 2

        scores = np.prod([shifted(t) for t in positive], axis=0) / (
            np.prod([shifted(t) for t in negative], axis=0) + 1e-6 if negative else 1 + 1e-6
        )
        return self._best(scores, topn, exclude)

    def rank_by_centrality(self, words, use_norm: bool = True) -> list[tuple[float, str]]:
        """The words found in the vocabulary, each as (cosine to the mean of their vectors, word), the most central
        first, as gensim's; ``use_norm``: the mean of the unit vectors."""
        used = [w for w in words if w in self]
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vectors = np.vstack([self.get_vector(w, norm=use_norm) for w in used])
        mean = self.get_mean_vector(list(vectors), post_normalize=True)
        return sorted(zip((float(x) for x in vectors @ mean), used), reverse=True)

    def doesnt_match(self, words) -> str:
        """The word least similar to the mean of the words' unit vectors (gensim's "which one does not go with the
        others"); words not in the vocabulary are ignored."""
        return self.rank_by_centrality(words)[-1][1]

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine similarity of the means of two sets of keys, as gensim's."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")
        return cosine(
            self.get_mean_vector(list(ws1), pre_normalize=False), self.get_mean_vector(list(ws2), pre_normalize=False)
        )

    def relative_cosine_similarity(self, wa: str, wb: str, topn: int = 10) -> float:
        """Leeuwenberg et al.'s relative cosine similarity, as gensim's: ``similarity(wa, wb)`` over the sum of
        the similarities of wa's ``topn`` nearest words."""
        sims = self.similar_by_word(wa, topn)
        if not len(sims):
            raise ValueError("Cannot calculate relative cosine similarity without any similar words.")
        return float(self.similarity(wa, wb)) / sum(sim for _, sim in sims)

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
    def evaluate_word_analogies(
        self,
        analogies,
        restrict_vocab: int | None = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
        similarity_function: str = "most_similar",
    ):
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
            ``'most_similar'`` (3CosAdd), or ``'most_similar_cosmul'``, which gensim 4.4 takes and ignores: the
            answers are 3CosAdd's either way, as gensim's (with a warning that says so).

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
            question, or ``similarity_function`` is another name.
        """
        if similarity_function not in ("most_similar", "most_similar_cosmul"):
            raise UserError(
                f"similarity_function={similarity_function!r}: pass 'most_similar' (3CosAdd), or leave it out"
            )
        if similarity_function != "most_similar":
            warnings.warn(
                f"similarity_function={similarity_function!r} is ignored, as gensim 4.4 ignores it: the "
                "analogies are answered by 3CosAdd (most_similar)",
                UserWarning,
                stacklevel=2,
            )
        return gensim_analogies(self, os.fspath(analogies), restrict_vocab, case_insensitive, dummy4unknown)

    def evaluate_word_pairs(
        self,
        pairs,
        delimiter: str = "\t",
        encoding: str = "utf8",
        restrict_vocab: int | None = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ):
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
            Pairs with an unknown word, in percent of the file's pairs.

        Raises
        ------
        fastw2v.UserError
            When scipy is not installed, the file is missing or not in ``encoding``, or no pair has both words
            known.
        """
        return gensim_word_pairs(
            self, os.fspath(pairs), delimiter, encoding, restrict_vocab, case_insensitive, dummy4unknown
        )
