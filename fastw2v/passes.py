"""The two passes over a text source's blocks: pass 1 tokenizes and counts every word (``count_pass``: a bounded
``WordTable``), pass 2 tokenizes again and maps each token to its vocabulary id (``mapped_blocks``, or a Python
iterable's word numbers that pass 1 spilled to disk: ``Spill``); ``write_ids`` writes the ids and cuts the documents
into pieces. ``encode`` runs them and builds the vocabulary between them."""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from .errors import UserError, setting
from .progress import Progress, compiling
from .text_blocks import TextBlock, TextSource, TokenBlock
from .text_files import line_bounds, locate_bad_utf8
from .tokenizers import Tokenizer, Tokens, given_tokens
from .word_table import WordTable


def warm_up(tokenizer: Tokenizer, gensim_pruning: bool) -> None:
    """Each kernel of both passes called once on a few bytes, inside ``compiling``: numba compiles them (or loads
    them from its cache) here, so that the passes' times are the text's alone."""
    with compiling("the tokenizer"):
        text = np.frombuffer(b"warm up\n", dtype=np.uint8)
        starts, ends, _ = line_bounds(text, text.shape[0], True)
        tokens = tokenizer.tokenize(text, starts, ends)
        table = WordTable(words=1, gensim=gensim_pruning)  # two words: it grows, so its rebuild is compiled too
        table.count(tokens)
        table.map(tokens, np.zeros(len(table), dtype=np.int32), tokenizer.out_ids)
        given_tokens(text, starts[:1], starts[:1] + 4, np.ones(1, dtype=np.int64))
        piece_starts_of(np.ones(1, dtype=np.int64), 10)


def count_pass(
    source: TextSource,
    tokenizer: Tokenizer,
    limit: int | None,
    spill: Spill | None,
    progress: bool,
    gensim_pruning: bool = False,
    trim_rule=None,
) -> tuple[WordTable, int, int]:
    """Pass 1: every word of the text counted in a table of at most ``limit`` words (the rarest pruned when it is
    full; ``gensim_pruning``: gensim's max_vocab_size rule, with its ``trim_rule``); with ``spill``, a Python
    iterable's tokens' word numbers kept on disk for pass 2. Returns the table, the tokens read and the documents."""
    if source.prepare is not None:  # a dataset's split and column errors come before the progress bar
        source.prepare()
    table = WordTable(limit=limit, gensim=gensim_pruning, trim_rule=trim_rule if gensim_pruning else None)
    bad_bytes: dict[str, int] = {}
    raw_tokens, documents = 0, 0
    warm_up(tokenizer, gensim_pruning)
    with Progress("pass 1/2: count", enabled=progress) as bar:
        for block in source.text_blocks():
            tokens = tokenize_block(tokenizer, block, source)
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
            f"fastw2v: note: {file}: {bad:,} byte(s) that are not UTF-8 {what} "
            f"({setting('encoding_errors', source.encoding_errors)})",
            file=sys.stderr,
        )
    if table.pruned:
        flag = "max_vocab_size" if table.gensim else setting("max_counted_words")
        print(
            f"fastw2v: note: more than {table.limit:,} distinct words: {table.pruned:,} rare ones were dropped while "
            f"counting (those seen fewer than {table.dropped_below} times when the table was full; {flag})",
            file=sys.stderr,
        )
    return table, raw_tokens, documents


def write_ids(path: str, blocks, max_piece_length: int, bar: Progress) -> tuple[list[np.ndarray], int, int]:
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
            starts = piece_starts_of(done, max_piece_length)
            pieces.append(starts[:-1] + position)
            position += int(starts[-1])
            n_documents += done.shape[0]
            bar.update(n_read)
    return pieces, position, n_documents


def write_starts(path: str, pieces: list[np.ndarray], n_tokens: int) -> None:
    """The pieces' starts and the end into starts.npy, block by block, never concatenated in memory."""
    n_pieces = sum(p.shape[0] for p in pieces)
    starts = np.lib.format.open_memmap(path, mode="w+", dtype=np.int64, shape=(n_pieces + 1,))
    at = 0
    for p in pieces:
        starts[at : at + p.shape[0]] = p
        at += p.shape[0]
    starts[n_pieces] = n_tokens
    starts.flush()


def mapped_blocks(source: TextSource, tokenizer: Tokenizer, table: WordTable, word_id: np.ndarray):
    """Pass 2 over the text: (ids kept per document, the kept ids, tokens read, continues) of each block."""
    for block in source.text_blocks():
        tokens = tokenize_block(tokenizer, block, source)
        doc_kept, ids = table.map(tokens, word_id, tokenizer.out_ids)
        yield doc_kept, ids, tokens.n, block.continues


class Spill:
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


def tokenize_block(tokenizer: Tokenizer, block: TextBlock | TokenBlock, source: TextSource) -> Tokens:
    """A block's tokens (a ``TokenBlock``'s as given); in strict mode a byte that is not UTF-8 is a UserError that
    names its file, line and offset."""
    if isinstance(block, TokenBlock):
        return given_tokens(block.data, block.starts, block.ends, block.doc_tokens)
    tokens = tokenizer.tokenize(block.data, block.starts, block.ends)
    if tokens.first_bad >= 0 and source.encoding_errors == "strict":
        if block.file is None:
            raise UserError(
                f"{source.description} holds bytes that are not UTF-8: pass {setting('encoding_errors', 'replace')} "
                "(or skip)"
            )
        line, offset, reason = locate_bad_utf8(block.file, block.compression)
        where = "byte" if not block.compression else "byte of the decompressed text"
        raise UserError(
            f"{block.file!r} line {line:,} is not UTF-8 ({reason} at {where} {offset:,}): convert it "
            f"to UTF-8, or pass {setting('encoding_errors', 'replace')} (or skip)"
        )
    return tokens


def piece_starts_of(lengths: np.ndarray, max_piece_length: int) -> np.ndarray:
    """Where each piece starts, and the end last, when documents of ``lengths`` tokens are cut into pieces of at most
    ``max_piece_length`` tokens (an empty document has none)."""
    from .kernels import piece_starts

    return piece_starts(np.ascontiguousarray(lengths, dtype=np.int64), int(max_piece_length))
