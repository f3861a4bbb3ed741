"""tools.mixed_corpus's parsers on small hand-written inputs (no network, no packages)."""

import gzip
import json

import numpy as np

from tools import mixed_corpus as mc


def test_fortunes_split_on_percent_lines():
    text = (
        "A day for firm decisions!!!!!  Or is it?\n%\nTwo\nlines.\n\t\t-- Someone\n%\n"
        "_\x08b_\x08o_\x08l_\x08d cookie\n%\n"
    )  # overstruck (underlined) letters
    assert mc.parse_fortunes(text) == [
        "A day for firm decisions!!!!! Or is it?",
        "Two lines. -- Someone",
        "bold cookie",
    ]


def test_wordnet_line_gives_words_and_gloss():
    line = (
        "00530354 00 s 03 collected 0 self-possessed 0 poised(a) 0 002 & 00529266 a 0000 + 04903813 n 0204 "
        '| in full control of your faculties; "the witness remained collected"  \n'
    )
    assert mc.wordnet_document(line) == (
        'collected, self-possessed, poised: in full control of your faculties; "the witness remained collected"'
    )
    assert mc.wordnet_document("  1 This software and database is being provided\n") is None  # licence header
    verb = "00597385 31 v 02 master 0 take_control 0 001 @ 00595935 v 0000 01 + 08 00 | have a firm grasp of  \n"
    assert mc.wordnet_document(verb) == "master, take control: have a firm grasp of"


def test_dictd_entries_from_index_offsets():
    data = b'00-database-short\nA test\nApple \\Ap"ple\\, n.\n   A fruit.\n\nPear, n.\n   Another.\n'
    a = data.index(b"Apple")
    p = data.index(b"Pear")

    def b64(n):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        out = ""
        while True:
            out = alphabet[n % 64] + out
            n //= 64
            if not n:
                return out

    index = (
        f"00-database-short\t{b64(0)}\t{b64(a)}\napple\t{b64(a)}\t{b64(p - a)}\n"
        f"apples\t{b64(a)}\t{b64(p - a)}\npear\t{b64(p)}\t{b64(len(data) - p)}\n"
    )
    assert mc.dictd_number("Kj") == 10 * 64 + 35
    entries = mc.dictd_entries(index, data)
    assert [e.split()[0] for e in entries] == ["Apple", "Pear,"]  # database entry out, a shared span once


def test_gcide_entry_cleaned():
    entry = (
        'Abdomen \\Ab*do"men\\, n. [L. abdomen (a word of uncertain\n   etymol.): cf. F. abdomen.]\n'
        "   1. (Anat.) The belly, or that part of the body between the\n      thorax and the pelvis.\n"
        "      [1913 Webster]\n\n   2. (Zool.) The posterior section of the body. --Bailey.\n"
        "      [1913 Webster]\n"
    )
    assert mc.gcide_documents(entry) == [
        "Abdomen: 1. (Anat.) The belly, or that part of the body between the thorax and the pelvis. "
        "2. (Zool.) The posterior section of the body."
    ]
    seer = 'Seer \\Se"er\\ (s[=e]"[~e]r), n.\n   One who sees. --Addison.\n   [1913 Webster]\n'
    assert mc.gcide_documents(seer) == ["Seer: One who sees."]


def test_long_entry_split_at_paragraphs():
    paras = [" ".join(["w"] * 120)] * 5
    docs = mc.chunk_paragraphs(paras, max_words=300, title="Head:")
    assert [len(d.split()) for d in docs] == [241, 241, 121]
    assert all(d.startswith("Head: ") for d in docs)
    assert [len(d.split()) for d in mc.chunk_paragraphs([" ".join(["x"] * 650)], 300)] == [300, 300, 50]


def test_roff_stripped_into_sections():
    page = r""".\" Copyright line
.TH STRTOD 3 2023-02-05 "Linux man-pages 6.03"
.SH NAME
strtod, strtof \- convert ASCII string to floating-point number
.SH SYNOPSIS
.nf
.B #include <stdlib.h>
.fi
.SH DESCRIPTION
The
.BR strtod ()
function converts the \fIinitial\fP portion of the string pointed to by
.I nptr
to \f[B]double\f[R] (\[aq]a\[aq] or \(dqb\(dq).
.PP
A second paragraph.
.EX
int main(void) { return 0; }
.EE
.SH SEE ALSO
.BR atof (3)
"""
    sections = mc.roff_sections(page)
    assert [n for n, _ in sections] == ["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"]
    assert dict(sections)["DESCRIPTION"] == [
        "The strtod() function converts the initial portion of the string pointed to by nptr to double ('a' or \"b\").",
        "A second paragraph.",
    ]
    assert mc.man_documents(page) == [
        "strtod, strtof - convert ASCII string to floating-point number",
        "The strtod() function converts the initial portion of the string pointed to by nptr to double ('a' or "
        '"b"). A second paragraph.',
    ]
    assert mc.man_documents(".so man3/strtod.3\n") == []


def test_package_descriptions_drop_repeated_paragraphs():
    text = (
        "Package: foo\nDescription-md5: 0\nDescription-en: frobnicate things\n Foo frobnicates\n things.\n .\n"
        " Shared paragraph.\n\nPackage: foo-data\nDescription-md5: 1\nDescription-en: frobnicate things (data)\n"
        " Shared paragraph.\n .\n This package holds the data.\n\n"
        "Package: librust-x-dev\nDescription-md5: 2\nDescription-en: Rust crate\n Source code.\n"
    )
    assert mc.description_documents(text) == [
        "frobnicate things. Foo frobnicates things. Shared paragraph.",
        "frobnicate things (data). This package holds the data.",
    ]


def test_budgets_weighted_capped_and_whole_when_small():
    tokens = {"big": 8_000_000, "mid": 6_000_000, "small": 500_000}
    weights = {"big": 3, "mid": 2, "small": 1}
    b = mc.budgets(tokens, 10_000_000, weights, max_share=0.6)  # small whole, the rest 3:2
    assert b["small"] == 500_000 and abs(b["big"] / b["mid"] - 1.5) < 1e-6
    assert abs(sum(b.values()) - 10_000_000) < 10
    b = mc.budgets(tokens, 10_000_000, weights, max_share=0.5)  # big at its cap, mid takes the rest
    assert b["big"] == 5_000_000 and abs(b["mid"] - 4_500_000) < 10
    assert mc.budgets({"a": 5, "b": 6}, 100, {"a": 1, "b": 1}, 0.5) == {"a": 5, "b": 6}
    idx = mc.take(["a", "b", "c", "d"], [5, 5, 5, 5], 10, np.random.default_rng(0))
    assert len(idx) == 2 and idx == sorted(idx)


def test_dictd_data_is_gzip(tmp_path):
    """read_dictd reads a dictzip file as plain gzip."""
    root = tmp_path / "pkg"
    (root / "usr" / "share" / "dictd").mkdir(parents=True)
    data = b"Word\n   A meaning.\n"
    with gzip.open(root / "usr" / "share" / "dictd" / "toy.dict.dz", "wb") as f:
        f.write(data)
    (root / "usr" / "share" / "dictd" / "toy.index").write_text(f"word\tA\t{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[len(data)]}\n")
    assert mc.read_dictd(str(root), "toy") == ["Word\n   A meaning.\n"]
    assert json.loads(json.dumps(mc.WEIGHTS)).keys() == mc.PACKAGES.keys()
