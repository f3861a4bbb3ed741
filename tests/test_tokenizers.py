"""The compiled tokenizers give exactly the Python tokenizers' tokens, and count the bytes that are not UTF-8 as
Python's decoder does, wherever they are; the word table counts and prunes as word2vec.c does, or as gensim's
max_vocab_size does; .txt blocks are the lines Python's text files give."""

import collections
import io

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import fastw2v
from fastw2v import text_blocks
from fastw2v.text_blocks import split_blocks
from fastw2v.text_files import line_blocks
from fastw2v.tokenizers import TOKENIZERS, Tokenizer
from fastw2v.word_table import WordTable

# Characters that stress the rules: case, tags, apostrophes, underscores, non-ASCII letters and digits, the two
# code points lowercased by Python (İ, Σ), one whose lowercase is longer in UTF-8 (Ⱥ), Unicode spaces, a
# combining mark, an emoji, and line ends inside a document.
TRICKY = list("aAzZ09'<>_ \t-.,!éÉßΣσςİiⱥȺ中１٣\u2028\xa0\u0307\u200b😀\n\r")
texts = st.lists(
    st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters(exclude_categories=["Cs"])), max_size=60),
    min_size=1,
    max_size=12,
)


def compiled_tokens(docs_bytes: list[bytes], tokenizer: str, errors: str = "strict", threads: int = 2):
    data = np.frombuffer(b"".join(docs_bytes) or b"\0", dtype=np.uint8)
    ends = np.cumsum([len(d) for d in docs_bytes]).astype(np.int64)
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    tokens = Tokenizer(tokenizer, errors, threads=threads).tokenize(data, starts, ends)
    words = [
        tokens.tok_bytes[o : o + k].tobytes().decode("utf-8")
        for g, n in zip(tokens.group_first, tokens.group_n)
        for o, k in zip(tokens.tok_off[g : g + n], tokens.tok_len[g : g + n])
    ]
    per_doc = np.split(np.array(words, dtype=object), np.cumsum(tokens.doc_tokens)[:-1])
    return [list(d) for d in per_doc], tokens


@pytest.mark.parametrize("tokenizer", ["simple", "whitespace"])
@given(docs=texts)
def test_tokens_equal_the_python_tokenizers(tokenizer, docs):
    got, _ = compiled_tokens([d.encode() for d in docs], tokenizer)
    assert got == [TOKENIZERS[tokenizer](d) for d in docs]


@pytest.mark.parametrize("tokenizer", ["simple", "whitespace"])
@pytest.mark.parametrize("errors", ["replace", "skip"])
@given(
    raw=st.lists(
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" "))
        | st.sampled_from(
            [
                b"caf\xc3\xa9",
                b"ab\xffcd",
                b"\xe2\x82a",
                b"x\xed\xa0\x80y",
                b"\xf0\x9f\x98",
                b"don\xff't",
                b"\xce\xa3\xff",
            ]
        ),
        min_size=1,
        max_size=8,
    )
)
@example(raw=[b"<\x80>"])
@example(raw=[b"good movie <b\x80r> here", b"<\xe2\x82>x<\xf0\x9f>"])
def test_bytes_that_are_not_utf8_are_decoded_as_python_does(tokenizer, errors, raw):
    handler = {"replace": "replace", "skip": "ignore"}[errors]
    got, tokens = compiled_tokens(raw, tokenizer, errors)
    assert got == [TOKENIZERS[tokenizer](d.decode("utf-8", handler)) for d in raw]
    bad = [0]

    def count(e):
        bad[0] += e.end - e.start
        return "", e.end

    import codecs

    codecs.register_error("test-count", count)
    for d in raw:
        d.decode("utf-8", "test-count")
    assert tokens.bad == bad[0]


@pytest.mark.parametrize("tokenizer", ["simple", "whitespace"])
@pytest.mark.parametrize(
    "doc, bad, first_bad",
    [
        (b"good movie <b\x80r> here", 1, 13),  # inside a tag the simple tokenizer removes
        (b"<\x80>", 1, 1),
        (b"a <br \xe2\x82/> b", 2, 6),  # a sequence cut short by the tag's end: one error of 2 bytes
        (b"a <\xff", 1, 3),  # no '>': not a tag
        (b"\xff <x\xfe> y", 2, 0),
    ],
)
def test_a_byte_that_is_not_utf8_counts_wherever_it_is(tokenizer, doc, bad, first_bad):
    """Strict mode stops at the first such byte, inside a tag too; replace and skip count them as Python's decoder
    does, and give the Python tokenizer's tokens of the decoded text."""
    _, strict = compiled_tokens([doc], tokenizer, "strict")
    assert strict.first_bad == first_bad and strict.bad >= 1
    for errors, handler in (("replace", "replace"), ("skip", "ignore")):
        got, tokens = compiled_tokens([doc], tokenizer, errors)
        assert got == [TOKENIZERS[tokenizer](doc.decode("utf-8", handler))]
        assert tokens.bad == bad and tokens.first_bad == first_bad


def test_a_bad_byte_inside_a_tag_is_an_error_in_strict_mode_and_counted_otherwise(tmp_path, capsys):
    """Both passes, end to end: the strict error names the line, replace and skip say how many bytes they changed,
    with the tag removed as Python removes it."""
    path = tmp_path / "tagged.txt"
    path.write_bytes(b"good movie here\ngood movie <b\x80r> here\n")
    with pytest.raises(fastw2v.UserError, match="line 2 is not UTF-8"):
        fastw2v.encode(fastw2v.from_files(str(path)), min_count=1, cache_dir=None)
    for errors, what in (("replace", "replaced by U+FFFD"), ("skip", "dropped")):
        corpus = fastw2v.encode(fastw2v.from_files(str(path), encoding_errors=errors), min_count=1, cache_dir=None)
        assert corpus.vocab.words == ["good", "here", "movie"] and corpus.n_tokens == 6
        assert f"1 byte(s) that are not UTF-8 {what}" in capsys.readouterr().err


def test_strict_stops_at_the_first_bad_byte():
    _, tokens = compiled_tokens([b"fine text", b"so far \xff then"], "simple")
    assert tokens.first_bad == len(b"fine text") + len(b"so far ")
    _, tokens = compiled_tokens([b"fine text", "caf\u00e9".encode()], "simple")
    assert tokens.first_bad == -1 and tokens.bad == 0


def test_word_table_counts_and_maps():
    docs = ["the cat sat on the mat", "The CAT", "", "ünïcode the"]
    got, tokens = compiled_tokens([d.encode() for d in docs], "simple")
    table = WordTable(words=2)  # grows several times
    table.count(tokens)
    words, counts, index = table.words()
    assert dict(zip(words, counts.tolist())) == collections.Counter(w for d in got for w in d)
    word_id = np.full(len(table), -1, dtype=np.int32)
    keep = {"the": 0, "cat": 1}
    for w, i in zip(words, index):
        word_id[i] = keep.get(w, -1)
    doc_kept, ids = table.map(tokens, word_id, np.empty(64, dtype=np.int32))
    assert doc_kept.tolist() == [3, 2, 0, 1] and ids.tolist() == [0, 1, 0, 0, 1, 0]


def test_pruning_drops_the_rarest_words_as_word2vec_does():
    """limit=3: 'a a b c' fills the table (a:2, b:1, c:1); 'd' finds it full: words seen <= 1 time go (b, c),
    min_reduce becomes 2, then d is counted; 'e' fits; 'f' finds it full again: words seen <= 2 times go (d, e,
    and a with its 2), so the table then holds f only. This is word2vec.c's ReduceVocab."""
    _, tokens = compiled_tokens([b"a a b c d e f f"], "simple")
    table = WordTable(limit=3, words=2)
    table.count(tokens)
    words, counts, _ = table.words()
    assert dict(zip(words, counts.tolist())) == {"f": 2}
    assert table.min_reduce == 3 and table.pruned == 5


def gensim_scan(docs: list[list[str]], limit: int) -> dict[str, int]:
    """gensim 4's _scan_vocab with max_vocab_size=limit, written out: after each sentence, when the table holds
    more than limit words, those seen fewer than min_reduce times go (utils.prune_vocab), and min_reduce rises."""
    vocab, min_reduce = {}, 1
    for doc in docs:
        for w in doc:
            vocab[w] = vocab.get(w, 0) + 1
        if len(vocab) > limit:
            vocab = {w: c for w, c in vocab.items() if c >= min_reduce}
            min_reduce += 1
    return vocab


def test_gensim_pruning_looks_at_the_table_after_each_document():
    """gensim's test_prune_vocab, limit=2: after 'system eps' the table holds 3 words, and the first pruning drops
    none (min_reduce 1); after 'graph system' eps (1 < 2) goes; after the last sentence survey (2 < 3) goes. The
    words kept are system 4, graph 3, minors 3 (word2vec.c's rule, by word, keeps minors 3 and survey 2)."""
    docs = [
        ["graph", "system"],
        ["graph", "system"],
        ["system", "eps"],
        ["graph", "system"],
        ["minors", "survey", "minors", "survey", "minors"],
    ]
    _, tokens = compiled_tokens([" ".join(d).encode() for d in docs], "split")
    table = WordTable(limit=2, words=2, gensim=True)
    table.count(tokens)
    words, counts, _ = table.words()
    assert dict(zip(words, counts.tolist())) == {"system": 4, "graph": 3, "minors": 3} == gensim_scan(docs, 2)
    assert table.min_reduce == 4 and table.pruned == 2 and table.dropped_below == 3


@given(
    docs=st.lists(st.lists(st.sampled_from([f"w{i}" for i in range(12)] + ["a"] * 6), max_size=7), max_size=40),
    limit=st.integers(1, 8),
    block=st.integers(1, 5),
)
def test_gensim_pruning_keeps_what_gensims_scan_keeps(docs, limit, block):
    """Any documents, any limit, counted a few documents a block (several blocks, empty documents too): the table
    holds gensim's words with gensim's counts."""
    table = WordTable(limit=limit, words=2, gensim=True)
    for i in range(0, len(docs), block):
        _, tokens = compiled_tokens([" ".join(d).encode() for d in docs[i : i + block]], "split")
        table.count(tokens)
    words, counts, _ = table.words(0)
    assert dict(zip(words, counts.tolist())) == gensim_scan(docs, limit)


def test_gensim_pruning_across_the_tokenizers_thread_groups():
    """A block large enough to be tokenized in groups (one per thread), whose token numbers leave gaps between
    groups: the documents are still counted in order, as gensim's scan counts them."""
    rng = np.random.default_rng(0)
    p = 1 / np.arange(1, 401)
    docs = [[f"w{i}" for i in rng.choice(400, size=rng.integers(0, 12), p=p / p.sum())] for _ in range(3000)]
    _, tokens = compiled_tokens([" ".join(d).encode() + b"\n" for d in docs], "split", threads=4)
    assert tokens.group_first.shape[0] == 4
    table = WordTable(limit=50, gensim=True)
    table.count(tokens)
    words, counts, _ = table.words(0)
    assert dict(zip(words, counts.tolist())) == gensim_scan(docs, 50) and table.pruned > 0


@given(
    text=st.text(alphabet=st.sampled_from(list("ab \r\n\té")), max_size=200),
    block=st.integers(min_value=8, max_value=64),
)
def test_txt_blocks_are_the_lines_python_reads(text, block):
    raw = text.encode()
    lines = [line.rstrip("\r\n") for line in io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")]
    docs, pending = [], None
    for b in line_blocks(io.BytesIO(raw), "x.txt", "", block_bytes=block):
        pieces = [b.data[s:e].tobytes().decode() for s, e in zip(b.starts, b.ends)]
        if pending is not None:
            pieces[0] = pending + pieces[0]
        pending = pieces.pop() if b.continues else None
        docs.extend(pieces)
    assert pending is None
    # a line longer than a block is cut after a space, so its tokens are unchanged
    assert [d.split() for d in docs] == [line.split() for line in lines]
    assert len(docs) == len(lines)


def test_a_long_document_is_cut_at_spaces_into_pieces():
    doc = " ".join(f"w{i}" for i in range(1000)).encode()
    data = np.frombuffer(doc, dtype=np.uint8)
    blocks = list(split_blocks(data, np.array([0]), np.array([len(doc)]), max_bytes=100))
    assert len(blocks) > 40 and all(b.ends[0] - b.starts[0] <= 100 for b in blocks)
    assert [b.continues for b in blocks] == [True] * (len(blocks) - 1) + [False]
    joined = b"".join(data[b.starts[0] : b.ends[0]].tobytes() for b in blocks)
    assert joined == doc


@pytest.mark.parametrize("block", [64, 67, 71, 80])
def test_a_long_line_is_cut_outside_its_tags(tmp_path, block):
    """A line longer than a block is tokenized piece by piece: no piece ends inside a tag, whose '>' would then be
    in the next piece (the simple tokenizer would read the tag's words)."""
    line = " ".join(f"w{i % 7} <br /> x<a href='y z'>y" for i in range(300))
    path = tmp_path / "long.txt"
    path.write_text(line + "\n")
    old = text_blocks.BLOCK_BYTES
    try:
        text_blocks.BLOCK_BYTES = block
        got = fastw2v.encode(fastw2v.from_files(str(path)), min_count=1, cache_dir=None)
    finally:
        text_blocks.BLOCK_BYTES = old
    assert dict(zip(got.vocab.words, got.vocab.counts.tolist())) == collections.Counter(TOKENIZERS["simple"](line))


def test_encode_equals_the_python_pipeline(tmp_path):
    """Files with Unicode, tags and a line longer than a block: the same vocabulary, ids and documents as
    tokenizing each line in Python and counting with a dict."""
    rng = np.random.default_rng(0)
    words = ["The", "the", "café", "CAFÉ", "ΟΔΟΣ", "İz", "don't", "<br />", "a_b", "中文", "x"]
    lines = [" ".join(rng.choice(words, size=rng.integers(0, 30))) for _ in range(300)]
    lines.append(" ".join(rng.choice(words, size=3000)))  # ~15 KB: several blocks
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    old = text_blocks.BLOCK_BYTES
    try:
        text_blocks.BLOCK_BYTES = 4096
        got = fastw2v.encode(fastw2v.from_files(str(path)), min_count=3, cache_dir=None)
    finally:
        text_blocks.BLOCK_BYTES = old
    tokenized = [TOKENIZERS["simple"](line) for line in lines]
    counts = collections.Counter(w for t in tokenized for w in t)
    vocab = fastw2v.Vocab.from_counts(counts, min_count=3)
    assert got.vocab.words == vocab.words and got.vocab.counts.tolist() == vocab.counts.tolist()
    want = [[vocab.index[w] for w in t if w in vocab.index] for t in tokenized]
    assert [d.tolist() for d in got.documents()] == [d for d in want if d]
    assert got.n_documents == len(lines)
