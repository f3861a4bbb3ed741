"""gensim 4's ``Word2Vec`` with negative sampling, on fastw2v's encoder and trainers: CBOW by default (``sg=0``,
gensim's default and word2vec.c's), skip-gram with ``sg=1``.

    from fastw2v import Word2Vec            # in place of: from gensim.models import Word2Vec
    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, workers=4, epochs=5)
    model.wv.most_similar("king")
    model.save("word2vec.model"); model = Word2Vec.load("word2vec.model"); model.train(more, total_examples=...)

Sentences are any restartable iterable of token lists (a list, gensim's ``LineSentence``, a class whose
``__iter__`` reads a file again), used as given: case, ``New_York``, Unicode. ``corpus_file`` is a text file of
space-separated tokens, one sentence per line (gensim's format), also used as given. Both stream through
``fastw2v.encode`` (two passes, memory O(vocabulary + a block)), so the text is never held whole.

What differs from gensim, on purpose: only negative sampling (``hs=1`` is an error, not a silent change of
model); ``workers=0`` (the default) means all cores; the vocabulary is always sorted by
count; ``max_final_vocab`` keeps the most frequent words (ties by the word) instead of raising min_count; the
training loss is always computed. Parameters that only concern hierarchical softmax are accepted and ignored; fastw2v's own settings (``backend``, ``device``, ``batch_size``, ``shared_negatives``, ...) may be
passed as keywords.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os

import numpy as np

from .config import Config
from .encode import MAX_COUNTED_WORDS
from .errors import UserError
from .sources import from_files, from_token_lists
from .stats import Weights
from .train import check_trained, encode_with, train_corpus
from .vectors import Vectors, _atomic_write
from .vocab import Vocab, frequency_order

FORMAT = "fastw2v.Word2Vec/1"
_SETTINGS = ("vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed", "workers",
             "min_alpha", "sg", "negative", "ns_exponent", "cbow_mean", "epochs", "max_final_vocab", "shrink_windows",
             "compute_loss")


class Word2Vec:
    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5, min_count=5,
                 max_vocab_size=None, sample=1e-3, seed=1, workers=0, min_alpha=0.0001, sg=0, hs=0, negative=5,
                 ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0, trim_rule=None,
                 sorted_vocab=1, batch_words=10000, compute_loss=True, callbacks=(), comment=None,
                 max_final_vocab=None, shrink_windows=True, progress=False, **options):
        if hs:
            raise UserError(f"hs={hs} asks for hierarchical softmax: fastw2v trains with negative sampling only: "
                            "drop hs=1 (negative=5 is the default)")
        if not negative:
            raise UserError("negative=0 turns negative sampling off: fastw2v trains with negative sampling only: "
                            "pass negative >= 1 (5 is the default)")
        Config.check_keys(options)
        self.sg, self.cbow_mean, self.hs = sg, cbow_mean, 0
        self.vector_size, self.alpha, self.window, self.min_count = vector_size, alpha, window, min_count
        self.max_vocab_size, self.sample, self.seed, self.workers = max_vocab_size, sample, seed, workers
        self.min_alpha, self.negative, self.ns_exponent, self.epochs = min_alpha, negative, ns_exponent, epochs
        self.max_final_vocab, self.shrink_windows, self.compute_loss = max_final_vocab, shrink_windows, compute_loss
        self.callbacks, self.progress, self.options = list(callbacks), progress, options
        self.config(epochs=max(int(epochs), 1))  # every setting checked now, with its one-line error
        self.wv: Vectors | None = None
        self.syn1neg: np.ndarray | None = None
        self.corpus_count = 0  # sentences in the last corpus given to build_vocab
        self.corpus_total_words = 0  # tokens in it, before min_count
        self.train_count = 0
        self.running_training_loss = 0.0
        self.epochs_trained = 0
        self._corpus, self._corpus_of = None, None  # the last encoded corpus and what it was encoded from
        if sentences is not None and corpus_file is not None:
            raise UserError("give either sentences or corpus_file, not both")
        if sentences is not None or corpus_file is not None:
            self.build_vocab(corpus_iterable=sentences, corpus_file=corpus_file, trim_rule=trim_rule)
            self.train(corpus_iterable=sentences, corpus_file=corpus_file, total_examples=self.corpus_count,
                       epochs=self.epochs, callbacks=callbacks)

    def __repr__(self) -> str:
        words = len(self.wv) if self.wv is not None else 0
        return f"Word2Vec<vocab={words}, vector_size={self.vector_size}, alpha={self.alpha}>"

    # -- settings -----------------------------------------------------------------------------------
    def config(self, **changes) -> Config:
        """The fastw2v Config of this model's settings (and ``changes``)."""
        fields = dict(vector_size=self.vector_size, alpha=self.alpha, min_alpha=self.min_alpha, window=self.window,
                      min_count=self.min_count, sample=self.sample, seed=self.seed, workers=self.workers or 0,
                      sg=self.sg, cbow_mean=self.cbow_mean, negative=self.negative, ns_exponent=self.ns_exponent,
                      epochs=self.epochs,
                      shrink_windows=self.shrink_windows, max_vocab_size=self.max_final_vocab,
                      max_counted_words=self.max_vocab_size or MAX_COUNTED_WORDS, tokenizer="split", **self.options)
        fields.update(changes)
        return Config(**fields)

    # -- vocabulary ---------------------------------------------------------------------------------
    def _source(self, corpus_iterable, corpus_file, what: str):
        if (corpus_iterable is None) == (corpus_file is None):
            raise UserError(f"{what} needs corpus_iterable (sentences: token lists) or corpus_file (a text file of "
                            "space-separated tokens), one of the two")
        if corpus_file is not None:
            return from_files(os.fspath(corpus_file)), ("file", os.path.abspath(os.fspath(corpus_file)))
        return from_token_lists(corpus_iterable), ("iterable", id(corpus_iterable))

    def _encode(self, source, **kw):
        return encode_with(source, self.config(), cache_dir=None, progress=self.progress, **kw)

    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs):
        """Count the words (min_count, max_final_vocab, trim_rule) and make the matrices. With ``update`` the
        vocabulary grows by the new words, which get fresh rows; the others keep theirs and add the new counts."""
        source, key = self._source(corpus_iterable, corpus_file, "build_vocab")
        if update:
            self._check_update("build_vocab")
            old = self._vocab()
            corpus = self._encode(source, vocab=old, extend=True, trim_rule=trim_rule)
            counts = corpus.vocab.counts.copy()
            counts[:len(old)] += old.counts
            self._set_vocab(Vocab(corpus.vocab.words, counts), update=True)
        else:
            corpus = self._encode(source, trim_rule=trim_rule)
            self._set_vocab(corpus.vocab, update=False)
        self._corpus, self._corpus_of = corpus, key
        self.corpus_count = corpus.n_documents
        self.corpus_total_words = corpus.raw_tokens or corpus.n_tokens
        return self

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab=False, corpus_count=None, trim_rule=None,
                              update=False):
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
            raise UserError(f"word_freq is a {type(word_freq).__name__}: pass a dict of word -> count, e.g. "
                            "collections.Counter(words)")
        words, counts = [], []
        for word, count in word_freq.items():
            if not isinstance(word, str) or isinstance(count, bool) or not isinstance(count, (int, np.integer)) \
                    or count < 0:
                raise UserError(f"word_freq maps {word!r} to {count!r}: pass words (str) and counts (int >= 0)")
            words.append(word)
            counts.append(int(count))
        counts = np.array(counts, dtype=np.int64)
        kept = [i for i, (w, c) in enumerate(zip(words, counts.tolist())) if _keep(w, c, self.min_count, trim_rule)]
        if update:
            old = self._vocab()
            given = dict(zip(words, counts.tolist()))
            new = [i for i in kept if words[i] not in old.index]
            new = [new[i] for i in frequency_order([words[i] for i in new], counts[new])]
            old_counts = old.counts + np.array([given.get(w, 0) for w in old.words], dtype=np.int64)
            self._set_vocab(Vocab(old.words + [words[i] for i in new], np.concatenate([old_counts, counts[new]])),
                            update=True)
        else:
            if not kept:
                most = int(counts.max()) if len(counts) else 0
                raise UserError(f"no word of word_freq has a count of at least min_count={self.min_count} (the "
                                f"largest is {most}): lower min_count, or pass the counts of a larger corpus")
            order = [kept[i] for i in frequency_order([words[i] for i in kept], counts[kept])][:self.max_final_vocab]
            self._set_vocab(Vocab([words[i] for i in order], counts[order]), update=False)
        if keep_raw_vocab:
            self.raw_vocab = word_freq
        self._corpus, self._corpus_of = None, None  # the next train() encodes its corpus with this vocabulary
        self.corpus_count = corpus_count or 0
        return self

    def _check_update(self, what: str) -> None:
        if self.wv is None:
            raise UserError(f"{what}(update=True) extends a vocabulary, and this model has none yet: call "
                            f"{what}(...) without update first")

    def _set_vocab(self, vocab: Vocab, update: bool) -> None:
        """The model's vocabulary and matrices: new ones, or (``update``) the current rows followed by fresh
        rows for the words after them."""
        if update:
            V_old = len(self.wv)
            fresh = _init_weights(len(vocab) - V_old, self.vector_size, self.seed + self.train_count + V_old)
            w_in = np.concatenate([self.wv.vectors, fresh[0]])
            w_out = np.concatenate([self.syn1neg, fresh[1]])
        else:
            w_in, w_out = _init_weights(len(vocab), self.vector_size, self.seed)
        self.wv = Vectors(vocab.words, w_in, vocab.counts)
        self.syn1neg = np.ascontiguousarray(w_out, dtype=np.float32)

    def _vocab(self) -> Vocab:
        return Vocab(self.wv.index_to_key, np.asarray(self.wv.counts, dtype=np.int64))

    # -- training -----------------------------------------------------------------------------------
    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
              start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0, compute_loss=None,
              callbacks=(), **kwargs):
        """Train ``epochs`` passes over the corpus, the learning rate falling linearly from start_alpha (default
        alpha) to end_alpha (min_alpha). Words not in the vocabulary are skipped. Returns (words trained on,
        tokens read), as gensim's."""
        if self.wv is None:
            raise UserError("train() needs a vocabulary: call build_vocab(sentences) first, or pass the sentences "
                            "to Word2Vec(...)")
        source, key = self._source(corpus_iterable, corpus_file, "train")
        vocab = self._vocab()
        # other text than build_vocab's is encoded with this vocabulary
        corpus = self._corpus if key == self._corpus_of else self._encode(source, vocab=vocab)
        corpus = dataclasses.replace(corpus, vocab=vocab)  # sampling follows the model's counts, as gensim's
        epochs = self.epochs if epochs is None else epochs
        seed = self.seed if self.train_count == 0 else (self.seed * 1_000_003 + self.train_count) % 2 ** 62
        cfg = self.config(epochs=epochs, alpha=self.alpha if start_alpha is None else start_alpha,
                          min_alpha=self.min_alpha if end_alpha is None else end_alpha, seed=seed)
        callbacks = list(callbacks) or self.callbacks
        weights = Weights(self.wv.vectors, self.syn1neg)  # the trainers start from these and write back into them

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
        """
        if self.wv is None or self.syn1neg is None:
            raise UserError("predict_output_word needs a trained model: call build_vocab and train first, or pass "
                            "the sentences to Word2Vec(...)")
        if isinstance(context_words_list, str):
            raise UserError(f"context_words_list is the string {context_words_list!r}: pass a list of words, e.g. "
                            f"[{context_words_list!r}]")
        V = len(self.wv)
        rows = [self.wv.key_to_index[w] if isinstance(w, str) else int(w) for w in context_words_list
                if (w in self.wv.key_to_index if isinstance(w, str) else
                    isinstance(w, (int, np.integer)) and 0 <= w < V)]
        if not rows:
            logging.getLogger(__name__).warning("All the input context words are out-of-vocabulary for the "
                                                "current model.")
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

    # -- files --------------------------------------------------------------------------------------
    def save(self, fname) -> None:
        """The whole model in one file (both matrices, the vocabulary with counts, the settings and how far
        training went): ``Word2Vec.load`` continues from it."""
        if self.wv is None:
            raise UserError("this model has no vocabulary yet: nothing to save (call build_vocab and train first)")
        settings = {k: getattr(self, k) for k in _SETTINGS}
        meta = {"format": FORMAT, "settings": settings, "options": self.options, "words": self.wv.index_to_key,
                "corpus_count": self.corpus_count, "corpus_total_words": self.corpus_total_words,
                "train_count": self.train_count, "epochs_trained": self.epochs_trained,
                "running_training_loss": self.running_training_loss}
        buf = io.BytesIO()
        np.savez(buf, w_in=self.wv.vectors, w_out=self.syn1neg, counts=np.asarray(self.wv.counts, dtype=np.int64),
                 meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        _atomic_write(os.fspath(fname), lambda f: f.write(buf.getbuffer()))

    @classmethod
    def load(cls, fname, mmap=None) -> Word2Vec:
        fname = os.fspath(fname)
        if not os.path.isfile(fname):
            raise UserError(f"no such model file {fname!r}: save one with model.save({fname!r})")
        try:
            with np.load(fname, allow_pickle=False) as f:
                meta = json.loads(f["meta"].tobytes().decode("utf-8"))
                w_in, w_out, counts = f["w_in"], f["w_out"], f["counts"]
            if meta.get("format") != FORMAT:
                raise ValueError("not a fastw2v model")
        except (ValueError, KeyError, OSError, EOFError) as e:
            raise UserError(f"{fname!r} is not a model saved by fastw2v.Word2Vec.save ({str(e)[:80]}): a gensim "
                            "model loads with gensim.models.Word2Vec.load; word vectors with fastw2v.Vectors.load"
                            ) from None
        settings = {"sg": 1, **meta["settings"]}  # a model saved before CBOW was skip-gram
        model = cls(**settings, **meta["options"])
        model.wv = Vectors(meta["words"], w_in, counts)
        model.syn1neg = np.ascontiguousarray(w_out, dtype=np.float32)
        for k in ("corpus_count", "corpus_total_words", "train_count", "epochs_trained", "running_training_loss"):
            setattr(model, k, meta[k])
        return model


def _init_weights(rows: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """gensim's initialisation: input rows uniform in [-1/d, 1/d) (gensim's ``prep_vectors``; word2vec.c's and the
    tutorial's range, fastw2v.train's, is half that), output rows zero. The larger start moves CBOW's hidden layer
    further from zero in the first updates, which shows at 1 epoch (docs/quality.md)."""
    from .hogwild import init_weights

    w_in, w_out = init_weights(rows, dim, seed)
    return w_in * np.float32(2.0), w_out


def _keep(word: str, count: int, min_count: int, trim_rule) -> bool:
    """gensim's keep_vocab_item: trim_rule's RULE_KEEP (2) keeps, RULE_DISCARD (1) drops, else min_count decides."""
    rule = trim_rule(word, count, min_count) if trim_rule is not None else 0
    return rule == 2 or (rule != 1 and count >= min_count)


def _call(callback, name: str, model) -> None:
    method = getattr(callback, name, None)
    if method is not None:
        method(model)
