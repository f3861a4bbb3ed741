"""The fastw2v command: one smoke test per subcommand, and bad input -> one line, exit code 2."""

import subprocess
import sys

import pytest

from fastw2v.cli import main
from tests.conftest import planted_texts

TINY = ["--min-count", "1", "--epochs", "1", "--vector-size", "8", "--no-progress", "--batch-size", "256"]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "corpus.txt"
    path.write_text("\n".join(planted_texts(n_docs=100)) + "\n")
    return path


def test_train_then_similar(tmp_path, corpus_file, capsys):
    out = tmp_path / "v.txt"
    assert main(["train", "--data", str(corpus_file), "--output", str(out), "--cache-dir", str(tmp_path / "c"), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "vocabulary" in printed and "words/s" in printed and str(out) in printed
    assert "sgd, lr 0.025 -> 0.0001" in printed
    assert out.exists()
    assert main(["similar", str(out), "g0w1", "-n", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(len(line.split("\t")) == 2 for line in lines)


@pytest.mark.parametrize("args, message", [
    (["--data", "/no/such/file.txt"], "no such file"),
    (["--epochs", "0"], "epochs must be a whole number >= 1"),
    (["--window", "0"], "window must be"),
    (["--negative", "0"], "negative must be"),
    (["--dim", "0"], "vector_size must be"),
    (["--batch-size", "0"], "batch_size must be"),
    (["--device", "tpu9"], "unknown device"),
    (["--device", "cuda"], "no CUDA GPU"),
    (["--min-count", "100000"], "lower --min-count"),
    (["--output", "/no/such/dir/v.bin"], "does not exist"),
    (["--output", "v.weird"], "name the file .txt, .bin or .npy"),
    (["--shared-negatives", "--backend", "torch"], "option of the hogwild backend"),
    (["--shared-negatives", "--optimizer", "adam", "--device", "cpu"], "drop --shared-negatives"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, corpus_file, capsys, args, message):
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    base = ["train", "--data", str(corpus_file), "--cache-dir", str(tmp_path / "c"), "--output", str(tmp_path / "v.bin"), *TINY]
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("fastw2v: error:") and message in err
    assert not (tmp_path / "v.bin").exists()


def test_train_with_shared_negatives(tmp_path, corpus_file, capsys):
    out = tmp_path / "v.npy"
    assert main(["train", "--data", str(corpus_file), "--output", str(out), "--cache-dir", str(tmp_path / "c"),
                 "--backend", "hogwild", "--shared-negatives", *TINY]) == 0
    assert out.exists() and "words/s" in capsys.readouterr().out


def test_train_on_an_encoded_corpus_folder(tmp_path, planted_corpus, capsys):
    """--dataset takes a folder written by EncodedCorpus.save (or a cache folder): no text, same vocabulary."""
    planted_corpus.save(str(tmp_path / "enc"))
    out = tmp_path / "v.txt"
    assert main(["train", "--dataset", str(tmp_path / "enc"), "--output", str(out), *TINY]) == 0
    assert f"vocabulary   {len(planted_corpus.vocab):,} words" in capsys.readouterr().out
    from fastw2v import Vectors

    assert Vectors.load(str(out)).index_to_key == planted_corpus.vocab.words


def test_similar_unknown_word_and_missing_file(tmp_path, capsys):
    assert main(["similar", str(tmp_path / "nope.bin"), "movie"]) == 2
    assert "no such vectors file" in capsys.readouterr().err
    (tmp_path / "v.txt").write_text("1 2\nhello 0.5 0.5\n")
    assert main(["similar", str(tmp_path / "v.txt"), "movie"]) == 2
    assert "not in the vocabulary" in capsys.readouterr().err


def test_help_shows_defaults_and_reasons():
    result = subprocess.run([sys.executable, "-m", "fastw2v", "train", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--vector-size" in text and "(default: 100)" in text
    assert "word2vec.c's default" in text  # the reason written next to the field in config.py
