"""The core of ``fastw2v.Vectors``: words and their vectors, with gensim 4.4's ``KeyedVectors`` names and arguments
for lookup (one key or a list), per-word attributes (``expandos``, with the counts), lock factors, adding and replacing
vectors, norms, and the nearest-neighbour queries (keys, vectors, 2-D arrays of vectors, numpy integers where gensim
takes them). ``Vectors`` (vectors.py) adds gensim's other queries, evaluation and the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np

from .errors import UserError, setting


class VectorsCore:
    """Words and their vectors (``index_to_key``, ``key_to_index``, ``vectors``): the base of ``fastw2v.Vectors``.

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
        if is_key(key_or_keys):
            return self.vectors[self.get_index(key_or_keys)]
        return np.vstack([self.vectors[self.get_index(key)] for key in key_or_keys])

    def __setitem__(self, keys, weights) -> None:
        """``wv['w'] = vector`` or ``wv[['a', 'b']] = matrix``: gensim's ``add_vectors(..., replace=True)``."""
        if is_key(keys):
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
        raise KeyError(self._not_found(key))

    def _not_found(self, key) -> str:
        """The KeyError's message for a key neither in the vocabulary nor a row number; it says only what the
        vocabulary shows, as these vectors may come from ``fastw2v.train`` (lowercased tokens, by default), from
        ``Word2Vec`` (the tokens as given) or from a file."""
        if isinstance(key, (int, np.integer)):
            return f"key {key!r} is neither a word of the vocabulary nor a row number below {len(self):,}"
        lower = key.lower() if isinstance(key, str) else key
        if lower != key and lower in self.key_to_index:
            return f"word {key!r} is not in the vocabulary ({len(self):,} words), but {lower!r} is: words match case"
        return (
            f"word {key!r} is not in the vocabulary ({len(self):,} words): check its spelling and case, or train "
            f"with a lower {setting('min_count')}"
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
        return f"<fastw2v.{type(self).__name__}: {len(self):,} words, vector_size={self.vector_size}>"

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
        if is_key(keys):
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

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        """The key's vector (read-only), or with ``norm`` its unit vector."""
        v = (self.unit_vectors if norm else self.vectors)[self.get_index(key)]
        v = v.view()
        v.setflags(write=False)
        return v

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
        if checked_topn(topn) < 1:
            return []
        positive, negative = as_terms(positive, "positive"), as_terms(negative, "negative")
        if not positive and not negative:
            raise UserError("most_similar needs at least one key or vector: pass positive=[...] or negative=[...]")
        keys, weights = _weighted_terms(positive, negative)
        for key in keys:
            if is_key(key):
                self.get_index(key)  # a KeyError naming the word
        query = self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True, ignore_missing=False)
        if indexer is not None and isinstance(topn, Integral):
            return indexer.most_similar(query, topn)
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        clip_start, clip_end = int(clip_start), int(clip_end or len(self))
        exclude = {self.get_index(k) - clip_start for k in keys if is_key(k)}
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

    def similarity(self, w1: str, w2: str) -> float:
        """The cosine of two keys' vectors, computed as gensim's (and as ``n_similarity`` of one key each)."""
        return cosine(self[w1], self[w2])

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        return (vectors_all @ vector_1) / (np.linalg.norm(vector_1) * np.linalg.norm(vectors_all, axis=1))

    def distance(self, w1: str, w2: str) -> float:
        return 1 - self.similarity(w1, w2)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """1 - cosine similarity to ``other_words`` (all words when empty)."""
        v = self.get_vector(word_or_vector) if is_key(word_or_vector) else word_or_vector
        others = self.vectors if not len(other_words) else self.vectors[[self.get_index(w) for w in other_words]]
        return 1 - self.cosine_similarities(v, others)


def _weighted_terms(positive: list, negative: list) -> tuple[list, list[float]]:
    """most_similar's query terms: each key or vector with its weight, 1.0 (positive) or -1.0 (negative) unless
    given as a (key or vector, weight) pair."""
    keys, weights = [], []
    for sign, items in ((1.0, positive), (-1.0, negative)):
        for item in items:
            if is_key(item) or isinstance(item, np.ndarray):
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


def is_key(x) -> bool:
    """A key as gensim takes one: a word, or a row number."""
    return isinstance(x, (str, int, np.integer))


def checked_topn(topn) -> int:
    """``topn`` as an int, as gensim takes it (any integer type); None (every similarity) as 1, so that a caller's
    ``checked_topn(topn) < 1`` means "no neighbours asked for"."""
    if topn is None:
        return 1
    if not isinstance(topn, Integral):
        raise UserError(f"topn={topn!r}: pass an int (how many neighbours), or None for every similarity")
    return int(topn)


def as_terms(items, name: str = "positive") -> list:
    """gensim's _ensure_list: one key or vector stands for a list of one, a 2-D array for the list of its rows."""
    if items is None:
        return []
    if is_key(items):
        return [items]
    if isinstance(items, np.ndarray):
        if items.ndim == 1:
            return [items]
        if items.ndim == 2:
            return list(items)
        raise UserError(f"{name} is an array of shape {items.shape}: pass one vector, or a 2-D array of vectors")
    return list(items)


def unitvec(v: np.ndarray) -> np.ndarray:
    """gensim's ``matutils.unitvec``: the length and the scaling in float64, then back to the vector's dtype
    (so that cosines, and their ties, are gensim's to the last bit). A zero vector stays as it is."""
    length = _nrm2()(v)
    return (v.astype(np.float64) * (1.0 / length)).astype(v.dtype) if length > 0 else v


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """gensim's ``dot(unitvec(a), unitvec(b))``, to the last bit."""
    return float(np.dot(unitvec(np.asarray(a)), unitvec(np.asarray(b))))


def _nrm2():
    """The float64 L2 norm gensim's unitvec takes (BLAS dnrm2 from scipy; numpy's when scipy is missing)."""
    try:
        from scipy.linalg.blas import dnrm2
    except ImportError:
        return lambda v: float(np.linalg.norm(np.asarray(v, dtype=np.float64)))
    return dnrm2
