"""tools.long_corpus's parsers on small hand-written inputs (no network, no packages)."""

import gzip
import struct
import zlib

from tools import long_corpus as lc


def _xdr_int(*values):
    return b"".join(struct.pack(">i", v) for v in values)


def _charsxp(s):
    b = s.encode()
    return _xdr_int(0x00040009, len(b)) + b  # CHARSXP, UTF-8 flag


def _strsxp(*strings):
    return _xdr_int(16, len(strings)) + b"".join(_charsxp(s) for s in strings)


def _named_list(items):
    """VECSXP with a names attribute: the pairlist (tag 'names', a STRSXP), then NILVALUE."""
    body = _xdr_int(0x213, len(items)) + b"".join(v for _, v in items)
    names = _xdr_int(0x402) + _xdr_int(1) + _charsxp("names") + _strsxp(*[k for k, _ in items]) + _xdr_int(254)
    return body + names


def _serialized(obj_bytes, version=3):
    head = b"X\n" + _xdr_int(version, 0x040201, 0x030500)
    if version == 3:
        head += _xdr_int(5) + b"UTF-8"
    return head + obj_bytes


def test_r_unserialize_named_list_of_strings():
    data = _serialized(_named_list([("a", _strsxp("one", "two")), ("b", _xdr_int(13, 2, 7, -1))]))
    obj = lc.r_unserialize(data)
    assert obj.names == ["a", "b"]
    assert list(obj[0]) == ["one", "two"] and list(obj[1]) == [7, -1]
    assert list(lc.r_unserialize(_serialized(_strsxp("x", "y"), version=2))) == ["x", "y"]


def test_r_lazyload_reads_variables_from_rdb():
    blobs = [_serialized(_strsxp("EMMA", "", "CHAPTER I")), _serialized(_strsxp("PERSUASION"))]
    packed = [struct.pack(">I", len(b)) + zlib.compress(b) for b in blobs]
    rdb = b"".join(packed)
    offsets = _xdr_int(13, 2, 0, len(packed[0]))
    offsets2 = _xdr_int(13, 2, len(packed[0]), len(packed[1]))
    variables = _named_list([("emma", offsets), ("persuasion", offsets2)])
    index = _named_list([("variables", variables), ("references", _xdr_int(254)), ("compressed", _xdr_int(10, 1, 1))])
    rdx = gzip.compress(_serialized(index))
    books = lc.r_lazyload(rdx, rdb)
    assert {k: list(v) for k, v in books.items()} == {"emma": ["EMMA", "", "CHAPTER I"], "persuasion": ["PERSUASION"]}


def test_novel_chapters_skip_front_matter_and_headings():
    lines = [
        "EMMA",
        "",
        "By Jane Austen",
        "",
        "VOLUME I",
        "",
        "CHAPTER I",
        "",
        "",
        "Emma Woodhouse, handsome, clever,",
        "and rich.",
        "",
        "It was _them_ indeed.",
        "",
        "CHAPTER II",
        "",
        "Mr. Weston was a native",
        "of Highbury.",
        "",
        "FINIS",
        "",
        "Chapter 3",
        "",
        "End.",
    ]
    assert lc.novel_chapters(lines) == [
        ["Emma Woodhouse, handsome, clever, and rich.", "It was them indeed."],
        ["Mr. Weston was a native of Highbury.", "FINIS"],
        ["End."],
    ]


def _sword_module(blocks, verses, size_bytes=2):
    """(bzs, bzv, bzz) for blocks of text and verses (block, offset, size)."""
    bzz, bzs = b"", b""
    for text in blocks:
        raw = text.encode()
        z = zlib.compress(raw)
        bzs += struct.pack("<III", len(bzz), len(z), len(raw))
        bzz += z
    fmt = "<IIH" if size_bytes == 2 else "<III"
    bzv = b"".join(struct.pack(fmt, *v) for v in verses)
    return bzs, bzv, bzz


def test_sword_entries_in_order_linked_once():
    blocks = ['<chapter osisID="Ps.1" sID="Ps.1"/>Blessed is the man. ', "Second block."]
    chapter, verse = len('<chapter osisID="Ps.1" sID="Ps.1"/>'), len("Blessed is the man. ")
    verses = [(0, 0, 0), (0, 0, chapter), (0, chapter, verse), (0, chapter, verse), (1, 0, 13)]
    for size_bytes in (2, 4):
        entries = lc.sword_entries(*_sword_module(blocks, verses, size_bytes), size_bytes=size_bytes)
        assert entries == ['<chapter osisID="Ps.1" sID="Ps.1"/>', "Blessed is the man. ", "Second block."]


def test_osis_markup_to_chapters():
    entries = [
        '<div osisID="Gen" type="book"/><title type="main">Genesis</title><div sID="g1" type="x-p"/>',
        '<chapter n="1" osisID="Gen.1" sID="Gen.1"/> ',
        'In the <w lemma="strong:H7225">beginning</w> God created the heaven and the earth. ',
        (
            'And the earth was <transChange type="added">without</transChange> form.<note placement="foot">Or, '
            "empty</note> "
        ),
        (
            '<div sID="g2" type="x-p"/>\u00b6 And God said, Let there be light &amp; there was light. '
            '<chapter eID="Gen.1"/>'
        ),
        '<chapter n="2" osisID="Gen.2" sID="Gen.2"/> Thus the heavens were finished.',
    ]
    assert lc.sword_chapters(entries) == [
        ["Genesis"],
        [
            "In the beginning God created the heaven and the earth. And the earth was without form.",
            "And God said, Let there be light & there was light.",
        ],
        ["Thus the heavens were finished."],
    ]


INFO = """This is toy.info, produced by makeinfo.

\x1f
File: toy.info,  Node: Top,  Next: Basics,  Up: (dir)

Toy Manual
**********

This manual describes the toy program, which does very little.

* Menu:

* Basics::        The basics.
* Concept Index::

\x1f
File: toy.info,  Node: Basics,  Prev: Top,  Up: Top

1 The Basics
============

The toy program reads its input and writes it back (*note Top::), as
described in *note the other manual: (other)Reading.

     $ toy --verbose < in > out
     (define (f x) (+ x 1))

 -- Function: toy-run input
     Run the toy on INPUT and return what it wrote.

\x1f
File: toy.info,  Node: Concept Index,  Prev: Basics,  Up: Top

Concept Index
*************

* basics:                                Basics.               (line 6)

\x1f
Tag Table:
Node: Top\x7f54
\x1f
End Tag Table
"""


def test_info_nodes_prose_only():
    nodes = lc.info_nodes(INFO)
    assert [n for n, _ in nodes] == ["Top", "Basics", "Concept Index"]
    assert nodes[1][1] == [
        "1 The Basics",
        ("The toy program reads its input and writes it back (Top), as described in the other manual."),
        "Run the toy on INPUT and return what it wrote.",
    ]
    assert lc.info_documents(INFO) == [
        "Toy Manual This manual describes the toy program, which does very little.",
        (
            "1 The Basics The toy program reads its input and writes it back (Top), as described in the other manual. "
            "Run the toy on INPUT and return what it wrote."
        ),
    ]


def test_info_files_in_reading_order(tmp_path):
    for name in ["guile.info-10.gz", "guile.info.gz", "guile.info-2.gz", "guile.info-1.gz", "other.info.gz"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.rsplit("/", 1)[1] for p in lc.info_files(str(tmp_path), "guile")] == [
        "guile.info.gz",
        "guile.info-1.gz",
        "guile.info-2.gz",
        "guile.info-10.gz",
    ]


def test_looks_like_prose():
    assert lc.looks_like_prose("Return the 'car' of PAIR, an error when it is not a pair.")
    assert not lc.looks_like_prose("(define (f x) (+ x 1))")
    assert not lc.looks_like_prose("$ ls -l /usr/share/info | wc -l")
    assert lc.looks_like_prose("6.3.1 Package Pinning") and not lc.looks_like_prose("Examples:")


def test_html_sections_without_code_tables_or_navigation():
    page = """<html><head><title>6.3. The apt-cache Command</title></head><body>
<div id="banner"><a href="x"><span class="text">Download the ebook</span></a></div>
<ul class="docnav top"><li class="previous"><a href="p">Prev</a></li></ul>
<div class="section"><div class="titlepage"><h2 class="title">6.3. The <code>apt-cache</code> Command</h2></div>
<div class="para">The <code class="command">apt-cache</code> command can display
much of the information.</div>
<pre class="screen">$ apt-cache policy</pre>
<table><tr><td>package</td><td>popcon</td></tr></table>
<h3>6.3.1 Policy</h3><p>It shows the pinning priorities.<br/>And more.</p>
<h2>6.4 Next</h2><ul><li>First item,</li><li>second item.</li></ul>
<div class="toc"><a href="a">1. A</a></div></div></body></html>"""
    assert lc.html_sections(page) == [
        [
            "6.3. The apt-cache Command",
            "The apt-cache command can display much of the information.",
            "6.3.1 Policy",
            "It shows the pinning priorities.",
            "And more.",
        ],
        ["6.4 Next", "First item,", "second item."],
    ]
    assert lc.html_sections(page, split_at=("h2", "h3"))[1] == [
        "6.3.1 Policy",
        "It shows the pinning priorities.",
        "And more.",
    ]


def test_chapters_cut_at_paragraphs():
    chapters = [[" ".join(["w"] * 1500)] * 3, ["short chapter."]]
    docs = lc.chapters_to_documents(chapters, max_words=2000)
    assert [len(d.split()) for d in docs] == [1500, 1500, 1500, 2]
    assert set(lc.WEIGHTS) == set(lc.PACKAGES)
