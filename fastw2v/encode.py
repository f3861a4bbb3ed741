"""Text source -> tokens -> Vocab -> token ids on disk (``corpus.EncodedCorpus``).

Two streaming passes (``passes``), memory O(vocabulary + block), never O(corpus):
  1. tokenize every document once, give each distinct word a provisional id and count it (a bounded table);
  2. build the Vocab from the counts, then read the text again and write each token's final id, dropping
     out-of-vocabulary tokens before any windowing (as word2vec.c does), into ``ids.int32``.
A Python iterable is not walked twice: pass 1 spills each token's provisional id to disk and pass 2 maps those.
The result is cached (``cache``) under a key of the source, the tokenizer and the vocabulary settings, so a
second run skips both passes. ``encode_seconds`` leaves out the time numba spends compiling the tokenizer (or
loading it from its cache), which the run's summary shows on its own line.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from .cache import DEFAULT_CACHE_DIR, entry_lock
from .corpus import CACHE_FORMAT, CRC_BLOCK, DAMAGED_FIX, EncodedCorpus, is_encoded_folder, load_folder, read_back
from .errors import UserError, setting
from .passes import Spill, count_pass, mapped_blocks, write_ids, write_starts
from .progress import Progress, compile_seconds
from .sources import open_source
from .text_blocks import TextSource
from .tokenizers import TOKENIZERS, Tokenizer
from .vocab import Vocab, frequency_order
from .word_table import WordTable

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
    ``max_vocab_size`` rule instead (``word_table.WordTable``: looked at after each document, so the same words as
    gensim's are dropped; the words kept then get the counts of the whole text).
    With ``vocab`` the text is encoded with that vocabulary, in its order (its other words are dropped), or with
    ``extend`` with that vocabulary followed by the text's new words that pass ``min_count``; the corpus's
    ``vocab.tsv`` then holds this text's counts of those words. ``trim_rule(word, count, min_count)`` is
    gensim's: 1 drops a word, 2 keeps it, 0 leaves it to ``min_count``. Those three options never use the cache.
    An empty text, or one without a word that passes min_count, is an error, or with ``allow_empty`` (gensim's
    build_vocab) a corpus of no word."""
    if tokenizer not in TOKENIZERS:
        raise UserError(f"unknown tokenizer {tokenizer!r}: choose one of {', '.join(TOKENIZERS)}")
    settings = {
        "tokenizer": tokenizer,
        "min_count": min_count,
        "max_vocab_size": max_vocab_size,
        "max_piece_length": max_piece_length,
        "max_counted_words": max_counted_words,
        **({"gensim_pruning": True} if gensim_pruning else {}),
    }
    if cache_dir is None or vocab is not None or trim_rule is not None:
        return _encode_uncached(source, settings, progress, vocab, extend, trim_rule, allow_empty)
    return _encode_cached(source, settings, os.path.expanduser(os.fspath(cache_dir)), progress)


def _cache_key(source: TextSource, settings: dict) -> str:
    """The cache entry's name: a hash of the source's fingerprint and the settings that change the ids."""
    key_fields = [
        CACHE_FORMAT,
        source.fingerprint,
        settings["tokenizer"],
        settings["min_count"],
        settings["max_vocab_size"],
        settings["max_piece_length"],
        settings["max_counted_words"],
    ] + (["gensim_pruning"] if settings.get("gensim_pruning") else [])
    return hashlib.sha1(json.dumps(key_fields).encode()).hexdigest()[:20]


def _clock() -> tuple[float, float]:
    """(now, compile seconds so far): the start of a time that ``_seconds_since`` measures without compiling."""
    return time.perf_counter(), compile_seconds()


def _seconds_since(clock: tuple[float, float]) -> float:
    """Seconds since ``clock``, less the time spent compiling kernels (or loading them from numba's cache) since."""
    started, compiled = clock
    return time.perf_counter() - started - (compile_seconds() - compiled)


def _encode_cached(source: TextSource, settings: dict, cache_dir: str, progress: bool) -> EncodedCorpus:
    """``encode`` through the cache: the entry of this source and settings, loaded, or encoded first."""
    clock = _clock()
    key = _cache_key(source, settings)
    folder = os.path.join(cache_dir, key)
    try:
        os.makedirs(cache_dir, exist_ok=True)
    except OSError as e:
        raise UserError(
            f"cannot use {cache_dir!r} as the cache folder ({e.strerror}): pass {setting('cache_dir')} a writable "
            "folder"
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
    corpus.encode_seconds = _seconds_since(clock)
    return corpus


def _encode_uncached(source, settings, progress, vocab, extend, trim_rule, allow_empty) -> EncodedCorpus:
    """``encode`` without the cache: into a temporary folder that lives as long as the corpus."""
    clock = _clock()
    tmp_holder = tempfile.TemporaryDirectory(prefix="fastw2v-")
    _encode_into(tmp_holder.name, source, settings, progress, vocab, extend, trim_rule, allow_empty)
    corpus = load_folder(tmp_holder.name, source.description)
    corpus._tmp = tmp_holder
    corpus.encode_seconds = _seconds_since(clock)
    return corpus


def _encode_into(folder, source, settings, progress, base_vocab=None, extend=False, trim_rule=None, allow_empty=False):
    """Pass 1 counts the words (a bounded table), pass 2 reads the text again and writes the vocabulary ids; then
    the vocabulary is checked against the ids written, and the folder completed (starts.npy, vocab.tsv, meta.json)."""
    tokenizer = Tokenizer(settings["tokenizer"], source.encoding_errors)
    spill = Spill(folder) if source.costly_to_reread else None
    table, raw_tokens, _ = count_pass(
        source,
        tokenizer,
        settings.get("max_counted_words"),
        spill,
        progress,
        settings.get("gensim_pruning", False),
        trim_rule,
    )
    if raw_tokens == 0 and base_vocab is None and not allow_empty:
        raise EmptyVocabularyError(f"the corpus {source.description} is empty (no tokens): {_empty_fix(source)}")
    if base_vocab is None:
        vocab, word_id = _vocab_of(table, settings["min_count"], settings["max_vocab_size"], trim_rule, allow_empty)
    else:
        vocab, word_id = _vocab_with(table, base_vocab, extend, settings["min_count"], trim_rule)
    use_spill = spill is not None and spill.records and table.pruned == 0  # pruning renumbers the words
    blocks = spill.mapped(word_id) if use_spill else mapped_blocks(source, tokenizer, table, word_id)
    ids_path = os.path.join(folder, "ids.int32")
    with Progress("pass 2/2: encode", total=raw_tokens, enabled=progress) as bar:
        pieces, n_tokens, n_documents = write_ids(ids_path, blocks, settings["max_piece_length"], bar)
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
    write_starts(os.path.join(folder, "starts.npy"), pieces, n_tokens)
    vocab.save(os.path.join(folder, "vocab.tsv"))
    _write_meta(folder, source, settings, n_documents, n_tokens, raw_tokens, crcs)


def _write_meta(folder: str, source: TextSource, settings: dict, n_documents, n_tokens, raw_tokens, crcs) -> None:
    """meta.json, written last: a folder that holds it is whole. ``location``: the source's resolved path, when
    it is local (``cache_entries`` lists it)."""
    meta = {
        "format": CACHE_FORMAT,
        "n_documents": n_documents,
        "n_tokens": n_tokens,
        "raw_tokens": raw_tokens,
        "settings": settings,
        "description": source.description,
        **({"location": source.location} if source.location else {}),
        "crc_block": CRC_BLOCK,
        "ids_crc32": crcs,
    }
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f)


def _empty_fix(source: TextSource) -> str:
    """What to check when a source gave no token, in the words of the entry point in use."""
    if source.text_column is not None:
        return f"check the path, and that {setting('text_column', source.text_column)} is the column of the text"
    if source.files:
        return "check the path"
    return "give it documents that hold words"


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
    table, raw_tokens, documents = count_pass(
        source,
        Tokenizer(tokenizer, source.encoding_errors),
        max_counted_words,
        None,
        progress,
        gensim_pruning,
        trim_rule,
    )
    words, counts, _ = table.words(0)
    return dict(zip(words, counts.tolist())), raw_tokens, documents


def _kept_by_rule(words: list[str], counts: np.ndarray, index: np.ndarray, min_count: int, trim_rule):
    """The counted words that gensim's ``trim_rule`` keeps (1 discard, 2 keep, else min_count decides)."""
    keep = [
        i
        for i, (w, c) in enumerate(zip(words, counts.tolist()))
        if (r := trim_rule(w, c, min_count)) == 2 or (r != 1 and c >= min_count)
    ]
    return [words[i] for i in keep], counts[keep], index[keep]


def _candidates(table: WordTable, min_count: int, trim_rule) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, counts, table indices) of the counted words that min_count, or gensim's trim_rule, keep."""
    if trim_rule is None:
        return table.words(min_count)
    return _kept_by_rule(*table.words(1), min_count, trim_rule)


def _vocab_with(table: WordTable, base: Vocab, extend: bool, min_count: int, trim_rule):
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
    table: WordTable, min_count: int, max_vocab_size: int | None, trim_rule=None, allow_empty: bool = False
) -> tuple[Vocab, np.ndarray]:
    """The Vocab of the counted words (count descending, then the word) and each table word's id in it (-1: out)."""
    words, counts, index = _candidates(table, min_count, trim_rule)
    if not words and not allow_empty:
        most = int(table.w_count[: len(table)].max()) if len(table) else 0
        raise EmptyVocabularyError(
            f"no word occurs at least {min_count} times (the most frequent occurs {most} times): lower "
            f"{setting('min_count')} or give a larger corpus"
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
