"""gensim 4's ``Word2Vec`` on fastw2v's encoder and trainers: CBOW by default (``sg=0``, gensim's default and
word2vec.c's), skip-gram with ``sg=1``; negative sampling (``negative=5``), hierarchical softmax (``hs=1``), or both.

    from fastw2v import Word2Vec            # in place of: from gensim.models import Word2Vec
    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, workers=4, epochs=5)
    model.wv.most_similar("king")
    model.save("word2vec.model"); model = Word2Vec.load("word2vec.model"); model.train(more, total_examples=...)

Sentences are any restartable iterable of token lists (a list, gensim's ``LineSentence``, a class whose
``__iter__`` reads a file again), used as given: case, ``New_York``, Unicode. ``corpus_file`` is a text file of
space-separated tokens, one sentence per line (gensim's format), whatever its name, also used as given. Both
stream through ``fastw2v.encode`` (two passes, memory O(vocabulary + a block)), so the text is never held whole.
``Word2Vec.load`` reads fastw2v's files and, when gensim is installed, gensim's (1.x to 4.x): a gensim model then
trains on with fastw2v.

What differs from gensim, on purpose: ``workers=0`` (the default) means all cores; the vocabulary is always
sorted by count; ``max_final_vocab`` keeps the most frequent words (ties by the word) instead of raising min_count;
with ``max_vocab_size`` the words kept are gensim's, with the counts of the whole text; the training loss is always
computed. fastw2v's own settings (``backend``, ``device``, ``batch_size``, ``shared_negatives``, ...) may be passed
as keywords.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import types
import zipfile

import numpy as np

from .batching import numba_threads
from .config import Config
from .encode import MAX_COUNTED_WORDS, EmptyVocabularyError, count_words
from .errors import UserError
from .huffman import HuffmanTree, build_tree, score_sentences, tree_of_paths
from .sources import CorpusTypeError, from_text_file, from_token_lists
from .stats import Weights
from .train import check_trained, encode_with, train_corpus
from .vectors import Vectors, _atomic_write
from .vocab import Vocab, frequency_order

logger = logging.getLogger(__name__)

FORMAT = "fastw2v.Word2Vec/1"
_SETTINGS = (
    "vector_size",
    "alpha",
    "window",
    "min_count",
    "max_vocab_size",
    "sample",
    "seed",
    "workers",
    "min_alpha",
    "sg",
    "hs",
    "negative",
    "ns_exponent",
    "cbow_mean",
    "epochs",
    "max_final_vocab",
    "shrink_windows",
    "compute_loss",
    "sorted_vocab",
    "batch_words",
    "comment",
)
_STATE = (
    "corpus_count",
    "corpus_total_words",
    "train_count",
    "epochs_trained",
    "running_training_loss",
    "min_alpha_yet_reached",
)
MAX_WORDS_IN_SENTENCE = 10_000  # score: words of a sentence scored at most (gensim's MAX_SENTENCE_LEN)
BYTES_PER_WORD = 200  # estimate_memory: a word's str, its key_to_index entry and its count (gensim allows 500)


class ModelStateError(UserError, RuntimeError):
    """The model lacks what a call needs (a vocabulary, its output rows): a RuntimeError too, as gensim's."""


class _ClassOnly:
    """A classmethod that an instance refuses, as gensim's ``call_on_class_only``: ``model.load(path)`` is an
    AttributeError (it would return a new model and leave ``model`` as it is)."""

    def __init__(self, func):
        self.func = func

    def __get__(self, obj, cls):
        if obj is None:
            return types.MethodType(self.func, cls)
        name = self.func.__name__

        def refused(*args, **kwargs):
            raise AttributeError(f"{name} is called on the class, not on a model: model = {cls.__name__}.{name}(path)")

        return refused


class Word2Vec:
    def __init__(
        self,
        sentences=None,
        corpus_file=None,
        vector_size=100,
        alpha=0.025,
        window=5,
        min_count=5,
        max_vocab_size=None,
        sample=1e-3,
        seed=1,
        workers=0,
        min_alpha=0.0001,
        sg=0,
        hs=0,
        negative=5,
        ns_exponent=0.75,
        cbow_mean=1,
        hashfxn=hash,
        epochs=5,
        null_word=0,
        trim_rule=None,
        sorted_vocab=1,
        batch_words=10000,
        compute_loss=True,
        callbacks=(),
        comment=None,
        max_final_vocab=None,
        shrink_windows=True,
        progress=False,
        **options,
    ):
        Config.check_keys(options)
        self.sg, self.cbow_mean, self.hs = sg, cbow_mean, hs
        self.vector_size, self.alpha, self.window, self.min_count = vector_size, alpha, window, min_count
        self.max_vocab_size, self.sample, self.seed, self.workers = max_vocab_size, sample, seed, workers
        self.min_alpha, self.negative, self.ns_exponent, self.epochs = min_alpha, negative, ns_exponent, epochs
        self.max_final_vocab, self.shrink_windows, self.compute_loss = max_final_vocab, shrink_windows, compute_loss
        self.sorted_vocab, self.null_word, self.hashfxn = sorted_vocab, null_word, hashfxn
        self.batch_words, self.comment = batch_words, comment
        self.callbacks, self.progress, self.options = list(callbacks), progress, options
        self.config(epochs=max(int(epochs), 1))  # every setting checked now, with its one-line error
        self.wv: Vectors | None = None
        self.syn1neg: np.ndarray | None = None  # negative sampling's output rows (negative > 0)
        self.syn1: np.ndarray | None = None  # hierarchical softmax's inner nodes (hs=1)
        self.corpus_count = 0  # sentences in the last corpus given to build_vocab
        self.corpus_total_words = 0  # tokens in it, before min_count
        self.train_count = 0
        self.running_training_loss = 0.0
        self.epochs_trained = 0
        self.min_alpha_yet_reached = float(alpha)  # the learning rate where training last stopped (gensim's)
        self.effective_min_count = min_count
        self.raw_vocab: dict = {}
        self._corpus, self._corpus_of = None, None  # the last encoded corpus and what it was encoded from
        if sentences is not None and corpus_file is not None:
            raise CorpusTypeError("give either sentences or corpus_file, not both")
        if sentences is not None or corpus_file is not None:
            self.build_vocab(corpus_iterable=sentences, corpus_file=corpus_file, trim_rule=trim_rule)
            self.train(
                corpus_iterable=sentences,
                corpus_file=corpus_file,
                total_examples=self.corpus_count,
                epochs=self.epochs,
                callbacks=callbacks,
            )

    def __repr__(self) -> str:
        words = len(self.wv) if self.wv is not None else 0
        return f"Word2Vec<vocab={words}, vector_size={self.vector_size}, alpha={self.alpha}>"

    @property
    def layer1_size(self) -> int:
        return self.vector_size

    @property
    def cum_table(self) -> np.ndarray | None:
        """gensim's table for drawing negatives: the running sum of count ** ns_exponent, scaled to 2**31 - 1
        (uint32, one entry a word); None without a vocabulary or negative sampling."""
        if self.wv is None or not self.negative or not isinstance(self.wv, Vectors):
            return None
        weights = np.asarray(self.wv.counts, dtype=np.float64) ** float(self.ns_exponent)
        return np.round(np.cumsum(weights) / max(weights.sum(), 1e-300) * (2**31 - 1)).astype(np.uint32)

    # -- settings -----------------------------------------------------------------------------------
    def config(self, **changes) -> Config:
        """The fastw2v Config of this model's settings (and ``changes``)."""
        fields = dict(
            vector_size=self.vector_size,
            alpha=self.alpha,
            min_alpha=self.min_alpha,
            window=self.window,
            min_count=self.min_count,
            sample=self.sample,
            seed=self.seed,
            workers=self.workers or 0,
            sg=self.sg,
            cbow_mean=self.cbow_mean,
            hs=self.hs,
            negative=self.negative,
            ns_exponent=self.ns_exponent,
            epochs=self.epochs,
            shrink_windows=self.shrink_windows,
            max_vocab_size=self.max_final_vocab,
            max_counted_words=self.max_vocab_size or MAX_COUNTED_WORDS,
            tokenizer="split",
            **self.options,
        )
        fields.update(changes)
        return Config(**fields)

    def estimate_memory(self, vocab_size=None, report=None) -> dict:
        """Bytes the model holds for ``vocab_size`` words (default: its vocabulary), as gensim's
        ``estimate_memory``: ``vocab`` (about BYTES_PER_WORD a word), ``vectors``, ``syn1`` (hs), ``syn1neg``
        (negative) and their ``total``."""
        vocab_size = vocab_size or (len(self.wv) if self.wv is not None else 0)
        report = dict(report or {})
        matrix = vocab_size * self.vector_size * np.dtype(np.float32).itemsize
        report["vocab"] = vocab_size * BYTES_PER_WORD
        report["vectors"] = matrix
        if self.hs:
            report["syn1"] = matrix
        if self.negative:
            report["syn1neg"] = matrix
        report["total"] = sum(v for k, v in report.items() if k != "total")
        logger.info(
            "estimated required memory for %i words and %i dimensions: %i bytes",
            vocab_size,
            self.vector_size,
            report["total"],
        )
        return report

    # -- vocabulary ---------------------------------------------------------------------------------
    def _source(self, corpus_iterable, corpus_file, what: str):
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
        counts = _counts_of(other_model.wv)
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
            self.wv.vectors_lockf = _lockf_for(lockf, V)
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

    # -- training -----------------------------------------------------------------------------------
    def _check_training_sanity(self, epochs, total_examples, total_words) -> None:
        """gensim's checks and warnings before training, in gensim's order."""
        if self.hs and self.negative:
            logger.warning(
                "Both hierarchical softmax and negative sampling are activated. This is probably a "
                "mistake. You should set either 'hs=0' or 'negative=0' to disable one of them. "
            )
        if self.alpha > self.min_alpha_yet_reached:
            logger.warning("Effective 'alpha' higher than previous training cycles")
        if self.wv is None:
            raise ModelStateError(
                "train() needs a vocabulary: call build_vocab(sentences) first, or pass the sentences to Word2Vec(...)"
            )
        if not len(self.wv):
            raise ModelStateError(
                "train() needs a vocabulary, and build_vocab kept no word of its corpus (empty, or "
                f"every word under min_count={self.min_count}): lower min_count or give a larger "
                "corpus"
            )
        if total_words is None and total_examples is None:
            raise UserError(
                "train() needs total_examples or total_words (gensim's learning-rate schedule asks "
                "for them): pass e.g. total_examples=model.corpus_count"
            )
        if epochs is None or epochs <= 0:
            raise UserError(f"train() needs an explicit epochs >= 1, got {epochs!r}: pass e.g. epochs=model.epochs")
        self._check_own_vectors("train()")

    def train(
        self,
        corpus_iterable=None,
        corpus_file=None,
        total_examples=None,
        total_words=None,
        epochs=None,
        start_alpha=None,
        end_alpha=None,
        word_count=0,
        queue_factor=2,
        report_delay=1.0,
        compute_loss=None,
        callbacks=(),
        **kwargs,
    ):
        """Train ``epochs`` passes over the corpus, the learning rate falling linearly from start_alpha (default
        alpha) to end_alpha (min_alpha). Words not in the vocabulary are skipped. As gensim's, ``epochs`` and
        one of ``total_examples`` / ``total_words`` must be given. Returns (words trained on, tokens read)."""
        self._check_training_sanity(epochs, total_examples, total_words)
        source, key = self._source(corpus_iterable, corpus_file, "train")
        vocab = self._vocab()
        # other text than build_vocab's is encoded with this vocabulary
        corpus = self._corpus if key == self._corpus_of else self._encode(source, vocab=vocab)
        corpus = dataclasses.replace(corpus, vocab=vocab)  # sampling follows the model's counts, as gensim's
        seed = self.seed if self.train_count == 0 else (self.seed * 1_000_003 + self.train_count) % 2**62
        cfg = self.config(
            epochs=epochs,
            alpha=self.alpha if start_alpha is None else start_alpha,
            min_alpha=self.min_alpha if end_alpha is None else end_alpha,
            seed=seed,
        )
        callbacks = list(callbacks) or self.callbacks
        d = self.vector_size
        # the trainers start from these and write back into them
        weights = Weights(
            self.wv.vectors,
            self.syn1neg if self.syn1neg is not None else np.zeros((0, d), np.float32),
            self.syn1,
            lockf=getattr(self.wv, "vectors_lockf", None),
            tree=self._tree(),
        )

        def on_epoch_end(epoch, w_in, stats):
            self.wv.vectors[...] = w_in  # the trainer's own (padded) copy, as it stands after the epoch
            self.wv.vectors_changed()
            self.running_training_loss = stats.loss_total
            self.epochs_trained += 1
            for cb in callbacks:
                _call(cb, "on_epoch_end", self)
            if epoch + 1 < epochs:
                for cb in callbacks:
                    _call(cb, "on_epoch_begin", self)

        for cb in callbacks:
            _call(cb, "on_train_begin", self)
        for cb in callbacks:
            _call(cb, "on_epoch_begin", self)
        vectors, stats = train_corpus(corpus, cfg, progress=self.progress, weights=weights, on_epoch_end=on_epoch_end)
        if stats.pairs:  # gensim trains on nothing without a word when no sentence has two known words
            check_trained(vectors, stats)
        self.wv.vectors_changed()
        self.running_training_loss = stats.loss_total
        self.min_alpha_yet_reached = cfg.end_lr
        self.train_count += 1
        self.stats = stats
        for cb in callbacks:
            _call(cb, "on_train_end", self)
        raw = (corpus.raw_tokens or corpus.n_tokens) * epochs
        return corpus.n_tokens * epochs, raw

    def get_latest_training_loss(self) -> float:
        """The loss summed over the pairs of the last train() call so far (gensim's running_training_loss)."""
        return self.running_training_loss

    # -- prediction ---------------------------------------------------------------------------------
    def predict_output_word(self, context_words_list, topn=10):
        """The words most probable at the centre of ``context_words_list``, as gensim's ``predict_output_word``
        for negative sampling: the softmax over the output rows (``syn1neg``) of their dot products with the
        mean (with ``cbow_mean``, else the sum) of the context words' vectors.

        Parameters
        ----------
        context_words_list : list of (str or int)
            The context words, or their rows in ``wv.vectors``; those not in the vocabulary are ignored.
        topn : int or None, optional
            How many words to return (None: all, most probable first).

        Returns
        -------
        list of (str, float) or None
            ``(word, probability)`` pairs, most probable first; None (with a logged warning, as gensim) when
            no context word is in the vocabulary.

        Raises
        ------
        ModelStateError
            (a RuntimeError, as gensim's) without negative sampling, or before the model has its matrices.
        """
        if not self.negative:
            raise ModelStateError(
                "predict_output_word reads negative sampling's output rows (syn1neg), and this "
                "model has negative=0: train one with negative > 0 (e.g. 5)"
            )
        if self.wv is None or self.syn1neg is None:
            raise ModelStateError(
                "predict_output_word needs a trained model: call build_vocab and train first, or "
                "pass the sentences to Word2Vec(...)"
            )
        self._check_own_vectors("predict_output_word")
        if isinstance(context_words_list, str):
            raise UserError(
                f"context_words_list is the string {context_words_list!r}: pass a list of words, e.g. "
                f"[{context_words_list!r}]"
            )
        V = len(self.wv)
        rows = [
            self.wv.key_to_index[w] if isinstance(w, str) else int(w)
            for w in context_words_list
            if (w in self.wv.key_to_index if isinstance(w, str) else isinstance(w, (int, np.integer)) and 0 <= w < V)
        ]
        if not rows:
            logger.warning("All the input context words are out-of-vocabulary for the current model.")
            return None
        hidden = np.sum(self.wv.vectors[rows], axis=0)
        if self.cbow_mean:
            hidden /= len(rows)
        scores = (self.syn1neg @ hidden).astype(np.float64)
        probs = np.exp(scores - scores.max())  # the softmax, shifted so that exp cannot overflow
        probs /= probs.sum()
        if topn is not None and topn <= 0:
            return []
        k = V if topn is None else min(topn, V)
        top = np.argpartition(-probs, k - 1)[:k] if k < V else np.arange(V)
        top = top[np.argsort(-probs[top], kind="stable")]
        return [(self.wv.index_to_key[i], float(probs[i])) for i in top]

    def score(self, sentences, total_sentences=int(1e6), chunksize=100, queue_factor=2, report_delay=1):
        """Each sentence's log-probability under the trained model, as gensim's ``score`` (Taddy, "Document
        Classification by Inversion of Distributed Language Representations", 2015): hierarchical softmax only,
        every context of the full window, words outside the vocabulary skipped, at most 10,000 words a sentence.

        Parameters
        ----------
        sentences : iterable of list of str
            The sentences to score.
        total_sentences : int, optional
            Score at most this many. ``chunksize``, ``queue_factor`` and ``report_delay`` are gensim's thread
            settings, accepted and unused.

        Returns
        -------
        numpy.ndarray
            float32, one log-probability a sentence.

        Raises
        ------
        ModelStateError
            (a RuntimeError, as gensim's) for a model without hs, or before it has its matrices.
        """
        if not self.hs:
            raise ModelStateError(
                "score sums log-probabilities under hierarchical softmax, and this model has hs=0: "
                "train one with hs=1 (and negative=0, as gensim's score expects)"
            )
        if self.wv is None or self.syn1 is None:
            raise ModelStateError(
                "score needs a trained model: call build_vocab and train first, or pass the sentences to Word2Vec(...)"
            )
        self._check_own_vectors("score")
        ids = []
        for sentence in sentences:
            if len(ids) >= total_sentences:
                break
            if sentence is None or isinstance(sentence, bytes) or not hasattr(sentence, "__iter__"):
                raise UserError(
                    f"score takes sentences as lists of words, and one is {sentence!r:.40}: pass e.g. "
                    "[['a', 'sentence'], ...]"
                )  # a str is its characters, as in gensim
            known = [self.wv.key_to_index[w] for w in sentence if w in self.wv.key_to_index]
            ids.append(np.array(known[:MAX_WORDS_IN_SENTENCE], dtype=np.int64))
        return score_sentences(
            ids, self.wv.vectors, self.syn1, self._tree(), int(self.window), bool(self.sg), bool(self.cbow_mean)
        )

    # -- files --------------------------------------------------------------------------------------
    def save(
        self, fname_or_handle, separately=None, sep_limit=10 * 1024**2, ignore=frozenset(), pickle_protocol=4
    ) -> None:
        """The whole model in one file (its matrices, the vocabulary with counts, the settings and how far
        training went): ``Word2Vec.load`` continues from it. gensim's ``separately``, ``sep_limit``, ``ignore`` and
        ``pickle_protocol`` are accepted and have nothing to do: the file is one .npz archive, never a pickle.
        ``fname_or_handle``: a path, or a binary file open for writing."""
        if self.wv is None:
            raise UserError("this model has no vocabulary yet: nothing to save (call build_vocab and train first)")
        self._check_own_vectors("save")
        settings = {k: getattr(self, k) for k in _SETTINGS}
        meta = {
            "format": FORMAT,
            "settings": settings,
            "options": self.options,
            "words": self.wv.index_to_key,
            **{k: getattr(self, k) for k in _STATE},
        }
        arrays = {"w_in": self.wv.vectors, "counts": np.asarray(self.wv.counts, dtype=np.int64)}
        if self.syn1neg is not None:
            arrays["w_out"] = self.syn1neg
        if self.syn1 is not None:
            tree = self._tree()
            arrays.update(syn1=self.syn1, hs_codes=tree.codes, hs_points=tree.points, hs_offsets=tree.offsets)
        buf = io.BytesIO()
        np.savez(buf, **arrays, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        if hasattr(fname_or_handle, "write"):
            fname_or_handle.write(buf.getbuffer())
            return
        _atomic_write(os.fspath(fname_or_handle), lambda f: f.write(buf.getbuffer()))

    @_ClassOnly
    def load(cls, fname, mmap=None, **kwargs) -> Word2Vec:
        """A model saved by ``Word2Vec.save``, or by gensim's ``Word2Vec.save`` (gensim 1.x to 4.x, read with gensim,
        which must be installed): its vocabulary, counts, matrices, settings and epochs, ready to train on.
        ``mmap`` is passed to gensim for its files (fastw2v's file is read whole). Called on the class, as gensim's:
        ``model.load(path)`` is an AttributeError."""
        fname = os.fspath(fname)
        if not os.path.isfile(fname):
            raise UserError(f"no such model file {fname!r}: save one with model.save({fname!r})")
        if not zipfile.is_zipfile(fname):  # fastw2v's files are .npz archives; gensim's are pickles
            return cls._from_gensim_file(fname, mmap)
        try:
            with np.load(fname, allow_pickle=False) as f:
                meta = json.loads(f["meta"].tobytes().decode("utf-8"))
                arrays = {k: f[k] for k in f.files if k != "meta"}
            if meta.get("format") != FORMAT:
                raise ValueError("not a fastw2v model")
        except (ValueError, KeyError, OSError, EOFError) as e:
            raise UserError(
                f"{fname!r} is not a model saved by fastw2v.Word2Vec.save ({str(e)[:80]}): word "
                "vectors load with fastw2v.Vectors.load"
            ) from None
        settings = {"sg": 1, **meta["settings"]}  # a model saved before CBOW was skip-gram
        model = cls(**settings, **meta["options"])
        model.wv = Vectors(meta["words"], arrays["w_in"], arrays["counts"])
        model.wv.vectors_lockf = np.ones(1, dtype=np.float32)
        w_out = arrays.get("w_out")
        model.syn1neg = np.ascontiguousarray(w_out, dtype=np.float32) if model.negative else None
        model.syn1 = np.ascontiguousarray(arrays["syn1"], dtype=np.float32) if model.hs else None
        if model.hs:  # the tree it trained (a file saved before the tree was kept: word2vec.c's of the counts)
            saved = "hs_offsets" in arrays
            model._set_codes(
                HuffmanTree(arrays["hs_codes"], arrays["hs_points"], arrays["hs_offsets"]) if saved else None
            )
        for k in _STATE:
            if k in meta:
                setattr(model, k, meta[k])
        return model

    @classmethod
    def _from_gensim_file(cls, fname: str, mmap) -> Word2Vec:
        """A model saved by gensim, loaded by gensim and carried over."""
        try:
            import gensim.models
        except ImportError:
            raise UserError(
                f"{fname!r} is not a model saved by fastw2v.Word2Vec.save: a gensim model loads when "
                "gensim is installed (pip install gensim); word vectors load with fastw2v.Vectors.load"
            ) from None
        try:
            theirs = gensim.models.Word2Vec.load(fname, mmap=mmap, rethrow=True)
        except AttributeError as e:  # a file of another gensim class (KeyedVectors, Doc2Vec...)
            raise AttributeError(
                f"{fname!r} is not a Word2Vec model ({str(e).splitlines()[0][:160]}): word "
                "vectors load with fastw2v.Vectors.load or gensim's KeyedVectors.load"
            ) from None
        except Exception as e:  # noqa: BLE001 - unpickling raises many types; all mean "not a model"
            reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise UserError(
                f"{fname!r} is neither a model saved by fastw2v.Word2Vec.save nor one gensim loads "
                f"({reason}): check the file"
            ) from None
        return cls.from_gensim(theirs)

    @classmethod
    def from_gensim(cls, theirs) -> Word2Vec:
        """A fastw2v model of a gensim ``Word2Vec``: its vocabulary (order and counts), matrices (``wv.vectors``,
        ``syn1neg``, ``syn1``), settings, epochs and corpus figures, copied."""
        d = int(theirs.wv.vectors.shape[1])
        settings = {k: _plain(getattr(theirs, k)) for k in _SETTINGS if hasattr(theirs, k)}
        settings["vector_size"] = d
        model = cls(**settings)
        words = list(theirs.wv.index_to_key)
        vocab = Vocab(words, _counts_of(theirs.wv))
        model.wv = Vectors(vocab.words, np.array(theirs.wv.vectors, dtype=np.float32), vocab.counts)
        lockf = getattr(theirs.wv, "vectors_lockf", None)
        model.wv.vectors_lockf = _lockf_for(lockf if lockf is not None else np.ones(1), len(words))
        model.syn1neg = _matrix_of(theirs, "syn1neg", len(words), d) if model.negative else None
        model.syn1 = _matrix_of(theirs, "syn1", len(words), d) if model.hs else None
        if model.hs:  # syn1's rows are the inner nodes of gensim's tree, whose ties differ from word2vec.c's
            expandos = getattr(theirs.wv, "expandos", {})
            codes, points = expandos.get("code"), expandos.get("point")
            model._set_codes(
                tree_of_paths(codes, points)
                if codes is not None and points is not None and len(codes) == len(words)
                else None
            )
        model.corpus_count = _plain(getattr(theirs, "corpus_count", 0))
        model.corpus_total_words = _plain(getattr(theirs, "corpus_total_words", None))
        model.train_count = _plain(getattr(theirs, "train_count", 0))
        model.running_training_loss = float(getattr(theirs, "running_training_loss", 0.0))
        model.min_alpha_yet_reached = float(getattr(theirs, "min_alpha_yet_reached", model.alpha))
        model.effective_min_count = _plain(getattr(theirs, "effective_min_count", model.min_count))
        return model


def _init_input(rows: int, dim: int, seed: int) -> np.ndarray:
    """gensim's initialisation of input rows: uniform in [-1/d, 1/d) (gensim's ``prep_vectors``; word2vec.c's and
    the tutorial's range, fastw2v.train's, is half that). The larger start moves CBOW's hidden layer further from
    zero in the first updates, which shows at 1 epoch (docs/quality.md)."""
    from .hogwild import init_weights

    w_in, _ = init_weights(rows, dim, seed)
    return w_in * np.float32(2.0)


def _plain(value):
    """A numpy scalar of a gensim model as the Python number it is (the settings are saved as JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _lockf_for(lockf, rows: int) -> np.ndarray:
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


def _matrix_of(theirs, name: str, rows: int, dim: int) -> np.ndarray:
    """A gensim model's output matrix ``name`` (float32), or zeros when it has none of that shape."""
    matrix = getattr(theirs, name, None)
    if matrix is None or np.shape(matrix) != (rows, dim):
        return np.zeros((rows, dim), dtype=np.float32)
    return np.array(matrix, dtype=np.float32)


def _counts_of(wv) -> np.ndarray:
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


def _call(callback, name: str, model) -> None:
    method = getattr(callback, name, None)
    if method is not None:
        method(model)
