"""Batch pipelines: (center, context) pairs with 5 negatives each, in pairs/s.

The tutorial's DataLoader runs at a few thousand pairs/s, so it is timed over a fixed number of batches on
a 20k-token slice; fastw2v's builders run one epoch (sample=1e-3, shrinking window, shuffle) of a 2M-token
slice. A setup that raises NotImplementedError (common.Skip) skips: no GPU.
"""

from . import workloads as W
from .common import Skip, corpus, cuda_available


class TutorialDataLoader:
    """DataLoader(SkipGramDataset(pairs, probs, V, 5), batch_size=512, shuffle=True, num_workers=2)."""

    number = 1
    repeat = (1, 3, 60.0)
    timeout = 300

    def setup(self):
        self.run = W.prepare_tutorial_pipeline(corpus(None, 20_000), n_batches=10)

    def track_pairs_per_sec(self):
        return self.run().value

    track_pairs_per_sec.unit = "pairs/s"


class NumbaPipeline:
    """fastw2v.NumbaBatches over one epoch of a 2M-token slice."""

    params = [[512, 16384, 131072], [1, 2]]
    param_names = ["batch_size", "threads"]
    number = 1
    repeat = (1, 5, 30.0)
    timeout = 300

    def setup(self, batch_size, threads):
        self.run = W.prepare_pipeline(corpus(None, 2_000_000), "numba", batch_size, threads)  # warms numba up

    def time_epoch(self, batch_size, threads):
        self.run()

    def track_pairs_per_sec(self, batch_size, threads):
        return self.run().value

    track_pairs_per_sec.unit = "pairs/s"


class DevicePipeline:
    """fastw2v.DeviceBatches (pairs, shuffle and negatives as torch ops on the device), one epoch: all of the
    corpus on a GPU, a 200k-token slice on the CPU."""

    params = [[16384, 131072, 1048576], ["cpu", "cuda"]]
    param_names = ["batch_size", "device"]
    number = 1
    repeat = (1, 5, 30.0)
    timeout = 300

    def setup(self, batch_size, device):
        if device == "cuda" and not cuda_available():
            raise Skip("no CUDA GPU")
        n_tokens = None if device == "cuda" else 200_000  # torch ops on the CPU are slow: a slice
        self.run = W.prepare_pipeline(corpus(None, n_tokens), "device", batch_size, device=device)

    def time_epoch(self, batch_size, device):
        self.run()

    def track_pairs_per_sec(self, batch_size, device):
        return self.run().value

    track_pairs_per_sec.unit = "pairs/s"
