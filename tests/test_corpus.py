"""Text sources -> tokens -> vocabulary -> encoded ids: exact small cases, the cache and bad input."""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import fastw2v
from fastw2v.passes import piece_starts_of
from fastw2v.tokenizers import simple_tokenize, whitespace_tokenize
from fastw2v.vocab import Vocab


def test_simple_tokenizer_strips_tags_keeps_inner_apostrophes():
    text = "I didn't like it.<br /><br />The END, O'Brien's 2nd-best_film!"
    assert simple_tokenize(text) == ["i", "didn't", "like", "it", "the", "end", "o'brien's", "2nd", "best", "film"]


def test_whitespace_tokenizer_is_the_tutorials():
    assert whitespace_tokenize("A b<br />C  d") == ["a", "b<br", "/>c", "d"]


def test_vocab_order_is_count_then_word_and_min_count_applies():
    v = Vocab.from_counts({"b": 3, "a": 3, "c": 5, "rare": 1}, min_count=2)
    assert v.words == ["c", "a", "b"] and v.counts.tolist() == [5, 3, 3]
    assert Vocab.from_counts({"b": 3, "a": 3, "c": 5}, min_count=1, max_vocab_size=2).words == ["c", "a"]


def test_encode_drops_oov_before_windowing_and_keeps_document_boundaries():
    texts = ["x a b x", "b b rare", "", "a"]
    c = fastw2v.encode(fastw2v.from_texts(texts), min_count=2, cache_dir=None)
    # counts: b 3, a 2, x 2, rare 1 -> vocab b, a, x (ties by word)
    assert c.vocab.words == ["b", "a", "x"]
    words = [[c.vocab.words[i] for i in doc] for doc in c.documents()]
    assert words == [["x", "a", "b", "x"], ["b", "b"], ["a"]]  # 'rare' dropped, the empty doc has no piece
    assert c.n_tokens == 7 and c.n_documents == 4 and c.vocab.total == 7


def test_long_documents_are_cut_into_pieces():
    assert piece_starts_of(np.array([5, 0, 12]), 5).tolist() == [0, 5, 10, 15, 17]
    c = fastw2v.encode(fastw2v.from_texts([" ".join(["w"] * 23)]), min_count=1, max_piece_length=10, cache_dir=None)
    assert c.starts.tolist() == [0, 10, 20, 23]


def test_chunks_hold_whole_pieces():
    c = fastw2v.encode(fastw2v.from_texts(["a b c"] * 10 + ["a " * 40]), min_count=1, cache_dir=None)
    bounds = c.chunk_bounds(7)
    sizes = np.diff(c.starts[bounds])
    assert bounds[0] == 0 and bounds[-1] == len(c.starts) - 1
    assert (sizes[:-1] <= 7).all() and sizes[-1] == 40  # a piece longer than a chunk is a chunk of its own


def test_cache_is_reused_and_keyed_by_settings(tmp_path):
    src = fastw2v.from_texts(["one two two three three three"] * 3)
    a = fastw2v.encode(src, min_count=1, cache_dir=str(tmp_path))
    b = fastw2v.encode(src, min_count=1, cache_dir=str(tmp_path))
    c = fastw2v.encode(src, min_count=4, cache_dir=str(tmp_path))
    assert a.path == b.path != c.path
    assert sorted(os.listdir(tmp_path)) == sorted([".locks", os.path.basename(a.path), os.path.basename(c.path)])
    np.testing.assert_array_equal(a.ids, b.ids)
    assert c.vocab.words == ["three", "two"]


def test_the_cache_keys_a_local_source_by_its_resolved_path(tmp_path, monkeypatch):
    """Two spellings of one folder or file are one entry; two files of one name in two folders are two, and the
    cache's list tells them apart by their resolved paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fastw2v.cache import cache_entries

    (tmp_path / "ds" / "data").mkdir(parents=True)
    pq.write_table(pa.table({"text": ["a b", "b c"]}), tmp_path / "ds" / "data" / "train-00000-of-00001.parquet")
    cache = str(tmp_path / "cache")
    monkeypatch.chdir(tmp_path)
    spellings = [str(tmp_path / "ds"), "ds", "./ds/", os.path.join("ds", "data", "..")]
    paths = {fastw2v.encode(fastw2v.from_dataset(p), min_count=1, cache_dir=cache).path for p in spellings}
    assert len(paths) == 1
    assert [e["description"] for e in cache_entries(cache)] == [os.path.realpath(tmp_path / "ds")]
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "small.txt").write_text(f"{sub} words here\n")
    for spelling in ("a/small.txt", str(tmp_path / "a" / "small.txt"), "b/./small.txt"):
        corpus = fastw2v.encode(fastw2v.from_files(spelling), min_count=1, cache_dir=cache)
        assert corpus.description == spelling  # a run names the text as its user did
    listed = sorted(e["description"] for e in cache_entries(cache))
    assert len(listed) == 3 and listed[:2] == sorted(
        os.path.realpath(tmp_path / sub / "small.txt") for sub in ("a", "b")
    )


CACHE_HIT = """
import sys
import fastw2v
corpus = fastw2v.encode(fastw2v.from_dataset(sys.argv[1]), min_count=1, cache_dir=sys.argv[2])
print(corpus.n_tokens, "datasets" in sys.modules, "torch" in sys.modules)
"""


def test_a_cache_hit_on_a_dataset_folder_loads_neither_datasets_nor_torch(tmp_path):
    """The second run on a folder finds its entry by the folder's files: it starts training without importing
    ``datasets`` (seconds) to open the folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "ds" / "data").mkdir(parents=True)
    pq.write_table(pa.table({"text": ["a b", "b c"]}), tmp_path / "ds" / "data" / "train-00000-of-00001.parquet")
    cmd = [sys.executable, "-c", CACHE_HIT, str(tmp_path / "ds"), str(tmp_path / "cache")]
    first, second = (subprocess.run(cmd, capture_output=True, text=True, check=True).stdout for _ in range(2))
    assert first.split() == ["4", "True", "False"] and second.split() == ["4", "False", "False"]


def test_encode_seconds_leave_out_compiling(monkeypatch):
    """The summary's encoding rate agrees with the passes' lines: numba's compile time is apart. On a fake clock that
    moves 100 while the kernels compile and 7 outside: the encoding counts the 7, the compile tally the 100."""
    from fastw2v import passes, progress

    warm_up, clock = passes.warm_up, [1000.0]

    def slow_warm_up(*args):
        with progress.compiling("the test's kernels"):
            clock[0] += 100.0
        clock[0] += 7.0
        warm_up(*args)

    monkeypatch.setattr(passes, "warm_up", slow_warm_up)
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    before = progress.compile_seconds()
    corpus = fastw2v.encode(fastw2v.from_texts(["a b c"] * 10), min_count=1, cache_dir=None)
    assert (corpus.encode_seconds, progress.compile_seconds() - before) == (7.0, 100.0)


def write_files(tmp_path, texts):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "c.txt").write_text("\n".join(texts) + "\n")
    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"text": t, "label": 1}) + "\n" for t in texts))
    (tmp_path / "c.csv").write_text("text,label\n" + "".join(f'"{t}",0\n' for t in texts))
    pq.write_table(pa.table({"text": texts}), tmp_path / "c.parquet")


@pytest.mark.parametrize("ext", ["txt", "jsonl", "csv", "parquet"])
def test_every_file_format_gives_the_same_corpus(tmp_path, ext):
    texts = ["the cat sat", "on the mat", "the end"]
    write_files(tmp_path, texts)
    c = fastw2v.encode(fastw2v.from_files(str(tmp_path / f"c.{ext}")), min_count=1, cache_dir=None)
    ref = fastw2v.encode(fastw2v.from_texts(texts), min_count=1, cache_dir=None)
    assert c.vocab.words == ref.vocab.words
    np.testing.assert_array_equal(np.asarray(c.ids), np.asarray(ref.ids))
    np.testing.assert_array_equal(c.starts, ref.starts)


def test_a_glob_reads_every_matching_file_in_order(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "b.txt").write_text("beta\nbeta\n")
    c = fastw2v.encode(fastw2v.from_files(str(tmp_path / "*.txt")), min_count=1, cache_dir=None)
    assert c.n_documents == 3 and c.vocab.words == ["beta", "alpha"]


def test_dataset_folder_like_the_hub(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data").mkdir()
    pq.write_table(
        pa.table({"text": ["a b", "b c"], "label": [0, 1]}), tmp_path / "data" / "train-00000-of-00001.parquet"
    )
    pq.write_table(pa.table({"text": ["c d"], "label": [0]}), tmp_path / "data" / "test-00000-of-00001.parquet")
    c = fastw2v.encode(fastw2v.from_dataset(str(tmp_path)), min_count=1, cache_dir=None)
    assert c.n_documents == 3 and c.n_tokens == 6
    for options, message in [
        ({"text_column": "review"}, "no column 'review': choose the column with text_column: one of text, label"),
        ({"splits": ["dev"]}, "no split 'dev'"),
        ({"text_column": "label"}, "'label' of split 'train' holds int64, not text.*text columns: text"),
    ]:
        source = fastw2v.from_dataset(str(tmp_path), **options)  # a folder is opened when it is read
        with pytest.raises(fastw2v.UserError, match=message):
            fastw2v.encode(source, min_count=1, cache_dir=None)


def test_a_streamed_dataset_gives_the_same_corpus(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data").mkdir()
    texts = [f"Doc {i}: the <b>cat</b> and the dog {i % 7}" for i in range(3000)] + [None, ""]
    pq.write_table(pa.table({"text": texts[:2000]}), tmp_path / "data" / "train-00000-of-00001.parquet")
    pq.write_table(pa.table({"text": texts[2000:]}), tmp_path / "data" / "test-00000-of-00001.parquet")
    whole = fastw2v.encode(fastw2v.from_dataset(str(tmp_path)), min_count=2, cache_dir=None)
    streamed = fastw2v.encode(fastw2v.from_dataset(str(tmp_path), streaming=True), min_count=2, cache_dir=None)
    assert streamed.vocab.words == whole.vocab.words and whole.n_documents == streamed.n_documents == 3002
    assert np.array_equal(np.asarray(streamed.ids), np.asarray(whole.ids))
    assert np.array_equal(streamed.starts, whole.starts)
    with pytest.raises(fastw2v.UserError, match="no column 'review'.*text_column"):
        fastw2v.from_dataset(str(tmp_path), text_column="review", streaming=True)
    with pytest.raises(fastw2v.UserError, match="streaming=True reads a dataset .*: drop it"):
        fastw2v.open_source(data=str(tmp_path / "x.txt"), streaming=True)


# -- bad input: one line, naming the fix --------------------------------------------------------------


def one_line(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_empty_corpus(tmp_path):
    """The fix fits the source: a .txt file has no column to check, a text of Python strings no path."""
    (tmp_path / "empty.txt").write_text("\n\n")
    (tmp_path / "c.jsonl").write_text('{"text": "", "body": "a b"}\n')
    for source, fix in [
        (fastw2v.from_files(str(tmp_path / "empty.txt")), "check the path$"),
        (fastw2v.from_files(str(tmp_path / "c.jsonl")), "check the path, and that text_column='text' is the column"),
        (fastw2v.from_texts([]), "give it documents that hold words$"),
    ]:
        with pytest.raises(fastw2v.UserError, match="is empty \\(no tokens\\): " + fix) as e:
            fastw2v.encode(source, cache_dir=None)
        one_line(e)


def test_messages_name_settings_as_the_entry_point_writes_them(tmp_path):
    """From Python a fix names the keyword argument; under the fastw2v command, the flag."""
    from fastw2v.errors import on_command_line

    (tmp_path / "c.txt").write_text("a b\n")
    (tmp_path / "bad.txt").write_bytes(b"a \xff b\n")
    cases = [
        (
            lambda: fastw2v.from_files(str(tmp_path / "c.txt"), text_column="x"),
            "drop text_column='x'",
            "drop --text-column x",
        ),
        (
            lambda: fastw2v.encode(fastw2v.from_texts(["a b"]), min_count=5, cache_dir=None),
            "lower min_count",
            "lower --min-count",
        ),
        (
            lambda: fastw2v.encode(fastw2v.from_files(str(tmp_path / "bad.txt")), cache_dir=None),
            "pass encoding_errors='replace' (or skip)",
            "pass --encoding-errors replace (or skip)",
        ),
        (
            lambda: fastw2v.open_source(data="x.txt", dataset="y"),
            "either dataset or data",
            "either --dataset or --data",
        ),
        (lambda: fastw2v.from_files(str(tmp_path / "no.txt")), "path given as data", "path given as --data"),
    ]
    for call, keyword, flag in cases:
        with pytest.raises(fastw2v.UserError) as e:
            call()
        assert keyword in str(e.value)
        with on_command_line(), pytest.raises(fastw2v.UserError) as e:
            call()
        assert flag in str(e.value)


def test_every_word_under_min_count():
    with pytest.raises(fastw2v.UserError, match="at least 5 times.*: lower min_count or") as e:
        fastw2v.encode(fastw2v.from_texts(["a b c", "a"]), min_count=5, cache_dir=None)
    one_line(e)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(fastw2v.UserError, match="no such file"):
        fastw2v.from_files(str(tmp_path / "nope.txt"))
    with pytest.raises(fastw2v.UserError, match="no such file"):
        fastw2v.from_files(str(tmp_path / "*.txt"))
    (tmp_path / "x.docx").write_text("hi")
    with pytest.raises(fastw2v.UserError, match=r"\.txt, \.jsonl, \.csv or \.parquet"):
        fastw2v.from_files(str(tmp_path / "x.docx"))


def test_unreadable_files(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"ok line\n\xff\xfe\xfa broken\n")
    with pytest.raises(fastw2v.UserError, match="not UTF-8") as e:
        fastw2v.encode(fastw2v.from_files(str(tmp_path / "bad.txt")), cache_dir=None)
    one_line(e)
    (tmp_path / "bad.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(fastw2v.UserError, match="cannot read") as e:
        fastw2v.encode(fastw2v.from_files(str(tmp_path / "bad.parquet")), cache_dir=None)
    one_line(e)


def test_missing_text_column_in_files(tmp_path):
    (tmp_path / "c.jsonl").write_text('{"body": "a b"}\n')
    with pytest.raises(fastw2v.UserError, match="no column 'text'.*body") as e:
        fastw2v.encode(fastw2v.from_files(str(tmp_path / "c.jsonl")), min_count=1, cache_dir=None)
    one_line(e)


def test_a_text_column_of_numbers_in_files(tmp_path):
    (tmp_path / "c.csv").write_text("id,text\n1,a b\n2,b c\n")
    with pytest.raises(fastw2v.UserError, match="column 'id' of .* holds int values such as 1, not text") as e:
        fastw2v.encode(fastw2v.from_files(str(tmp_path / "c.csv"), text_column="id"), min_count=1, cache_dir=None)
    one_line(e)


def test_a_path_given_as_the_wrong_kind_says_which_flag_takes_it(tmp_path):
    (tmp_path / "c.txt").write_text("a b\n")
    with pytest.raises(fastw2v.UserError, match="is a file, not a dataset folder: pass it as data"):
        fastw2v.from_dataset(str(tmp_path / "c.txt"))
    with pytest.raises(fastw2v.UserError, match="no such dataset folder"):
        fastw2v.from_dataset(str(tmp_path / "nothing-here"))
    with pytest.raises(fastw2v.UserError, match="is a folder: pass the files in it, e.g. '.*\\*.txt'"):
        fastw2v.from_files(str(tmp_path))
    with pytest.raises(fastw2v.UserError, match="splits picks splits of a dataset; files have none: drop it"):
        fastw2v.open_source(data=str(tmp_path / "c.txt"), splits=["train"])
    with pytest.raises(fastw2v.UserError, match="a .txt file has no columns .*: drop text_column='review'"):
        fastw2v.from_files(str(tmp_path / "c.txt"), text_column="review")


def test_unreachable_hub_names_the_way_out(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(fastw2v.UserError, match="without network pass dataset the path of a local copy.*or data") as e:
        fastw2v.from_dataset("no-such-user/no-such-dataset-xyz")
    one_line(e)


def _same_corpus(a, b):
    assert np.array_equal(np.asarray(a.ids), np.asarray(b.ids)) and np.array_equal(a.starts, b.starts)
    assert a.vocab.words == b.vocab.words and np.array_equal(a.vocab.counts, b.vocab.counts)
    assert a.n_documents == b.n_documents and a.description == b.description


def test_save_then_load_gives_the_same_corpus(tmp_path, zipf_corpus):
    zipf_corpus.save(str(tmp_path / "enc"))
    again = fastw2v.EncodedCorpus.load(str(tmp_path / "enc"))
    _same_corpus(zipf_corpus, again)
    assert again.ids.dtype == np.int32 and isinstance(again.ids, np.memmap)


def test_load_a_folder_that_is_not_an_encoded_corpus(tmp_path):
    with pytest.raises(fastw2v.UserError, match="not an encoded corpus"):
        fastw2v.EncodedCorpus.load(str(tmp_path))


def test_carry_pack_unpack_round_trip(tmp_path, zipf_corpus):
    """What benchmarks/gpu_session.sh trains on is exactly the corpus packed here (uint16 ids when V <= 2^16)."""
    from tools import carry

    carry.pack(zipf_corpus, str(tmp_path / "c.npz"))
    assert np.load(tmp_path / "c.npz")["ids"].dtype == np.uint16
    _same_corpus(zipf_corpus, carry.unpack(str(tmp_path / "c.npz")))
    carry.main(["unpack", str(tmp_path / "c.npz"), str(tmp_path / "enc")])
    _same_corpus(zipf_corpus, fastw2v.EncodedCorpus.load(str(tmp_path / "enc")))


def _damage(folder, how):
    """One way an encoded folder gets damaged: a copy cut short, a file lost, a file edited by hand."""
    if how == "ids cut short":
        with open(folder / "ids.int32", "r+b") as f:
            f.truncate(os.path.getsize(folder / "ids.int32") - 8)
    elif how == "no starts.npy":
        os.remove(folder / "starts.npy")
    elif how == "meta.json not JSON":
        (folder / "meta.json").write_text("{oops")
    elif how == "meta.json without n_documents":
        meta = json.loads((folder / "meta.json").read_text())
        del meta["n_documents"]
        (folder / "meta.json").write_text(json.dumps(meta))
    elif how == "vocab.tsv edited":
        (folder / "vocab.tsv").write_text("a b c\n")
    elif how == "vocab.tsv cut short":
        lines = (folder / "vocab.tsv").read_text().splitlines(keepends=True)
        (folder / "vocab.tsv").write_text("".join(lines[:-1]))
    elif how == "starts past the end":
        starts = np.load(folder / "starts.npy")
        starts[-1] += 5
        np.save(folder / "starts.npy", starts)


DAMAGES = [
    "ids cut short",
    "no starts.npy",
    "meta.json not JSON",
    "meta.json without n_documents",
    "vocab.tsv edited",
    "vocab.tsv cut short",
    "starts past the end",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_encoded_folder_is_a_one_line_error(tmp_path, zipf_corpus, how):
    zipf_corpus.save(str(tmp_path / "enc"))
    _damage(tmp_path / "enc", how)
    with pytest.raises(fastw2v.UserError, match="is damaged .*: delete the folder and encode the text again") as e:
        fastw2v.EncodedCorpus.load(str(tmp_path / "enc"))
    one_line(e)


@pytest.mark.parametrize("how", ["ids cut short", "meta.json without n_documents", "vocab.tsv cut short"])
def test_a_damaged_cache_entry_is_encoded_again(tmp_path, how, capsys):
    source = fastw2v.from_texts(["a b c a", "b c d", "a a d c"], name="tiny")
    first = fastw2v.encode(source, min_count=1, cache_dir=str(tmp_path))
    ids, starts, words = np.array(first.ids), first.starts.copy(), list(first.vocab.words)
    del first  # its memmap would see the damage
    (entry,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name != ".locks"]
    _damage(entry, how)
    again = fastw2v.encode(source, min_count=1, cache_dir=str(tmp_path))
    assert "is damaged" in capsys.readouterr().err
    assert np.array_equal(np.asarray(again.ids), ids) and np.array_equal(again.starts, starts)
    assert again.vocab.words == words


def test_token_ids_beyond_the_vocabulary_stop_training_with_a_clear_error(tmp_path, zipf_corpus):
    """vocab.tsv cut to 10 words whose counts still add up to the token count (so the folder loads): the ids
    of the other words would index past the rows."""
    zipf_corpus.save(str(tmp_path / "enc"))
    counts = zipf_corpus.vocab.counts.copy()[:10]
    counts[-1] += zipf_corpus.n_tokens - counts.sum()
    words = zipf_corpus.vocab.words[:10]
    (tmp_path / "enc" / "vocab.tsv").write_text("".join(f"{w}\t{c}\n" for w, c in zip(words, counts)))
    for backend in ("hogwild", "torch"):
        with pytest.raises(fastw2v.UserError, match="is damaged \\(token ids up to .* a vocabulary of 10 words\\)"):
            fastw2v.train(dataset=str(tmp_path / "enc"), backend=backend, device="cpu", epochs=1, progress=False)


def _flip_one_id(folder):
    """A damage that keeps every size and every id valid: one id becomes another word's."""
    ids = np.memmap(folder / "ids.int32", dtype=np.int32, mode="r+")
    ids[len(ids) // 2] = 1 if ids[len(ids) // 2] != 1 else 2
    ids.flush()
    del ids


def test_a_flipped_id_is_found_by_the_checksum_before_training(tmp_path, zipf_corpus):
    zipf_corpus.save(str(tmp_path / "enc"))
    _flip_one_id(tmp_path / "enc")
    for backend in ("hogwild", "torch"):
        with pytest.raises(
            fastw2v.UserError, match="is damaged \\(block 0 of ids.int32 fails its checksum\\): delete"
        ) as e:
            fastw2v.train(dataset=str(tmp_path / "enc"), backend=backend, device="cpu", epochs=1, progress=False)
        one_line(e)


def test_a_flipped_id_in_a_cache_entry_removes_it_and_the_next_run_encodes_again(tmp_path):
    source = fastw2v.from_texts([f"w{i % 7} w{i % 3} w{i % 5}" for i in range(200)], name="tiny")
    first = fastw2v.encode(source, min_count=1, cache_dir=str(tmp_path))
    ids, entry = np.array(first.ids), first.path
    del first
    _flip_one_id(pytest.importorskip("pathlib").Path(entry))
    damaged = fastw2v.encode(source, min_count=1, cache_dir=str(tmp_path))  # loads: the check is lazy
    with pytest.raises(
        fastw2v.UserError, match="cached encoded corpus .* is damaged .* and was removed: run again"
    ) as e:
        damaged.chunk(damaged.chunk_bounds(1 << 20), 0)
    one_line(e)
    assert not os.path.exists(entry)
    again = fastw2v.encode(source, min_count=1, cache_dir=str(tmp_path))
    assert np.array_equal(np.asarray(again.ids), ids)


def test_an_unusable_cache_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(fastw2v.UserError, match="cannot use .*a-file' as the cache folder .*pass cache_dir a") as e:
        fastw2v.encode(fastw2v.from_texts(["a b"]), min_count=1, cache_dir=str(tmp_path / "a-file"))
    one_line(e)


def test_an_encoded_folder_takes_no_text_options(tmp_path, zipf_corpus):
    zipf_corpus.save(str(tmp_path / "enc"))
    for option in ({"data": "x.txt"}, {"splits": ["test"]}, {"text_column": "review"}):
        with pytest.raises(fastw2v.UserError, match=f"is an encoded corpus .*: drop {next(iter(option))}$"):
            fastw2v.train(dataset=str(tmp_path / "enc"), progress=False, **option)


def test_an_encoded_folder_without_tokens_trains_nothing_and_says_so(tmp_path):
    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "ids.int32").write_bytes(b"")
    np.save(tmp_path / "enc" / "starts.npy", np.zeros(1, dtype=np.int64))
    (tmp_path / "enc" / "vocab.tsv").write_text("a\t0\n")
    (tmp_path / "enc" / "meta.json").write_text(json.dumps({"format": 1, "n_documents": 0, "n_tokens": 0}))
    for backend in ("hogwild", "torch"):
        with pytest.raises(fastw2v.UserError, match="no \\(center, context\\) pair"):
            fastw2v.train(dataset=str(tmp_path / "enc"), backend=backend, device="cpu", epochs=1, progress=False)


def test_paths_may_be_path_objects(tmp_path):
    (tmp_path / "c.txt").write_text("a b c\n")
    assert fastw2v.encode(fastw2v.open_source(data=tmp_path / "c.txt"), min_count=1, cache_dir=None).n_tokens == 3


def _write(path, data: bytes):
    import bz2
    import gzip
    import lzma

    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(os.path.splitext(str(path))[1], open)
    with opener(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("suffix", [".txt.gz", ".txt.bz2", ".txt.xz", ".jsonl.gz", ".jsonl.xz"])
def test_compressed_files_give_the_plain_files_corpus(tmp_path, suffix):
    texts = [f"doc {i} the cat sat on the mat number {i % 7}" for i in range(300)]
    kind = suffix.split(".")[1]
    body = ("\n".join(texts) if kind == "txt" else "\n".join(json.dumps({"text": t}) for t in texts)) + "\n"
    _write(tmp_path / f"plain.{kind}", body.encode())
    _write(tmp_path / f"packed{suffix}", body.encode())
    plain = fastw2v.encode(fastw2v.from_files(str(tmp_path / f"plain.{kind}")), min_count=1, cache_dir=None)
    packed = fastw2v.encode(fastw2v.from_files(str(tmp_path / f"packed{suffix}")), min_count=1, cache_dir=None)
    assert packed.vocab.words == plain.vocab.words and np.array_equal(packed.ids, plain.ids)
    assert np.array_equal(packed.starts, plain.starts) and packed.n_documents == 300


@pytest.mark.parametrize("suffix", [".txt", ".txt.gz"])
def test_a_bad_byte_is_named_by_file_line_and_offset(tmp_path, suffix):
    """Far into the file (past any decoding buffer): the offset counts from the file's (decompressed) start."""
    lines = [f"line {i} is fine\n".encode() for i in range(20000)]
    lines[15000] = b"line with a bad \xff byte\n"
    offset = sum(len(x) for x in lines[:15000]) + len(b"line with a bad ")
    path = tmp_path / f"bad{suffix}"
    _write(path, b"".join(lines))
    with pytest.raises(fastw2v.UserError) as e:
        fastw2v.encode(fastw2v.from_files(str(path)), min_count=1, cache_dir=None)
    one_line(e)
    where = "byte" if suffix == ".txt" else "byte of the decompressed text"
    assert str(e.value) == (
        f"{str(path)!r} line 15,001 is not UTF-8 (invalid start byte at {where} {offset:,}): "
        "convert it to UTF-8, or pass encoding_errors='replace' (or skip)"
    )


def test_encoding_errors_replace_or_skip_go_on_with_a_note(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good words here\nbad\xff\xfeword here\nmore good words\n")
    replaced = fastw2v.encode(fastw2v.from_files(str(path), encoding_errors="replace"), min_count=1, cache_dir=None)
    # U+FFFD is no letter, so the simple tokenizer splits there; dropped bytes join the two halves
    assert {"bad", "word"} <= set(replaced.vocab.words) and "badword" not in replaced.vocab.words
    assert "2 byte(s) that are not UTF-8 replaced by U+FFFD (encoding_errors='replace')" in capsys.readouterr().err
    skipped = fastw2v.encode(fastw2v.from_files(str(path), encoding_errors="skip"), min_count=1, cache_dir=None)
    assert "badword" in skipped.vocab.words and skipped.n_documents == 3
    assert "2 byte(s) that are not UTF-8 dropped" in capsys.readouterr().err
    with pytest.raises(
        fastw2v.UserError, match="unknown encoding_errors 'ignore': choose one of strict, replace, skip"
    ):
        fastw2v.from_files(str(path), encoding_errors="ignore")


def test_a_cut_compressed_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "cut.txt.gz"
    _write(path, b"".join(f"line {i} with some words\n".encode() for i in range(5000)))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(fastw2v.UserError, match=r"cannot read .*cut\.txt\.gz.*: check the file") as e:
        fastw2v.encode(fastw2v.from_files(str(path)), min_count=1, cache_dir=None)
    one_line(e)


CONCURRENT = """
import os, sys, time
import fastw2v
from fastw2v.sources import TextSource
log, cache, ready = sys.argv[1], sys.argv[2], sys.argv[3]
def batches():
    with open(log, "a") as f:
        f.write(f"{os.getpid()}\\n")  # read twice (counting, then encoding) by the run that encodes
    deadline = time.monotonic() + 60
    while len(os.listdir(ready)) < 2 and time.monotonic() < deadline:  # until the other run is about to encode
        time.sleep(0.05)
    for i in range(6):
        time.sleep(0.2)  # a slow source: the other run asks for the text while this one encodes it
        yield [f"doc {i} {j} some words here" for j in range(50)]
source = TextSource("slow source", "slow-source-v1", batches)
open(os.path.join(ready, str(os.getpid())), "w").close()
corpus = fastw2v.encode(source, min_count=1, cache_dir=cache)
print(corpus.n_tokens, corpus.path)
"""


def test_two_runs_on_a_new_corpus_encode_it_once(tmp_path):
    log, cache, ready = tmp_path / "log.txt", tmp_path / "cache", tmp_path / "ready"
    ready.mkdir()
    cmd = [sys.executable, "-c", CONCURRENT, str(log), str(cache), str(ready)]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not log.exists() and time.monotonic() < deadline:  # the first run holds the entry's lock
        time.sleep(0.05)
    second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    readers = log.read_text().split()
    assert len(readers) == 2 and len(set(readers)) == 1  # the second waited and loaded the first one's entry
    assert outs[0][0] == outs[1][0]
    assert "another run is encoding this text" in outs[1][1]


def test_leftovers_of_killed_runs_are_removed(tmp_path):
    """A work folder of an encoding killed midway, and a vectors file's temporary of a killed save."""
    cache = tmp_path / "cache"
    source = fastw2v.from_texts(["a b c d", "b c d e"])
    corpus = fastw2v.encode(source, min_count=1, cache_dir=str(cache))
    key = os.path.basename(corpus.path)
    shutil.rmtree(corpus.path)  # as if never finished: the next run encodes again
    stale = cache / f".{key}-abc123"
    stale.mkdir()
    (stale / "raw.int32").write_bytes(b"\0" * 64)
    fastw2v.encode(source, min_count=1, cache_dir=str(cache))
    assert not stale.exists() and (cache / key / "meta.json").exists()

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    leftover = tmp_path / f".vectors.txt.tmp{dead.pid}"
    leftover.write_text("half a file")
    mine = tmp_path / f".vectors.txt.tmp{os.getpid()}x"  # not a pid: not ours to remove
    mine.write_text("x")
    fastw2v.Vectors(["a", "b"], np.ones((2, 3), dtype=np.float32)).save(str(tmp_path / "vectors.txt"))
    assert not leftover.exists() and mine.exists() and (tmp_path / "vectors.txt").exists()


def test_a_dataset_configuration_is_for_datasets_only(tmp_path):
    (tmp_path / "a.txt").write_text("x y\n")
    with pytest.raises(fastw2v.UserError, match="dataset_config='20231101.en' picks a configuration .*: drop it") as e:
        fastw2v.open_source(data=str(tmp_path / "a.txt"), dataset_config="20231101.en")
    one_line(e)


def test_token_lists_are_walked_once_per_encoding_and_give_what_rereading_gives():
    """Pass 2 of a Python iterable maps the word indices pass 1 spilled; the result equals walking it again,
    also when pruning renumbered the words (then it is walked again)."""
    from fastw2v.sources import from_token_lists

    from .conftest import planted_texts

    class Counted:
        def __init__(self, sentences):
            self.sentences, self.walks = sentences, 0

        def __iter__(self):
            self.walks += 1
            return iter(self.sentences)

    sentences = [t.split() for t in planted_texts()] + [[], ["solo"], ["Café", "x y", ""]]
    for limit in (None, 20):
        spilled = Counted(sentences)
        a = fastw2v.encode(from_token_lists(spilled), "split", min_count=2, cache_dir=None, max_counted_words=limit)
        reread = from_token_lists(sentences)
        reread.costly_to_reread = False
        b = fastw2v.encode(reread, "split", min_count=2, cache_dir=None, max_counted_words=limit)
        assert a.vocab.words == b.vocab.words and a.vocab.counts.tolist() == b.vocab.counts.tolist()
        assert np.array_equal(np.asarray(a.ids), np.asarray(b.ids)) and np.array_equal(a.starts, b.starts)
        assert a.n_documents == b.n_documents == len(sentences)
        assert spilled.walks == (2 if limit is None else 3)  # one more: iter() once to refuse a one-shot iterator
        assert sorted(os.listdir(a.path)) == ["ids.int32", "meta.json", "starts.npy", "vocab.tsv"]


@pytest.mark.parametrize("name", ["corpus.tst", "text8", "corpus", "lines.data.gz", "lines.bz2", "lines.xz"])
def test_a_text_file_of_any_name_is_read_as_lines(tmp_path, name):
    """gensim's corpus_file: a text file of lines whatever its name, decompressed by its extension; the tokens are
    the .txt file's of the same text."""
    texts = [f"doc {i} The cat sat on the mat number {i % 7}" for i in range(300)]
    body = ("\n".join(texts) + "\n").encode()
    _write(tmp_path / name, body)
    _write(tmp_path / "plain.txt", body)
    got = fastw2v.encode(fastw2v.sources.from_text_file(tmp_path / name), "split", min_count=1, cache_dir=None)
    plain = fastw2v.encode(fastw2v.from_files(str(tmp_path / "plain.txt")), "split", min_count=1, cache_dir=None)
    assert got.vocab.words == plain.vocab.words and np.array_equal(got.ids, plain.ids) and got.n_documents == 300
    assert "The" in got.vocab.index and got.raw_tokens == 300 * 10


def test_a_text_file_that_is_not_one_is_a_one_line_type_error(tmp_path):
    from fastw2v.sources import from_text_file

    for path, message in [
        (tmp_path / "nope.tst", "no such file .*: check the path given as corpus_file"),
        (tmp_path, "is a folder: pass one text file"),
        (42, "corpus_file must be a path to a text file, got int"),
    ]:
        with pytest.raises(TypeError, match=message) as e:
            from_text_file(path)
        assert isinstance(e.value, fastw2v.UserError)
        one_line(e)
    (tmp_path / "a*b.txt").write_text("x y\n")  # taken as it is: not a glob
    assert from_text_file(tmp_path / "a*b.txt").files == (str(tmp_path / "a*b.txt"),)
