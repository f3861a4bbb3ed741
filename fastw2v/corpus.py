"""The encoded corpus: token ids (int32 memmap, in-vocabulary tokens only) and piece boundaries (int64) in a folder
with its vocabulary and a meta.json (written last: a folder holding it is whole); loaded with checks that its files
agree, and its ids verified block by block against their checksums as they are read."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .errors import UserError, setting
from .vocab import Vocab

CACHE_FORMAT = 1  # bump when the cached files change meaning

DAMAGED_FIX = "delete the folder and encode the text again"  # the end of every damaged-folder message

CRC_BLOCK = 1 << 22  # ids per checksum block of ids.int32 (16 MiB)


@dataclass
class EncodedCorpus:
    """Token ids of the whole corpus and where its pieces start.

    ``ids``: int32[N], in-vocabulary tokens only, memory-mapped from disk.
    ``starts``: int64[P + 1], first position of each piece and N last. A piece is a document or, for a
    document longer than ``max_piece_length``, a part of one; windows never cross a piece boundary.
    """

    ids: np.ndarray
    starts: np.ndarray
    vocab: Vocab
    n_documents: int
    description: str = ""
    path: str | None = None  # the cache folder, when there is one
    settings: dict | None = None  # what it was encoded with (tokenizer, min_count, ...), when known
    _tmp: object = None  # keeps a temporary folder alive as long as the corpus
    ids_crc32: list[int] | None = None  # CRC-32 of each CRC_BLOCK ids of ids.int32, when the folder has them
    cached: bool = False  # a cache entry: when damaged it is removed, so that the next run encodes the text again
    _verified: np.ndarray | None = None  # which CRC blocks were read and found whole
    encode_seconds: float | None = None  # set when this call encoded the text (not loaded from the cache)
    raw_tokens: int | None = None  # tokens read from the text (before min_count), when known

    @property
    def n_tokens(self) -> int:
        return int(self.ids.shape[0])

    def chunk_bounds(self, chunk_tokens: int) -> np.ndarray:
        """Piece indices that cut the corpus into chunks of at most ``chunk_tokens`` tokens (or one piece)."""
        bounds = [0]
        n_pieces = self.starts.shape[0] - 1
        while bounds[-1] < n_pieces:
            first = bounds[-1]
            limit = self.starts[first] + chunk_tokens
            last = int(np.searchsorted(self.starts, limit, side="right")) - 1
            bounds.append(min(max(last, first + 1), n_pieces))
        return np.array(bounds, dtype=np.int64)

    def chunk(self, bounds: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk c of ``chunk_bounds``: (a writable copy of its ids read from disk, its local piece starts)."""
        starts = self.starts[bounds[c] : bounds[c + 1] + 1]
        self.verify(int(starts[0]), int(starts[-1]))
        ids = np.array(self.ids[starts[0] : starts[-1]])
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.vocab)):  # the kernels index rows with them
            self._damaged(f"token ids up to {ids.max()}, a vocabulary of {len(self.vocab)} words")
        return ids, starts - starts[0]

    def verify(self, a: int, b: int) -> None:
        """Check the CRC of every block of ids that overlaps ids[a:b] and was not checked yet (each is read once
        per process: cheap, and lazy, so that a run starts at once). A damaged block is an error, never trained on."""
        if self.ids_crc32 is None or b <= a:
            return
        if self._verified is None:
            self._verified = np.zeros(len(self.ids_crc32), dtype=bool)
        for k in range(a // CRC_BLOCK, (b - 1) // CRC_BLOCK + 1):
            if self._verified[k]:
                continue
            block = np.ascontiguousarray(self.ids[k * CRC_BLOCK : (k + 1) * CRC_BLOCK])
            if zlib.crc32(block) != self.ids_crc32[k]:
                self._damaged(f"block {k} of ids.int32 fails its checksum")
            self._verified[k] = True

    def _damaged(self, reason: str) -> None:
        where = f"encoded corpus {self.path!r}" if self.path else "the corpus"
        if self.cached and self.path:  # derived data: remove it, the next run encodes the text again
            with contextlib.suppress(OSError):
                os.remove(os.path.join(self.path, "meta.json"))
            shutil.rmtree(self.path, ignore_errors=True)
            raise UserError(
                f"the cached {where} is damaged ({reason}) and was removed: run again to encode the text "
                f"again (with {setting('resume', True)}, training goes on from the last checkpoint)"
            )
        raise UserError(f"{where} is damaged ({reason}): {DAMAGED_FIX}")

    def documents(self) -> Iterator[np.ndarray]:
        """Token ids piece by piece (for tests and the naive pipeline)."""
        for a, b in zip(self.starts[:-1], self.starts[1:]):
            yield np.asarray(self.ids[a:b])

    def save(self, folder: str) -> None:
        """Write the corpus in the cache layout (ids.int32, starts.npy, vocab.tsv, meta.json): a slice or
        a corpus encoded elsewhere can then be loaded with ``EncodedCorpus.load``, e.g. on a GPU machine
        that has neither the dataset nor ``datasets``. meta.json is written last: a folder holding it is whole."""
        os.makedirs(folder, exist_ok=True)
        step = 1 << 24
        with open(os.path.join(folder, "ids.int32"), "wb") as f:
            for a in range(0, self.n_tokens, step):
                np.asarray(self.ids[a : a + step], dtype=np.int32).tofile(f)
        np.save(os.path.join(folder, "starts.npy"), np.asarray(self.starts, dtype=np.int64))
        self.vocab.save(os.path.join(folder, "vocab.tsv"))
        with open(os.path.join(folder, "meta.json"), "w") as f:
            json.dump(
                {
                    "format": CACHE_FORMAT,
                    "n_documents": self.n_documents,
                    "n_tokens": self.n_tokens,
                    "raw_tokens": self.n_tokens,
                    "description": self.description,
                    "settings": self.settings,
                    "crc_block": CRC_BLOCK,
                    "ids_crc32": read_back(os.path.join(folder, "ids.int32"))[1],
                },
                f,
            )

    @classmethod
    def load(cls, folder: str, description: str | None = None) -> EncodedCorpus:
        """An encoded corpus from its folder (a cache folder of ``encode``, or one written by ``save``)."""
        if not os.path.isfile(os.path.join(folder, "meta.json")):
            raise UserError(
                f"{folder!r} is not an encoded corpus (no meta.json): encode the text first, "
                "or pass the folder that fastw2v.encode / EncodedCorpus.save wrote"
            )
        return load_folder(folder, description)


def is_encoded_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "meta.json"))


def read_back(path: str, vocab_size: int | None = None) -> tuple[np.ndarray | None, list[int]]:
    """(count of each id, CRC-32 of each CRC_BLOCK ids) of an ids file, in one read; counts only with vocab_size."""
    counts = None if vocab_size is None else np.zeros(vocab_size, dtype=np.int64)
    crcs = []
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * CRC_BLOCK), b""):
            crcs.append(zlib.crc32(block))
            if counts is not None:
                counts += np.bincount(np.frombuffer(block, dtype=np.int32), minlength=vocab_size)
    return counts, crcs


def load_folder(folder: str, description: str | None = None, cached: bool = False) -> EncodedCorpus:
    """The corpus in ``folder``, after checks that its files agree (sizes, piece bounds, vocabulary): a
    damaged folder (a copy cut short, a file edited by hand) is a UserError here, never a crash later
    inside a kernel. Token ids are checked against the vocabulary chunk by chunk (``EncodedCorpus.chunk``)."""
    try:
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        if not isinstance(meta, dict):
            raise ValueError("meta.json is not a JSON object")
        n_tokens, n_documents = int(meta["n_tokens"]), int(meta["n_documents"])
        ids_path = os.path.join(folder, "ids.int32")
        size = os.path.getsize(ids_path)
        if size != 4 * n_tokens:
            raise ValueError(f"ids.int32 holds {size / 4:,.0f} tokens, meta.json says {n_tokens:,}")
        starts = np.load(os.path.join(folder, "starts.npy"), allow_pickle=False)
        if (
            starts.ndim != 1
            or starts.dtype.kind not in "iu"
            or starts.shape[0] < 1
            or starts[0] != 0
            or starts[-1] != n_tokens
            or np.any(starts[1:] < starts[:-1])
        ):
            raise ValueError(f"starts.npy does not cut the {n_tokens:,} tokens into pieces")
        vocab = Vocab.load(os.path.join(folder, "vocab.tsv"))
        if vocab.total != n_tokens:  # every kept token is a vocabulary word, counted once
            raise ValueError(f"vocab.tsv counts {vocab.total:,} tokens, meta.json says {n_tokens:,}")
    except FileNotFoundError as e:
        raise UserError(
            f"encoded corpus {folder!r} is damaged ({os.path.basename(e.filename)} is missing): {DAMAGED_FIX}"
        ) from None
    except KeyError as e:
        raise UserError(
            f"encoded corpus {folder!r} is damaged (meta.json has no {e.args[0]!r}): {DAMAGED_FIX}"
        ) from None
    except (OSError, ValueError, TypeError) as e:  # JSONDecodeError is a ValueError
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UserError(f"encoded corpus {folder!r} is damaged ({reason}): {DAMAGED_FIX}") from None
    # np.memmap cannot map an empty file; a corpus with no kept token fails earlier, in Vocab.from_counts.
    ids = np.memmap(ids_path, dtype=np.int32, mode="r") if n_tokens else np.zeros(0, dtype=np.int32)
    description = description or meta.get("description") or f"encoded corpus {folder}"
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else None
    crcs = meta.get("ids_crc32")
    if crcs is not None and (meta.get("crc_block") != CRC_BLOCK or len(crcs) != -(-n_tokens // CRC_BLOCK)):
        raise UserError(
            f"encoded corpus {folder!r} is damaged (meta.json's checksums do not fit ids.int32): {DAMAGED_FIX}"
        )
    raw = meta.get("raw_tokens")
    return EncodedCorpus(
        ids=ids,
        starts=starts.astype(np.int64, copy=False),
        vocab=vocab,
        n_documents=n_documents,
        description=description,
        path=folder,
        settings=settings,
        ids_crc32=crcs,
        cached=cached,
        raw_tokens=raw if isinstance(raw, int) else None,
    )
