"""The compiled tokenizer's kernels: UTF-8 bytes -> lowercased token bytes with a 64-bit hash each, in numba.

A block of documents is tokenized in parallel, one group of documents per thread (``tokenize_groups``). Each code
point is decoded here (a byte that is not UTF-8 is found with the maximal-subpart rule of Python's decoder, inside
an HTML tag too), lowercased and classed with the tables of ``tokenizers.tables`` and written back as UTF-8; a
token's hash is FNV-1a over its bytes, finished with murmur3's fmix64. ``tokenizers.Tokenizer`` drives them.
"""

from __future__ import annotations

import numba
import numpy as np

SIMPLE, WHITESPACE, SPLIT = 0, 1, 2  # tokenizer modes (SPLIT: white space, case kept)
STRICT, REPLACE, SKIP = 0, 1, 2  # what a byte that is not UTF-8 becomes
IS_WORD, IS_SPACE = 1, 2  # bits of the class table

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
LESS_THAN, GREATER_THAN, APOSTROPHE = 60, 62, 39  # '<', '>' and "'" in ASCII


@numba.njit(cache=True, inline="always")
def decode_utf8(buf, i, end):
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
        return p + 1, (h ^ np.uint64(cp)) * FNV_PRIME
    if cp < 0x800:
        n = 2
        out[p] = 0xC0 | (cp >> 6)
    elif cp < 0x10000:
        n = 3
        out[p] = 0xE0 | (cp >> 12)
    else:
        n = 4
        out[p] = 0xF0 | (cp >> 18)
    h = (h ^ np.uint64(out[p])) * FNV_PRIME
    for k in range(1, n):
        out[p + k] = 0x80 | ((cp >> (6 * (n - 1 - k))) & 0x3F)
        h = (h ^ np.uint64(out[p + k])) * FNV_PRIME
    return p + n, h


@numba.njit(cache=True, inline="always")
def finish_hash(h, length):
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
    tok_off[t], tok_len[t], tok_hash[t] = start, end - start, finish_hash(h, end - start)
    return t + 1


@numba.njit(cache=True, inline="always")
def _tag_end(buf, i, end):
    """At a '<' (buf[i]) of a document ending at ``end``: (position of the next '>', bytes that are not UTF-8
    between them, position of the first of those or -1); (end, 0, -1) when no '>' follows. The bytes of a tag are
    decoded as Python decodes the whole document, so a tag hides no byte that is not UTF-8."""
    j = i + 1
    while j < end and buf[j] != GREATER_THAN:
        j += 1
    if j >= end:
        return end, np.int64(0), np.int64(-1)
    bad, first_bad = np.int64(0), np.int64(-1)
    k = i + 1
    while k < j:
        if buf[k] < 0x80:
            k += 1
            continue
        c, w = decode_utf8(buf, k, end)  # a sequence never runs past '>': it is no continuation byte
        if c < 0:
            bad += w
            if first_bad < 0:
                first_bad = k
        k += w
    return j, bad, first_bad


@numba.njit(cache=True)
def _tokenize_doc(buf, i, end, mode, errors, lower, classes, tok_bytes, p, tok_off, tok_len, tok_hash, t, bad, first):
    """Tokenize one document buf[i:end]: its tokens from index t, their bytes from tok_bytes[p]. ``bad`` and
    ``first`` (position of the first, or -1) count the bytes that are not UTF-8 so far. Returns (t, p, bad, first,
    stopped): strict mode stops at the document's first such byte, wherever it is (inside a tag too)."""
    in_tok, apostrophe = False, False
    tags = mode == SIMPLE
    h, tok_start = FNV_OFFSET, p
    while i < end:
        c, w = np.int64(buf[i]), np.int64(1)
        if c >= 0x80:
            c, w = decode_utf8(buf, i, end)
            if c < 0:
                bad, first = bad + w, i if first < 0 else first
                if errors == STRICT:
                    return t, p, bad, first, True
                if errors == SKIP:
                    i += w
                    continue
                c = 0xFFFD
        if tags and c == LESS_THAN:  # a tag up to the next '>' is a space; with no '>' left, no more tags
            j, tag_bad, tag_first = _tag_end(buf, i, end)
            if j < end:
                bad, first = bad + tag_bad, tag_first if first < 0 else first
                if tag_bad and errors == STRICT:
                    return t, p, bad, first, True
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
                    in_tok, h, tok_start = True, FNV_OFFSET, p
                elif apostrophe:
                    p, h = _put(tok_bytes, p, h, APOSTROPHE)
                    apostrophe = False
                p, h = _put(tok_bytes, p, h, lc)
            elif lc == APOSTROPHE and in_tok and not apostrophe:
                apostrophe = True
            elif in_tok:
                t = _emit(tok_off, tok_len, tok_hash, t, tok_start, p, h)
                in_tok, apostrophe = False, False
        elif k & IS_SPACE:
            if in_tok:
                t = _emit(tok_off, tok_len, tok_hash, t, tok_start, p, h)
                in_tok = False
        else:
            if not in_tok:
                in_tok, h, tok_start = True, FNV_OFFSET, p
            p, h = _put(tok_bytes, p, h, lc)
        i += w
    if in_tok:
        t = _emit(tok_off, tok_len, tok_hash, t, tok_start, p, h)
    return t, p, bad, first, False


@numba.njit(cache=True)
def _tokenize_docs(
    buf, starts, ends, d0, d1, mode, errors, lower, classes, tok_bytes, p0, tok_off, tok_len, tok_hash, t0, doc_tokens
):
    """Tokenize documents d0..d1-1 (buf[starts[d]:ends[d]]): lowercased token bytes to tok_bytes from p0,
    token t's offset, length and hash at t0 + t, each document's token count to doc_tokens[d].
    Returns (tokens, bytes that are not UTF-8, position of the first one or -1); strict mode stops there."""
    t, p = t0, p0
    bad, first_bad = np.int64(0), np.int64(-1)
    for d in range(d0, d1):
        t_doc = t
        t, p, bad, first_bad, stopped = _tokenize_doc(
            buf,
            starts[d],
            ends[d],
            mode,
            errors,
            lower,
            classes,
            tok_bytes,
            p,
            tok_off,
            tok_len,
            tok_hash,
            t,
            bad,
            first_bad,
        )
        if stopped:
            doc_tokens[d] = 0
            return t - t0, bad, first_bad
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


@numba.njit(cache=True, parallel=True, nogil=True)
def hash_tokens(data, starts, ends, tok_off, tok_len, tok_hash):
    """Token t is data[starts[t]:ends[t]] (already tokenized: a list of strings): its hash, as the tokenizers
    hash theirs."""
    for t in numba.prange(starts.shape[0]):
        a, b = starts[t], ends[t]
        h = FNV_OFFSET
        for k in range(a, b):
            h = (h ^ np.uint64(data[k])) * FNV_PRIME
        tok_off[t], tok_len[t], tok_hash[t] = a, b - a, finish_hash(h, b - a)


@numba.njit(cache=True)
def has_special(buf, n):
    """Whether buf[:n] holds U+0130 (C4 B0) or U+03A3 (CE A3)."""
    for i in range(n - 1):
        if (buf[i] == 0xC4 and buf[i + 1] == 0xB0) or (buf[i] == 0xCE and buf[i + 1] == 0xA3):
            return True
    return False
