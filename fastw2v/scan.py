"""Compiled tokenizers: UTF-8 bytes -> lowercased tokens -> word ids, in numba, on all cores.

They give exactly the tokens of the Python tokenizers in ``corpus.py`` (``simple_tokenize``: lowercase,
``<...>`` tags removed, runs of letters/digits with inner apostrophes; ``whitespace_tokenize``: lowercase,
split on white space), as the tests check on random Unicode text:

- lowercasing is a table of ``str.lower`` for every code point; the two code points whose lowercase is not one
  code point or depends on the context (U+0130 İ -> "i̇", U+03A3 Σ -> σ or final ς) never reach the kernel:
  a document holding one is lowercased by Python first (``prelower``);
- letters/digits and white space are ``str.isalnum`` and ``str.isspace`` of the lowercased code point, which is
  what ``re``'s ``[^\\W_]`` and ``str.split`` use;
- bytes that are not UTF-8 are found with the maximal-subpart rule of Python's decoder: an error (``strict``),
  one U+FFFD each (``replace``) or nothing (``skip``), and counted.

A block of text is tokenized in parallel, one group of documents per thread, into lowercased token bytes with
a 64-bit hash each; then ``WordTable`` counts them (pass 1, one thread) or maps them to vocabulary ids (pass 2,
all threads: lookups only). ``WordTable`` is an open-addressing hash table in numpy arrays with the words'
bytes in one pool, so memory is a few tens of bytes a word, not a Python object each.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

import numba
import numpy as np

SIMPLE, WHITESPACE, SPLIT = 0, 1, 2  # tokenizer modes (SPLIT: white space, case kept)
STRICT, REPLACE, SKIP = 0, 1, 2  # what a byte that is not UTF-8 becomes
ERRORS = {"strict": STRICT, "replace": REPLACE, "skip": SKIP}
MODES = {"simple": SIMPLE, "whitespace": WHITESPACE, "split": SPLIT}
IS_WORD, IS_SPACE = 1, 2  # bits of the class table
SPECIAL = ("\u0130", "\u03a3")  # lowercased by Python: "İ".lower() is two code points, Σ depends on its neighbours
_SPECIAL_BYTES = tuple(c.encode() for c in SPECIAL)

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)

_TABLES: list = []


def tables() -> tuple[np.ndarray, np.ndarray]:
    """(lower int32[0x110000], classes uint8[0x110000]): str.lower of each code point, and whether the
    lowercased code point is a letter/digit (IS_WORD) or white space (IS_SPACE). Built once per process."""
    if not _TABLES:
        n = 0x110000
        chars = [chr(c) for c in range(n)]
        lowered = [s.lower() for s in chars]
        lower = np.array([ord(s) if len(s) == 1 else ord(s[0]) for s in lowered], dtype=np.int32)
        lower[0x3A3] = 0x3C3  # never used: documents with a special code point are lowercased by Python
        classes = np.zeros(n, dtype=np.uint8)
        classes[[i for i, s in enumerate(chars) if s.isalnum()]] = IS_WORD
        classes[[i for i, s in enumerate(chars) if s.isspace()]] = IS_SPACE
        _TABLES.extend([lower, classes])
    return _TABLES[0], _TABLES[1]


_PRELOWER_BAD = [0]  # bytes that are not UTF-8 decoded by prelower (replace, skip): the kernel never sees them


def _counting(replacement: str):
    def handler(e: UnicodeDecodeError):
        _PRELOWER_BAD[0] += e.end - e.start
        return replacement, e.end

    return handler


codecs.register_error("fastw2v-replace", _counting("\ufffd"))
codecs.register_error("fastw2v-skip", _counting(""))


def prelower(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, errors: int):
    """(data, starts, ends, bad bytes decoded): the block with every document that holds a special code point
    lowercased by Python (exact ``str.lower``, final sigma included); other documents are copied as they are.
    Bytes that are not UTF-8 stay as they are for strict (the kernel reports them); for replace and skip they
    are decoded here as the kernel would, and counted."""
    raw = data.tobytes()
    handler = {STRICT: "surrogateescape", REPLACE: "fastw2v-replace", SKIP: "fastw2v-skip"}[errors]
    _PRELOWER_BAD[0] = 0
    pieces, new_starts, new_ends, pos = [], np.empty_like(starts), np.empty_like(ends), 0
    for d in range(starts.shape[0]):
        doc = raw[starts[d] : ends[d]]
        if any(s in doc for s in _SPECIAL_BYTES):
            doc = doc.decode("utf-8", handler).lower().encode("utf-8", "surrogateescape")
        pieces.append(doc)
        new_starts[d] = pos
        pos += len(doc)
        new_ends[d] = pos
        pieces.append(b"\n")
        pos += 1
    return np.frombuffer(b"".join(pieces), dtype=np.uint8), new_starts, new_ends, _PRELOWER_BAD[0]


# ---------------------------------------------------------------------------------------------------
# Kernels


@numba.njit(cache=True, inline="always")
def _decode(buf, i, end):
    """(code point, width) of the UTF-8 sequence at buf[i]; (-1, n) for n bytes that are not UTF-8 (the
    maximal subpart, as Python's decoder counts them)."""
    c0 = np.int64(buf[i])
    if c0 < 0xC2:
        return np.int64(-1), np.int64(1)
    if c0 < 0xE0:
        need, lo, hi, cp = 1, 0x80, 0xBF, c0 & 0x1F
    elif c0 < 0xF0:
        need, cp = 2, c0 & 0x0F
        lo = 0xA0 if c0 == 0xE0 else 0x80
        hi = 0x9F if c0 == 0xED else 0xBF
    elif c0 < 0xF5:
        need, cp = 3, c0 & 0x07
        lo = 0x90 if c0 == 0xF0 else 0x80
        hi = 0x8F if c0 == 0xF4 else 0xBF
    else:
        return np.int64(-1), np.int64(1)
    j = i + 1
    for k in range(need):
        if j >= end:
            return np.int64(-1), np.int64(j - i)
        b = np.int64(buf[j])
        if k == 0:
            ok = lo <= b <= hi
        else:
            ok = 0x80 <= b <= 0xBF
        if not ok:
            return np.int64(-1), np.int64(j - i)
        cp = (cp << 6) | (b & 0x3F)
        j += 1
    return cp, np.int64(j - i)


@numba.njit(cache=True, inline="always")
def _put(out, p, h, cp):
    """Write code point cp as UTF-8 at out[p] and fold its bytes into the FNV-1a hash h: (p, h)."""
    if cp < 0x80:
        out[p] = cp
        return p + 1, (h ^ np.uint64(cp)) * _FNV_PRIME
    if cp < 0x800:
        n = 2
        out[p] = 0xC0 | (cp >> 6)
    elif cp < 0x10000:
        n = 3
        out[p] = 0xE0 | (cp >> 12)
    else:
        n = 4
        out[p] = 0xF0 | (cp >> 18)
    h = (h ^ np.uint64(out[p])) * _FNV_PRIME
    for k in range(1, n):
        out[p + k] = 0x80 | ((cp >> (6 * (n - 1 - k))) & 0x3F)
        h = (h ^ np.uint64(out[p + k])) * _FNV_PRIME
    return p + n, h


@numba.njit(cache=True, inline="always")
def _finish(h, length):
    """murmur3's fmix64 of (hash ^ length): the low bits pick the table slot."""
    h ^= np.uint64(length)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@numba.njit(cache=True, inline="always")
def _emit(tok_off, tok_len, tok_hash, t, start, end, h):
    """Record token t: its bytes start..end-1 of the token buffer and its finished hash. Returns t + 1."""
    tok_off[t], tok_len[t], tok_hash[t] = start, end - start, _finish(h, end - start)
    return t + 1


@numba.njit(cache=True)
def _tokenize_docs(
    buf, starts, ends, d0, d1, mode, errors, lower, classes, tok_bytes, p0, tok_off, tok_len, tok_hash, t0, doc_tokens
):
    """Tokenize documents d0..d1-1 (buf[starts[d]:ends[d]]): lowercased token bytes to tok_bytes from p0,
    token t's offset, length and hash at t0 + t, each document's token count to doc_tokens[d].
    Returns (tokens, bytes that are not UTF-8, position of the first one or -1); strict mode stops there."""
    t, p = t0, p0
    bad, first_bad = 0, -1
    for d in range(d0, d1):
        i, end = starts[d], ends[d]
        t_doc = t
        in_tok, apostrophe = False, False
        tags = mode == SIMPLE
        h, tok_start = _FNV_OFFSET, p
        while i < end:
            c = np.int64(buf[i])
            w = 1
            if c >= 0x80:
                c, w = _decode(buf, i, end)
                if c < 0:
                    bad += w
                    if first_bad < 0:
                        first_bad = i
                    if errors == STRICT:
                        doc_tokens[d] = 0
                        return t - t0, bad, first_bad
                    if errors == SKIP:
                        i += w
                        continue
                    c = 0xFFFD
            if tags and c == 60:  # '<': a tag up to the next '>' is a space; with no '>' left, no more tags
                j = i + 1
                while j < end and buf[j] != 62:
                    j += 1
                if j < end:
                    if in_tok:
                        t = _emit(tok_off, tok_len, tok_hash, t, tok_start, p, h)
                        in_tok, apostrophe = False, False
                    i = j + 1
                    continue
                tags = False
            lc = lower[c] if mode != SPLIT else c
            k = classes[lc]
            if mode == SIMPLE:
                if k & IS_WORD:
                    if not in_tok:
                        in_tok, h, tok_start = True, _FNV_OFFSET, p
                    elif apostrophe:
                        p, h = _put(tok_bytes, p, h, 39)
                        apostrophe = False
                    p, h = _put(tok_bytes, p, h, lc)
                elif lc == 39 and in_tok and not apostrophe:
                    apostrophe = True
                elif in_tok:
                    t = _emit(tok_off, tok_len, tok_hash, t, tok_start, p, h)
                    in_tok, apostrophe = False, False
            else:
                if k & IS_SPACE:
                    if in_tok:
                        t = _emit(tok_off, tok_len, tok_hash, t, tok_start, p, h)
                        in_tok = False
                else:
                    if not in_tok:
                        in_tok, h, tok_start = True, _FNV_OFFSET, p
                    p, h = _put(tok_bytes, p, h, lc)
            i += w
        if in_tok:
            t = _emit(tok_off, tok_len, tok_hash, t, tok_start, p, h)
        doc_tokens[d] = t - t_doc
    return t - t0, bad, first_bad


@numba.njit(cache=True, parallel=True, nogil=True)
def tokenize_groups(
    buf,
    starts,
    ends,
    group_docs,
    mode,
    errors,
    lower,
    classes,
    tok_bytes,
    tok_off,
    tok_len,
    tok_hash,
    doc_tokens,
    group_out,
):
    """Tokenize the documents of each group (group g: documents group_docs[g]..group_docs[g+1]-1) on its own
    thread. Group g's tokens start at index starts[first doc] - starts[0] (a token holds at least one byte)
    and its token bytes at 3 x that (a byte becomes at most 3: U+FFFD). group_out[g] = (tokens, bad, first_bad)."""
    base = starts[0] if starts.shape[0] else 0
    for g in numba.prange(group_docs.shape[0] - 1):
        d0, d1 = group_docs[g], group_docs[g + 1]
        if d1 <= d0:
            group_out[g, 0], group_out[g, 1], group_out[g, 2] = 0, 0, -1
            continue
        t0 = starts[d0] - base
        n, bad, first_bad = _tokenize_docs(
            buf,
            starts,
            ends,
            d0,
            d1,
            mode,
            errors,
            lower,
            classes,
            tok_bytes,
            3 * t0,
            tok_off,
            tok_len,
            tok_hash,
            t0,
            doc_tokens,
        )
        group_out[g, 0], group_out[g, 1], group_out[g, 2] = n, bad, first_bad


@numba.njit(cache=True)
def line_bounds(buf, n, final):
    """Documents of a .txt block buf[:n], one per line as Python's text files read them (a line ends at
    '\\n', '\\r' or '\\r\\n'): (starts, ends without the line end, bytes used). Without ``final`` the bytes after
    the last line end are left for the next block, and so is a '\\r' at the very end (a '\\n' may follow)."""
    used = n
    if not final:
        used = 0
        for i in range(n - 1, -1, -1):
            if buf[i] == 10 or (buf[i] == 13 and i + 1 < n):
                used = i + 1
                break
    count = 0
    for i in range(used):
        if buf[i] == 10 or (buf[i] == 13 and (i + 1 >= used or buf[i + 1] != 10)):
            count += 1
    s = 0
    if used > 0 and buf[used - 1] != 10 and buf[used - 1] != 13:
        count += 1  # the last line of the text, without a line end
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    d, i = 0, 0
    while i < used:
        c = buf[i]
        if c == 10 or c == 13:
            starts[d], ends[d] = s, i
            d += 1
            if c == 13 and i + 1 < used and buf[i + 1] == 10:
                i += 1
            s = i + 1
        i += 1
    if s < used:
        starts[d], ends[d] = s, used
    return starts, ends, used


@numba.njit(cache=True)
def has_special(buf, n):
    """Whether buf[:n] holds U+0130 (C4 B0) or U+03A3 (CE A3)."""
    for i in range(n - 1):
        if (buf[i] == 0xC4 and buf[i + 1] == 0xB0) or (buf[i] == 0xCE and buf[i + 1] == 0xA3):
            return True
    return False


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


@numba.njit(cache=True, nogil=True, inline="always")
def _count_token(
    t,
    limit,
    slots,
    w_hash,
    w_off,
    w_len,
    w_count,
    pool,
    tok_bytes,
    tok_off,
    tok_len,
    tok_hash,
    word_of,
    n_words,
    pool_used,
):
    """Count token t into the table, adding its word when new: (n_words, pool_used, True), or (..., False) with
    nothing changed when a new word finds the table needing room (more slots, words or pool) or holding ``limit``
    words. With a non-empty ``word_of``, the token's word index goes to word_of[t]."""
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
            return n_words, pool_used, False
        pool[pool_used : pool_used + length] = tok_bytes[off : off + length]
        w_hash[n_words], w_off[n_words], w_len[n_words], w_count[n_words] = h, pool_used, length, 1
        slots[s] = n_words
        wi = n_words
        n_words += 1
        pool_used += length
    if word_of.shape[0] > 0:
        word_of[t] = wi
    return n_words, pool_used, True


@numba.njit(cache=True, nogil=True)
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
    """Count tokens t_from..t_to-1 into the table, adding new words. Stops early, returning the index of the
    first token not counted, when the table needs room (more slots, words or pool) or holds ``limit`` words.
    With a non-empty ``word_of``, token t's word index goes to word_of[t]."""
    n_words, pool_used = state[0], state[1]
    for t in range(t_from, t_to):
        n_words, pool_used, counted = _count_token(
            t,
            limit,
            slots,
            w_hash,
            w_off,
            w_len,
            w_count,
            pool,
            tok_bytes,
            tok_off,
            tok_len,
            tok_hash,
            word_of,
            n_words,
            pool_used,
        )
        if not counted:
            state[0], state[1] = n_words, pool_used
            return t
    state[0], state[1] = n_words, pool_used
    return t_to


@numba.njit(cache=True, nogil=True)
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
    """gensim's scan: count whole documents (document d's tokens end before token doc_end[d]) from document d_from,
    token t_from, adding new words, and look at the table at each document's end. Returns (code, d, t): 0 every
    document counted; 1 the table needs room (more slots, words or pool) for token t of document d; 2 document
    d - 1 ended with more than ``limit`` words: prune, then go on from document d, token t. With a non-empty
    ``word_of``, token t's word index goes to word_of[t]."""
    n_words, pool_used = state[0], state[1]
    t = t_from
    for d in range(d_from, doc_end.shape[0]):
        while t < doc_end[d]:
            n_words, pool_used, counted = _count_token(
                t,
                w_hash.shape[0],
                slots,
                w_hash,
                w_off,
                w_len,
                w_count,
                pool,
                tok_bytes,
                tok_off,
                tok_len,
                tok_hash,
                word_of,
                n_words,
                pool_used,
            )
            if not counted:
                state[0], state[1] = n_words, pool_used
                return 1, d, t
            t += 1
        if n_words > limit:
            state[0], state[1] = n_words, pool_used
            return 2, d + 1, t
    state[0], state[1] = n_words, pool_used
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


# ---------------------------------------------------------------------------------------------------
# The word table


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
        for g, (first, n) in enumerate(zip(tokens.group_first.tolist(), tokens.group_n.tolist())):
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


class Tokens(NamedTuple):
    """One tokenized block: token t is tok_bytes[tok_off[t]:tok_off[t] + tok_len[t]] with hash tok_hash[t];
    group g's tokens are group_first[g] .. group_first[g] + group_n[g] - 1, its documents group_docs[g] ..
    group_docs[g + 1] - 1. The arrays are the tokenizer's scratch: valid until its next call."""

    n: int  # tokens
    bad: int  # bytes that were not UTF-8
    first_bad: int  # where the first of them is in the block (strict mode stops there), -1 if none
    doc_tokens: np.ndarray
    group_docs: np.ndarray
    group_first: np.ndarray
    group_n: np.ndarray
    tok_bytes: np.ndarray
    tok_off: np.ndarray
    tok_len: np.ndarray
    tok_hash: np.ndarray


@numba.njit(cache=True, parallel=True, nogil=True)
def hash_tokens(data, starts, ends, tok_off, tok_len, tok_hash):
    """Token t is data[starts[t]:ends[t]] (already tokenized: a list of strings): its hash, as the tokenizers
    hash theirs."""
    for t in numba.prange(starts.shape[0]):
        a, b = starts[t], ends[t]
        h = _FNV_OFFSET
        for k in range(a, b):
            h = (h ^ np.uint64(data[k])) * _FNV_PRIME
        tok_off[t], tok_len[t], tok_hash[t] = a, b - a, _finish(h, b - a)


def _group_docs(positions: np.ndarray, total: int, threads: int | None) -> np.ndarray:
    """Documents split into groups of about equal size, one per thread: group g is documents group_docs[g] ..
    group_docs[g + 1] - 1. ``positions``: where each document starts (in bytes or tokens, from 0) of ``total``."""
    n_docs = positions.shape[0]
    groups = max(1, min(threads or numba.get_num_threads(), n_docs, total // 4096 + 1))
    cuts = np.searchsorted(positions, total * np.arange(1, groups) // groups)
    return np.unique(np.concatenate([[0], cuts, [n_docs]])).astype(np.int64)


def given_tokens(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, doc_tokens: np.ndarray, threads: int | None = None
) -> Tokens:
    """``Tokens`` of a block that is already tokenized (UTF-8 bytes, token bounds, tokens per document)."""
    n = starts.shape[0]
    tok_off, tok_len, tok_hash = np.empty(n, np.int64), np.empty(n, np.int32), np.empty(n, np.uint64)
    hash_tokens(data, starts, ends, tok_off, tok_len, tok_hash)
    first_token = np.concatenate([[0], np.cumsum(doc_tokens)]).astype(np.int64)
    group_docs = _group_docs(first_token[:-1], n, threads)
    group_first = first_token[group_docs[:-1]]
    group_n = first_token[group_docs[1:]] - group_first
    return Tokens(
        n, 0, -1, doc_tokens.astype(np.int64), group_docs, group_first, group_n, data, tok_off, tok_len, tok_hash
    )


class Tokenizer:
    """Tokenizes blocks of UTF-8 documents on ``threads`` threads (numba's count by default)."""

    def __init__(self, tokenizer: str = "simple", errors: str = "strict", threads: int | None = None):
        self.mode, self.errors = MODES[tokenizer], ERRORS[errors]
        self.lower, self.classes = tables()
        self.threads = threads
        self._size = 0
        self.out_ids = np.zeros(0, dtype=np.int32)

    def _scratch(self, span: int) -> None:
        if span > self._size:  # once: blocks are about 4 MiB (np.empty's untouched pages cost no memory)
            self._size = max(span, 1 << 22) * 5 // 4
            self.tok_bytes = np.empty(3 * self._size + 8, dtype=np.uint8)
            self.tok_off = np.empty(self._size, dtype=np.int64)
            self.tok_len = np.empty(self._size, dtype=np.int32)
            self.tok_hash = np.empty(self._size, dtype=np.uint64)
            self.out_ids = np.empty(self._size, dtype=np.int32)

    def tokenize(self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Tokens:
        decoded_bad = 0
        lo, hi = (int(starts[0]), int(ends[-1])) if starts.shape[0] else (0, 0)
        if self.mode != SPLIT and has_special(data[lo:hi], hi - lo):
            data, starts, ends, decoded_bad = prelower(data, starts, ends, self.errors)
        n_docs = starts.shape[0]
        span = int(ends[-1] - starts[0]) if n_docs else 0
        self._scratch(max(span, 1))
        group_docs = _group_docs(starts - (starts[0] if n_docs else 0), span, self.threads)
        group_out = np.zeros((group_docs.shape[0] - 1, 3), dtype=np.int64)
        doc_tokens = np.zeros(n_docs, dtype=np.int64)
        tokenize_groups(
            data,
            starts,
            ends,
            group_docs,
            self.mode,
            self.errors,
            self.lower,
            self.classes,
            self.tok_bytes,
            self.tok_off,
            self.tok_len,
            self.tok_hash,
            doc_tokens,
            group_out,
        )
        group_first = starts[group_docs[:-1]] - (starts[0] if n_docs else 0)
        bad = group_out[:, 2][group_out[:, 2] >= 0]
        return Tokens(
            int(group_out[:, 0].sum()),
            int(group_out[:, 1].sum()) + decoded_bad,
            int(bad.min()) if bad.size else -1,
            doc_tokens,
            group_docs,
            group_first,
            group_out[:, 0].copy(),
            self.tok_bytes,
            self.tok_off,
            self.tok_len,
            self.tok_hash,
        )
