"""The fastw2v command: one smoke test per subcommand, and bad input -> one line, exit code 2."""

import subprocess
import sys

import numpy as np
import pytest

import fastw2v
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
    assert (
        main(["train", "--data", str(corpus_file), "--output", str(out), "--cache-dir", str(tmp_path / "c"), *TINY])
        == 0
    )
    printed = capsys.readouterr().out
    assert "vocabulary" in printed and "words/s" in printed and str(out) in printed
    assert "sgd, lr 0.025 -> 0.0001" in printed
    assert out.exists()
    assert main(["similar", str(out), "g0w1", "-n", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(len(line.split("\t")) == 2 for line in lines)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "/no/such/file.txt"], "no such file"),
        (["--epochs", "0"], "epochs must be a whole number >= 1"),
        (["--window", "0"], "window must be"),
        (["--negative", "0"], "negative=0 and no hs leave nothing to train"),
        (["--negative", "-1"], "negative must be"),
        (["--dim", "0"], "vector_size must be"),
        (["--batch-size", "0"], "batch_size must be"),
        (["--device", "tpu9"], "unknown device"),
        (["--device", "cuda"], "no CUDA GPU"),
        (["--min-count", "100000"], "lower --min-count"),
        (["--output", "/no/such/dir/v.bin"], "does not exist"),
        (["--output", "v.weird"], "name the file .txt, .bin or .npy"),
        (["--shared-negatives", "--backend", "torch"], "option of the hogwild backend"),
        (["--shared-negatives", "--optimizer", "adam", "--device", "cpu"], "drop --shared-negatives"),
        (["--alpha", "nan"], "alpha must be a finite number"),
        (["--alpha", "0.01", "--min-alpha", "0.1"], "min_alpha (0.1) is above alpha (0.01)"),
        (["--seed", "-1"], "seed must be a whole number >= 0"),
        (["--alpha", "1e30", "--backend", "hogwild"], "training diverged"),
        (["--epochs", "1.5"], "argument --epochs: invalid int value: '1.5' (see fastw2v train --help)"),
        (["--text-column", "text", "--cache-dir", "CORPUS"], "as the cache folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, corpus_file, capsys, args, message):
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    base = [
        "train",
        "--data",
        str(corpus_file),
        "--cache-dir",
        str(tmp_path / "c"),
        "--output",
        str(tmp_path / "v.bin"),
        *TINY,
    ]
    args = [str(corpus_file) if a == "CORPUS" else a for a in args]
    try:
        assert main(base + args) == 2
    except SystemExit as e:  # argparse's own errors exit from parse_args
        assert e.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("fastw2v: error:") and message in err
    assert not (tmp_path / "v.bin").exists()


def test_train_with_shared_or_per_pair_negatives(tmp_path, corpus_file, capsys):
    """--shared-negatives (the default) and --no-shared-negatives (word2vec.c's per pair) train different vectors;
    the flag is a switch, not a value (argparse would read "--shared-negatives False" as True)."""
    import fastw2v

    outs = {}
    for flag in ("--shared-negatives", "--no-shared-negatives", None):
        out = tmp_path / f"v{flag}.npy"
        assert (
            main(
                [
                    "train",
                    "--data",
                    str(corpus_file),
                    "--output",
                    str(out),
                    "--cache-dir",
                    str(tmp_path / "c"),
                    "--backend",
                    "hogwild",
                    "--workers",
                    "1",
                    *([flag] if flag else []),
                    *TINY,
                ]
            )
            == 0
        )
        assert "words/s" in capsys.readouterr().out
        outs[flag] = fastw2v.Vectors.load(str(out)).vectors
    assert np.array_equal(outs[None], outs["--shared-negatives"])
    assert not np.array_equal(outs[None], outs["--no-shared-negatives"])


@pytest.mark.parametrize(
    "flags, objective",
    [
        (["--hs", "--negative", "0"], "window 5, hierarchical softmax"),
        (["--hs", "--cbow"], "5 negatives and hierarchical softmax"),
    ],
)
def test_train_with_hierarchical_softmax(tmp_path, corpus_file, capsys, flags, objective):
    """--hs trains the tree (alone with --negative 0, or beside the negatives), and the summary names it."""
    out = tmp_path / "v.npy"
    assert (
        main(
            [
                "train",
                "--data",
                str(corpus_file),
                "--output",
                str(out),
                "--cache-dir",
                str(tmp_path / "c"),
                *flags,
                *TINY,
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert objective in printed and "backend      hogwild" in printed
    import fastw2v

    assert np.abs(fastw2v.Vectors.load(str(out)).vectors).max() > 0


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


def test_an_encoded_folder_keeps_its_settings_and_says_so(tmp_path, corpus_file, capsys):
    """--dataset FOLDER trains on the folder's vocabulary; asking for another min_count or tokenizer gets a
    note on stderr, and the summary shows the min_count the vocabulary really has."""
    cache = tmp_path / "c"
    assert (
        main(["train", "--data", str(corpus_file), "--cache-dir", str(cache), "-o", str(tmp_path / "a.bin"), *TINY])
        == 0
    )
    (folder,) = [p for p in cache.iterdir() if p.is_dir() and p.name != ".locks"]
    capsys.readouterr()
    args = [
        "train",
        "--dataset",
        str(folder),
        "-o",
        str(tmp_path / "b.bin"),
        *TINY,
        "--min-count",
        "50",
        "--tokenizer",
        "whitespace",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert (
        "is encoded already, with tokenizer=simple (this run: whitespace), min_count=1 (this run: 50)" in captured.err
    )
    assert "(min_count=1)" in captured.out


def test_eval_checks_its_files_before_loading_vectors(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "no-vectors.bin"), "--analogies", str(tmp_path / "no-questions.txt")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "no-questions.txt" in err and "analogy questions" in err and "vectors" not in err


def test_eval_with_no_answerable_question_is_an_error(tmp_path, capsys):
    import numpy as np

    from fastw2v import Vectors

    Vectors(["a", "b", "c"], np.eye(3, dtype=np.float32)).save(str(tmp_path / "v.txt"))
    (tmp_path / "q.txt").write_text(": capitals\nathens greece berlin germany\n")
    assert main(["eval", str(tmp_path / "v.txt"), "--analogies", str(tmp_path / "q.txt")]) == 2
    assert "none of the 1 questions" in capsys.readouterr().err
    (tmp_path / "q.txt").write_text(": capitals\n")
    assert main(["eval", str(tmp_path / "v.txt"), "--analogies", str(tmp_path / "q.txt")]) == 2
    assert "holds no 'a b c d' question under a ': section' line" in capsys.readouterr().err


def test_cache_list_and_clear(tmp_path, corpus_file, capsys):
    cache = str(tmp_path / "c")
    assert main(["cache", "list", "--cache-dir", cache]) == 0
    assert "no encoded corpus" in capsys.readouterr().out
    assert (
        main(["train", "--data", str(corpus_file), "--output", str(tmp_path / "v.txt"), "--cache-dir", cache, *TINY])
        == 0
    )
    assert "encoding" in capsys.readouterr().out  # the summary says how long encoding took
    assert main(["cache", "list", "--cache-dir", cache]) == 0
    listed = capsys.readouterr().out
    assert str(corpus_file) in listed and "(simple, 1)" in listed and "1 entry" in listed
    key = listed.splitlines()[1].split()[0]
    assert main(["cache", "clear", "nokey", "--cache-dir", cache]) == 2
    assert "no cache entry 'nokey'" in capsys.readouterr().err
    assert main(["cache", "clear", key, "--cache-dir", cache]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    assert main(["cache", "list", "--cache-dir", cache]) == 0
    assert "no encoded corpus" in capsys.readouterr().out


def test_an_unquoted_glob_says_to_quote_it(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("x y\n")
    run = subprocess.run(
        [sys.executable, "-m", "fastw2v", "train", "--data", str(tmp_path / "a.txt"), str(tmp_path / "b.txt")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "fastw2v: error: 2 files where one path was expected (the shell expanded a glob): "
        "quote the pattern, e.g. --data 'wiki/*.txt'"
    )


def test_a_message_names_the_setting_as_the_entry_point_writes_it(capsys):
    with pytest.raises(fastw2v.UserError, match=r"pass e.g. vector_size=100$"):
        fastw2v.Config(vector_size=0)
    with pytest.raises(fastw2v.UserError, match=r"pass negative=5 \(negative sampling\) or hs=True"):
        fastw2v.Config(negative=0)
    assert main(["train", "--vector-size", "0", "--no-progress"]) == 2
    assert capsys.readouterr().err.strip().endswith("pass e.g. --vector-size 100")
    assert main(["train", "--negative", "0", "--no-progress"]) == 2
    assert "pass --negative 5 (negative sampling) or --hs (hierarchical softmax)" in capsys.readouterr().err


def test_help_and_version_answer_without_loading_torch_or_numba():
    """The command's quick answers import neither torch nor numba (1.7 s together): they load where training
    needs them."""
    code = (
        "import sys, contextlib, io\n"
        "from fastw2v.cli import main\n"
        "for argv in (['--help'], ['train', '--help'], ['--version']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main(argv)\n"
        "print(sorted(m for m in ('torch', 'numba', 'datasets') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    version = subprocess.run([sys.executable, "-m", "fastw2v", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"fastw2v {fastw2v.__version__}"


def test_the_package_loads_its_names_on_first_use():
    code = (
        "import sys, fastw2v\n"
        "assert 'torch' not in sys.modules\n"
        "import fastw2v.train, fastw2v.encode\n"  # the submodules do not hide the functions of the same name
        "print(fastw2v.train.__module__, fastw2v.encode.__module__, fastw2v.Word2Vec.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["fastw2v.train", "fastw2v.encode", "Word2Vec"]


def test_a_command_names_flags_in_every_thread():
    """A job's ring and heartbeat raise in threads of their own: their messages name flags too."""
    import threading

    from fastw2v.errors import on_command_line, setting

    named = []
    with on_command_line():
        thread = threading.Thread(target=lambda: named.append(setting("resume", True)))
        thread.start()
        thread.join()
    assert named == ["--resume"] and setting("resume", True) == "resume=True"
