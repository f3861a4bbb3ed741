"""The result: word vectors with gensim 4.4's KeyedVectors methods and arguments, and their file formats.

``Vectors`` stands in for gensim's ``KeyedVectors`` as ``model.wv``: lookups (one key or a list), adding and
replacing vectors, per-word attributes (``expandos``, with the counts), lock factors, the similarity queries (keys,
vectors, 2-D arrays of vectors, numpy integers where gensim takes them), evaluation, and gensim's word2vec-format
options (``fvocab``, ``limit``, ``no_header``, ``intersect_word2vec_format`` ...).

Formats, chosen by the file name when saving: ``.txt`` word2vec text, ``.bin`` word2vec binary (both load in
gensim's ``KeyedVectors.load_word2vec_format``), ``.npy`` a float32 matrix with a ``.vocab.txt`` word list beside
it. Loading tells the two word2vec formats apart by their first vector, whatever the name.
Every save writes to a temporary name in the same folder and renames it: a file is whole or absent.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from numbers import Integral

import numpy as np

from .errors import UserError


class Vectors:
    """Words and their vectors, with gensim 4.4's ``KeyedVectors`` methods and arguments (``model.wv``).

    Per-word attributes live in ``expandos`` as in gensim: ``expandos['count']`` is the words' corpus counts, also
    read and set as ``counts``. ``vectors_lockf`` holds gensim's lock factors: one value for all words (the
    default, ``np.ones(1)``) or one per word.
    """

    def __init__(self, index_to_key: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key):
            raise ValueError(f"{len(index_to_key)} words but vectors of shape {vectors.shape}")
        self.index_to_key = list(index_to_key)
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self.vectors = vectors
        self.expandos = {}
        self.counts = counts
        self._lockf = np.ones(1, dtype=np.float32)
        self._unit = None
        self._norms = None

    # -- lookup -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def __getitem__(self, key_or_keys) -> np.ndarray:
        """A key's vector (a view of its row), or for a list of keys a new matrix of their vectors, as gensim's."""
        if _is_key(key_or_keys):
            return self.vectors[self.get_index(key_or_keys)]
        return np.vstack([self.vectors[self.get_index(key)] for key in key_or_keys])

    def __setitem__(self, keys, weights) -> None:
        """``wv['w'] = vector`` or ``wv[['a', 'b']] = matrix``: gensim's ``add_vectors(..., replace=True)``."""
        if _is_key(keys):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        self.add_vectors(list(keys), weights, replace=True)

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def get_index(self, key, default=None) -> int:
        """The key's row, as gensim's: an int key not in the vocabulary is taken as a row number when in range;
        ``default`` (when not None) instead of a KeyError for a missing key."""
        i = self.key_to_index.get(key, -1)
        if i >= 0:
            return i
        if isinstance(key, (int, np.integer)) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise KeyError(
            f"word {key!r} is not in the vocabulary ({len(self)} words): "
            "check its spelling and case (the tokenizer lowercases), or lower min_count"
        )

    def has_index_for(self, key) -> bool:
        return self.get_index(key, -1) >= 0

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

    # -- per-word attributes ------------------------------------------------------------------------
    @property
    def counts(self) -> np.ndarray | None:
        """The words' corpus counts (int64, row order): ``expandos['count']``, or None when unknown."""
        return self.expandos.get("count")

    @counts.setter
    def counts(self, value) -> None:
        if value is None:
            self.expandos.pop("count", None)
            return
        value = np.asarray(value)
        if value.shape != (len(self),) or (value.size and value.dtype.kind not in "iu"):
            raise ValueError(f"{len(self)} words but counts of shape {value.shape} and type {value.dtype}")
        self.expandos["count"] = value.astype(np.int64, copy=False)

    @property
    def vectors_lockf(self) -> np.ndarray:
        """gensim's lock factors (float32): a training update of a word's vector is scaled by its factor (0.0
        leaves it as it is). One value applies to every word; else there is one per word."""
        return self._lockf

    @vectors_lockf.setter
    def vectors_lockf(self, value) -> None:
        value = np.asarray(value, dtype=np.float32)
        if value.ndim != 1 or len(value) not in (1, len(self)):
            raise UserError(
                f"vectors_lockf of shape {value.shape} for {len(self)} words: pass one factor for all "
                f"words, np.ones(1), or one per word, np.ones({len(self)})"
            )
        self._lockf = value

    def allocate_vecattrs(self, attrs=None, types=None) -> None:
        """Make sure ``expandos`` holds an array for each of ``attrs`` (of the matching numpy type of ``types``),
        one value per word, as gensim's; without arguments, resize the existing ones to the vocabulary."""
        if attrs is None:
            attrs = list(self.expandos)
            types = [self.expandos[attr].dtype for attr in attrs]
        attrs, types = list(attrs), list(types)
        if len(attrs) != len(types):
            raise UserError(f"{len(attrs)} attributes but {len(types)} types: pass one type per attribute")
        for attr, t in zip(attrs, types):
            t = np.int64 if t is int else object if t is str else t
            old = self.expandos.get(attr)
            if old is None:
                self.expandos[attr] = np.zeros(len(self), dtype=t)
                continue
            if not np.issubdtype(t, old.dtype):
                raise TypeError(
                    f"Can't allocate type {t} for attribute {attr}, conflicts with its existing type {old.dtype}"
                )
            if len(old) != len(self):
                grown = np.zeros(len(self), dtype=old.dtype)
                grown[: min(len(old), len(self))] = old[: len(self)]
                self.expandos[attr] = grown

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

    # -- adding and replacing vectors ---------------------------------------------------------------
    def add_vectors(self, keys, weights, extras=None, replace: bool = False) -> None:
        """Append new keys with their vectors, as gensim's: a key already present keeps its vector, or with
        ``replace`` takes the new one. The other per-word attributes of a new key are 0, and its lock factor
        1.0 (when there is one per word).

        Parameters
        ----------
        keys : str or list of str
            One key or several; a key repeated in the list counts as present from its second time on.
        weights : numpy.ndarray or list of numpy.ndarray
            One vector, or a ``(len(keys), vector_size)`` matrix (or list of rows).
        extras : dict of (str, numpy.ndarray), optional
            Per-word attributes of the keys (e.g. ``{'count': counts}``), one value per key, set for new keys and
            (with ``replace``) for present ones.
        replace : bool, optional
            Give present keys the new vectors (and extras).

        Raises
        ------
        fastw2v.UserError
            When a key is not a str, or the weights (or an extra) do not hold one vector (value) per key.
        """
        keys, weights, extras = self._checked_additions(keys, weights, extras)
        new, old, old_rows = [], [], []
        for i, key in enumerate(keys):
            if not isinstance(key, str):
                raise UserError(f"key {key!r} is a {type(key).__name__}: keys are words, pass a str")
            if key in self.key_to_index:
                old.append(i)
                old_rows.append(self.key_to_index[key])
            else:
                self.key_to_index[key] = len(self.index_to_key)
                self.index_to_key.append(key)
                new.append(i)
        before = self.vectors.shape[0]
        if new:
            self.vectors = np.ascontiguousarray(np.concatenate([self.vectors, weights[new].astype(self.vectors.dtype)]))
            self.allocate_vecattrs()
            self.allocate_vecattrs(list(extras), [v.dtype for v in extras.values()])
            for attr, v in extras.items():
                self.expandos[attr][before:] = v[new]
            if len(self._lockf) > 1:  # one factor per word (a single one applies to all, new words too)
                self._lockf = np.concatenate([self._lockf, np.ones(len(new), dtype=np.float32)])
        else:
            self.allocate_vecattrs(list(extras), [v.dtype for v in extras.values()])
        if replace and old:
            self.vectors[old_rows] = weights[old]
            for attr, v in extras.items():
                self.expandos[attr][old_rows] = v[old]
        self.vectors_changed()

    def _checked_additions(self, keys, weights, extras):
        """``add_vectors``' arguments as (list of keys, (n, d) matrix, extras as arrays), or a one-line error."""
        if _is_key(keys):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        keys, weights = list(keys), np.asarray(weights)
        if weights.ndim != 2 or weights.shape != (len(keys), self.vector_size):
            raise UserError(
                f"{len(keys)} keys but weights of shape {weights.shape}: pass one vector of length "
                f"{self.vector_size} per key, a ({len(keys)}, {self.vector_size}) matrix"
            )
        extras = {attr: np.asarray(v) for attr, v in (extras or {}).items()}
        for attr, v in extras.items():
            if v.shape[:1] != (len(keys),):
                raise UserError(f"extras[{attr!r}] has shape {v.shape} for {len(keys)} keys: pass one value per key")
        return keys, weights, extras

    def add_vector(self, key: str, vector) -> int:
        """Add one key and its vector, as gensim's: a key already present keeps its vector (``wv[key] = vector``
        replaces it). Returns the key's row."""
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        return self.key_to_index[key]

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
        result = Vectors(chosen, self.vectors[rows].astype(np.float32))
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

    # -- similarity ---------------------------------------------------------------------------------
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

    def unit_normalize_all(self) -> None:
        """Scale every vector to length 1 in place, for good (gensim's; a zero row stays zero)."""
        self.vectors[...] = self.unit_vectors
        self.vectors_changed()

    def init_sims(self, replace: bool = False) -> None:
        """gensim's deprecated ``init_sims``: the norms, and with ``replace`` ``unit_normalize_all``."""
        self.fill_norms()
        if replace:
            self.unit_normalize_all()

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        """The key's vector (read-only), or with ``norm`` its unit vector."""
        v = (self.unit_vectors if norm else self.vectors)[self.get_index(key)]
        v = v.view()
        v.setflags(write=False)
        return v

    def word_vec(self, key, norm: bool = False) -> np.ndarray:
        """gensim's deprecated name of ``get_vector``."""
        return self.get_vector(key, norm=norm)

    def get_mean_vector(
        self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False, ignore_missing: bool = True
    ) -> np.ndarray:
        """The weighted mean of keys' (unit, with ``pre_normalize``) vectors and raw vectors, as gensim's."""
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        weights = np.ones(len(keys), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        if weights.shape[0] != len(keys):
            raise ValueError("keys and weights array must have same number of elements")
        mean, total = np.zeros(self.vector_size, dtype=np.float32), 0.0
        for key, w in zip(keys, weights):
            if isinstance(key, np.ndarray):
                if key.shape != (self.vector_size,):
                    raise UserError(
                        f"a vector of shape {key.shape} among the keys: pass vectors of length "
                        f"{self.vector_size}, or a 2-D array of them"
                    )
                mean += w * key
            elif self.has_index_for(key):
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

    def most_similar(
        self,
        positive=None,
        negative=None,
        topn: int | None = 10,
        clip_start: int = 0,
        clip_end: int | None = None,
        restrict_vocab: int | None = None,
        indexer=None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The ``topn`` keys of highest cosine similarity to the mean of the positive (unit) vectors minus the
        negative ones, as gensim's.

        Parameters
        ----------
        positive, negative : key, vector, 2-D array, or list of keys, vectors or (key or vector, weight) pairs
            What the query adds and subtracts; a 2-D array is a list of its rows. A pair's weight replaces the
            default 1.0 (positive) or -1.0 (negative). The input keys are left out of the answer.
        topn : int or None, optional
            How many (key, similarity) pairs to return; None: the similarity of every key, as an array.
        clip_start, clip_end : int, optional
            Search only rows ``clip_start:clip_end``.
        restrict_vocab : int, optional
            Search only the first ``restrict_vocab`` rows (the most frequent words); overrides the clips.
        indexer : object, optional
            gensim's approximate-neighbour indexer: its ``most_similar(vector, topn)`` answers instead.

        Returns
        -------
        list of (str, float) or numpy.ndarray
            Most similar first; or with ``topn=None`` the similarities of rows ``clip_start:clip_end``.

        Raises
        ------
        KeyError
            When a key is not in the vocabulary.
        fastw2v.UserError
            When there is no key or vector, a vector has the wrong length, or topn is not an int or None.
        """
        if _check_topn(topn) < 1:
            return []
        positive, negative = _as_list(positive, "positive"), _as_list(negative, "negative")
        if not positive and not negative:
            raise UserError("most_similar needs at least one key or vector: pass positive=[...] or negative=[...]")
        keys, weights = _weighted_terms(positive, negative)
        for key in keys:
            if _is_key(key):
                self.get_index(key)  # a KeyError naming the word
        query = self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True, ignore_missing=False)
        if indexer is not None and isinstance(topn, Integral):
            return indexer.most_similar(query, topn)
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        clip_start, clip_end = int(clip_start), int(clip_end or len(self))
        exclude = {self.get_index(k) - clip_start for k in keys if _is_key(k)}
        return self._best(self.unit_vectors[clip_start:clip_end] @ query, topn, exclude, clip_start)

    def _best(self, scores: np.ndarray, topn, exclude: set, offset: int = 0) -> list[tuple[str, float]] | np.ndarray:
        if topn is None:
            return scores
        k = min(topn + len(exclude), scores.shape[0])
        if k < 1:
            return []
        top = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
        order = top[np.argsort(-scores[top], kind="stable")]
        return [(self.index_to_key[i + offset], float(scores[i])) for i in order if i not in exclude][:topn]

    def similar_by_word(self, word: str, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def similar_by_vector(self, vector: np.ndarray, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(
        self, positive=None, negative=None, topn: int | None = 10, restrict_vocab: int | None = None
    ):
        """Levy and Goldberg's 3CosMul: the product of the positive cosines over the product of the negative
        ones, each shifted to [0, 1], as gensim's (keys, vectors or 2-D arrays of vectors); unlike gensim's,
        ``restrict_vocab`` limits the search to the first rows, as in ``most_similar``."""
        if _check_topn(topn) < 1:
            return []
        positive, negative = _as_list(positive, "positive"), _as_list(negative, "negative")
        if not positive:
            raise UserError("most_similar_cosmul needs at least one positive key or vector: pass positive=[...]")
        exclude = {self.get_index(w) for w in positive + negative if _is_key(w)}
        unit = self.unit_vectors[: restrict_vocab or len(self)]

        def shifted(term):
            if _is_key(term):
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
        """The cosine of two keys' vectors, computed as gensim's (and as ``n_similarity`` of one key each)."""
        return _cosine(self[w1], self[w2])

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine similarity of the means of two sets of keys, as gensim's."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")
        return _cosine(
            self.get_mean_vector(list(ws1), pre_normalize=False), self.get_mean_vector(list(ws2), pre_normalize=False)
        )

    def relative_cosine_similarity(self, wa: str, wb: str, topn: int = 10) -> float:
        """Leeuwenberg et al.'s relative cosine similarity, as gensim's: ``similarity(wa, wb)`` over the sum of
        the similarities of wa's ``topn`` nearest words."""
        sims = self.similar_by_word(wa, topn)
        if not len(sims):
            raise ValueError("Cannot calculate relative cosine similarity without any similar words.")
        return float(self.similarity(wa, wb)) / sum(sim for _, sim in sims)

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        return (vectors_all @ vector_1) / (np.linalg.norm(vector_1) * np.linalg.norm(vectors_all, axis=1))

    def distance(self, w1: str, w2: str) -> float:
        return 1 - self.similarity(w1, w2)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """1 - cosine similarity to ``other_words`` (all words when empty)."""
        v = self.get_vector(word_or_vector) if _is_key(word_or_vector) else word_or_vector
        others = self.vectors if not len(other_words) else self.vectors[[self.get_index(w) for w in other_words]]
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
        from .evaluate import gensim_analogies

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
            Pairs with an unknown word, in percent of the pairs used (with ``dummy4unknown``: of those scored).

        Raises
        ------
        fastw2v.UserError
            When scipy is not installed, the file is missing or not in ``encoding``, or no pair has both words
            known.
        """
        from .evaluate import gensim_word_pairs

        return gensim_word_pairs(
            self, os.fspath(pairs), delimiter, encoding, restrict_vocab, case_insensitive, dummy4unknown
        )

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
            self.save_word2vec_format(path, binary=ext == ".bin", sort_attr=None)  # the rows as they are

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
            result = cls(kv.index_to_key, kv.vectors)
            result.expandos = {attr: np.asarray(v) for attr, v in kv.expandos.items()}
            return result
        return cls.load_word2vec_format(path)

    @classmethod
    def _load_npy(cls, path: str) -> Vectors:
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
        if fvocab is not None and not isinstance(fvocab, (str, os.PathLike)):
            raise UserError(
                f"fvocab={fvocab!r}: the second argument is the vocabulary file, as in gensim: pass a "
                "path, or binary=True by name"
            )
        for w in self.index_to_key:
            if not isinstance(w, str) or not (prefix + w) or any(c.isspace() for c in prefix + w):
                raise UserError(
                    f"word {prefix + w!r} is empty or has white space, which word2vec formats cannot hold: save as .npy"
                )
        values = self.expandos.get(sort_attr) if sort_attr is not None else None
        if values is None:
            if fvocab is not None:
                raise UserError(
                    f"cannot write the vocabulary file: these vectors have no {sort_attr!r} attribute: "
                    "set the counts first (wv.counts = ...), or leave fvocab out"
                )
            order = range(len(self))
        else:
            order = np.argsort(-values, kind="stable").tolist()
        mode = "ab" if append else "wb"

        def write_vocab(f):
            for i in order:
                f.write(f"{prefix}{self.index_to_key[i]} {values[i]}\n".encode())

        def write(f):
            if write_header:
                f.write(f"{len(self) if total_vec is None else total_vec} {self.vector_size}\n".encode())
            if binary:
                data = self.vectors.astype("<f4")
                for i in order:
                    f.write((prefix + self.index_to_key[i]).encode("utf-8") + b" " + data[i].tobytes() + b"\n")
            else:
                # repr-precision floats make the text round-trip exact
                rows = self.vectors.tolist()
                for i in order:
                    f.write((prefix + self.index_to_key[i] + " " + " ".join(map(repr, rows[i])) + "\n").encode("utf-8"))

        for path, writer in ([(fvocab, write_vocab)] if fvocab is not None else []) + [(fname, write)]:
            if append:
                with open(path, mode) as f:
                    writer(f)
            else:
                _atomic_write(os.fspath(path), writer)

    @classmethod
    def load_word2vec_format(
        cls,
        fname: str,
        fvocab: str | None = None,
        binary: bool | None = None,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
        limit: int | None = None,
        datatype=np.float32,
        no_header: bool = False,
    ) -> Vectors:
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
        counts = None if fvocab is None else _read_vocab_file(os.fspath(fvocab), unicode_errors)
        with _open(fname, "rb") as f:
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
                n, d = _read_header(f, fname)
            if limit:
                n = min(n, limit)
            binary = _tell_binary(f, d) if binary is None else binary
            words, seen, matrix = [], set(), np.empty((n, d), dtype=datatype)
            for word, row in _read_rows(f, fname, n, d, binary, encoding, unicode_errors, datatype, 2 - no_header):
                if word not in seen:  # gensim keeps the first of a word found twice
                    seen.add(word)
                    matrix[len(words)] = row
                    words.append(word)
        if len(words) < n:
            warnings.warn(
                f"{fname!r} holds {n - len(words)} words twice: the first vector of each is kept",
                UserWarning,
                stacklevel=2,
            )
        result = cls(words, matrix[: len(words)])
        if matrix.dtype != result.vectors.dtype:  # the constructor's float32, unless datatype says otherwise
            result.vectors = np.ascontiguousarray(matrix[: len(words)])
        if counts is None:
            result.counts = n - np.arange(len(words), dtype=np.int64)
        else:
            missing = [w for w in words if w not in counts]
            if missing:
                warnings.warn(
                    f"{len(missing)} words of {fname!r} are not in {os.fspath(fvocab)!r} (e.g. "
                    f"{missing[0]!r}): their count is 0",
                    UserWarning,
                    stacklevel=2,
                )
            result.counts = np.array([counts.get(w, 0) for w in words], dtype=np.int64)
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
        with _open(fname, "rb") as f:
            n, d = _read_header(f, fname)
            if d != self.vector_size:
                raise UserError(
                    f"{fname!r} holds vectors of size {d}, these are of size {self.vector_size}: pass "
                    "a file of the same size"
                )
            binary = _tell_binary(f, d) if binary is None else binary
            for word, row in _read_rows(f, fname, n, d, binary, encoding, unicode_errors, self.vectors.dtype, 2):
                i = self.key_to_index.get(word)
                if i is not None:
                    self.vectors[i] = row
                    rows.append(i)
        if rows:
            if len(self._lockf) != len(self):
                self._lockf = np.full(len(self), self._lockf[0], dtype=np.float32)
            self._lockf[rows] = lockf
            self.vectors_changed()
        return len(set(rows))


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


def _weighted_terms(positive: list, negative: list) -> tuple[list, list[float]]:
    """most_similar's query terms: each key or vector with its weight, 1.0 (positive) or -1.0 (negative) unless
    given as a (key or vector, weight) pair."""
    keys, weights = [], []
    for sign, items in ((1.0, positive), (-1.0, negative)):
        for item in items:
            if _is_key(item) or isinstance(item, np.ndarray):
                keys.append(item)
                weights.append(sign)
                continue
            try:
                key, weight = item
            except (TypeError, ValueError):
                raise UserError(
                    f"{item!r} is neither a key, a vector nor a (key, weight) pair: pass "
                    "words, vectors or (word, weight) pairs"
                ) from None
            keys.append(key)
            weights.append(float(weight))
    return keys, weights


def _unitvec(v: np.ndarray, nrm2) -> np.ndarray:
    """gensim's ``matutils.unitvec``: the length and the scaling in float64, then back to the vector's dtype
    (so that cosines, and their ties, are gensim's to the last bit). A zero vector stays as it is."""
    length = nrm2(v)
    return (v.astype(np.float64) * (1.0 / length)).astype(v.dtype) if length > 0 else v


def _is_key(x) -> bool:
    """A key as gensim takes one: a word, or a row number."""
    return isinstance(x, (str, int, np.integer))


def _check_topn(topn) -> int:
    """``topn`` as an int (None, all similarities, counts as 1 here), as gensim takes it: any integer type."""
    if topn is None:
        return 1
    if not isinstance(topn, Integral):
        raise UserError(f"topn={topn!r}: pass an int (how many neighbours), or None for every similarity")
    return int(topn)


def _as_list(items, name: str = "positive") -> list:
    """gensim's _ensure_list: one key or vector stands for a list of one, a 2-D array for the list of its rows."""
    if items is None:
        return []
    if _is_key(items):
        return [items]
    if isinstance(items, np.ndarray):
        if items.ndim == 1:
            return [items]
        if items.ndim == 2:
            return list(items)
        raise UserError(f"{name} is an array of shape {items.shape}: pass one vector, or a 2-D array of vectors")
    return list(items)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    """gensim's ``dot(unitvec(a), unitvec(b))``, to the last bit."""
    nrm2 = _nrm2()
    return float(np.dot(_unitvec(np.asarray(a), nrm2), _unitvec(np.asarray(b), nrm2)))


def _nrm2():
    """The float64 L2 norm gensim's unitvec takes (BLAS dnrm2 from scipy; numpy's when scipy is missing)."""
    try:
        from scipy.linalg.blas import dnrm2
    except ImportError:
        return lambda v: float(np.linalg.norm(np.asarray(v, dtype=np.float64)))
    return dnrm2


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


class _WordDecodeError(UserError, UnicodeDecodeError):
    """A word that its encoding cannot decode: a UserError with the fix, and the UnicodeDecodeError gensim
    raises (its tests expect that type)."""

    def __init__(self, message: str, error: UnicodeDecodeError):
        UnicodeDecodeError.__init__(self, error.encoding, error.object, error.start, error.end, error.reason)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _decode(word: bytes, encoding: str, errors: str, where: str) -> str:
    try:
        return word.decode(encoding, errors=errors)
    except UnicodeDecodeError as e:
        raise _WordDecodeError(
            f"{where} ({word[:40]!r}) is not {encoding}: pass the file's encoding (e.g. "
            "encoding='latin-1'), or unicode_errors='replace' to keep the rest",
            e,
        ) from None
    except LookupError:
        raise UserError(
            f"encoding={encoding!r} or unicode_errors={errors!r} is unknown to Python: pass e.g. "
            "encoding='utf8', unicode_errors='strict'"
        ) from None


def _read_header(f, fname: str) -> tuple[int, int]:
    """The "count dim" line of a word2vec file."""
    header = f.readline().split()
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise UserError(
            f"{fname!r} does not start with a 'count dim' header: is it a word2vec file? (pass "
            "no_header=True for a text file without one)"
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


def _tell_binary(f, d: int) -> bool:
    """Is the first vector after the header raw float32 (not text)? The file is left where it was."""
    start = f.tell()
    binary = not _is_text(f.read(4 * d + 64))
    f.seek(start)
    return binary


def _read_rows(f, fname: str, n: int, d: int, binary: bool, encoding: str, errors: str, dtype, first_line: int):
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
        yield _decode(word, encoding, errors, f"word {i + 1} of {fname!r}"), row


def _is_number(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_vocab_file(path: str, errors: str) -> dict[str, int]:
    """word -> count from ``word count`` lines (word2vec.c's -save-vocab), the words decoded as gensim does."""
    counts = {}
    with _open(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            fields = _decode(line, "utf8", errors, f"line {line_no} of {path!r}").split()
            if len(fields) != 2 or not fields[1].lstrip("-").isdigit():
                raise UserError(
                    f"line {line_no} of {path!r} is not 'word count': pass a vocabulary file (word2vec.c's -save-vocab)"
                )
            counts[fields[0]] = int(fields[1])
    return counts


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
        pid = name[len(prefix) :]
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
