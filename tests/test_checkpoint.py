"""Checkpoints and resume: a run stopped between chunks and resumed gives the vectors of an uninterrupted run."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fastw2v
from fastw2v import checkpoint as C
from fastw2v.errors import UserError

RUNS = {
    "hogwild, 1 thread": dict(backend="hogwild", workers=1),
    "torch sgd, cpu": dict(backend="torch", device="cpu", batch_size=512),
    "torch adam, cpu": dict(backend="torch", device="cpu", batch_size=512, optimizer="adam"),
    "hogwild CBOW, 1 thread": dict(backend="hogwild", workers=1, sg=0),
    "torch CBOW, cpu": dict(backend="torch", device="cpu", batch_size=512, sg=0),
    "hogwild hs, 1 thread": dict(backend="hogwild", workers=1, hs=True, negative=0),
    "hogwild CBOW hs and negatives, 1 thread": dict(backend="hogwild", workers=1, sg=0, hs=True),
}


def settings(corpus, **kw):
    return {**dict(corpus=corpus, epochs=2, chunk_tokens=6000, vector_size=24, progress=False, seed=3), **kw}


def stop_at(monkeypatch, n: int, signal_name: str = "SIGTERM"):
    """As if a signal arrived during the n-th chunk: the run writes a checkpoint after it and stops."""
    calls = {"n": 0}
    original = C.RunCheckpoints.chunk_done

    def chunk_done(self, snapshot, epoch_end=False):
        calls["n"] += 1
        if calls["n"] == n:
            self.signals.requested = signal_name
        return original(self, snapshot, epoch_end)

    monkeypatch.setattr(C.RunCheckpoints, "chunk_done", chunk_done)


@pytest.mark.parametrize("run", RUNS)
def test_stop_and_resume_equals_an_uninterrupted_run(run, zipf_corpus, tmp_path, monkeypatch):
    kw = settings(zipf_corpus, **RUNS[run])
    whole = fastw2v.train(**kw)
    with monkeypatch.context() as m:
        stop_at(m, 5)  # in the first epoch (10 chunks an epoch)
        with pytest.raises(
            C.Interrupted,
            match=r"stopped by SIGTERM after writing checkpoint .*ckpt-000001 \(epoch 1 "
            r"of 2\): run it again with resume=True to continue",
        ):
            fastw2v.train(checkpoint_dir=tmp_path, **kw)
    assert os.listdir(tmp_path) == ["ckpt-000001"]
    resumed = fastw2v.train(checkpoint_dir=tmp_path, resume=True, **kw)
    assert np.array_equal(resumed.vectors, whole.vectors)
    assert resumed.stats.examples == whole.stats.examples
    # the run saved at the end of each epoch; the two newest checkpoints stay
    assert sorted(os.listdir(tmp_path)) == ["ckpt-000002", "ckpt-000003"]
    state = C.read(str(tmp_path / "ckpt-000003")).state
    assert (state.epoch, state.chunk, state.examples) == (2, 0, whole.stats.examples)


def test_resuming_a_finished_run_trains_nothing(zipf_corpus, tmp_path):
    kw = settings(zipf_corpus, backend="hogwild", workers=1)
    first = fastw2v.train(checkpoint_dir=tmp_path, **kw)
    again = fastw2v.train(checkpoint_dir=tmp_path, resume=True, **kw)
    assert np.array_equal(first.vectors, again.vectors) and again.stats.examples == first.stats.examples


def test_a_checkpoint_folder_is_a_whole_model(zipf_corpus, tmp_path):
    """Both matrices and the vocabulary with its counts: the vectors without the corpus."""
    v = fastw2v.train(
        checkpoint_dir=tmp_path, **settings(zipf_corpus, backend="hogwild", workers=1, final_vectors="avg")
    )
    saved = C.read(str(tmp_path / sorted(os.listdir(tmp_path))[-1])).vectors("avg")
    assert saved.index_to_key == v.index_to_key and np.array_equal(saved.counts, v.counts)
    assert np.array_equal(saved.vectors, v.vectors)


def test_resume_without_a_checkpoint_starts_from_the_beginning(zipf_corpus, tmp_path, capsys):
    kw = settings(zipf_corpus, backend="hogwild", workers=1)
    v = fastw2v.train(checkpoint_dir=tmp_path / "new", resume=True, **kw)
    assert np.array_equal(v.vectors, fastw2v.train(**kw).vectors)
    assert "no checkpoint in" in capsys.readouterr().err


def test_a_damaged_newest_checkpoint_is_skipped_for_the_one_before(zipf_corpus, tmp_path, monkeypatch, capsys):
    """checkpoint_every tiny: a checkpoint after every chunk, the last two kept. The newest is damaged (one
    byte changed), so resume warns and continues from the one before: still the uninterrupted vectors."""
    kw = settings(zipf_corpus, backend="torch", device="cpu", batch_size=512)
    whole = fastw2v.train(**kw)
    with monkeypatch.context() as m:
        stop_at(m, 4)
        with pytest.raises(C.Interrupted):
            fastw2v.train(checkpoint_dir=tmp_path, checkpoint_every=1e-9, **kw)
    newest = tmp_path / sorted(os.listdir(tmp_path))[-1]
    with open(newest / "state.pt", "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    resumed = fastw2v.train(checkpoint_dir=tmp_path, resume=True, **kw)
    assert f"skipping damaged checkpoint {newest}" in capsys.readouterr().err
    assert np.array_equal(resumed.vectors, whole.vectors)


def test_resume_with_every_checkpoint_damaged_is_an_error_that_keeps_them(zipf_corpus, tmp_path):
    """Not a fresh start that rotates them away: a one-line error naming each, and the two ways out."""
    kw = settings(zipf_corpus, backend="hogwild", workers=1, epochs=1)
    fastw2v.train(checkpoint_dir=tmp_path, checkpoint_every=1e-9, **kw)
    names = sorted(os.listdir(tmp_path))
    assert len(names) == C.KEEP
    for name in names:
        (tmp_path / name / "meta.json").write_text("{")
    with pytest.raises(UserError) as e:
        fastw2v.train(checkpoint_dir=tmp_path, resume=True, **kw)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"every checkpoint in {tmp_path} is damaged (")
    assert all(f"{name}: meta.json unreadable" in message for name in names)
    assert message.endswith("remove them to start from the beginning, or run without resume")
    assert sorted(os.listdir(tmp_path)) == names


def test_a_cut_checkpoint_and_a_killed_save_are_not_used(zipf_corpus, tmp_path, capsys):
    kw = settings(zipf_corpus, backend="hogwild", workers=1, epochs=1)
    fastw2v.train(checkpoint_dir=tmp_path, **kw)
    (tmp_path / "ckpt-000007.tmp").mkdir()  # a save killed before its rename
    cut = tmp_path / "ckpt-000008"
    cut.mkdir()
    (cut / "meta.json").write_text('{"format": 1, "state"')
    again = fastw2v.train(checkpoint_dir=tmp_path, resume=True, **kw)
    err = capsys.readouterr().err
    assert f"skipping damaged checkpoint {cut} (meta.json unreadable" in err
    assert again.stats.examples == C.read(str(tmp_path / "ckpt-000001")).state.examples  # the finished run's
    assert not (tmp_path / "ckpt-000007.tmp").exists()


def test_another_setting_or_corpus_is_refused_naming_the_difference(zipf_corpus, planted_corpus, tmp_path):
    kw = settings(zipf_corpus, backend="hogwild", workers=1, epochs=1)
    fastw2v.train(checkpoint_dir=tmp_path, **kw)
    with pytest.raises(
        UserError,
        match=r"was made with window=5, this run has window=3: pass window=5, or another checkpoint_dir$",
    ):
        fastw2v.train(checkpoint_dir=tmp_path, resume=True, **{**kw, "window": 3})
    with pytest.raises(UserError, match=r"was made with backend='hogwild', this run has backend='torch'"):
        fastw2v.train(checkpoint_dir=tmp_path, resume=True, **{**kw, "backend": "torch", "device": "cpu"})
    with pytest.raises(UserError, match=r"is of another corpus or vocabulary \(tokens: "):
        fastw2v.train(checkpoint_dir=tmp_path, resume=True, **{**kw, "corpus": planted_corpus})
    fastw2v.train(checkpoint_dir=tmp_path, resume=True, **{**kw, "workers": 2})  # threads may differ


def test_checkpoint_settings_are_checked():
    with pytest.raises(UserError, match="pass checkpoint_dir='DIR' with resume=True"):
        fastw2v.Config(resume=True)
    with pytest.raises(UserError, match="checkpoint_every must be > 0 minutes"):
        fastw2v.Config(checkpoint_every=0)


SCRIPT = """
import os, signal, sys
import fastw2v.hogwild as H
from fastw2v.cli import main
calls = {"n": 0}
train_chunk = H.train_chunk
def chunk_then_signal(*args):  # the signal arrives while the 3rd chunk trains
    train_chunk(*args)
    calls["n"] += 1
    if calls["n"] == 3 and os.environ.get("SIGNAL"):
        os.kill(os.getpid(), getattr(signal, os.environ["SIGNAL"]))
H.train_chunk = chunk_then_signal
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_and_sigint_write_a_checkpoint_and_resume_finishes(tmp_path):
    """The command line, in a process that receives the signal: a one-line message, exit status 128 + signal,
    a checkpoint, no vectors file; --resume finishes it, equal to an uninterrupted run."""
    text = tmp_path / "text.txt"
    rng = np.random.default_rng(0)
    text.write_text("\n".join(" ".join(f"w{i}" for i in rng.zipf(1.4, 60) % 200) for _ in range(400)))
    common = [
        "train",
        "--data",
        str(text),
        "--backend",
        "hogwild",
        "--workers",
        "1",
        "--epochs",
        "2",
        "--min-count",
        "1",
        "--chunk-tokens",
        "4000",
        "--no-progress",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]

    def run(*extra, signal_name=""):
        env = dict(os.environ, SIGNAL=signal_name)
        return subprocess.run(
            [sys.executable, "-c", SCRIPT, *common, *extra], capture_output=True, text=True, env=env, timeout=300
        )

    whole = run("--output", str(tmp_path / "whole.txt"))
    assert whole.returncode == 0, whole.stderr
    for name, status in (("SIGTERM", 143), ("SIGINT", 130)):
        folder = tmp_path / f"ckpt-{name}"
        out = tmp_path / f"resumed-{name}.txt"
        stopped = run("--output", str(out), "--checkpoint-dir", str(folder), signal_name=name)
        assert stopped.returncode == status, stopped.stderr
        assert (
            stopped.stderr.strip().splitlines()[-1].startswith(f"fastw2v: stopped by {name} after writing checkpoint")
        )
        assert not out.exists() and os.listdir(folder) == ["ckpt-000001"]
        resumed = run("--output", str(out), "--checkpoint-dir", str(folder), "--resume")
        assert resumed.returncode == 0, resumed.stderr
        assert re.search(
            r"\ntraining +[\d.]+ s in this run, [\d.]+ s in all runs, [\d,]+ words/s over all of them "
            r"\(this run's wall time [\d.]+ s\)\n",
            resumed.stdout,
        ), resumed.stdout
        assert out.read_text() == (tmp_path / "whole.txt").read_text()
