"""Text source -> tokens -> Vocab -> token ids on disk (``corpus.EncodedCorpus``).

Two streaming passes, memory O(vocabulary + chunk), never O(corpus):
  1. tokenize every document once, give each distinct word a provisional id and count it (a bounded table);
  2. build the Vocab from the counts, then read the text again and write each token's final id, dropping
     out-of-vocabulary tokens before any windowing (as word2vec.c does), into ``ids.int32``.
A Python iterable is not walked twice: pass 1 spills each token's provisional id to disk and pass 2 maps those.
The result is cached (``cache``) under a key of the source, the tokenizer and the vocabulary settings, so a
second run skips both passes.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from . import scan
from .cache import DEFAULT_CACHE_DIR, entry_lock
from .corpus import CACHE_FORMAT, CRC_BLOCK, DAMAGED_FIX, EncodedCorpus, is_encoded_folder, load_folder, read_back
from .errors import UserError
from .progress import Progress, compiling
from .sources import TOKENIZERS, TextBlock, TextSource, TokenBlock, locate_bad_utf8, open_source
from .vocab import Vocab, frequency_order

MAX_COUNTED_WORDS = 20_000_000  # distinct words held while counting (word2vec.c prunes at 21M)


class EmptyVocabularyError(UserError, RuntimeError):
    """No word to train on (an empty corpus, or every word under min_count): a RuntimeError too, as gensim's
    "you must first build vocabulary before training the model"."""


def load_corpus(
    path: str,
    tokenizer: str = "simple",
    min_count: int = 5,
    cache_dir: str | None = DEFAULT_CACHE_DIR,
    progress: bool = False,
) -> EncodedCorpus:
    """The corpus a path names: an encoded folder (loaded as it is), text files or a glob (``--data``), or a
    dataset name or folder (``--dataset``); text is encoded with the given settings, through the cache."""
    if is_encoded_folder(path):
        return EncodedCorpus.load(path)
    is_files = glob.has_magic(path) or os.path.isfile(path)
    source = open_source(data=path) if is_files else open_source(dataset=path)
    return encode(source, tokenizer, min_count, cache_dir=cache_dir, progress=progress)


def encode(
    source: TextSource,
    tokenizer: str = "simple",
    min_count: int = 5,
    max_vocab_size: int | None = None,
    max_piece_length: int = 10000,
    cache_dir: str | None = DEFAULT_CACHE_DIR,
    progress: bool = False,
    max_counted_words: int | None = MAX_COUNTED_WORDS,
    vocab: Vocab | None = None,
    extend: bool = False,
    trim_rule=None,
    gensim_pruning: bool = False,
    allow_empty: bool = False,
) -> EncodedCorpus:
    """Encode a text source, or load it from the cache when the same source and settings were seen.

    Counting holds at most ``max_counted_words`` distinct words: when the table is full, the words seen at most
    n times so far are dropped, n = 1, then 2, ... (word2vec.c's rule); with ``gensim_pruning``, gensim's
    ``max_vocab_size`` rule instead (``scan.WordTable``: looked at after each document, so the same words as
    gensim's are dropped; the words kept then get the counts of the whole text).
    With ``vocab`` the text is encoded with that vocabulary, in its order (its other words are dropped), or with
    ``extend`` with that vocabulary followed by the text's new words that pass ``min_count``; the corpus's
    ``vocab.tsv`` then holds this text's counts of those words. ``trim_rule(word, count, min_count)`` is
    gensim's: 1 drops a word, 2 keeps it, 0 leaves it to ``min_count``. Those three options never use the cache.
    An empty text, or one without a word that passes min_count, is an error, or with ``allow_empty`` (gensim's
    build_vocab) a corpus of no word."""
    if tokenizer not in TOKENIZERS:
        raise UserError(f"unknown tokenizer {tokenizer!r}: choose one of {', '.join(TOKENIZERS)}")
    if vocab is not None or trim_rule is not None:
        cache_dir = None
    key_fields = [
        CACHE_FORMAT,
        source.fingerprint,
        tokenizer,
        min_count,
        max_vocab_size,
        max_piece_length,
        max_counted_words,
    ] + (["gensim_pruning"] if gensim_pruning else [])
    key = hashlib.sha1(json.dumps(key_fields).encode()).hexdigest()[:20]
    settings = {
        "tokenizer": tokenizer,
        "min_count": min_count,
        "max_vocab_size": max_vocab_size,
        "max_piece_length": max_piece_length,
        "max_counted_words": max_counted_words,
        **({"gensim_pruning": True} if gensim_pruning else {}),
    }
    started = time.perf_counter()
    cache_dir = None if cache_dir is None else os.path.expanduser(os.fspath(cache_dir))
    if cache_dir is None:
        return _encode_uncached(source, settings, progress, vocab, extend, trim_rule, allow_empty)
    folder = os.path.join(cache_dir, key)
    try:
        os.makedirs(cache_dir, exist_ok=True)
    except OSError as e:
        raise UserError(
            f"cannot use {cache_dir!r} as the cache folder ({e.strerror}): pass --cache-dir a writable folder"
        ) from None
    with entry_lock(cache_dir, key, folder):  # one encoder per entry: a second run waits, then loads it
        if os.path.exists(os.path.join(folder, "meta.json")):
            try:
                return load_folder(folder, source.description, cached=True)
            except UserError as e:  # a cache entry is derived data: rebuild it
                print(
                    f"fastw2v: {e.args[0].removesuffix(': ' + DAMAGED_FIX)}; encoding the text again", file=sys.stderr
                )
                shutil.rmtree(folder, ignore_errors=True)
        for name in os.listdir(cache_dir):  # work folders of runs killed while encoding this entry
            if name.startswith(f".{key}-") and os.path.isdir(os.path.join(cache_dir, name)):
                shutil.rmtree(os.path.join(cache_dir, name), ignore_errors=True)
        work = tempfile.mkdtemp(prefix=f".{key}-", dir=cache_dir)
        try:
            _encode_into(work, source, settings, progress)
            os.replace(work, folder)  # atomic: a cache folder is complete or absent
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    corpus = load_folder(folder, source.description, cached=True)
    corpus.encode_seconds = time.perf_counter() - started
    return corpus


def _encode_uncached(source, settings, progress, vocab, extend, trim_rule, allow_empty) -> EncodedCorpus:
    """``encode`` without the cache: into a temporary folder that lives as long as the corpus."""
    started = time.perf_counter()
    tmp_holder = tempfile.TemporaryDirectory(prefix="fastw2v-")
    _encode_into(tmp_holder.name, source, settings, progress, vocab, extend, trim_rule, allow_empty)
    corpus = load_folder(tmp_holder.name, source.description)
    corpus._tmp = tmp_holder
    corpus.encode_seconds = time.perf_counter() - started
    return corpus


def _encode_into(folder, source, settings, progress, base_vocab=None, extend=False, trim_rule=None, allow_empty=False):
    """Pass 1 counts the words (a bounded table), pass 2 reads the text again and writes the vocabulary ids; then
    the vocabulary is checked against the ids written, and the folder completed (starts.npy, vocab.tsv, meta.json)."""
    tokenizer = scan.Tokenizer(settings["tokenizer"], source.encoding_errors)
    spill = _Spill(folder) if source.costly_to_reread else None
    table, raw_tokens, _ = _count_words(
        source,
        tokenizer,
        settings.get("max_counted_words"),
        spill,
        progress,
        settings.get("gensim_pruning", False),
        trim_rule,
    )
    if raw_tokens == 0 and base_vocab is None and not allow_empty:
        raise EmptyVocabularyError(
            f"the corpus {source.description} is empty (no tokens): check the path and --text-column"
        )
    if base_vocab is None:
        vocab, word_id = _vocab_of(table, settings["min_count"], settings["max_vocab_size"], trim_rule, allow_empty)
    else:
        vocab, word_id = _vocab_with(table, base_vocab, extend, settings["min_count"], trim_rule)
    use_spill = spill is not None and spill.records and table.pruned == 0  # pruning renumbers the words
    blocks = spill.mapped(word_id) if use_spill else _mapped_blocks(source, tokenizer, table, word_id)
    ids_path = os.path.join(folder, "ids.int32")
    with Progress("pass 2/2: encode", total=raw_tokens, enabled=progress) as bar:
        pieces, n_tokens, n_documents = _write_ids(ids_path, blocks, settings["max_piece_length"], bar)
        bar.line(f"{n_tokens:,} tokens kept of {bar.n:,}, {len(vocab):,} words, {bar.rate():,.0f} tokens/s")
    if spill is not None:
        spill.remove()  # not used when pruning renumbered the words
    counts, crcs = read_back(ids_path, len(vocab))  # one pass over the ids written, not a bincount per block
    if base_vocab is not None:  # the given order stays; the counts are this text's
        vocab = Vocab(vocab.words, counts)
    elif not np.array_equal(counts, vocab.counts):  # rare words dropped while counting came back, or the text changed
        vocab, renumbered = _recount(vocab, counts, ids_path)
        if renumbered:
            crcs = read_back(ids_path, len(vocab))[1]
    _write_starts(os.path.join(folder, "starts.npy"), pieces, n_tokens)
    vocab.save(os.path.join(folder, "vocab.tsv"))
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(
            {
                "format": CACHE_FORMAT,
                "n_documents": n_documents,
                "n_tokens": n_tokens,
                "raw_tokens": raw_tokens,
                "settings": settings,
                "description": source.description,
                "crc_block": CRC_BLOCK,
                "ids_crc32": crcs,
            },
            f,
        )


def _count_words(
    source: TextSource,
    tokenizer: scan.Tokenizer,
    limit: int | None,
    spill: _Spill | None,
    progress: bool,
    gensim_pruning: bool = False,
    trim_rule=None,
) -> tuple[scan.WordTable, int, int]:
    """Pass 1: every word of the text counted in a table of at most ``limit`` words (the rarest pruned when it is
    full; ``gensim_pruning``: gensim's max_vocab_size rule, with its ``trim_rule``); with ``spill``, a Python
    iterable's tokens' word numbers kept on disk for pass 2. Returns the table, the tokens read and the documents."""
    table = scan.WordTable(limit=limit, gensim=gensim_pruning, trim_rule=trim_rule if gensim_pruning else None)
    bad_bytes: dict[str, int] = {}
    raw_tokens, documents = 0, 0
    with compiling("the tokenizer"):  # numba compiles on the first call of a fresh install
        warm = np.frombuffer(b"warm up", dtype=np.uint8)
        warm_tokens = tokenizer.tokenize(warm, np.zeros(1, np.int64), np.array([7], np.int64))
        scan.WordTable().count(warm_tokens)
    with Progress("pass 1/2: count", enabled=progress) as bar:
        for block in source.text_blocks():
            tokens = _tokenize(tokenizer, block, source)
            if tokens.bad:
                bad_bytes[block.file] = bad_bytes.get(block.file, 0) + tokens.bad
            if spill is not None and isinstance(block, TokenBlock):
                word_of = np.empty(tokens.n, dtype=np.int32)
                table.count(tokens, word_of)
                spill.write(word_of, tokens.doc_tokens)
            else:
                table.count(tokens)
            raw_tokens += tokens.n
            documents += tokens.doc_tokens.shape[0] - int(block.continues)
            bar.update(tokens.n)
        bar.line(f"{raw_tokens:,} tokens, {len(table):,} distinct words, {bar.rate():,.0f} tokens/s")
    for file, bad in bad_bytes.items():
        what = "replaced by U+FFFD" if source.encoding_errors == "replace" else "dropped"
        print(
            f"fastw2v: note: {file}: {bad:,} byte(s) that are not UTF-8 {what} (--encoding-errors "
            f"{source.encoding_errors})",
            file=sys.stderr,
        )
    if table.pruned:
        flag = "max_vocab_size" if table.gensim else "--max-counted-words"
        print(
            f"fastw2v: note: more than {table.limit:,} distinct words: {table.pruned:,} rare ones were dropped while "
            f"counting (those seen fewer than {table.dropped_below} times when the table was full; {flag})",
            file=sys.stderr,
        )
    return table, raw_tokens, documents


def count_words(
    source: TextSource,
    tokenizer: str = "split",
    max_counted_words: int | None = MAX_COUNTED_WORDS,
    gensim_pruning: bool = False,
    progress: bool = False,
    trim_rule=None,
) -> tuple[dict[str, int], int, int]:
    """Pass 1 alone (gensim's ``scan_vocab``): ({word: count} of every word counted, tokens read, documents), in the
    order the words were first seen; the bounds of ``encode`` apply."""
    if tokenizer not in TOKENIZERS:
        raise UserError(f"unknown tokenizer {tokenizer!r}: choose one of {', '.join(TOKENIZERS)}")
    table, raw_tokens, documents = _count_words(
        source,
        scan.Tokenizer(tokenizer, source.encoding_errors),
        max_counted_words,
        None,
        progress,
        gensim_pruning,
        trim_rule,
    )
    words, counts, _ = table.words(0)
    return dict(zip(words, counts.tolist())), raw_tokens, documents


def _write_ids(path: str, blocks, max_piece_length: int, bar: Progress) -> tuple[list[np.ndarray], int, int]:
    """Pass 2's blocks (ids kept per document, the kept ids, tokens read, whether the last document goes on in the
    next block) into the ids file. Returns each block's piece starts (8 bytes a piece, nothing kept per document),
    the tokens written and the documents."""
    pieces: list[np.ndarray] = []
    position, n_documents = 0, 0  # kept tokens before the block's first document; documents done
    carry = 0  # kept tokens of a document that goes on in the next block
    with open(path, "wb") as out:
        for doc_kept, ids, n_read, continues in blocks:
            ids.tofile(out)
            doc_kept[0] += carry
            carry = int(doc_kept[-1]) if continues else 0
            done = doc_kept[:-1] if continues else doc_kept
            starts = _piece_starts(done, max_piece_length)
            pieces.append(starts[:-1] + position)
            position += int(starts[-1])
            n_documents += done.shape[0]
            bar.update(n_read)
    return pieces, position, n_documents


def _write_starts(path: str, pieces: list[np.ndarray], n_tokens: int) -> None:
    """The pieces' starts and the end into starts.npy, block by block, never concatenated in memory."""
    n_pieces = sum(p.shape[0] for p in pieces)
    starts = np.lib.format.open_memmap(path, mode="w+", dtype=np.int64, shape=(n_pieces + 1,))
    at = 0
    for p in pieces:
        starts[at : at + p.shape[0]] = p
        at += p.shape[0]
    starts[n_pieces] = n_tokens
    starts.flush()


def _mapped_blocks(source: TextSource, tokenizer: scan.Tokenizer, table: scan.WordTable, word_id: np.ndarray):
    """Pass 2 over the text: (ids kept per document, the kept ids, tokens read, continues) of each block."""
    for block in source.text_blocks():
        tokens = _tokenize(tokenizer, block, source)
        doc_kept, ids = table.map(tokens, word_id, tokenizer.out_ids)
        yield doc_kept, ids, tokens.n, block.continues


class _Spill:
    """Pass 1's word index of every token of a Python iterable, on disk (4 bytes a token, in the work folder),
    so that pass 2 maps them with numpy instead of walking the iterable and converting its strings again."""

    def __init__(self, folder: str):
        self.paths = os.path.join(folder, "spill-words.int32"), os.path.join(folder, "spill-docs.int64")
        self.files = [open(p, "wb") for p in self.paths]
        self.records: list[tuple[int, int]] = []  # (tokens, documents) of each block

    def write(self, word_of: np.ndarray, doc_tokens: np.ndarray) -> None:
        word_of.tofile(self.files[0])
        doc_tokens.astype(np.int64).tofile(self.files[1])
        self.records.append((word_of.shape[0], doc_tokens.shape[0]))

    def remove(self) -> None:
        for f in self.files:
            f.close()
        for p in self.paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(p)

    def mapped(self, word_id: np.ndarray):
        for f in self.files:
            f.close()
        try:
            with open(self.paths[0], "rb") as fw, open(self.paths[1], "rb") as fd:
                for n_tokens, n_docs in self.records:
                    ids = word_id[np.fromfile(fw, dtype=np.int32, count=n_tokens)]
                    kept = np.concatenate([[0], np.cumsum(ids >= 0)])
                    bounds = np.concatenate([[0], np.cumsum(np.fromfile(fd, dtype=np.int64, count=n_docs))])
                    yield kept[bounds[1:]] - kept[bounds[:-1]], ids[ids >= 0], n_tokens, False
        finally:
            self.remove()


def _tokenize(tokenizer: scan.Tokenizer, block: TextBlock | TokenBlock, source: TextSource) -> scan.Tokens:
    if isinstance(block, TokenBlock):
        return scan.given_tokens(block.data, block.starts, block.ends, block.doc_tokens)
    tokens = tokenizer.tokenize(block.data, block.starts, block.ends)
    if tokens.first_bad >= 0 and source.encoding_errors == "strict":
        if block.file is None:
            raise UserError(
                f"{source.description} holds bytes that are not UTF-8: pass --encoding-errors replace (or skip)"
            )
        line, offset, reason = locate_bad_utf8(block.file, block.compression)
        where = "byte" if not block.compression else "byte of the decompressed text"
        raise UserError(
            f"{block.file!r} line {line:,} is not UTF-8 ({reason} at {where} {offset:,}): convert it "
            "to UTF-8, or pass --encoding-errors replace (or skip)"
        )
    return tokens


def _kept_by_rule(words: list[str], counts: np.ndarray, index: np.ndarray, min_count: int, trim_rule):
    """The counted words that gensim's ``trim_rule`` keeps (1 discard, 2 keep, else min_count decides)."""
    keep = [
        i
        for i, (w, c) in enumerate(zip(words, counts.tolist()))
        if (r := trim_rule(w, c, min_count)) == 2 or (r != 1 and c >= min_count)
    ]
    return [words[i] for i in keep], counts[keep], index[keep]


def _candidates(table: scan.WordTable, min_count: int, trim_rule) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, counts, table indices) of the counted words that min_count, or gensim's trim_rule, keep."""
    if trim_rule is None:
        return table.words(min_count)
    return _kept_by_rule(*table.words(1), min_count, trim_rule)


def _vocab_with(table: scan.WordTable, base: Vocab, extend: bool, min_count: int, trim_rule):
    """``base``'s words in their order, then (``extend``) the new words that pass min_count and trim_rule."""
    words, counts, index = table.words(1)
    if extend:
        new_words, new_counts, _ = _candidates(table, min_count, trim_rule)
        added = [i for i, w in enumerate(new_words) if w not in base.index]
        added = [new_words[added[i]] for i in frequency_order([new_words[i] for i in added], new_counts[added])]
        base = Vocab(base.words + added, np.zeros(len(base) + len(added), dtype=np.int64))
    word_id = np.full(len(table), -1, dtype=np.int32)
    for w, i in zip(words, index.tolist()):
        j = base.index.get(w)
        if j is not None:
            word_id[i] = j
    return base, word_id


def _vocab_of(
    table: scan.WordTable, min_count: int, max_vocab_size: int | None, trim_rule=None, allow_empty: bool = False
) -> tuple[Vocab, np.ndarray]:
    """The Vocab of the counted words (count descending, then the word) and each table word's id in it (-1: out)."""
    words, counts, index = _candidates(table, min_count, trim_rule)
    if not words and not allow_empty:
        most = int(table.w_count[: len(table)].max()) if len(table) else 0
        raise EmptyVocabularyError(
            f"no word occurs at least min_count={min_count} times (the most frequent occurs "
            f"{most} times): lower --min-count or give a larger corpus"
        )
    order = frequency_order(words, counts)[:max_vocab_size]
    word_id = np.full(len(table), -1, dtype=np.int32)
    word_id[index[order]] = np.arange(len(order), dtype=np.int32)
    return Vocab([words[i] for i in order], counts[order]), word_id


def _recount(vocab: Vocab, counts: np.ndarray, ids_path: str) -> tuple[Vocab, bool]:
    """The vocabulary with the counts of the ids written; when that changes the order, the ids file is renumbered
    (then True)."""
    order = frequency_order(vocab.words, counts)
    renumbered = order != list(range(len(vocab)))
    if renumbered:
        new_id = np.empty(len(vocab), dtype=np.int32)
        new_id[order] = np.arange(len(vocab), dtype=np.int32)
        ids = np.memmap(ids_path, dtype=np.int32, mode="r+")
        for a in range(0, ids.shape[0], 1 << 24):
            ids[a : a + (1 << 24)] = new_id[ids[a : a + (1 << 24)]]
        ids.flush()
        del ids
    return Vocab([vocab.words[i] for i in order], counts[order]), renumbered


def _piece_starts(lengths: np.ndarray, max_piece_length: int) -> np.ndarray:
    """Cut each document into pieces of at most max_piece_length tokens; drop empty documents."""
    from .kernels import piece_starts

    return piece_starts(np.ascontiguousarray(lengths, dtype=np.int64), int(max_piece_length))
