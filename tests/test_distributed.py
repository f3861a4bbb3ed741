"""Distributed training with torchrun on this machine: 2 CPU processes over gloo, as a user runs them.

Every piece is trained once per epoch across the ranks (the job's pairs are one process's pairs), all ranks end
with the same vectors and rank 0 alone saves them, the planted structure is learnt, ranks with different corpora
refuse to train, and a killed rank ends the job with one line, after which ``--resume`` completes it on another
number of ranks."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastw2v
from fastw2v import distributed, kernels
from fastw2v.train import train_corpus

from .conftest import planted_texts
from .test_hogwild import own_group_precision

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
# planted_texts: 12k tokens; 4 chunks an epoch, each trained in rounds (one per rank) with a sync after each
SETTINGS = dict(vector_size=20, epochs=5, min_count=1, chunk_tokens=3000, seed=1, workers=1)


def write_text(path, texts):
    with open(path, "w") as f:
        f.write("\n".join(texts) + "\n")
    return str(path)


def run_job(tmp_path, text, ranks=2, **settings):
    env = dict(os.environ, PYTHONPATH=REPO)
    cmd = TORCHRUN + ["--nproc-per-node", str(ranks), os.path.join(HERE, "dist_job.py"), str(tmp_path), text,
                      json.dumps({**SETTINGS, **settings})]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    rows = []
    for r in range(ranks):
        path = tmp_path / f"rank-{r}.json"
        rows.append(json.loads(path.read_text()) if path.exists() else None)
    return proc, rows


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=40), st.integers(1, 5), st.integers(1, 8))
def test_shares_cover_every_piece_once(pair_counts, n_rounds, world):
    offsets = np.concatenate([[0], np.cumsum(pair_counts)]).astype(np.int64)
    parts = distributed.shares(offsets, n_rounds * world)
    assert parts.shape == (n_rounds * world + 1,) and parts[0] == 0 and parts[-1] == len(pair_counts)
    assert np.all(np.diff(parts) >= 0)  # consecutive runs: each piece in exactly one share
    # about equal pairs: a share exceeds its target by less than one piece
    share_pairs = np.diff(offsets[parts])
    assert share_pairs.max() <= offsets[-1] / (n_rounds * world) + max(pair_counts) + 1e-9


def test_rounds():
    assert distributed.rounds(1_000_000, 2, 100_000) == 5
    assert distributed.rounds(1_000_001, 2, 100_000) == 6
    assert distributed.rounds(10, 8, 100_000) == 1


@pytest.mark.parametrize("backend", ["hogwild", "torch"])
def test_two_ranks_train_every_pair_once_and_agree(tmp_path, planted_corpus, backend):
    text = write_text(tmp_path / "planted.txt", planted_texts())
    proc, rows = run_job(tmp_path, text, backend=backend)
    assert proc.returncode == 0, proc.stderr[-2000:]
    one = fastw2v.train(data=text, cache_dir=None, progress=False, backend=backend, **SETTINGS)
    for rank, row in enumerate(rows):
        assert row["rank"] == rank and row["world"] == 2
        assert row["pairs"] == one.stats.pairs  # the job's pairs: one process's, each trained once
        assert row["tokens"] == one.stats.tokens
        assert row["sync_bytes"] > 0
    assert rows[0]["vectors"] == rows[1]["vectors"]  # the last sync leaves every rank the same model
    assert [row["saves"] for row in rows] == [1, 0]  # rank 0 alone writes
    vectors = fastw2v.Vectors.load(str(tmp_path / "vectors.bin"))
    # one process reaches 1.000 on this corpus (test_hogwild); an untrained model 0.16-0.20
    assert own_group_precision(vectors) >= 0.9
    assert own_group_precision(vectors) >= own_group_precision(one) - 0.05


def test_ranks_refuse_different_corpora(tmp_path):
    text = write_text(tmp_path / "a.txt", planted_texts())
    other = write_text(tmp_path / "b.txt", planted_texts(seed=1))
    proc, rows = run_job(tmp_path, text, other_text=other)
    assert proc.returncode != 0
    for row in rows:
        assert "the encoded corpus differs between ranks 0 and 1" in row["error"]


def test_adam_is_refused_in_a_distributed_job(planted_corpus):
    with pytest.raises(fastw2v.UserError, match="drop --optimizer"):
        train_corpus(planted_corpus, fastw2v.Config(optimizer="adam"), progress=False, group=object())


class _Store:
    def __init__(self, keys):
        self.keys = dict(keys)

    def check(self, keys):
        return all(k in self.keys for k in keys)

    def get(self, key):
        return str(self.keys[key]).encode()

    def set(self, key, value):
        self.keys[key] = value


def _group(store):
    group = distributed.Group.__new__(distributed.Group)
    group.rank, group.world, group.syncs, group.store = 0, 4, 7, store
    return group


GLOO_ERROR = RuntimeError("[../gloo/transport/tcp/pair.cc:534] Connection closed by peer [127.0.0.1]:20145. This is "
                          "typically caused by a remote worker crashing.")


def test_a_lost_rank_is_named():
    # ranks 1 and 2 saw the failure too (they are alive); rank 3 never answers
    store = _Store({"fastw2v/alive/1": "1", "fastw2v/alive/2": "1"})
    message = _group(store).lost("the sync after round 1", GLOO_ERROR).args[0]
    assert message == ("rank 0: lost contact with rank 3 while the sync after round 1 (Connection closed by peer "
                       "[127.0.0.1]:20145); the job stops: run the same command with --resume to continue from the "
                       "last checkpoint")
    assert store.keys["fastw2v/alive/0"] == "1"  # this rank said it is alive, for the others


def test_without_answers_the_ranks_behind_are_named(monkeypatch):
    monkeypatch.setattr(distributed, "LOST_WAIT", 0.2)
    # nobody answered (all are still busy or gone): the ranks that did not reach this sync are named
    store = _Store({"fastw2v/sync/0": 7, "fastw2v/sync/1": 7, "fastw2v/sync/2": 6})
    group = _group(store)
    assert group.unanswered(wait=0.2) == [1, 2, 3]
    monkeypatch.setattr(group, "unanswered", lambda: [])
    assert "lost contact with ranks 2, 3 while" in group.lost("x", GLOO_ERROR).args[0]
    group.store = None
    assert "lost contact with another rank while x" in group.lost("x", GLOO_ERROR).args[0]


def _worker_pids(parent: int) -> dict[int, int]:
    """rank -> pid of torchrun's worker processes (Linux /proc)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
            found[int(env[b"RANK"])] = int(pid)
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the ranks' processes in /proc")
def test_a_killed_rank_ends_the_job_and_resume_completes(tmp_path):
    texts = planted_texts(n_docs=4000, doc_len=50, seed=3)  # 200k tokens: epochs of a few seconds
    text = write_text(tmp_path / "planted.txt", texts)
    ckpt = tmp_path / "ckpt"
    flags = ["--data", text, "--min-count", "1", "--epochs", "40", "--chunk-tokens", "20000", "--dim", "50",
             "--checkpoint-dir", str(ckpt), "--cache-dir", str(tmp_path / "cache"), "--output",
             str(tmp_path / "vectors.bin"), "--no-progress"]
    job = subprocess.Popen(TORCHRUN + ["--nproc-per-node", "2", "-m", "fastw2v", "train", *flags],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    deadline = time.monotonic() + 240
    while not (ckpt.exists() and any(n.startswith("ckpt-") and not n.endswith(".tmp") for n in os.listdir(ckpt))):
        assert job.poll() is None, job.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 240 s"
        time.sleep(0.2)
    pids = _worker_pids(job.pid)
    assert set(pids) == {0, 1}
    killed = time.monotonic()
    os.kill(pids[1], signal.SIGKILL)
    _, stderr = job.communicate(timeout=120)
    assert time.monotonic() - killed < 60
    assert job.returncode != 0
    errors = [line for line in stderr.splitlines() if line.startswith("fastw2v: error:")]
    assert len(errors) == 1, stderr[-3000:]
    assert "lost contact with rank 1" in errors[0] and "--resume" in errors[0]
    assert not (tmp_path / "vectors.bin").exists()
    # the same command, on one process: it continues from the last checkpoint and finishes
    done = subprocess.run([sys.executable, "-m", "fastw2v", "train", *flags, "--resume", "--epochs", "40"],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "starting from the beginning" not in done.stderr
    vectors = fastw2v.Vectors.load(str(tmp_path / "vectors.bin"))
    assert own_group_precision(vectors) >= 0.9


class _TwinGroup:
    """A group of two ranks where the other rank always made this rank's changes too: a sum doubles them."""

    world, sync_bytes, sync_seconds = 2, 0, 0.0

    def all_reduce_(self, tensor, what, heartbeat=True):
        tensor *= 2
        return tensor


class _RecordingGroup(_TwinGroup):
    """Rank 0 of two, in this process: records how many rows each sync all-reduces."""

    rank, is_writer, device = 0, True, "cpu"

    def __init__(self):
        self.synced_rows = []

    def all_reduce_(self, tensor, what, heartbeat=True):
        self.synced_rows.append(tensor.shape[0])
        return super().all_reduce_(tensor, what, heartbeat)

    def barrier(self, what):
        pass

    def sum(self, values, what):
        return list(values)

    def any(self, flags, what):
        return list(flags)


def test_sync_all_every(monkeypatch):
    """The scheme without buckets: rounds of SYNC_TOKENS per rank, every row every SYNC_ALL_TOKENS of the job."""
    cfg = fastw2v.Config()  # rounds of 16,384 tokens per rank, every row every 262,144 tokens of the job
    assert [distributed.sync_all_every(cfg, world) for world in (1, 2, 4, 8, 16)] == [16, 8, 4, 2, 1]
    assert distributed.all_rows_tokens(cfg, 8) == 32_768  # per rank
    monkeypatch.setattr(distributed, "SYNC_TOKENS", 25_000)
    assert distributed.sync_all_every(cfg, 4) == 3  # rounded to whole rounds
    monkeypatch.setattr(distributed, "SYNC_TOKENS", 16_384)
    monkeypatch.setattr(distributed, "SYNC_ALL_TOKENS", 1 << 24)
    assert distributed.all_rows_tokens(cfg, 2) == 1 << 19  # the chunk's end


@pytest.mark.parametrize("backend", ["hogwild", "torch"])
def test_every_row_syncs_every_sync_all_tokens_and_at_chunk_ends(zipf_corpus, backend, monkeypatch):
    """Without buckets (distributed.PARTITIONED off): chunks of 3,000 tokens in rounds of 2 x 500, the frequent
    words' rows after round 1, every row after round 2 (SYNC_ALL_TOKENS 2,000 of the job) and round 3 (the chunk's
    end)."""
    monkeypatch.setattr(distributed, "PARTITIONED", False)
    monkeypatch.setattr(distributed, "SYNC_TOKENS", 500)
    monkeypatch.setattr(distributed, "SYNC_ALL_TOKENS", 2000)
    group = _RecordingGroup()
    cfg = fastw2v.Config(**{**SETTINGS, "epochs": 1}, backend=backend, batch_size=256)
    train_corpus(zipf_corpus, cfg, progress=False, group=group)
    V = len(zipf_corpus.vocab)
    often = distributed.rows_synced_often(zipf_corpus.vocab.counts, zipf_corpus.n_tokens, cfg, 2)
    assert 0 < often < V
    chunks = zipf_corpus.chunk_bounds(cfg.chunk_tokens).shape[0] - 1
    assert group.synced_rows[:6] == [often, V, V] * 2
    assert group.synced_rows.count(V) >= 2 * (chunks - 1) and group.synced_rows[-1] == V


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_delta_sync_sums_the_changes_of_the_rows_it_syncs(kind):
    import torch

    padded = np.zeros((4, 5), dtype=np.float32)
    w_in, w_out = padded[:, :3], np.zeros((4, 3), dtype=np.float32)  # a view, as hogwild's padded rows
    if kind == "torch":
        w_in, w_out = torch.zeros(4, 3), torch.zeros(4, 3)
    sync = distributed.DeltaSync(_TwinGroup(), (w_in, w_out), often=2)
    w_in += 1.0
    w_out[3] -= 0.5
    sync("a round", every_row=False)  # the two most frequent words' rows only
    assert np.asarray(w_in).tolist() == [[2.0] * 3, [2.0] * 3, [1.0] * 3, [1.0] * 3]  # rows 2, 3: not yet
    assert np.asarray(w_out)[3].tolist() == [-0.5] * 3
    sync("a chunk's end")  # all rows: what changed since the last sync of each row, summed
    assert np.asarray(w_in).tolist() == [[2.0] * 3] * 4
    assert np.asarray(w_out)[3].tolist() == [-1.0] * 3
    sync("nothing changed")
    assert np.asarray(w_in).tolist() == [[2.0] * 3] * 4
    if kind == "numpy":
        assert padded[:, 3:].sum() == 0  # the padding is never written


def test_combine_weights_land_a_row_where_one_process_would(zipf_corpus, monkeypatch):
    """In the model of ``combine_weights`` (each update pulls a row towards its optimum by lr·h), 8 ranks that each
    make K updates from one start and add their changes with these factors land where one process making all
    8·K updates lands; the plain sum lands 7 times as far past the optimum for a frequent word."""
    cfg = fastw2v.Config(chunk_tokens=20_000)
    monkeypatch.setattr(distributed, "SYNC_TOKENS", 1_000)
    counts, n = zipf_corpus.vocab.counts, zipf_corpus.n_tokens
    weights = distributed.combine_weights(counts, n, cfg, 8, sync_rows=10)
    assert weights.shape == (len(counts), 2) and weights.dtype == np.float32
    assert np.all(weights >= 1 / 8 - 1e-6) and np.all(weights <= 1 + 1e-6)
    assert weights[0, 1] < 0.15  # the most frequent word's output row (CURVATURE 0.1: 0.133): near the mean
    assert weights[-1, 0] > 0.95  # the rarest word's input row (0.979): near the sum
    assert np.all(np.diff(weights[10:, 0]) >= -1e-6)  # rarer words (beyond the rows synced every round): nearer the sum
    for rho in (0.0, 0.3, 0.9, 0.999):
        a = (1 - rho ** 8) / (8 * (1 - rho))
        assert 1 + 8 * a * (rho - 1) == pytest.approx(rho ** 8)  # w - w*, as a share of w0 - w*
    assert distributed.combine_weights(counts, n, cfg, 1, 10) == pytest.approx(np.ones((len(counts), 2)))


def test_vocab_partitions_balance_the_kept_tokens_and_the_negatives():
    # by hand, masses 8, 4, 3, 3, 2 (and q in the same shares), each word to the least loaded partition so far:
    # 8 -> p0 (8); 4 -> p1 (4); 3 -> p1 (7 < 8); 3 -> p1 (7 < 8: 10); 2 -> p0 (8 < 10)
    mass = np.array([8.0, 4.0, 3.0, 3.0, 2.0])
    assert distributed.vocab_partitions(mass, mass, 2).tolist() == [0, 1, 1, 1, 0]
    counts = 1e6 / np.arange(1, 5001)  # Zipf
    q = counts ** 0.75
    part = distributed.vocab_partitions(counts, q, 8)
    for share in (counts, q):
        load = np.bincount(part, weights=share / share.sum(), minlength=8)
        # within the largest single share of the two added (the most frequent word's) of 1/8 each
        assert np.all(np.abs(load - 1 / 8) <= (counts[0] / counts.sum() + q[0] / q.sum()))


def test_bucket_negatives_follow_the_unigram_distribution_within_the_partition(zipf_corpus):
    """Chi-square test (fixed seed) of 200k draws from one partition's table against count^0.75 within it."""
    from scipy.stats import chisquare

    vocab = zipf_corpus.vocab
    q = vocab.unigram_weights(0.75)
    buckets = distributed.Buckets(vocab.counts, kernels.keep_thresholds(vocab.counts, 1e-3), q, 4)
    assert sorted(np.concatenate(buckets.words).tolist()) == list(range(len(vocab)))  # every word once
    b = 2
    words = buckets.words[b]
    assert np.all(buckets.partition[words] == b)
    n = 200_000
    draws = np.empty((n, 1), dtype=np.int64)
    kernels.draw_negatives(buckets.tables[b], 12345, 67890, 0, draws)
    drawn = np.bincount(draws[:, 0], minlength=words.shape[0])
    expected = q[words] / q[words].sum() * n
    assert chisquare(drawn, expected).pvalue > 0.001


def test_bucket_negatives_are_the_same_draws_with_numba_and_torch(zipf_corpus):
    """The CPU (numba) and the GPU (torch ops) draw a bucket's negatives for the same pairs alike."""
    import torch

    from fastw2v.batching import alias_draws

    vocab = zipf_corpus.vocab
    buckets = distributed.Buckets(vocab.counts, kernels.keep_thresholds(vocab.counts, 1e-3),
                                  vocab.unigram_weights(0.75), 3)
    rows = np.array([0, 5, 6, 1000, 123_456, 7], dtype=np.int64)
    for b in range(3):
        numba_negs = np.empty((rows.shape[0], 5), dtype=np.int64)
        kernels.draw_negatives_at(buckets.tables[b], buckets.words[b], 111, 222, rows, numba_negs)
        slots = torch.from_numpy(rows)[:, None] * 5 + torch.arange(5)
        torch_negs = torch.from_numpy(buckets.words[b]).long()[alias_draws(torch.from_numpy(buckets.tables[b]), 111,
                                                                          222, slots)]
        assert torch_negs.tolist() == numba_negs.tolist()
        assert set(buckets.partition[numba_negs.ravel()]) == {b}


class _GatherGroup(_RecordingGroup):
    """Rank 0 of two, in this process: an all-gather gives zeros as the other rank's rows."""

    def all_gather_(self, outs, tensor, what):
        outs[0].copy_(tensor)
        outs[1].zero_()
        return outs


@pytest.mark.parametrize("backend,shared", [("hogwild", False), ("hogwild", True), ("torch", False)])
def test_a_rank_writes_only_its_buckets_rows(zipf_corpus, backend, shared, monkeypatch):
    """Rank 0 of 2: between the syncs of a chunk it writes the output rows of partition 0 (round 1), then of
    partition 1 (round 2), and the input rows of partition 0 (its own) only; so the ranks never write one row
    between two syncs, and a sync that copies each row from its writer loses nothing."""
    written = []  # per round: (round, rows of w_in changed, rows of w_out changed) since the last sync
    init, round_done = distributed.PartitionSync.__init__, distributed.PartitionSync.round_done

    def snapshot(sync):
        return {k: m.detach().numpy().copy() if hasattr(m, "detach") else np.array(m) for k, m in sync.matrices.items()}

    def recording_init(self, *args):
        init(self, *args)
        self.last = snapshot(self)

    def recording_round_done(self, s, what):
        now = snapshot(self)
        written.append((s, *(set(np.flatnonzero((now[k] != self.last[k]).any(axis=1)).tolist())
                             for k in ("input", "output"))))
        round_done(self, s, what)
        self.last = snapshot(self)

    monkeypatch.setattr(distributed.PartitionSync, "__init__", recording_init)
    monkeypatch.setattr(distributed.PartitionSync, "round_done", recording_round_done)
    cfg = fastw2v.Config(**{**SETTINGS, "epochs": 1}, backend=backend, batch_size=256, shared_negatives=shared)
    train_corpus(zipf_corpus, cfg, progress=False, group=_GatherGroup())
    vocab = zipf_corpus.vocab
    part = distributed.Buckets(vocab.counts, kernels.keep_thresholds(vocab.counts, cfg.sample),
                               vocab.unigram_weights(cfg.ns_exponent), 2).partition
    chunks = zipf_corpus.chunk_bounds(cfg.chunk_tokens).shape[0] - 1
    assert [s for s, _, _ in written] == [0, 1] * chunks
    for s, inputs, outputs in written:
        assert inputs and outputs  # it trained
        assert set(part[sorted(inputs)]) == {0} and set(part[sorted(outputs)]) == {s}


@pytest.mark.parametrize("backend", ["hogwild", "torch"])
def test_two_ranks_train_the_model_of_one_process_taking_the_buckets_in_turn(tmp_path, monkeypatch, backend):
    """Each row has one writer between syncs, so the job is one process that trains the 2 x 2 buckets in turn,
    bit for bit (a sync copies each row from its writer)."""
    text = write_text(tmp_path / "planted.txt", planted_texts())
    proc, rows = run_job(tmp_path, text, backend=backend)
    assert proc.returncode == 0, proc.stderr[-2000:]
    job = fastw2v.Vectors.load(str(tmp_path / "vectors.bin"))
    monkeypatch.setattr(distributed, "ALONE_AS_RANKS", 2)
    alone = fastw2v.train(data=text, cache_dir=None, progress=False, backend=backend, **SETTINGS)
    assert alone.stats.pairs == rows[0]["pairs"]
    np.testing.assert_array_equal(job.vectors, alone.vectors)
    if backend == "hogwild":  # benchmarks' knob: the buckets' order with negatives from every word, not the job
        monkeypatch.setattr(distributed, "BUCKET_NEGATIVES_FROM_ALL", True)
        every_word = fastw2v.train(data=text, cache_dir=None, progress=False, backend=backend, **SETTINGS)
        assert np.abs(every_word.vectors - alone.vectors).max() > 1e-3
        monkeypatch.setattr(distributed, "BUCKET_NEGATIVES_FROM_ALL", False)
    monkeypatch.setattr(distributed, "ALONE_AS_RANKS", 0)
    plain = fastw2v.train(data=text, cache_dir=None, progress=False, backend=backend, **SETTINGS)
    assert np.abs(plain.vectors - alone.vectors).max() > 1e-3  # the buckets are not one process's order
