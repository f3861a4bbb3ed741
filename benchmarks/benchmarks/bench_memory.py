"""Memory: peak RSS of each pipeline and trainer (asv runs every benchmark in its own process, so a
peakmem_* row holds the interpreter, torch, the data and the workload), and the bytes per pair of the
tutorial's precomputed pair list (the reason it cannot hold all of IMDB's pairs)."""

from . import workloads as W
from .common import corpus, cpu_count, text_file

PIPELINES = ["tutorial", "numba", "device_cpu"]
TRAINERS = ["tutorial", "torch_sgd", "hogwild", "gensim_corpus_file"]


class PipelineMemory:
    params = [PIPELINES]
    param_names = ["pipeline"]
    timeout = 300

    def setup(self, pipeline):
        if pipeline == "tutorial":
            self.run = W.prepare_tutorial_pipeline(corpus(None, 20_000), n_batches=5)
        else:
            kind = "numba" if pipeline == "numba" else "device"
            self.run = W.prepare_pipeline(corpus(None, 2_000_000), kind, 16384, cpu_count())

    def peakmem_epoch(self, pipeline):
        self.run()


class TrainerMemory:
    params = [TRAINERS]
    param_names = ["trainer"]
    timeout = 600

    def setup(self, trainer):
        if trainer == "tutorial":
            self.run = W.prepare_tutorial_training(corpus(None, 20_000), n_batches=5)
        elif trainer == "torch_sgd":
            self.run = W.prepare_fastw2v_training(corpus(None, 200_000), "torch", "sgd", threads=cpu_count())
        elif trainer == "hogwild":
            self.run = W.prepare_fastw2v_training(corpus(None, 1_000_000), "hogwild", threads=cpu_count())
        else:
            self.run = W.prepare_gensim(corpus(None, 1_000_000), text_file(None, 1_000_000), "corpus_file", cpu_count())

    def peakmem_train(self, trainer):
        self.run()


class NaivePairList:
    """Python heap bytes per (center, context) tuple of the tutorial's pair list (tracemalloc)."""

    timeout = 120

    def setup(self):
        self.corpus = corpus(None, 20_000)

    def track_bytes_per_pair(self):
        return W.naive_pair_bytes(self.corpus)

    track_bytes_per_pair.unit = "bytes"
