"""fastw2v: fast word2vec (skip-gram and CBOW, with negative sampling or hierarchical softmax) from Python.

    import fastw2v
    vectors = fastw2v.train(dataset="stanfordnlp/imdb", epochs=1)
    vectors.most_similar("movie")

    from fastw2v import Word2Vec       # gensim's interface: Word2Vec(sentences, vector_size=100, ...).wv

Drop-in for the tutorial's code (docs/usage.md): ``SkipGramNS`` is its model; ``SkipGramDataset`` its (slow)
dataset; ``SkipGramBatches`` replaces ``DataLoader(SkipGramDataset(...))`` in one line.

The names below are imported on first use, so that ``import fastw2v`` (and ``fastw2v --help``) does not load
torch and numba before they are needed.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fastw2v")
except PackageNotFoundError:  # a source tree that was not installed
    __version__ = "unknown"

_HOMES = {  # public name: (module, its name there)
    "Config": ("config", "Config"),
    "DeviceBatches": ("batching", "DeviceBatches"),
    "EncodedCorpus": ("corpus", "EncodedCorpus"),
    "NumbaBatches": ("batching", "NumbaBatches"),
    "SkipGramBatches": ("batching", "from_indexed_docs"),
    "SkipGramDataset": ("naive", "SkipGramDataset"),
    "SkipGramNS": ("model", "SkipGramNS"),
    "TrainStats": ("stats", "TrainStats"),
    "UserError": ("errors", "UserError"),
    "Vectors": ("vectors", "Vectors"),
    "Vocab": ("vocab", "Vocab"),
    "Word2Vec": ("word2vec", "Word2Vec"),
    "encode": ("encode", "encode"),
    "evaluate_analogies": ("evaluate", "evaluate_analogies"),
    "evaluate_word_pairs": ("evaluate", "evaluate_word_pairs"),
    "from_dataset": ("sources", "from_dataset"),
    "from_files": ("sources", "from_files"),
    "from_texts": ("sources", "from_texts"),
    "open_source": ("sources", "open_source"),
    "train": ("train", "train"),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'fastw2v' has no attribute {name!r}")
    module, attr = _HOMES[name]
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


class _Package(types.ModuleType):
    """The package object: importing the submodule ``fastw2v.train`` (or ``.encode``) does not hide the function
    of the same name, as an eager ``from .train import train`` made sure before."""

    def __setattr__(self, name: str, value) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
