"""The word table: the words seen so far, their counts and bytes, in numpy arrays (an open-addressing hash table
with the words' bytes in one pool, so a word costs a few tens of bytes, not a Python object). Pass 1 counts a
tokenized block into it on one thread, bounded as word2vec.c's or gensim's vocabulary scan bounds it; pass 2 maps
each token to its vocabulary id on all threads (lookups only)."""

from __future__ import annotations

import numba
import numpy as np

from .tokenizers import Tokens


@numba.njit(cache=True, inline="always")
def _find(slots, w_hash, w_off, w_len, pool, h, src, off, length):
    """(slot, word index or -1) of the token src[off:off+length] with hash h."""
    mask = slots.shape[0] - 1
    s = np.int64(h & np.uint64(mask))
    while True:
        wi = slots[s]
        if wi < 0:
            return s, np.int64(-1)
        if w_hash[wi] == h and w_len[wi] == length:
            o = w_off[wi]
            same = True
            for k in range(length):
                if pool[o + k] != src[off + k]:
                    same = False
                    break
            if same:
                return s, wi
        s = (s + 1) & mask


@numba.njit(cache=True, nogil=True)
# fmt: off
def count_tokens(
    slots,
    w_hash,
    w_off,
    w_len,
    w_count,
    pool,
    state,
    limit,
    tok_bytes,
    tok_off,
    tok_len,
    tok_hash,
    t_from,
    t_to,
    word_of,
):
    # fmt: on
    """Count tokens t_from..t_to-1 into the table, adding new words. Stops early, returning the index of the
    first token not counted, when a new word finds the table needing room (more slots, words or pool) or holding
    ``limit`` words. With a non-empty ``word_of``, token t's word index goes to word_of[t].

    One flat loop, the words' numbers in locals: with the new word's step in an inlined helper returning them
    (a tuple), numba's code took 5x as long a token."""
    n_words, pool_used = state[0], state[1]
    for t in range(t_from, t_to):
        h, off, length = tok_hash[t], tok_off[t], tok_len[t]
        s, wi = _find(slots, w_hash, w_off, w_len, pool, h, tok_bytes, off, length)
        if wi >= 0:
            w_count[wi] += 1
        else:
            if (
                n_words >= limit
                or n_words >= w_hash.shape[0]
                or 2 * (n_words + 1) > slots.shape[0]
                or pool_used + length > pool.shape[0]
            ):
                state[0], state[1] = n_words, pool_used
                return t
            pool[pool_used : pool_used + length] = tok_bytes[off : off + length]
            w_hash[n_words], w_off[n_words], w_len[n_words], w_count[n_words] = h, pool_used, length, 1
            slots[s] = n_words
            wi = n_words
            n_words += 1
            pool_used += length
        if word_of.shape[0] > 0:
            word_of[t] = wi
    state[0], state[1] = n_words, pool_used
    return t_to


@numba.njit(cache=True, nogil=True)
# fmt: off
def count_documents(
    slots,
    w_hash,
    w_off,
    w_len,
    w_count,
    pool,
    state,
    limit,
    tok_bytes,
    tok_off,
    tok_len,
    tok_hash,
    doc_end,
    d_from,
    t_from,
    word_of,
):
    # fmt: on
    """gensim's scan: count whole documents (document d's tokens end before token doc_end[d]) from document d_from,
    token t_from, adding new words, and look at the table at each document's end. Returns (code, d, t): 0 every
    document counted; 1 the table needs room (more slots, words or pool) for token t of document d; 2 document
    d - 1 ended with more than ``limit`` words: prune, then go on from document d, token t. With a non-empty
    ``word_of``, token t's word index goes to word_of[t]."""
    t = t_from
    for d in range(d_from, doc_end.shape[0]):
        # fmt: off
        t = count_tokens(
            slots, w_hash, w_off, w_len, w_count, pool, state, w_hash.shape[0], tok_bytes, tok_off, tok_len, tok_hash,
            t, doc_end[d], word_of
        )
        # fmt: on
        if t < doc_end[d]:
            return 1, d, t
        if state[0] > limit:
            return 2, d + 1, t
    return 0, doc_end.shape[0], t


@numba.njit(cache=True)
def rebuild(slots, w_hash, w_off, w_len, w_count, pool, n_words, min_reduce, force):
    """Drop the words counted at most ``min_reduce`` times (0: none), compact the words and their bytes in place
    and refill ``slots`` (all -1 on entry). A non-empty ``force`` overrides the count for word wi: 1 keeps it, -1
    drops it, 0 leaves it to the count. Returns (words, pool bytes) kept."""
    mask = slots.shape[0] - 1
    kept, pool_used = 0, 0
    for wi in range(n_words):
        f = force[wi] if force.shape[0] else 0
        if f < 0 or (f == 0 and w_count[wi] <= min_reduce):
            continue
        o, length = w_off[wi], w_len[wi]
        for k in range(length):
            pool[pool_used + k] = pool[o + k]
        w_hash[kept], w_off[kept], w_len[kept], w_count[kept] = w_hash[wi], pool_used, length, w_count[wi]
        s = np.int64(w_hash[kept] & np.uint64(mask))
        while slots[s] >= 0:
            s = (s + 1) & mask
        slots[s] = kept
        kept += 1
        pool_used += length
    return kept, pool_used


@numba.njit(cache=True, parallel=True, nogil=True)
def map_groups(
    slots,
    w_hash,
    w_off,
    w_len,
    pool,
    word_id,
    tok_bytes,
    tok_off,
    tok_len,
    tok_hash,
    group_docs,
    group_first,
    group_out,
    doc_tokens,
    doc_kept,
    out_ids,
):
    """Pass 2: each group's tokens (from index group_first[g], doc_tokens per document) to vocabulary ids
    (``word_id`` of the word, -1 = not in the vocabulary: dropped), written from out_ids[group_first[g]];
    doc_kept[d] = ids kept from document d, group_out[g, 0] = ids kept by group g."""
    for g in numba.prange(group_docs.shape[0] - 1):
        t, q = group_first[g], group_first[g]
        for d in range(group_docs[g], group_docs[g + 1]):
            q_doc = q
            for _ in range(doc_tokens[d]):
                _, wi = _find(slots, w_hash, w_off, w_len, pool, tok_hash[t], tok_bytes, tok_off[t], tok_len[t])
                t += 1
                if wi >= 0 and word_id[wi] >= 0:
                    out_ids[q] = word_id[wi]
                    q += 1
            doc_kept[d] = q - q_doc
        group_out[g, 0] = q - group_first[g]


class WordTable:
    """Words seen so far, their counts and bytes, in numpy arrays; grows by doubling. With ``limit`` it never
    holds more than ``limit`` words: when full it drops the words seen at most ``min_reduce`` times and then
    raises ``min_reduce`` by one, until there is room (word2vec.c's ReduceVocab).

    With ``gensim`` the limit is gensim's ``max_vocab_size`` instead: the table is looked at after each document
    (a sentence), and when it holds more than ``limit`` words those seen fewer than ``min_reduce`` times are
    dropped (none, the first time: min_reduce starts at 1) and ``min_reduce`` rises by one, once per document
    (gensim's ``_scan_vocab`` and ``utils.prune_vocab``). So the words kept are gensim's, and the table may hold
    more than ``limit`` words for a while."""

    def __init__(self, limit: int | None = None, words: int = 1 << 16, gensim: bool = False, trim_rule=None):
        self.limit = limit or (1 << 62)
        self.gensim = gensim
        self.trim_rule = trim_rule  # gensim's: its RULE_KEEP (2) and RULE_DISCARD (1) decide at each pruning too
        self.min_reduce = 1
        self.pruned = 0  # words dropped by the limit
        self.dropped_below = 0  # the last pruning dropped the words seen fewer times than this
        self.slots = np.full(2 * words, -1, dtype=np.int64)
        self.w_hash = np.zeros(words, dtype=np.uint64)
        self.w_off = np.zeros(words, dtype=np.int64)
        self.w_len = np.zeros(words, dtype=np.int32)
        self.w_count = np.zeros(words, dtype=np.int64)
        self.pool = np.zeros(16 * words, dtype=np.uint8)
        self.state = np.zeros(2, dtype=np.int64)  # words, pool bytes used

    def __len__(self) -> int:
        return int(self.state[0])

    def count(self, tokens: Tokens, word_of: np.ndarray | None = None) -> None:
        """Pass 1: count a tokenized block, group by group (in the text's order). With ``word_of`` (int32, one per
        token) each token's word index is written there; pruning renumbers words, so it is valid only while
        ``pruned`` is 0 (growing keeps the numbers)."""
        record = word_of if word_of is not None else np.zeros(0, dtype=np.int32)
        if self.gensim:
            self._count_documents(tokens, record)
            return
        for first, n in zip(tokens.group_first.tolist(), tokens.group_n.tolist()):
            t, end = first, first + n
            while t < end:
                t = count_tokens(
                    self.slots,
                    self.w_hash,
                    self.w_off,
                    self.w_len,
                    self.w_count,
                    self.pool,
                    self.state,
                    self.limit,
                    tokens.tok_bytes,
                    tokens.tok_off,
                    tokens.tok_len,
                    tokens.tok_hash,
                    t,
                    end,
                    record,
                )
                if t < end:
                    self._make_room(int(tokens.tok_len[t]))

    def _count_documents(self, tokens: Tokens, record: np.ndarray) -> None:
        """gensim's scan of a block: document by document, in the text's order, pruned at documents' ends."""
        for g, first in enumerate(tokens.group_first.tolist()):
            doc_end = first + np.cumsum(tokens.doc_tokens[tokens.group_docs[g] : tokens.group_docs[g + 1]])
            d, t = 0, first
            while True:
                code, d, t = count_documents(
                    self.slots,
                    self.w_hash,
                    self.w_off,
                    self.w_len,
                    self.w_count,
                    self.pool,
                    self.state,
                    self.limit,
                    tokens.tok_bytes,
                    tokens.tok_off,
                    tokens.tok_len,
                    tokens.tok_hash,
                    doc_end,
                    d,
                    t,
                    record,
                )
                if code == 0:
                    break
                if code == 1:
                    self._make_room(int(tokens.tok_len[t]))
                else:
                    before = len(self)
                    self._rebuild(self.slots.shape[0], self.min_reduce - 1, self._forced(self.min_reduce))
                    self.pruned += before - len(self)
                    self.dropped_below = self.min_reduce
                    self.min_reduce += 1

    def _make_room(self, length: int) -> None:
        n_words, pool_used = (int(x) for x in self.state)
        if n_words >= self.limit and not self.gensim:
            while True:
                self._rebuild(self.slots.shape[0], self.min_reduce)
                self.min_reduce += 1
                if len(self) < self.limit:
                    break
            self.dropped_below = self.min_reduce
            self.pruned += n_words - len(self)
            return
        if n_words >= self.w_hash.shape[0]:
            grow = 2 * self.w_hash.shape[0]
            self.w_hash, self.w_off, self.w_len, self.w_count = (
                np.concatenate([a, np.zeros(grow - a.shape[0], a.dtype)])
                for a in (self.w_hash, self.w_off, self.w_len, self.w_count)
            )
        if pool_used + length > self.pool.shape[0]:
            self.pool = np.concatenate([self.pool, np.zeros(max(self.pool.shape[0], length), np.uint8)])
        if 2 * (n_words + 1) > self.slots.shape[0]:
            self._rebuild(2 * self.slots.shape[0], 0)

    def _forced(self, min_reduce: int) -> np.ndarray:
        """gensim's prune_vocab with a trim_rule: +1 for the words it keeps, -1 for those it drops, 0 for the rest
        (the count decides: kept when at least ``min_reduce``); empty without a rule."""
        if self.trim_rule is None:
            return np.zeros(0, dtype=np.int8)
        words, counts, index = self.words(0)
        force = np.zeros(len(self), dtype=np.int8)
        for w, c, i in zip(words, counts.tolist(), index.tolist()):
            rule = self.trim_rule(w, c, min_reduce)
            force[i] = 1 if rule == 2 else -1 if rule == 1 else 0
        return force

    def _rebuild(self, n_slots: int, min_reduce: int, force: np.ndarray | None = None) -> None:
        """Drop the words seen at most ``min_reduce`` times (``force``: see ``rebuild``) into ``n_slots`` slots."""
        self.slots = np.full(n_slots, -1, dtype=np.int64)
        force = np.zeros(0, dtype=np.int8) if force is None else force
        kept, pool_used = rebuild(
            self.slots,
            self.w_hash,
            self.w_off,
            self.w_len,
            self.w_count,
            self.pool,
            int(self.state[0]),
            min_reduce,
            force,
        )
        self.state[0], self.state[1] = kept, pool_used

    def words(self, min_count: int = 1) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(words, counts, table indices) of the words counted at least ``min_count`` times, in table order."""
        n = len(self)
        index = np.flatnonzero(self.w_count[:n] >= min_count)
        pool = self.pool.tobytes()
        off, length = self.w_off[index].tolist(), self.w_len[index].tolist()
        words = [pool[o : o + k].decode("utf-8", "surrogateescape") for o, k in zip(off, length)]
        return words, self.w_count[index].copy(), index

    def map(self, tokens: Tokens, word_id: np.ndarray, out_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pass 2: a tokenized block to vocabulary ids (``word_id`` of each table word, -1 = not in the
        vocabulary: dropped). Returns (ids kept per document, the kept ids in order)."""
        if out_ids.shape[0] < tokens.n:
            out_ids = np.empty(tokens.n, dtype=np.int32)
        doc_kept = np.zeros(tokens.doc_tokens.shape[0], dtype=np.int64)
        group_kept = np.zeros((tokens.group_first.shape[0], 1), dtype=np.int64)
        map_groups(
            self.slots,
            self.w_hash,
            self.w_off,
            self.w_len,
            self.pool,
            word_id,
            tokens.tok_bytes,
            tokens.tok_off,
            tokens.tok_len,
            tokens.tok_hash,
            tokens.group_docs,
            tokens.group_first,
            group_kept,
            tokens.doc_tokens,
            doc_kept,
            out_ids,
        )
        ids = np.concatenate(
            [out_ids[f : f + k] for f, k in zip(tokens.group_first.tolist(), group_kept[:, 0].tolist())]
        )
        return doc_kept, ids
