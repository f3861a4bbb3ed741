"""Batch builders: iterables like a DataLoader that yield ``(center[B], pos[B], negs[B, k])`` int64 tensors.

* ``NumbaBatches`` makes the pairs and negatives of a chunk with the numba kernels on the CPU;
* ``DeviceBatches`` moves a chunk's ids to the torch device once and makes pairs, the shuffle and the
  alias negatives there with tensor ops: no Python per item and no host-device sync per batch (one sync
  per chunk, for the number of kept tokens and pairs).

Both evaluate the same counter-based hash (kernels.hash32), so with ``shuffle=False`` they yield identical
batches; with shuffling they differ only in the order of pairs inside a chunk. Batches are full: the
pairs left at the end of a chunk start the next batch. ``len()`` is exact for the epoch being iterated.

Orientation: the tutorial's. ``center`` goes through ``in_embed``; ``pos`` and the negatives through
``out_embed``, and the negatives replace the context word.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterator
from typing import NamedTuple

import numba
import numpy as np
import torch

from . import kernels as K
from .config import Config
from .corpus import EncodedCorpus
from .errors import UserError, setting
from .vocab import Vocab


@contextlib.contextmanager
def numba_threads(n: int | None):
    """Run numba's parallel kernels on n threads, restoring the previous count afterwards."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n or numba.config.NUMBA_NUM_THREADS, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


class ChunkBatch(NamedTuple):
    """A batch of one chunk's pairs (``_Batches.chunk_batches``): pairs ``first .. first + len(center) - 1``
    of chunk ``chunk``, and the share of the epoch's tokens done before and after it (the lr schedule's
    position and the progress bar's). A chunk with no pair has no batch."""

    chunk: int
    first: int
    center: torch.Tensor
    context: torch.Tensor
    start: float
    end: float
    last: bool  # the chunk's last batch


class _Batches:
    """What both builders share: the epoch counter, exact lengths and cutting pair streams into batches."""

    def __init__(
        self,
        corpus: EncodedCorpus,
        batch_size: int = 16384,
        window: int = 5,
        negative: int = 5,
        sample: float = 1e-3,
        ns_exponent: float = 0.75,
        shrink_windows: bool = True,
        shuffle: bool = True,
        seed: int = 1,
        chunk_tokens: int = 1 << 20,
        threads: int | None = None,
    ):
        for name, value in (
            ("batch_size", batch_size),
            ("window", window),
            ("negative", negative),
            ("chunk_tokens", chunk_tokens),
        ):
            if value < 1:
                raise UserError(f"{name} must be >= 1, got {value}: pass {setting(name, 1)} or more")
        self.corpus = corpus
        self.batch_size = batch_size
        self.window = window
        self.negative = negative
        self.shrink_windows = shrink_windows
        self.shuffle = shuffle
        self.seed = seed
        self.threads = threads
        self.chunk_bounds = corpus.chunk_bounds(chunk_tokens)
        self.keep_threshold = K.keep_thresholds(corpus.vocab.counts, sample)
        self.alias_table = K.build_alias_table(corpus.vocab.unigram_weights(ns_exponent))  # (V, 2)
        self.epoch = 0
        self._started = False
        self._pair_counts: dict[int, np.ndarray] = {}

    # -- epochs and lengths -------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch the next iteration yields (like DistributedSampler.set_epoch)."""
        self.epoch = epoch
        self._started = False

    def _next_epoch(self) -> int:
        # Each new `for batch in builder` is a new epoch with fresh sub-sampling, windows and negatives;
        # len() keeps describing the epoch last iterated until the next iteration starts.
        if self._started:
            self.epoch += 1
        self._started = True
        return self.epoch

    def _chunk(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        return self.corpus.chunk(self.chunk_bounds, c)

    @property
    def n_chunks(self) -> int:
        return self.chunk_bounds.shape[0] - 1

    def pair_counts(self, epoch: int | None = None) -> np.ndarray:
        """Pairs each chunk yields in ``epoch`` (computed with the numba kernels, cached)."""
        epoch = self.epoch if epoch is None else epoch
        if epoch not in self._pair_counts:
            counts = np.zeros(self.n_chunks, dtype=np.int64)
            with numba_threads(self.threads):
                for c in range(self.n_chunks):
                    ids, starts = self._chunk(c)
                    _, kept_starts = K.subsample(
                        ids, starts, self.keep_threshold, self._base(epoch, K.STREAM_SUBSAMPLE, c)
                    )
                    counts[c] = K.count_pairs(
                        kept_starts, self.window, self.shrink_windows, self._base(epoch, K.STREAM_WINDOW, c)
                    ).sum()
            self._pair_counts = {epoch: counts}  # keep one epoch: memory O(chunks)
        return self._pair_counts[epoch]

    def n_pairs(self, epoch: int | None = None) -> int:
        return int(self.pair_counts(epoch).sum())

    def __len__(self) -> int:
        """Batches of the epoch being iterated, or last iterated: what the tutorial's loop asks inside and
        after each epoch (``total_loss / len(dataloader)``). With sub-sampling or shrinking windows each
        epoch has its own length; to know it before a loop (``tqdm(builder)``), call ``set_epoch(e)`` first."""
        return -(-self.n_pairs() // self.batch_size)

    def _base(self, epoch: int, stream: int, chunk: int) -> int:
        return int(K.stream_base(self.seed, epoch, stream, chunk))

    # -- batches --------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        epoch = self._next_epoch()
        B = self.batch_size
        pending: list[tuple[int, int, torch.Tensor, torch.Tensor]] = []  # (chunk, first pair, center, context)
        n_pending = 0
        for c in range(self.n_chunks):
            center, context = self._chunk_pairs(epoch, c)
            n, i = center.shape[0], 0
            if n_pending:  # complete the batch begun in the previous chunk(s)
                take = min(B - n_pending, n)
                pending.append((c, 0, center[:take], context[:take]))
                n_pending += take
                i = take
                if n_pending == B:
                    yield self._assemble(epoch, pending)
                    pending, n_pending = [], 0
            while n - i >= B:
                yield center[i : i + B], context[i : i + B], self.negatives(epoch, c, i, B)
                i += B
            if i < n:
                pending.append((c, i, center[i:], context[i:]))
                n_pending += n - i
        if n_pending:
            yield self._assemble(epoch, pending)

    def chunk_batches(self, epoch: int, first_chunk: int = 0, end_chunk: int | None = None) -> Iterator[ChunkBatch]:
        """The epoch's pairs in batches that never cross a chunk, without negatives: the caller draws them
        (``negatives(epoch, chunk, first, n)``, or the fused kernel from the same stream), so that a GPU step
        can draw them where they are used. A chunk's last batch is short. The pairs, and each pair's
        negatives, are those of ``iter(self)``; only the batch boundaries at the end of a chunk differ."""
        B = self.batch_size
        token_starts = self.corpus.starts[self.chunk_bounds]
        total = max(int(self.corpus.n_tokens), 1)
        for c in range(first_chunk, self.n_chunks if end_chunk is None else end_chunk):
            center, context = self._chunk_pairs(epoch, c)
            n = center.shape[0]
            t0, t1 = int(token_starts[c]), int(token_starts[c + 1])
            for first in range(0, n, B):
                last = min(first + B, n)
                yield ChunkBatch(
                    c,
                    first,
                    center[first:last],
                    context[first:last],
                    (t0 + (t1 - t0) * first / n) / total,
                    (t0 + (t1 - t0) * last / n) / total,
                    last == n,
                )

    def chunk_windows(self, epoch: int, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
        """CBOW's windows of chunk ``c`` in ``epoch`` (``kernels.cbow_windows``, on the CPU): (the centers' ids,
        their windows' context ids, -1 after the last, their kept positions: the keys of their negatives
        (``negatives_at``)), shuffled together with ``shuffle``; and the chunk's first and end token."""
        ids, starts = self._chunk(c)
        with numba_threads(self.threads):
            kept, kept_starts = K.subsample(ids, starts, self.keep_threshold, self._base(epoch, K.STREAM_SUBSAMPLE, c))
            keys, contexts = K.cbow_windows(
                kept, kept_starts, self.window, self.shrink_windows, self._base(epoch, K.STREAM_WINDOW, c)
            )
        centers = kept[keys].astype(np.int64)
        if self.shuffle:
            order = np.random.default_rng(self._base(epoch, K.STREAM_SHUFFLE, c)).permutation(keys.shape[0])
            centers, contexts, keys = centers[order], contexts[order], keys[order]
        t0, t1 = (int(t) for t in self.corpus.starts[self.chunk_bounds[c : c + 2]])
        return centers, contexts, keys, t0, t1

    def negatives_at(self, epoch: int, c: int, keys: np.ndarray) -> torch.Tensor:
        """(n, k) negatives of the CBOW windows whose centers are at kept positions ``keys`` of chunk ``c``: the
        draws of slots keys * k + t, hogwild's."""
        negs = np.empty((keys.shape[0], self.negative), dtype=np.int64)
        with numba_threads(self.threads):
            K.draw_negatives_keyed(
                self.alias_table,
                self._base(epoch, K.STREAM_NEGATIVE, c),
                self._base(epoch, K.STREAM_NEGATIVE_COIN, c),
                keys,
                negs,
            )
        return torch.from_numpy(negs)

    def _assemble(self, epoch, parts):
        negs = [self.negatives(epoch, c, first, center.shape[0]) for c, first, center, _ in parts]
        return (torch.cat([p[2] for p in parts]), torch.cat([p[3] for p in parts]), torch.cat(negs))

    def _chunk_pairs(self, epoch: int, c: int) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def negatives(self, epoch: int, c: int, first: int, n: int) -> torch.Tensor:
        """(n, k) negatives of pairs first .. first + n - 1 of chunk ``c`` in ``epoch``."""
        raise NotImplementedError


class NumbaBatches(_Batches):
    """Pairs and negatives from the numba kernels; tensors on the CPU (move them with ``.to(device)``)."""

    NEGATIVE_ROWS = 1 << 18  # negatives are drawn this many rows ahead: one parallel region per 2^18 pairs

    def __init__(self, corpus: EncodedCorpus, **kw):
        super().__init__(corpus, **kw)
        self._chunk_sizes: dict[tuple[int, int], int] = {}  # (epoch, chunk) -> pairs, of the chunks in flight
        self._ahead = (-1, -1, 0, np.empty((0, self.negative), dtype=np.int64))  # (epoch, chunk, first row, negs)

    def _chunk_pairs(self, epoch, c):
        ids, starts = self._chunk(c)
        with numba_threads(self.threads):
            kept, kept_starts = K.subsample(ids, starts, self.keep_threshold, self._base(epoch, K.STREAM_SUBSAMPLE, c))
            window_base = self._base(epoch, K.STREAM_WINDOW, c)
            if self.shuffle:  # the pairs of skipgram_pairs after shuffle_pairs, in fewer passes
                center, context = K.skipgram_pairs_shuffled(
                    kept,
                    kept_starts,
                    self.window,
                    self.shrink_windows,
                    window_base,
                    self._base(epoch, K.STREAM_SHUFFLE, c),
                )
            else:
                center, context = K.skipgram_pairs(kept, kept_starts, self.window, self.shrink_windows, window_base)
        self._chunk_sizes = {k: v for k, v in self._chunk_sizes.items() if k[0] == epoch and k[1] >= c - 1}
        self._chunk_sizes[epoch, c] = center.shape[0]
        return torch.from_numpy(center), torch.from_numpy(context)

    def negatives(self, epoch, c, first, n):
        # Negatives depend only on (epoch, chunk, row), so drawing them for many batches at once gives the same
        # values with far fewer parallel regions: each region has a fixed cost, and waits for its slowest thread.
        ahead_epoch, ahead_chunk, start, negs = self._ahead
        if (ahead_epoch, ahead_chunk) != (epoch, c) or first < start or first + n > start + negs.shape[0]:
            rows = max(n, min(self.NEGATIVE_ROWS, self._chunk_sizes.get((epoch, c), n) - first))
            negs = np.empty((rows, self.negative), dtype=np.int64)
            with numba_threads(self.threads):
                K.draw_negatives(
                    self.alias_table,
                    self._base(epoch, K.STREAM_NEGATIVE, c),
                    self._base(epoch, K.STREAM_NEGATIVE_COIN, c),
                    first,
                    negs,
                )
            self._ahead = epoch, c, first, negs
            start = first
        return torch.from_numpy(negs[first - start : first - start + n])


def hash32(x: torch.Tensor) -> torch.Tensor:
    """kernels.hash32 on an int64 tensor (values wrap mod 2**64 and are masked, as in numba)."""
    x = x & K.MASK32
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & K.MASK32
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & K.MASK32
    return x ^ (x >> 16)


def draw(base: int, index: torch.Tensor) -> torch.Tensor:
    return hash32(index * K.GOLDEN + base)


class DeviceBatches(_Batches):
    """Pairs, shuffle and negatives made on ``device`` with torch ops (a GPU when there is one)."""

    def __init__(self, corpus: EncodedCorpus, device: str | torch.device = "cpu", **kw):
        super().__init__(corpus, **kw)
        self.device = torch.device(device)
        self._keep = torch.from_numpy(self.keep_threshold).to(self.device)
        self._alias_table = torch.from_numpy(self.alias_table).to(self.device)
        W = self.window
        self._offsets = torch.cat([torch.arange(-W, 0), torch.arange(1, W + 1)]).to(self.device)  # (2W,): j - i

    def _chunk_pairs(self, epoch, c):
        dev = self.device
        ids_np, starts_np = self._chunk(c)
        ids = torch.from_numpy(ids_np).to(dev, non_blocking=True).long()
        starts = torch.from_numpy(starts_np).to(dev)
        n, P = ids.shape[0], starts.shape[0] - 1  # tokens, pieces
        piece = torch.repeat_interleave(torch.arange(P, device=dev), starts.diff(), output_size=n)
        keep = draw(self._base(epoch, K.STREAM_SUBSAMPLE, c), torch.arange(n, device=dev)) < self._keep[ids]
        kept, piece = ids[keep], piece[keep]  # one sync per chunk: the number kept
        m = kept.shape[0]  # kept tokens
        kept_starts = torch.zeros(P + 1, dtype=torch.long, device=dev)
        kept_starts[1:] = torch.cumsum(torch.bincount(piece, minlength=P), 0)
        pos = torch.arange(m, device=dev)
        if self.shrink_windows:  # reach in [1, window], the same draw as kernels.window_reach
            reach = self.window - draw(self._base(epoch, K.STREAM_WINDOW, c), pos) % self.window
        else:
            reach = torch.full((m,), self.window, device=dev)
        j = pos[:, None] + self._offsets  # (m, 2W) candidate context positions
        valid = (
            (j >= kept_starts[piece][:, None])
            & (j < kept_starts[piece + 1][:, None])
            & (self._offsets.abs() <= reach[:, None])
        )
        # Row-major nonzero: centers in text order, contexts left to right, as kernels.fill_pairs writes them.
        flat = valid.view(-1).nonzero().squeeze(1)
        i = flat // (2 * self.window)  # each pair's center position
        center, context = kept[i], kept[j.view(-1)[flat]]
        if self.shuffle:
            generator = torch.Generator(device=dev).manual_seed(self._base(epoch, K.STREAM_SHUFFLE, c))
            perm = torch.randperm(center.shape[0], device=dev, generator=generator)
            center, context = center[perm], context[perm]
        return center, context

    def negatives(self, epoch, c, first, n):
        k = self.negative
        index = torch.arange(first * k, (first + n) * k, device=self.device)
        negs = alias_draws(
            self._alias_table,
            self._base(epoch, K.STREAM_NEGATIVE, c),
            self._base(epoch, K.STREAM_NEGATIVE_COIN, c),
            index,
        )
        return negs.view(n, k)


def alias_draws(table: torch.Tensor, base_col: int, base_coin: int, index: torch.Tensor) -> torch.Tensor:
    """``kernels.alias_draw`` at each of ``index`` (slots of the streams base_col, base_coin), with torch ops on
    the tensors' device: the column, or its alias."""
    col = (draw(base_col, index) * table.shape[0]) >> 32
    coin = draw(base_coin, index)
    threshold, alias = table[col].unbind(-1)  # one gather of both fields
    return torch.where(coin < threshold, col, alias)


def partition_draws(table: torch.Tensor, base_col: int, base_coin: int, index: torch.Tensor) -> torch.Tensor:
    """``kernels.partition_draw`` at each of ``index`` with torch ops, ``table``: one partition's rows of
    ``kernels.partition_sampler`` (threshold, word, alias's word), on the tensors' device."""
    col = (draw(base_col, index) * table.shape[0]) >> 32
    threshold, word, alias = table[col].unbind(-1)
    return torch.where(draw(base_coin, index) < threshold, word, alias)


def from_indexed_docs(
    indexed_docs,
    vocab_size: int | None = None,
    batch_size: int = 512,
    window: int = 5,
    negative: int = 5,
    device: str | torch.device | None = None,
    seed: int = 1,
    shuffle: bool = True,
    shrink_windows: bool = False,
    sample: float = 0.0,
    ns_exponent: float = 0.75,
) -> _Batches:
    """The drop-in for the tutorial's ``DataLoader(SkipGramDataset(pairs, probs, V, k), batch_size, shuffle=True)``.

    Takes the tutorial's ``indexed_docs`` (lists of word ids) and keeps its semantics by default: the ids
    as given, a static window, no sub-sampling, negatives ~ count**0.75. No pair list is ever built.
    """
    kw = dict(
        batch_size=batch_size,
        window=window,
        negative=negative,
        sample=sample,
        ns_exponent=ns_exponent,
        shrink_windows=shrink_windows,
        shuffle=shuffle,
        seed=seed,
    )
    checked = Config(backend="torch", **kw)  # the same one-line errors as train() for bad values
    kw = {k: getattr(checked, k) for k in kw}
    corpus = corpus_from_indexed_docs(indexed_docs, vocab_size)
    if device is None or torch.device(device).type == "cpu":
        return NumbaBatches(corpus, **kw)
    return DeviceBatches(corpus, device=device, **kw)


def corpus_from_indexed_docs(indexed_docs, vocab_size: int | None = None) -> EncodedCorpus:
    """An in-memory EncodedCorpus that keeps the caller's word ids (words are named by their id)."""
    if not hasattr(indexed_docs, "__len__"):  # a generator: read it once
        indexed_docs = [list(d) for d in indexed_docs]
    try:
        lengths = np.array([len(d) for d in indexed_docs], dtype=np.int64)
        ids = np.fromiter(
            (operator.index(i) for d in indexed_docs for i in d), dtype=np.int64, count=int(lengths.sum())
        )
    except (TypeError, ValueError, OverflowError) as e:
        raise UserError(
            f"indexed_docs must be lists of integer word ids ({e}): map the words to ids first, "
            "as the tutorial's word2idx does"
        ) from None
    if ids.size == 0:
        raise UserError("indexed_docs holds no token: give at least one non-empty document")
    V = int(vocab_size if vocab_size is not None else ids.max() + 1)
    if ids.min() < 0 or ids.max() >= V:
        bad = int(ids.min() if ids.min() < 0 else ids.max())
        raise UserError(
            f"indexed_docs holds word id {bad}, outside 0..{V - 1} for {setting('vocab_size', V)}: "
            f"pass {setting('vocab_size')}=len(word2idx), with ids from 0 to vocab_size - 1"
        )
    ids = ids.astype(np.int32)
    counts = np.bincount(ids, minlength=V).astype(np.int64)
    # Words that never occur would get weight 0 in both distributions; that is what the tutorial does too.
    starts = np.concatenate([[0], np.cumsum(lengths[lengths > 0])]).astype(np.int64)
    return EncodedCorpus(
        ids=ids,
        starts=starts,
        vocab=Vocab([str(i) for i in range(V)], counts),
        n_documents=len(indexed_docs),
        description="indexed_docs",
    )
