"""fastw2v: fast word2vec skip-gram with negative sampling (SGNS) from Python.

    import fastw2v
    vectors = fastw2v.train(dataset="stanfordnlp/imdb", epochs=1)
    vectors.most_similar("movie")

    from fastw2v import Word2Vec       # gensim's interface: Word2Vec(sentences, vector_size=100, ...).wv

Drop-in for the tutorial's code: ``SkipGramNS`` is its model; ``SkipGramDataset`` its (slow) dataset;
``SkipGramBatches`` replaces ``DataLoader(SkipGramDataset(...))`` in one line.
"""

from .batching import DeviceBatches, NumbaBatches
from .batching import from_indexed_docs as SkipGramBatches
from .config import Config
from .corpus import EncodedCorpus
from .encode import encode
from .errors import UserError
from .evaluate import evaluate_analogies, evaluate_word_pairs
from .model import SkipGramNS
from .naive import SkipGramDataset
from .sources import from_dataset, from_files, from_texts, open_source
from .stats import TrainStats
from .train import train
from .vectors import Vectors
from .vocab import Vocab
from .word2vec import Word2Vec

__version__ = "0.1.0"

__all__ = [
    "Config",
    "DeviceBatches",
    "EncodedCorpus",
    "NumbaBatches",
    "SkipGramBatches",
    "SkipGramDataset",
    "SkipGramNS",
    "TrainStats",
    "UserError",
    "Vectors",
    "Vocab",
    "Word2Vec",
    "encode",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "from_dataset",
    "from_files",
    "from_texts",
    "open_source",
    "train",
]
