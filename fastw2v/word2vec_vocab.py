"""Word2Vec's vocabulary, as gensim 4's: ``build_vocab`` from a corpus (or ``scan_vocab``, ``prepare_vocab`` and
``prepare_weights`` one step at a time), ``build_vocab_from_freq`` from counts, ``reset_from`` another model, and
the matrices each vocabulary gets (input rows random, output rows zero; new words' rows appended with ``update``).
Sentences stream through ``fastw2v.encode`` (two passes, memory O(vocabulary + a block)).
"""

from __future__ import annotations

import logging
import os

import numpy as np

from .batching import numba_threads
from .encode import EmptyVocabularyError, count_words
from .errors import UserError
from .huffman import HuffmanTree, build_tree, tree_of_paths
from .sources import CorpusTypeError, from_text_file, from_token_lists
from .train import encode_with
from .vectors import Vectors
from .vocab import Vocab, frequency_order

logger = logging.getLogger("fastw2v.word2vec")  # one logger for the Word2Vec class, whichever module logs


class ModelStateError(UserError, RuntimeError):
    """The model lacks what a call needs (a vocabulary, its output rows): a RuntimeError too, as gensim's."""


class Word2VecVocabulary:
    """The vocabulary methods that ``fastw2v.Word2Vec`` mixes in. They read the model's settings (``min_count``,
    ``max_final_vocab``, ``vector_size``, ``seed``, ``negative``, ``hs`` ...) and ``config()``, and set ``wv``,
    ``syn1neg``, ``syn1``, ``raw_vocab`` and the corpus figures."""

    def _source(self, corpus_iterable, corpus_file, what: str):
        """The corpus as a fastw2v source, and what it was made from: train() reuses build_vocab's encoded corpus
        when given the same iterable or file."""
        if (corpus_iterable is None) == (corpus_file is None):
            raise CorpusTypeError(
                f"{what} needs corpus_iterable (sentences: token lists) or corpus_file (a text file "
                "of space-separated tokens), one of the two"
            )
        if corpus_file is not None:
            source = from_text_file(corpus_file)
            return source, ("file", os.path.abspath(source.files[0]))
        return from_token_lists(corpus_iterable), ("iterable", id(corpus_iterable))

    def _encode(self, source, **kw):
        """``source`` encoded with the model's settings, outside fastw2v's cache (gensim keeps nothing either)."""
        return encode_with(
            source,
            self.config(),
            cache_dir=None,
            progress=self.progress,
            gensim_pruning=bool(self.max_vocab_size),
            **kw,
        )

    def build_vocab(
        self,
        corpus_iterable=None,
        corpus_file=None,
        update=False,
        progress_per=10000,
        keep_raw_vocab=False,
        trim_rule=None,
        **kwargs,
    ):
        """Count the words (min_count, max_vocab_size, max_final_vocab, trim_rule) and make the matrices. With
        ``update`` the vocabulary grows by the new words, which get fresh rows; the others keep theirs and add the
        new counts."""
        source, key = self._source(corpus_iterable, corpus_file, "build_vocab")
        if update:
            self._check_update("build_vocab")
            old = self._vocab()
            corpus = self._encode(source, vocab=old, extend=True, trim_rule=trim_rule)
            counts = corpus.vocab.counts.copy()
            counts[: len(old)] += old.counts
            self._set_vocab(Vocab(corpus.vocab.words, counts), update=True)
        else:
            corpus = self._encode(source, trim_rule=trim_rule, allow_empty=True)
            if not len(corpus.vocab):  # as gensim's: an empty vocabulary, and train() says so
                logger.warning(
                    "no word of the corpus (%d tokens) occurs at least min_count=%d times: the vocabulary "
                    "is empty; lower min_count or give a larger corpus",
                    corpus.raw_tokens or 0,
                    self.min_count,
                )
            self._set_vocab(corpus.vocab, update=False)
            kept = corpus.vocab.counts
            cut = self.max_final_vocab is not None and len(kept) == self.max_final_vocab and len(kept)
            self.effective_min_count = max(self.min_count, int(kept.min())) if cut else self.min_count
        self._corpus, self._corpus_of = corpus, key
        self.corpus_count = corpus.n_documents
        self.corpus_total_words = corpus.raw_tokens or corpus.n_tokens
        return self

    def scan_vocab(self, corpus_iterable=None, corpus_file=None, progress_per=10000, workers=None, trim_rule=None):
        """Count every word of the corpus into ``raw_vocab`` ({word: count}, in the order first seen), the first
        step of gensim's ``build_vocab``; ``max_vocab_size`` bounds it as gensim's does. ``prepare_vocab`` and
        ``prepare_weights`` then make the vocabulary and the matrices.

        Returns
        -------
        (int, int)
            The tokens read and the sentences (gensim's ``total_words, corpus_count``).
        """
        source, _ = self._source(corpus_iterable, corpus_file, "scan_vocab")
        cfg = self.config()
        with numba_threads(cfg.threads if workers is None else (workers or os.cpu_count() or 1)):
            self.raw_vocab, total_words, corpus_count = count_words(
                source,
                cfg.tokenizer,
                cfg.max_counted_words,
                gensim_pruning=bool(self.max_vocab_size),
                progress=self.progress,
                trim_rule=trim_rule,
            )
        self.corpus_count, self.corpus_total_words = corpus_count, total_words
        return total_words, corpus_count

    def prepare_vocab(
        self, update=False, keep_raw_vocab=False, trim_rule=None, min_count=None, sample=None, dry_run=False
    ) -> dict:
        """The vocabulary of ``raw_vocab`` (``scan_vocab``'s counts, or ``build_vocab_from_freq``'s): min_count,
        trim_rule and max_final_vocab applied, as gensim's ``prepare_vocab``; with ``update`` the new words come
        after the current ones, which add their counts. Unless ``dry_run``, the model takes it, each new word with
        a fresh row (``prepare_weights`` may start them all again).

        Returns
        -------
        dict
            gensim's report: ``drop_unique`` (words dropped), ``retain_total`` (tokens of the words kept),
            ``downsample_unique`` and ``downsample_total`` (words sub-sampled by ``sample``, the tokens left
            after it), ``num_retained_words``.
        """
        min_count = min_count or self.min_count
        sample = sample or self.sample
        words = list(self.raw_vocab)
        counts = np.array([int(self.raw_vocab[w]) for w in words], dtype=np.int64)
        kept = [i for i, (w, c) in enumerate(zip(words, counts.tolist())) if _keep(w, c, min_count, trim_rule)]
        effective_min_count = min_count
        if update:
            self._check_update("prepare_vocab")
            old = self._vocab()
            new = [i for i in kept if words[i] not in old.index]
            new = [new[i] for i in frequency_order([words[i] for i in new], counts[new])]
            retained = kept
        else:
            new = [kept[i] for i in frequency_order([words[i] for i in kept], counts[kept])]
            if self.max_final_vocab is not None and len(new) > self.max_final_vocab:
                new = new[: self.max_final_vocab]
                effective_min_count = max(min_count, int(counts[new].min())) if new else min_count
            retained = new
        retain_total = int(counts[retained].sum())
        report = {"drop_unique": len(words) - len(retained), "retain_total": retain_total}
        report.update(_downsampled(counts[retained], sample, retain_total))
        report["num_retained_words"] = len(retained)
        if dry_run:
            return report
        if update:
            given = dict(zip(words, counts.tolist()))
            old_counts = old.counts + np.array([given.get(w, 0) for w in old.words], dtype=np.int64)
            self._set_vocab(
                Vocab(old.words + [words[i] for i in new], np.concatenate([old_counts, counts[new]])), update=True
            )
        else:
            if not new:  # as gensim's: an empty vocabulary, and train() says so
                logger.warning(
                    "no word of raw_vocab (%d words) has a count of at least min_count=%d: the vocabulary "
                    "is empty; lower min_count or give a larger corpus",
                    len(words),
                    min_count,
                )
            self._set_vocab(Vocab([words[i] for i in new], counts[new]), update=False)
            self.min_count, self.sample = min_count, sample
        self.effective_min_count = effective_min_count
        self._corpus, self._corpus_of = None, None  # the next train() encodes its corpus with this vocabulary
        if not keep_raw_vocab:
            self.raw_vocab = {}
        return report

    def prepare_weights(self, update=False) -> None:
        """The matrices of the current vocabulary, as gensim's ``prepare_weights``: all rows started afresh
        (input rows random, output rows zero), or with ``update`` only the rows of words that have none yet."""
        self._check_update("prepare_weights")
        vocab = self._vocab()
        if not update:
            self._set_vocab(vocab, update=False)
        elif len(self.wv.vectors) < len(vocab) or any(
            m is not None and len(m) < len(vocab) for m in (self.syn1neg, self.syn1)
        ):
            self._set_vocab(vocab, update=True)

    def reset_from(self, other_model) -> None:
        """Take ``other_model``'s vocabulary (its words, in its order, and counts) and corpus_count, and start
        every row afresh, as gensim's ``reset_from``; ``other_model`` is a fastw2v or a gensim Word2Vec."""
        words = list(other_model.wv.index_to_key)
        counts = counts_of(other_model.wv)
        self._set_vocab(Vocab(words, counts), update=False)
        self.corpus_count = other_model.corpus_count
        self._corpus, self._corpus_of = None, None

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab=False, corpus_count=None, trim_rule=None, update=False):
        """Make the vocabulary and the matrices from word counts instead of a corpus, as gensim's
        ``build_vocab_from_freq``; ``train(sentences)`` then trains on any corpus, its words outside the
        vocabulary skipped.

        Parameters
        ----------
        word_freq : dict of (str, int)
            Each word's count. The counts decide what min_count, max_final_vocab and trim_rule keep, the order
            of the vocabulary (count descending, then the word) and the sub-sampling and negative-sampling
            distributions.
        keep_raw_vocab : bool, optional
            Keep ``word_freq`` as ``raw_vocab``.
        corpus_count : int, optional
            Sentences in the corpus the counts come from (``corpus_count``; 0 when not given).
        trim_rule : callable, optional
            gensim's ``trim_rule(word, count, min_count)``: ``RULE_DISCARD`` (1), ``RULE_KEEP`` (2), or
            ``RULE_DEFAULT`` (0) to let min_count decide.
        update : bool, optional
            Add the new words that pass min_count and trim_rule after the current ones, with fresh rows; every
            current word keeps its row and adds its count from ``word_freq``.

        Raises
        ------
        fastw2v.UserError
            When ``word_freq`` is not a mapping of words to counts, no word is kept, or ``update`` is asked of
            a model without a vocabulary.
        """
        if update:
            self._check_update("build_vocab_from_freq")
        if not hasattr(word_freq, "items"):
            raise UserError(
                f"word_freq is a {type(word_freq).__name__}: pass a dict of word -> count, e.g. "
                "collections.Counter(words)"
            )
        for word, count in word_freq.items():
            if (
                not isinstance(word, str)
                or isinstance(count, bool)
                or not isinstance(count, (int, np.integer))
                or count < 0
            ):
                raise UserError(f"word_freq maps {word!r} to {count!r}: pass words (str) and counts (int >= 0)")
        if not update and not any(_keep(w, int(c), self.min_count, trim_rule) for w, c in word_freq.items()):
            most = max((int(c) for c in word_freq.values()), default=0)
            raise EmptyVocabularyError(
                f"no word of word_freq has a count of at least min_count={self.min_count} "
                f"(the largest is {most}): lower min_count, or pass the counts of a larger "
                "corpus"
            )
        self.raw_vocab = dict(word_freq)
        self.prepare_vocab(update=update, trim_rule=trim_rule)
        if keep_raw_vocab:
            self.raw_vocab = word_freq
        self.corpus_count = corpus_count or 0
        return self

    def _check_update(self, what: str) -> None:
        if self.wv is None:
            raise UserError(
                f"{what}(update=True) extends a vocabulary, and this model has none yet: call "
                f"{what}(...) without update first"
            )
        self._check_own_vectors(what)

    def _check_own_vectors(self, what: str) -> None:
        """A model whose ``wv`` was replaced by other vectors (a gensim KeyedVectors) has no output rows for them."""
        if not isinstance(self.wv, Vectors) or self.wv.counts is None:
            raise ModelStateError(
                f"model.wv is a {type(self.wv).__name__} of other vectors, not this model's own: "
                f"{what} needs the model's vocabulary and output rows too; load a whole model with "
                "Word2Vec.load, or build_vocab on a fresh one"
            )

    def _set_vocab(self, vocab: Vocab, update: bool) -> None:
        """The model's vocabulary and matrices: new ones, or (``update``) the current rows followed by fresh
        rows for the words after them (input rows random, output rows zero, as gensim's)."""
        d, V = self.vector_size, len(vocab)
        old = self.wv
        if update:
            V_old = len(old)
            w_in = np.concatenate([old.vectors, _init_input(V - V_old, d, self.seed + self.train_count + V_old)])
        else:
            w_in, old = _init_input(V, d, self.seed), old if isinstance(old, Vectors) else None
        self.wv = Vectors(vocab.words, w_in, vocab.counts)
        lockf = getattr(old, "vectors_lockf", None)
        if lockf is not None and (update or len(lockf) == 1):  # a factor a row: the new rows get 1
            self.wv.vectors_lockf = lockf_for(lockf, V)
        self.syn1neg = _grown(self.syn1neg if update else None, V, d) if self.negative else None
        self.syn1 = _grown(self.syn1 if update else None, V, d) if self.hs else None
        if self.hs:
            self._set_codes()

    def _set_codes(self, tree: HuffmanTree | None = None) -> None:
        """Each word's path in the Huffman tree (``tree``, by default word2vec.c's of the counts), as gensim's ``wv``
        holds it with hs: ``code`` (the turns, uint8) and ``point`` (the inner nodes, rows of ``syn1``), one array a
        word. Training and ``score`` follow these paths (``_tree``), so a gensim model keeps gensim's tree."""
        if tree is None:
            tree = build_tree(np.asarray(self.wv.counts, dtype=np.int64))
        V = len(self.wv)
        codes, points = np.empty(V, dtype=object), np.empty(V, dtype=object)
        for w in range(V):
            codes[w], points[w] = tree.code(w).copy(), tree.point(w).astype(np.uint32)
        self.wv.expandos["code"], self.wv.expandos["point"] = codes, points

    def _tree(self) -> HuffmanTree | None:
        """The Huffman tree of syn1's rows (``_set_codes``); None without hs."""
        if not self.hs:
            return None
        return tree_of_paths(self.wv.expandos["code"], self.wv.expandos["point"])

    def _vocab(self) -> Vocab:
        self._check_own_vectors("this")
        return Vocab(self.wv.index_to_key, np.asarray(self.wv.counts, dtype=np.int64))


def _init_input(rows: int, dim: int, seed: int) -> np.ndarray:
    """gensim's initialisation of input rows: uniform in [-1/d, 1/d) (gensim's ``prep_vectors``; word2vec.c's and
    the tutorial's range, fastw2v.train's, is half that), so that a model starts where gensim's does (docs/quality.md
    shows what the larger start does to CBOW at 1 epoch)."""
    from .hogwild import init_weights

    w_in, _ = init_weights(rows, dim, seed)
    return w_in * np.float32(2.0)


def lockf_for(lockf, rows: int) -> np.ndarray:
    """gensim's lock factors for ``rows`` words: one for all, or one a row (1 for rows it has none for)."""
    lockf = np.asarray(lockf, dtype=np.float32).reshape(-1)
    if len(lockf) in (1, rows):
        return lockf
    if len(lockf) == 0:
        return np.ones(1, dtype=np.float32)
    return np.concatenate([lockf[:rows], np.ones(max(rows - len(lockf), 0), dtype=np.float32)])


def _grown(matrix: np.ndarray | None, rows: int, dim: int) -> np.ndarray:
    """``matrix`` followed by zero rows up to ``rows`` (all zero when there is none): gensim's output rows."""
    fresh = np.zeros((rows - (0 if matrix is None else len(matrix)), dim), dtype=np.float32)
    return fresh if matrix is None else np.ascontiguousarray(np.concatenate([matrix, fresh]), dtype=np.float32)


def counts_of(wv) -> np.ndarray:
    """Each word's count of fastw2v's Vectors or gensim's KeyedVectors (1 where a gensim model kept none)."""
    counts = getattr(wv, "counts", None)
    if counts is None:
        expandos = getattr(wv, "expandos", {}) or {}
        counts = expandos.get("count")
    if counts is None or len(counts) != len(wv.index_to_key):
        return np.ones(len(wv.index_to_key), dtype=np.int64)
    return np.asarray(counts, dtype=np.int64).copy()


def _downsampled(counts: np.ndarray, sample: float, retain_total: int) -> dict:
    """gensim's sub-sampling figures of prepare_vocab: the words ``sample`` thins and the tokens it leaves."""
    if not sample:
        threshold = retain_total
    elif sample < 1.0:
        threshold = sample * retain_total
    else:
        threshold = int(sample * (3 + np.sqrt(5)) / 2)
    c = counts.astype(np.float64)
    keep = (np.sqrt(c / threshold) + 1) * (threshold / c) if len(c) and threshold else np.ones_like(c)
    thinned = keep < 1.0
    total = float(np.sum(np.where(thinned, keep * c, c)))
    return {"downsample_unique": int(thinned.sum()), "downsample_total": int(total)}


def _keep(word: str, count: int, min_count: int, trim_rule) -> bool:
    """gensim's keep_vocab_item: trim_rule's RULE_KEEP (2) keeps, RULE_DISCARD (1) drops, else min_count decides."""
    rule = trim_rule(word, count, min_count) if trim_rule is not None else 0
    return rule == 2 or (rule != 1 and count >= min_count)
