"""word2vec.c's CBOW in numpy over the kernels' streams: the reference that hogwild's CBOW kernel is checked against,
with negative sampling, hierarchical softmax or both (tests/test_cbow.py, tests/test_hs.py)."""

import dataclasses

import numpy as np

from fastw2v import kernels as K
from fastw2v.hogwild import init_weights
from fastw2v.huffman import build_tree
from fastw2v.pair_step import MAX_EXP


def chunk_streams(corpus, cfg):
    """For each epoch and chunk: (kept ids, kept piece starts, the window reach and the negatives of kept position
    i), from the kernels' streams as hogwild draws them."""
    k = cfg.negative
    keep = K.keep_thresholds(corpus.vocab.counts, cfg.sample)
    table = K.build_alias_table(corpus.vocab.unigram_weights(cfg.ns_exponent))
    bounds = corpus.chunk_bounds(cfg.chunk_tokens)
    for epoch in range(cfg.epochs):
        for c in range(bounds.shape[0] - 1):

            def base(stream, epoch=epoch, c=c):
                return int(K.stream_base(cfg.seed, epoch, stream, c))

            ids, local = corpus.chunk(bounds, c)
            kept, kept_starts = K.subsample(ids, local, keep, base(K.STREAM_SUBSAMPLE))

            def reach(i, base_window=base(K.STREAM_WINDOW)):
                return int(K.window_reach(cfg.window, cfg.shrink_windows, base_window, i))

            def negatives(i, b=(base(K.STREAM_NEGATIVE), base(K.STREAM_NEGATIVE_COIN))):
                return [int(K.alias_draw(table, b[0], b[1], i * k + t)) for t in range(k)]

            yield kept, kept_starts, reach, negatives


def hs_step(h, word, tree, syn1, lr, neu1e):
    """word2vec.c's hierarchical softmax for input h predicting ``word`` (word2vec.c:511-524): a node scored past
    +-MAX_EXP is skipped."""
    for code, node in zip(tree.code(word).tolist(), tree.point(word).tolist()):
        f = h @ syn1[node]
        if f <= -MAX_EXP or f >= MAX_EXP:
            continue
        g = (1 - code - 1 / (1 + np.exp(-f))) * lr
        neu1e += g * syn1[node]
        syn1[node] += g * h


def neg_step(h, center, negs, w_out, lr, neu1e):
    """word2vec.c's negative sampling for input h: the center (label 1) and its negatives (label 0; one equal to the
    center skipped) each move their output row by g * h, and neu1e sums g * (the row before its move)."""
    for target, label in [(center, 1)] + [(n, 0) for n in negs if n != center]:
        f = np.clip(h @ w_out[target], -MAX_EXP, MAX_EXP)
        g = (label - 1 / (1 + np.exp(-f))) * lr
        neu1e += g * w_out[target]
        w_out[target] += g * h


def reference_cbow(corpus, cfg, lockf=None):
    """word2vec.c's CBOW (word2vec.c:446-491) in numpy over the kernels' streams, constant lr: the hidden layer h is
    the mean of the window's input rows (with cbow_mean=0 their sum, the error then divided by their number, as
    gensim's fast_sentence_cbow_neg does); with cfg.negative the center and its negatives train against h
    (``neg_step``), then with cfg.hs the center's path in the tree (``hs_step``); every input row of the window takes
    the error, times its lock factor (``lockf``, one per word; None: 1). A window without a context trains nothing.
    Returns (w_in, w_out, syn1, the windows trained)."""
    V, d = len(corpus.vocab), cfg.vector_size
    w_in, w_out = init_weights(V, d, cfg.seed)
    syn1, lr = np.zeros((V, d), np.float32), np.float32(cfg.lr)
    tree = build_tree(corpus.vocab.counts) if cfg.hs else None
    windows = 0
    for kept, kept_starts, reach, negatives in chunk_streams(
        corpus, dataclasses.replace(cfg, negative=max(cfg.negative, 1))
    ):
        for s, e in zip(kept_starts[:-1].tolist(), kept_starts[1:].tolist()):
            for i in range(s, e):
                r = reach(i)
                contexts = [int(kept[j]) for j in range(max(s, i - r), min(e, i + r + 1)) if j != i]
                if not contexts:
                    continue
                windows += 1
                h = w_in[contexts].sum(axis=0)
                if cfg.cbow_mean:
                    h /= np.float32(len(contexts))
                center, neu1e = int(kept[i]), np.zeros(d, np.float32)
                if cfg.negative:
                    neg_step(h, center, negatives(i), w_out, lr, neu1e)
                if cfg.hs:
                    hs_step(h, center, tree, syn1, lr, neu1e)
                if not cfg.cbow_mean:
                    neu1e /= np.float32(len(contexts))
                for x in contexts:
                    w_in[x] += neu1e if lockf is None else lockf[x] * neu1e
    return w_in, w_out, syn1, windows
