"""The torch backend end to end on small corpora: it learns planted structure, is deterministic on the
CPU, and every optimizer runs."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastw2v

SMALL = dict(backend="torch", vector_size=16, window=3, min_count=1, sample=0, batch_size=256, device="cpu")


def group_precision(vectors, n_groups=4, group_size=8, topn=5):
    """Share of the topn neighbours of each group word that come from its own group."""
    hits = total = 0
    for g in range(n_groups):
        for i in range(group_size):
            for word, _ in vectors.most_similar(f"g{g}w{i}", topn=topn):
                hits += word.startswith(f"g{g}w")
                total += 1
    return hits / total


@pytest.mark.parametrize("optimizer, epochs, alpha", [("sgd", 5, None), ("adam", 5, 0.01), ("sparse_adam", 5, 0.01)])
def test_planted_groups_are_learnt(planted_corpus, optimizer, epochs, alpha):
    vectors = fastw2v.train(
        corpus=planted_corpus, optimizer=optimizer, epochs=epochs, alpha=alpha, seed=3, progress=False, **SMALL
    )
    # Calibration: with seeds 1..5 every optimizer scored 1.00 here; chance is 7/31 = 0.23.
    assert group_precision(vectors) >= 0.9
    assert vectors.stats.examples > 0 and np.isfinite(vectors.stats.final_loss)


def test_same_seed_same_vectors_on_cpu(planted_corpus):
    a = fastw2v.train(corpus=planted_corpus, epochs=1, seed=7, progress=False, **SMALL)
    b = fastw2v.train(corpus=planted_corpus, epochs=1, seed=7, progress=False, **SMALL)
    c = fastw2v.train(corpus=planted_corpus, epochs=1, seed=8, progress=False, **SMALL)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


def test_final_vectors_avg_is_the_tutorials(planted_corpus):
    kw = dict(corpus=planted_corpus, epochs=1, seed=7, progress=False, **SMALL)
    a = fastw2v.train(final_vectors="in", **kw)
    b = fastw2v.train(final_vectors="avg", **kw)
    assert a.vectors.shape == b.vectors.shape and not np.allclose(a.vectors, b.vectors)


def test_train_writes_the_output_file(tmp_path, planted_corpus):
    out = tmp_path / "v.npy"
    v = fastw2v.train(corpus=planted_corpus, epochs=1, output=str(out), progress=False, **SMALL)
    np.testing.assert_array_equal(fastw2v.Vectors.load(str(out)).vectors, v.vectors)


def test_bad_output_path_fails_before_training(tmp_path, planted_corpus):
    with pytest.raises(fastw2v.UserError, match="does not exist"):
        fastw2v.train(corpus=planted_corpus, output=str(tmp_path / "missing" / "v.bin"), progress=False, **SMALL)


def test_unknown_setting_is_a_clear_error(planted_corpus):
    with pytest.raises(fastw2v.UserError, match="unknown setting 'window_size': did you mean 'window'"):
        fastw2v.train(corpus=planted_corpus, window_size=3, progress=False)


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"hot_rows": 2.5}, "hot_rows must be a whole number >= 0, got 2.5"),
        ({"workers": 1.5}, "workers must be a whole number >= 0"),
        ({"seed": -1}, "seed must be a whole number >= 0"),
        ({"seed": 2**64}, "seed must be below 2\\*\\*63"),
        ({"window": True}, "window must be a whole number >= 1"),
        ({"alpha": float("nan")}, "alpha must be a finite number"),
        ({"sample": float("inf")}, "sample must be a finite number"),
        ({"ns_exponent": "0.75"}, "ns_exponent must be a finite number"),
        ({"sample": "1e-3"}, "sample must be a finite number"),
        ({"alpha": 0.025, "min_alpha": 1.0}, "min_alpha \\(1.0\\) is above alpha"),
        ({"min_alpha": 0.05}, "min_alpha \\(0.05\\) is above alpha \\(0.025\\)"),
        ({"shuffle": "no"}, "shuffle must be True or False"),
    ],
)
def test_a_setting_of_the_wrong_type_or_range_is_a_clear_error(setting, message):
    with pytest.raises(fastw2v.UserError, match=message):
        fastw2v.Config(**setting)


def test_whole_numbers_of_any_integer_type_are_taken_as_int():
    cfg = fastw2v.Config(vector_size=np.int64(32), hot_rows=np.int32(64), seed=np.uint8(3))
    assert (cfg.vector_size, cfg.hot_rows, cfg.seed) == (32, 64, 3)
    assert all(type(v) is int for v in (cfg.vector_size, cfg.hot_rows, cfg.seed))


def test_a_diverging_run_is_an_error_and_leaves_the_output_as_it_was(tmp_path, planted_corpus):
    """alpha = 1e30: the first updates overflow float32, so the loss and the vectors turn NaN; the trainer
    stops with a one-line error and the vectors of an earlier run stay in place."""
    out = tmp_path / "v.bin"
    out.write_bytes(b"earlier run")
    for backend in ("hogwild", "torch"):
        with pytest.raises(fastw2v.UserError, match="diverged .* start learning rate 1e\\+30: lower alpha "):
            fastw2v.train(
                corpus=planted_corpus,
                output=str(out),
                progress=False,
                **(SMALL | {"backend": backend, "alpha": 1e30, "trust": None, "epochs": 1, "workers": 1}),
            )
        assert out.read_bytes() == b"earlier run"


def test_a_corpus_without_a_pair_is_an_error(tmp_path):
    """One word per document: nothing to pair, so no vectors are written."""
    data, out = tmp_path / "one-word-lines.txt", tmp_path / "v.bin"
    data.write_text("".join(f"w{i % 7}\n" for i in range(200)))
    with pytest.raises(fastw2v.UserError, match="no \\(center, context\\) pair"):
        fastw2v.train(data=str(data), output=str(out), cache_dir=None, progress=False, **(SMALL | {"epochs": 1}))
    assert not out.exists()


def test_output_may_not_overwrite_an_input_file(tmp_path):
    data = tmp_path / "corpus.txt"
    data.write_text("a b c a b c\n" * 50)
    with pytest.raises(fastw2v.UserError, match="would overwrite the input file"):
        fastw2v.train(data=data, output=tmp_path / "." / "corpus.txt", cache_dir=None, progress=False, **SMALL)
    assert data.read_text() == "a b c a b c\n" * 50
    words = tmp_path / "corpus.vocab.txt"  # what corpus.npy's word list would be named
    words.write_text("a b c a b c\n" * 50)
    with pytest.raises(fastw2v.UserError, match="would overwrite the input file .*corpus.vocab.txt"):
        fastw2v.train(data=words, output=tmp_path / "corpus.npy", cache_dir=None, progress=False, **SMALL)
    assert words.read_text() == "a b c a b c\n" * 50
    v = fastw2v.train(data=data, output=tmp_path / "v.txt", cache_dir=None, progress=False, **(SMALL | {"epochs": 1}))
    assert (tmp_path / "v.txt").exists() and len(v) == 3  # paths as pathlib.Path are fine


def test_auto_backend_follows_the_optimizer():
    assert fastw2v.Config(device="cpu").resolved_backend() == "hogwild"
    assert fastw2v.Config(device="cpu", optimizer="adam").resolved_backend() == "torch"
    with pytest.raises(fastw2v.UserError, match="per-pair SGD, not adam.*backend='torch'"):
        fastw2v.Config(backend="hogwild", optimizer="adam")


def test_shared_negatives_is_a_hogwild_option(planted_corpus):
    with pytest.raises(fastw2v.UserError, match="hogwild backend .* not of torch sgd: drop shared_negatives"):
        fastw2v.Config(backend="torch", shared_negatives=True)
    with pytest.raises(fastw2v.UserError, match="not of torch adam: drop shared_negatives"):  # before any encoding
        fastw2v.Config(optimizer="adam", shared_negatives=True)


def test_shared_negatives_on_a_gpu_is_a_clear_error(planted_corpus, monkeypatch):
    """backend auto picks torch on a GPU; the trainer then names the option and the fix."""
    monkeypatch.setattr(fastw2v.Config, "resolved_backend", lambda self: "torch")
    with pytest.raises(fastw2v.UserError, match="trains with torch .*backend='hogwild' device='cpu'"):
        fastw2v.train(corpus=planted_corpus, shared_negatives=True, device="cpu", progress=False)


def test_torch_threads_are_restored(planted_corpus):
    import torch

    before = torch.get_num_threads()
    fastw2v.train(corpus=planted_corpus, epochs=1, progress=False, **(SMALL | {"workers": 2}))
    assert torch.get_num_threads() == before


def test_learning_rate_schedule_per_optimizer():
    sgd, adam = fastw2v.Config(), fastw2v.Config(optimizer="adam")
    assert (sgd.lr_at(0.0), sgd.lr_at(0.5), sgd.lr_at(1.0)) == pytest.approx((0.025, 0.01255, 1e-4))
    # Adam's default start is SCALE / sqrt(steps): IMDB's 31,699 steps give the rates measured best there
    assert adam.start_lr(31_699) == pytest.approx(0.002, rel=1e-3)
    assert fastw2v.Config(optimizer="sparse_adam").start_lr(31_699) == pytest.approx(0.003, rel=1e-3)
    assert adam.start_lr(31_699 // 4) == pytest.approx(2 * adam.start_lr(31_699), rel=1e-3)  # 4x fewer steps
    assert (adam.lr_at(0.25, 31_699), adam.lr_at(1.0, 31_699)) == pytest.approx((0.0015, 0.0), rel=1e-3)
    with pytest.raises(ValueError, match="number of steps"):
        adam.start_lr()
    tutorial = fastw2v.Config(optimizer="adam", alpha=0.001, min_alpha=0.001)
    assert tutorial.lr_at(0.0) == tutorial.lr_at(0.7) == 0.001


def test_adam_default_rate_comes_from_the_step_count(planted_corpus):
    kw = dict(corpus=planted_corpus, optimizer="adam", epochs=2, seed=7, progress=False, **SMALL)
    default = fastw2v.train(**kw)
    from fastw2v.torch_backend import make_batches

    cfg = fastw2v.Config(optimizer="adam", epochs=2, seed=7, **SMALL)
    batches = make_batches(planted_corpus, cfg, cfg.torch_device())
    batches.set_epoch(0)
    steps = 2 * len(batches)
    assert default.stats.start_lr == pytest.approx(fastw2v.config.ADAM_LR_SCALE["adam"] / steps**0.5)
    explicit = fastw2v.train(alpha=default.stats.start_lr, **kw)
    np.testing.assert_array_equal(explicit.vectors, default.vectors)


@pytest.mark.parametrize("optimizer", ["adam", "sparse_adam"])
def test_adam_follows_the_schedule(planted_corpus, optimizer):
    kw = dict(corpus=planted_corpus, optimizer=optimizer, epochs=2, alpha=0.01, seed=7, progress=False, **SMALL)
    decayed = fastw2v.train(**kw)  # the default: down to 0
    np.testing.assert_array_equal(fastw2v.train(min_alpha=0.0, **kw).vectors, decayed.vectors)
    constant = fastw2v.train(min_alpha=0.01, **kw)
    # a decaying rate takes smaller steps: the vectors move less far from the same initialisation
    init = fastw2v.train(**(kw | {"alpha": 1e-12})).vectors
    assert np.linalg.norm(decayed.vectors - init) < np.linalg.norm(constant.vectors - init)


def test_adams_default_start_below_min_alpha_is_an_error(planted_corpus):
    with pytest.raises(fastw2v.UserError, match="min_alpha \\(0.5\\) is above adam's start learning rate"):
        fastw2v.train(corpus=planted_corpus, optimizer="adam", min_alpha=0.5, progress=False, **SMALL)


def test_runaway_vectors_count_as_divergence():
    """Finite but huge (far past any trained vector's components): as unusable as NaN."""
    from fastw2v.train import TrainStats, check_trained

    stats = TrainStats("hogwild", "cpu", 1, 2, 10, start_lr=0.5, examples=10)
    check_trained(fastw2v.Vectors(["a", "b"], np.array([[3.0, -40.0], [1e5, 0.0]])), stats)  # large, still fine
    with pytest.raises(fastw2v.UserError, match="larger than 1e\\+06\\) at start learning rate 0.5"):
        check_trained(fastw2v.Vectors(["a", "b"], np.array([[3.0, -40.0], [2e6, 0.0]])), stats)


def test_numpy_bools_are_taken():
    assert fastw2v.Config(shuffle=np.True_, shrink_windows=np.False_).shuffle is True


LAZY_KERNELS = """
import json, sys
from numba.core.dispatcher import Dispatcher
import fastw2v, fastw2v.loop as loop
from tests.conftest import planted_texts
from fastw2v.train import train_corpus

def signatures():  # every numba kernel of the package loaded so far: its compiled (or cache-loaded) signatures
    return {f"{m}.{k}": len(v.signatures) for m in list(sys.modules) if m.startswith("fastw2v")
            for k, v in vars(sys.modules[m]).items() if isinstance(v, Dispatcher)}

at_start, start_clock = {}, loop.RunProgress.__init__
def clock_starts(self, *args, **kw):
    at_start.update(signatures())
    start_clock(self, *args, **kw)
loop.RunProgress.__init__ = clock_starts
settings = json.loads(sys.argv[1])
as_ranks = settings.pop("as_ranks", 0)
corpus = fastw2v.encode(fastw2v.from_texts(planted_texts()), min_count=1, cache_dir=None)
train_corpus(corpus, fastw2v.Config(vector_size=16, epochs=1, workers=1, **settings), progress=False, as_ranks=as_ranks)
print(json.dumps(sorted(k for k, n in signatures().items() if n > at_start.get(k, 0))))
"""


@pytest.mark.parametrize(
    "settings",
    [dict(backend="torch", device="cpu", sgd_kernel="torch", as_ranks=2), dict(backend="hogwild", sg=0, as_ranks=0)],
    ids=["torch-buckets", "hogwild-cbow"],
)
def test_no_kernel_compiles_once_the_clock_runs(settings):
    """Every numba kernel a run calls is compiled (or loaded from the cache) before its clock starts, so that its
    seconds and words/s are training only: in a fresh process, no kernel gets a signature after that."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-c", LAZY_KERNELS, json.dumps(settings)],
        capture_output=True,
        text=True,
        cwd=root,
        env=dict(os.environ, PYTHONPATH=root),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []
