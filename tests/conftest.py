import os

import numpy as np
import pytest
import torch
from hypothesis import settings

# Property tests: the same examples on every run ("ci", the default), so that a test passes or fails for a change in
# the code, not in the draw; HYPOTHESIS_PROFILE=explore draws many more, at random, to look for new failures (a
# failure found there becomes an @example of its test).
settings.register_profile("ci", derandomize=True, database=None, max_examples=100, deadline=None)
settings.register_profile("explore", derandomize=False, max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Triton's interpreter runs the fused kernels (fastw2v.fused) on the CPU, where CI has no GPU. It is read when a
# kernel is defined, so before anything imports fastw2v.fused.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import fastw2v  # noqa: E402

# One intra-op thread: these tests are tiny, and OpenMP threads that spin-wait on a busy 2-core machine
# make small torch ops 100x slower.
torch.set_num_threads(1)

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")
IMDB = os.path.join(SHARED, "data", "imdb")


def planted_texts(n_groups=4, group_size=8, n_docs=400, doc_len=30, seed=0):
    """Documents that each draw their words from one group, so a word's neighbours are its group.

    Words are named g{group}w{i}; a few shared filler words make sub-sampling and negatives non-trivial.
    """
    rng = np.random.default_rng(seed)
    fillers = ["the", "a", "of"]
    texts = []
    for d in range(n_docs):
        g = d % n_groups
        words = [f"g{g}w{i}" for i in rng.integers(0, group_size, doc_len)]
        for pos in rng.integers(0, doc_len, 5):
            words[pos] = fillers[rng.integers(0, len(fillers))]
        texts.append(" ".join(words))
    return texts


@pytest.fixture(scope="session")
def planted_corpus():
    return fastw2v.encode(fastw2v.from_texts(planted_texts()), min_count=1, cache_dir=None)


@pytest.fixture(scope="session")
def zipf_corpus():
    """~60k tokens over 500 words with Zipfian counts, in documents of varied length."""
    rng = np.random.default_rng(42)
    p = 1.0 / np.arange(1, 501)
    p /= p.sum()
    lengths = rng.integers(1, 120, 1000)
    texts = [" ".join(f"w{i}" for i in rng.choice(500, n, p=p)) for n in lengths]
    return fastw2v.encode(fastw2v.from_texts(texts), min_count=1, cache_dir=None)


@pytest.fixture
def seed():
    return 1234
