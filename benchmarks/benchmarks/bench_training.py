"""Trainers in words/s (in-vocabulary tokens before sub-sampling per second of training, word2vec.c's count).

All read the same token stream with the same settings (common.SETTINGS: skip-gram, negative 5, window 5,
dim 100, sample 1e-3, min_count 5, 1 epoch). Slices keep a run short: the tutorial's loop runs a fixed
number of batches on 20k tokens, torch on the CPU (slow there) trains 200k tokens, the rest 1M.
"""

from . import workloads as W
from .common import Skip, corpus, cpu_count, cuda_available, text_file


class _Trainer:
    """What every row shares: one untimed setup builds ``self.run``; each sample is one run's words/s.
    (asv skips names that start with an underscore, so this base is no benchmark itself.)"""

    def track_words_per_sec(self, *params):
        return self.run().value

    track_words_per_sec.unit = "words/s"


class TutorialTraining(_Trainer):
    """fastw2v.naive.tutorial_train: the tutorial's DataLoader + Adam loop, 10 batches of 512."""

    def setup(self):
        self.run = W.prepare_tutorial_training(corpus(None, 20_000), n_batches=10)


class TorchTraining(_Trainer):
    """fastw2v.train(backend="torch", optimizer=..., epochs=1): batches of 16384 pairs."""

    params = [["sgd", "adam", "sparse_adam"], ["cpu", "cuda"]]
    param_names = ["optimizer", "device"]
    timeout = 600

    def setup(self, optimizer, device):
        if device == "cuda" and not cuda_available():
            raise Skip("no CUDA GPU")
        c = corpus(None, 200_000 if device == "cpu" else None)
        self.run = W.prepare_fastw2v_training(c, "torch", optimizer, device, threads=cpu_count())

    def time_epoch(self, optimizer, device):
        self.run()


class Hogwild(_Trainer):
    """fastw2v.train(backend="hogwild"): numba per-pair SGD on lock-free threads (word2vec.c's algorithm), with
    per-pair negatives or one set per window (shared_negatives, HogBatch)."""

    params = [[1, 2], [False, True]]
    param_names = ["threads", "shared_negatives"]

    def setup(self, threads, shared_negatives):
        self.run = W.prepare_fastw2v_training(
            corpus(None, 1_000_000), "hogwild", threads=threads, shared_negatives=shared_negatives
        )


class Gensim(_Trainer):
    """gensim 4 Word2Vec, from corpus_file (Cython reader) or an in-memory iterable; workers = threads."""

    params = [["corpus_file", "iterable"], [1, 2]]
    param_names = ["mode", "workers"]

    def setup(self, mode, workers):
        self.run = W.prepare_gensim(corpus(None, 1_000_000), text_file(None, 1_000_000), mode, workers)


class Word2VecC(_Trainer):
    """word2vec.c, when a ``word2vec`` binary is on PATH."""

    params = [[1, 2]]
    param_names = ["threads"]

    def setup(self, threads):
        self.run = W.prepare_word2vec_c(corpus(None, 1_000_000), text_file(None, 1_000_000), threads)
