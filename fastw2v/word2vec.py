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

The class is put together by layer: the vocabulary methods (word2vec_vocab.py), the model files (model_files.py),
and here the settings, training and prediction.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from .config import Config
from .encode import MAX_COUNTED_WORDS
from .errors import UserError
from .huffman import score_sentences
from .model_files import Word2VecFiles
from .sources import CorpusTypeError
from .stats import Weights
from .train import check_trained, train_corpus
from .vectors import Vectors
from .word2vec_vocab import ModelStateError, Word2VecVocabulary

logger = logging.getLogger(__name__)

MAX_WORDS_IN_SENTENCE = 10_000  # score: words of a sentence scored at most (gensim's MAX_SENTENCE_LEN)
BYTES_PER_WORD = 200  # estimate_memory: a word's str, its key_to_index entry and its count (gensim allows 500)


class Word2Vec(Word2VecVocabulary, Word2VecFiles):
    """gensim 4's ``Word2Vec``: its constructor's settings (and fastw2v's own as keywords), ``wv`` (``Vectors``),
    ``syn1neg``, ``syn1`` and the training state. The vocabulary methods come from ``Word2VecVocabulary``
    (word2vec_vocab.py), ``save`` / ``load`` / ``from_gensim`` from ``Word2VecFiles`` (model_files.py)."""

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
        self._start_untrained()
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

    def _start_untrained(self) -> None:
        """The state before build_vocab: no vocabulary, no matrices, nothing trained."""
        self.wv: Vectors | None = None
        self.syn1neg: np.ndarray | None = None  # negative sampling's output rows (negative > 0)
        self.syn1: np.ndarray | None = None  # hierarchical softmax's inner nodes (hs=1)
        self.corpus_count = 0  # sentences in the last corpus given to build_vocab
        self.corpus_total_words = 0  # tokens in it, before min_count
        self.train_count = 0
        self.running_training_loss = 0.0
        self.epochs_trained = 0
        self.min_alpha_yet_reached = float(self.alpha)  # the learning rate where training last stopped (gensim's)
        self.effective_min_count = self.min_count
        self.raw_vocab: dict = {}
        self._corpus, self._corpus_of = None, None  # the last encoded corpus and what it was encoded from

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
        one of ``total_examples`` / ``total_words`` must be given; ``word_count``, ``queue_factor``,
        ``report_delay`` and ``compute_loss`` (the loss is always computed) are gensim's, accepted and unused.
        Returns (words trained on, tokens read)."""
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
        weights, on_epoch_end = self._weights(), self._epoch_end_hook(callbacks, epochs)
        for cb in callbacks:
            _call(cb, "on_train_begin", self)
        for cb in callbacks:
            _call(cb, "on_epoch_begin", self)
        vectors, stats = train_corpus(corpus, cfg, progress=self.progress, weights=weights, on_epoch_end=on_epoch_end)
        if stats.examples:  # gensim trains on nothing without a word when no sentence has two known words
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

    def _weights(self) -> Weights:
        """The model's matrices as the trainers take them: they start from these and write back into them."""
        return Weights(
            self.wv.vectors,
            self.syn1neg if self.syn1neg is not None else np.zeros((0, self.vector_size), np.float32),
            self.syn1,
            lockf=getattr(self.wv, "vectors_lockf", None),
            tree=self._tree(),
        )

    def _epoch_end_hook(self, callbacks: list, epochs: int):
        """train_corpus's ``on_epoch_end``: the vectors and loss as they stand after the epoch, then gensim's
        callbacks (``on_epoch_end``, and ``on_epoch_begin`` of the next epoch)."""

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

        return on_epoch_end

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


def _call(callback, name: str, model) -> None:
    """``callback.name(model)`` when the callback has that method (gensim's callbacks define the ones they need)."""
    method = getattr(callback, name, None)
    if method is not None:
        method(model)
