"""Word2Vec's files: ``save`` (one .npz archive, never a pickle) and ``load``, which also reads gensim's own
``Word2Vec.save`` files (gensim 1.x to 4.x, read with gensim when it is installed), and ``from_gensim``, a gensim
model carried over to train on with fastw2v.
"""

from __future__ import annotations

import io
import json
import os
import types
import zipfile
from typing import TypeVar

import numpy as np

from .errors import UserError
from .fileio import atomic_write
from .huffman import HuffmanTree, tree_of_paths
from .vectors import Vectors
from .vocab import Vocab
from .word2vec_vocab import counts_of, lockf_for

FORMAT = "fastw2v.Word2Vec/1"
SETTINGS = (
    "vector_size",
    "alpha",
    "window",
    "min_count",
    "max_vocab_size",
    "sample",
    "seed",
    "workers",
    "min_alpha",
    "sg",
    "hs",
    "negative",
    "ns_exponent",
    "cbow_mean",
    "epochs",
    "max_final_vocab",
    "shrink_windows",
    "compute_loss",
    "sorted_vocab",
    "batch_words",
    "comment",
)
STATE = (
    "corpus_count",
    "corpus_total_words",
    "train_count",
    "epochs_trained",
    "running_training_loss",
    "min_alpha_yet_reached",
)


class _ClassOnly:
    """A classmethod that an instance refuses, as gensim's ``call_on_class_only``: ``model.load(path)`` is an
    AttributeError (it would return a new model and leave ``model`` as it is)."""

    def __init__(self, func):
        self.func = func

    def __get__(self, obj, cls):
        if obj is None:
            return types.MethodType(self.func, cls)
        name = self.func.__name__

        def refused(*args, **kwargs):
            raise AttributeError(f"{name} is called on the class, not on a model: model = {cls.__name__}.{name}(path)")

        return refused


LoadedModel = TypeVar("LoadedModel", bound="Word2VecFiles")  # the class load is called on: Word2Vec


class Word2VecFiles:
    """The file methods that ``fastw2v.Word2Vec`` mixes in: they save and restore the settings (``SETTINGS``), the
    training state (``STATE``), ``wv`` with its counts, ``syn1neg``, ``syn1`` and the Huffman tree."""

    def save(
        self, fname_or_handle, separately=None, sep_limit=10 * 1024**2, ignore=frozenset(), pickle_protocol=4
    ) -> None:
        """The whole model in one file (its matrices, the vocabulary with counts, the settings and how far
        training went): ``Word2Vec.load`` continues from it. gensim's ``separately``, ``sep_limit``, ``ignore`` and
        ``pickle_protocol`` are accepted and have nothing to do: the file is one .npz archive, never a pickle.
        ``fname_or_handle``: a path, or a binary file open for writing."""
        if self.wv is None:
            raise UserError("this model has no vocabulary yet: nothing to save (call build_vocab and train first)")
        self._check_own_vectors("save")
        settings = {k: getattr(self, k) for k in SETTINGS}
        meta = {
            "format": FORMAT,
            "settings": settings,
            "options": self.options,
            "words": self.wv.index_to_key,
            **{k: getattr(self, k) for k in STATE},
        }
        arrays = {"w_in": self.wv.vectors, "counts": np.asarray(self.wv.counts, dtype=np.int64)}
        if self.syn1neg is not None:
            arrays["w_out"] = self.syn1neg
        if self.syn1 is not None:
            tree = self._tree()
            arrays.update(syn1=self.syn1, hs_codes=tree.codes, hs_points=tree.points, hs_offsets=tree.offsets)
        buf = io.BytesIO()
        np.savez(buf, **arrays, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        if hasattr(fname_or_handle, "write"):
            fname_or_handle.write(buf.getbuffer())
            return
        atomic_write(os.fspath(fname_or_handle), lambda f: f.write(buf.getbuffer()))

    @_ClassOnly
    def load(cls: type[LoadedModel], fname, mmap=None, **kwargs) -> LoadedModel:
        """A model saved by ``Word2Vec.save``, or by gensim's ``Word2Vec.save`` (gensim 1.x to 4.x, read with gensim,
        which must be installed): its vocabulary, counts, matrices, settings and epochs, ready to train on.
        ``mmap`` is passed to gensim for its files (fastw2v's file is read whole). Called on the class, as gensim's:
        ``model.load(path)`` is an AttributeError."""
        fname = os.fspath(fname)
        if not os.path.isfile(fname):
            raise UserError(f"no such model file {fname!r}: save one with model.save({fname!r})")
        if not zipfile.is_zipfile(fname):  # fastw2v's files are .npz archives; gensim's are pickles
            return cls._from_gensim_file(fname, mmap)
        try:
            with np.load(fname, allow_pickle=False) as f:
                meta = json.loads(f["meta"].tobytes().decode("utf-8"))
                arrays = {k: f[k] for k in f.files if k != "meta"}
            if meta.get("format") != FORMAT:
                raise ValueError("not a fastw2v model")
        except (ValueError, KeyError, OSError, EOFError) as e:
            raise UserError(
                f"{fname!r} is not a model saved by fastw2v.Word2Vec.save ({str(e)[:80]}): word "
                "vectors load with fastw2v.Vectors.load"
            ) from None
        settings = {"sg": 1, **meta["settings"]}  # a file without "sg" holds a skip-gram model
        model = cls(**settings, **meta["options"])
        model.wv = Vectors(meta["words"], arrays["w_in"], arrays["counts"])
        model.wv.vectors_lockf = np.ones(1, dtype=np.float32)
        w_out = arrays.get("w_out")
        model.syn1neg = np.ascontiguousarray(w_out, dtype=np.float32) if model.negative else None
        model.syn1 = np.ascontiguousarray(arrays["syn1"], dtype=np.float32) if model.hs else None
        if model.hs:  # the tree it trained (a file without one: word2vec.c's tree of the counts)
            saved = "hs_offsets" in arrays
            model._set_codes(
                HuffmanTree(arrays["hs_codes"], arrays["hs_points"], arrays["hs_offsets"]) if saved else None
            )
        for k in STATE:
            if k in meta:
                setattr(model, k, meta[k])
        return model

    @classmethod
    def _from_gensim_file(cls: type[LoadedModel], fname: str, mmap) -> LoadedModel:
        """A model saved by gensim, loaded by gensim and carried over."""
        try:
            import gensim.models
        except ImportError:
            raise UserError(
                f"{fname!r} is not a model saved by fastw2v.Word2Vec.save: a gensim model loads when "
                "gensim is installed (pip install gensim); word vectors load with fastw2v.Vectors.load"
            ) from None
        try:
            theirs = gensim.models.Word2Vec.load(fname, mmap=mmap, rethrow=True)
        except AttributeError as e:  # a file of another gensim class (KeyedVectors, Doc2Vec...)
            raise AttributeError(
                f"{fname!r} is not a Word2Vec model ({str(e).splitlines()[0][:160]}): word "
                "vectors load with fastw2v.Vectors.load or gensim's KeyedVectors.load"
            ) from None
        except Exception as e:  # noqa: BLE001 - unpickling raises many types; all mean "not a model"
            reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise UserError(
                f"{fname!r} is neither a model saved by fastw2v.Word2Vec.save nor one gensim loads "
                f"({reason}): check the file"
            ) from None
        return cls.from_gensim(theirs)

    @classmethod
    def from_gensim(cls: type[LoadedModel], theirs) -> LoadedModel:
        """A fastw2v model of a gensim ``Word2Vec``: its vocabulary (order and counts), matrices (``wv.vectors``,
        ``syn1neg``, ``syn1``), settings, epochs and corpus figures, copied."""
        d = int(theirs.wv.vectors.shape[1])
        settings = {k: _plain(getattr(theirs, k)) for k in SETTINGS if hasattr(theirs, k)}
        settings["vector_size"] = d
        model = cls(**settings)
        words = list(theirs.wv.index_to_key)
        vocab = Vocab(words, counts_of(theirs.wv))
        model.wv = Vectors(vocab.words, np.array(theirs.wv.vectors, dtype=np.float32), vocab.counts)
        lockf = getattr(theirs.wv, "vectors_lockf", None)
        model.wv.vectors_lockf = lockf_for(lockf if lockf is not None else np.ones(1), len(words))
        model.syn1neg = _matrix_of(theirs, "syn1neg", len(words), d) if model.negative else None
        model.syn1 = _matrix_of(theirs, "syn1", len(words), d) if model.hs else None
        if model.hs:  # syn1's rows are the inner nodes of gensim's tree, whose ties differ from word2vec.c's
            expandos = getattr(theirs.wv, "expandos", {})
            codes, points = expandos.get("code"), expandos.get("point")
            model._set_codes(
                tree_of_paths(codes, points)
                if codes is not None and points is not None and len(codes) == len(words)
                else None
            )
        model.corpus_count = _plain(getattr(theirs, "corpus_count", 0))
        model.corpus_total_words = _plain(getattr(theirs, "corpus_total_words", None))
        model.train_count = _plain(getattr(theirs, "train_count", 0))
        model.running_training_loss = float(getattr(theirs, "running_training_loss", 0.0))
        model.min_alpha_yet_reached = float(getattr(theirs, "min_alpha_yet_reached", model.alpha))
        model.effective_min_count = _plain(getattr(theirs, "effective_min_count", model.min_count))
        return model


def _plain(value):
    """A numpy scalar of a gensim model as the Python number it is (the settings are saved as JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _matrix_of(theirs, name: str, rows: int, dim: int) -> np.ndarray:
    """A gensim model's output matrix ``name`` (float32), or zeros when it has none of that shape."""
    matrix = getattr(theirs, name, None)
    if matrix is None or np.shape(matrix) != (rows, dim):
        return np.zeros((rows, dim), dtype=np.float32)
    return np.array(matrix, dtype=np.float32)
