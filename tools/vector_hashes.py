"""Hashes of the vectors every backend trains on one small corpus: a refactor that must not change the arithmetic
prints the same lines before and after.

    python -m tools.vector_hashes            # one line per trainer: name, sha1 of the vectors (12 digits)
"""

from __future__ import annotations

import argparse
import hashlib

import numpy as np

import fastw2v
from fastw2v.train import train_corpus

TRAINERS = {  # name: Config settings on top of the shared ones below
    "hogwild skip-gram, shared negatives": dict(backend="hogwild", sg=1),
    "hogwild skip-gram, per-pair negatives": dict(backend="hogwild", sg=1, shared_negatives=False),
    "hogwild CBOW mean": dict(backend="hogwild", sg=0),
    "hogwild CBOW sum": dict(backend="hogwild", sg=0, cbow_mean=0),
    "hogwild skip-gram hs": dict(backend="hogwild", sg=1, hs=True, negative=0),
    "hogwild CBOW hs + negatives": dict(backend="hogwild", sg=0, hs=True),
    "hogwild skip-gram, 2 ranks in turn": dict(backend="hogwild", sg=1, as_ranks=2),
    "torch sgd": dict(backend="torch", device="cpu", sgd_kernel="torch"),
    "torch adam": dict(backend="torch", device="cpu", optimizer="adam"),
    "torch sgd, 2 ranks in turn": dict(backend="torch", device="cpu", sgd_kernel="torch", as_ranks=2),
}


def planted_texts(n_groups=4, group_size=8, n_docs=400, doc_len=30, seed=0):
    """tests.conftest.planted_texts, copied so that the tool runs without the tests."""
    rng = np.random.default_rng(seed)
    fillers = ["the", "a", "of"]
    texts = []
    for d in range(n_docs):
        words = [f"g{d % n_groups}w{i}" for i in rng.integers(0, group_size, doc_len)]
        for pos in rng.integers(0, doc_len, 5):
            words[pos] = fillers[rng.integers(0, len(fillers))]
        texts.append(" ".join(words))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    corpus = fastw2v.encode(fastw2v.from_texts(planted_texts()), min_count=1, cache_dir=None)
    for name, settings in TRAINERS.items():
        settings = dict(settings)
        as_ranks = settings.pop("as_ranks", 0)
        config = fastw2v.Config(vector_size=20, epochs=2, seed=1, workers=1, **settings)
        vectors, _ = train_corpus(corpus, config, progress=False, as_ranks=as_ranks)
        print(f"{name:40s} {hashlib.sha1(np.ascontiguousarray(vectors.vectors).tobytes()).hexdigest()[:12]}")


if __name__ == "__main__":
    main()
