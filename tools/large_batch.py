"""Large-batch SGD: how the fused step's per-row trust region (SkipGramNS.sgd_step ``trust``) behaves with
batch size, on a slice of IMDB, 1 epoch.

    python -m tools.large_batch --slice-tokens 3000000 --runs 16384:16 65536:16 16384:none

Each run prints the mean training loss per pair, the mean cosine between the input vectors of random pairs
of the 5,000 most frequent words (a collapsed, under-trained model is near 1; compare gensim on the same
slice), and the neighbours of "good" and "horror". ``none`` is the plain summed step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import fastw2v
from benchmarks.benchmarks import common
from fastw2v.batching import NumbaBatches
from fastw2v.corpus import EncodedCorpus


def run(corpus: EncodedCorpus, batch_size: int, trust: float | None, alpha=0.025, min_alpha=1e-4, seed=1):
    torch.manual_seed(seed)
    model = fastw2v.SkipGramNS(len(corpus.vocab), 100)
    batches = NumbaBatches(corpus, batch_size=batch_size, seed=seed)
    n_batches, loss, pairs = len(batches), 0.0, 0
    start = time.perf_counter()
    for b, (center, pos, negs) in enumerate(batches):
        lr = alpha - (alpha - min_alpha) * b / n_batches
        loss += model.sgd_step(center, pos, negs, lr, trust=trust).item()
        pairs += center.shape[0]
    vectors = fastw2v.Vectors(corpus.vocab.words, model.in_embed.weight.detach().numpy())
    unit = vectors.unit_vectors[:5000]
    i, j = np.random.default_rng(0).integers(0, unit.shape[0], (2, 2000))
    mean_cos = float((unit[i] * unit[j]).sum(1).mean())
    neighbours = {w: [x for x, _ in vectors.most_similar(w, topn=6)] for w in ("good", "horror") if w in vectors}
    print(
        f"B={batch_size} trust={trust} loss/pair={loss / pairs:.3f} mean_cos={mean_cos:.3f} "
        f"time={time.perf_counter() - start:.0f}s {neighbours}",
        flush=True,
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=None, help="dataset folder (default: ../shared/data/imdb)")
    ap.add_argument("--slice-tokens", type=int, default=3_000_000)
    ap.add_argument(
        "--runs",
        nargs="+",
        default=["16384:16", "65536:16", "16384:none"],
        help="BATCH:TRUST pairs; TRUST 'none' is the plain summed step",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    corpus = common.corpus(args.corpus, args.slice_tokens)  # the first whole pieces, counts recounted
    for spec in args.runs:
        b, t = spec.split(":")
        run(corpus, int(b), None if t == "none" else float(t))


if __name__ == "__main__":
    main()
