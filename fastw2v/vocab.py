"""The vocabulary: words and their counts, in a deterministic order, and the two distributions built from
the counts (negative sampling and sub-sampling)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .errors import UserError, setting


def frequency_order(words: list[str], counts: np.ndarray) -> list[int]:
    """The vocabulary's order: indices of ``words`` by count descending, then by the word itself."""
    count = counts.tolist()
    return sorted(range(len(words)), key=lambda i: (-count[i], words[i]))


@dataclass
class Vocab:
    words: list[str]  # index -> word; ordered by count (descending), then by word
    counts: np.ndarray  # int64[V], corpus count of each word

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @property
    def total(self) -> int:
        """Number of in-vocabulary tokens in the corpus (word2vec.c's train_words)."""
        return int(self.counts.sum())

    @classmethod
    def from_counts(cls, counts: dict[str, int], min_count: int = 5, max_vocab_size: int | None = None) -> Vocab:
        """Keep words seen at least ``min_count`` times; then, with ``max_vocab_size``, the most frequent ones.

        The order is count descending, then the word itself: the same corpus always gives the same ids
        (the tutorial's ``set()`` order changes from run to run).
        """
        words = [w for w, c in counts.items() if c >= min_count]
        kept = np.array([counts[w] for w in words], dtype=np.int64)
        if not words:
            most = max(counts.values(), default=0)
            raise UserError(
                f"no word occurs at least {min_count} times (the most frequent occurs {most} times): "
                f"lower {setting('min_count')} or give a larger corpus"
            )
        order = frequency_order(words, kept)[:max_vocab_size]
        return cls([words[i] for i in order], kept[order])

    def save(self, path: str) -> None:
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            for w, c in zip(self.words, self.counts.tolist()):
                f.write(f"{w}\t{c}\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> Vocab:
        words, counts = [], []
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 2 or not parts[1].isdigit():
                    raise ValueError(f"line {i} of {os.path.basename(path)} is not 'word<TAB>count'")
                words.append(parts[0])
                counts.append(int(parts[1]))
        return cls(words, np.array(counts, dtype=np.int64))

    def unigram_weights(self, ns_exponent: float = 0.75) -> np.ndarray:
        """count ** ns_exponent (unnormalised): the negative-sampling distribution of word2vec."""
        return self.counts.astype(np.float64) ** ns_exponent
