"""The tutorial's own training loop, once with its DataLoader(SkipGramDataset) and once with fastw2v's
batch builder in its place: a one-line change, and both train."""

import numpy as np
import torch

import fastw2v
from fastw2v import naive
from tests.conftest import planted_texts


def tutorial_data():
    corpus = naive.read_corpus(planted_texts(n_docs=120))
    word2idx, idx2word, indexed_docs = naive.build_vocab(corpus, sort=True)
    return word2idx, indexed_docs


def test_tutorial_loop_trains_with_either_data_path():
    word2idx, indexed_docs = tutorial_data()
    V = len(word2idx)
    losses = {}
    for name in ("tutorial", "fastw2v"):
        torch.manual_seed(0)
        np.random.seed(0)
        if name == "tutorial":
            pairs = naive.build_skipgram_pairs_docs(indexed_docs, 2)
            probs = naive.make_unigram_probs(indexed_docs, V)
            dataset = fastw2v.SkipGramDataset(pairs, probs, V, 5)
            dataloader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True)
        else:  # the one-line change
            dataloader = fastw2v.SkipGramBatches(indexed_docs, V, batch_size=128, window=2, negative=5)
        assert len(dataloader) == -(-len(naive.build_skipgram_pairs_docs(indexed_docs, 2)) // 128)
        _, losses[name] = naive.tutorial_train(dataloader, V, embed_dim=16, lr=0.01, epochs=3)
    for name, curve in losses.items():
        first, last = np.mean(curve[:5]), np.mean(curve[-5:])
        assert last < 0.8 * first, (name, first, last)
    # the same data, the same model: the final losses agree
    assert abs(np.mean(losses["tutorial"][-10:]) - np.mean(losses["fastw2v"][-10:])) < 0.1


def test_batch_builder_negatives_match_the_tutorial_distribution():
    """The tutorial draws negatives from make_unigram_probs; fastw2v from an alias table of the same weights."""
    from scipy import stats

    word2idx, indexed_docs = tutorial_data()
    V = len(word2idx)
    probs = naive.make_unigram_probs(indexed_docs, V)
    negs = torch.cat([n.reshape(-1) for _, _, n in fastw2v.SkipGramBatches(indexed_docs, V, batch_size=512)])
    observed = np.bincount(negs.numpy(), minlength=V)
    assert stats.chisquare(observed, probs * observed.sum()).pvalue > 1e-3
