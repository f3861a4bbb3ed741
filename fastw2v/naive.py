"""The tutorial's pipeline (docs/usage.md says what it is), kept faithfully: the baseline of the benchmarks and
the reference of the equivalence tests. Slow on purpose; do not optimise.

Differences, each needed to run it as a library: ``read_corpus`` takes the texts instead of loading IMDB
itself, and ``build_vocab`` takes ``sort=True`` to make the ids deterministic (the tutorial's ``set()``
order changes with Python's hash seed; ``sort=False`` keeps that behaviour).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .model import SkipGramNS


def read_corpus(texts) -> list[list[str]]:
    return [[w.lower() for w in f.split()] for f in texts]


def build_vocab(corpus: list[list[str]], sort: bool = False):
    tokens: list[str] = [tok for doc in corpus for tok in doc]
    vocab = set(tokens)
    if sort:
        vocab = sorted(vocab)
    word2idx = {w: i for i, w in enumerate(vocab)}
    idx2word = {i: w for w, i in word2idx.items()}
    indexed_docs: list[list[int]] = [[word2idx[w] for w in doc] for doc in corpus]
    return word2idx, idx2word, indexed_docs


def build_skipgram_pairs_docs(indexed_docs: list[list[int]], window_size: int) -> list[tuple[int, int]]:
    pairs = []
    for doc in indexed_docs:
        for i, center in enumerate(doc):
            start = max(0, i - window_size)
            end = min(len(doc), i + window_size + 1)
            for j in range(start, end):
                if i != j:
                    context = doc[j]
                    pairs.append((center, context))
    return pairs


def make_unigram_probs(indexed_docs: list[list[int]], vocab_size: int, power: float = 0.75) -> np.ndarray:
    freqs = np.zeros(vocab_size, dtype=np.float64)
    for doc in indexed_docs:
        for idx in doc:
            freqs[idx] += 1
    probs = freqs**power
    probs /= probs.sum()
    return probs


class SkipGramDataset(Dataset):
    def __init__(self, pairs: list[tuple[int, int]], probs: np.ndarray, vocab_size: int, k: int):
        self.pairs = pairs
        self.probs = probs
        self.vocab_size = vocab_size
        self.k = k

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, idx):
        center, pos = self.pairs[idx]
        negs = np.random.choice(self.vocab_size, size=self.k, replace=True, p=self.probs)
        return (
            torch.tensor(center),
            torch.tensor(pos),
            torch.tensor(negs),
        )


def tutorial_train(
    dataloader,
    vocab_size: int,
    embed_dim: int = 100,
    lr: float = 0.001,
    epochs: int = 1,
    device: str = "cpu",
    max_batches: int | None = None,
) -> tuple[SkipGramNS, list[float]]:
    """The tutorial's ``train()`` loop (Adam on the mean loss), over any iterable of (center, pos, negs).

    ``dataloader`` is the tutorial's ``DataLoader(SkipGramDataset(...))`` or, as the one-line change,
    fastw2v's batch builder. Returns the model and the loss of each batch.
    """
    model = SkipGramNS(vocab_size, embed_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(epochs):
        for batch_idx, (center, pos, negs) in enumerate(dataloader):
            center, pos, negs = center.to(device), pos.to(device), negs.to(device)
            loss = model(center, pos, negs)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if max_batches is not None and batch_idx + 1 >= max_batches:
                break
    return model, losses


def tutorial_dataloader(
    indexed_docs, vocab_size: int, window: int = 5, k: int = 5, batch_size: int = 512, num_workers: int = 0
) -> DataLoader:
    """The tutorial's data path: all pairs in a list, probs, SkipGramDataset, DataLoader(shuffle=True)."""
    pairs = build_skipgram_pairs_docs(indexed_docs, window)
    probs = make_unigram_probs(indexed_docs, vocab_size)
    return DataLoader(
        SkipGramDataset(pairs, probs, vocab_size, k), batch_size=batch_size, shuffle=True, num_workers=num_workers
    )
