"""The roofline's arithmetic and results file (benchmarks/roofline.py); its probe's figures are timings, never
asserted on."""

import json

import numpy as np

from benchmarks import roofline
from benchmarks.benchmarks import common


def test_the_bound_is_the_slower_of_flops_and_rows_per_center():
    cost = roofline.CenterCost("t", flops=2e3, rows=10)
    # 2 us of arithmetic at 1 GFLOP/s, 10 us of rows at 1M rows/s: the rows bound; half the tokens are centers
    assert roofline.words_per_s_bound(cost, 1.0, 1e6, 0.5, 1) == 1 / (0.5 * 10e-6)
    assert roofline.words_per_s_bound(cost, 1.0, 1e6, 0.5, 2) == 2 / (0.5 * 10e-6)  # a core each
    assert roofline.words_per_s_bound(cost, 0.1, 1e6, 1.0, 1) == 1 / 20e-6  # now the arithmetic: 20 us
    assert roofline.share_of_bound(5e4, 2e5) == 0.25 and roofline.share_of_bound(5e4, None) is None


def test_corpus_shape_counts_the_kept_tokens_and_their_contexts(zipf_corpus):
    lengths = np.diff(zipf_corpus.starts)
    # no sub-sampling and a window of 1: every token kept, each with its neighbours in its piece
    pairs = int(np.sum(2 * (lengths - 1)))
    for chunk_tokens in (1 << 20, 5000):  # one chunk or many: the same counts
        shape = roofline.corpus_shape(zipf_corpus, window=1, sample=0.0, chunk_tokens=chunk_tokens)
        assert shape.tokens == zipf_corpus.n_tokens and shape.keep == 1.0
        assert shape.contexts == pairs / zipf_corpus.n_tokens
    sampled = roofline.corpus_shape(zipf_corpus, window=5, sample=1e-3)
    assert 0 < sampled.keep < 1 and 0 < sampled.contexts < 10


def test_the_json_opens_with_command_commit_machine_and_date(monkeypatch, tmp_path):
    def probe(dim, vocab):
        zipf = "model, Zipf"
        return roofline.Machine("test CPU", dim, 10.0, {zipf: 2e7}, {zipf: float("nan")}, {zipf: 1.0})

    monkeypatch.setattr(roofline, "probe", probe)
    out = tmp_path / "roof.json"
    argv = ["--vocab", "1000", "--keep", "0.5", "--contexts", "6", "--threads", "2", "--json", str(out)]
    roofline.main(argv)  # keep, contexts and vocabulary given: no corpus read
    written = json.loads(out.read_text())
    assert list(written)[:4] == ["command", "commit", "machine", "date"]
    assert written["command"] == "python -m benchmarks.roofline " + " ".join(argv)
    assert common.cpu_model() in written["machine"] and written["corpus"] is None
    shared = next(b for b in written["bounds"] if b["trainer"] == roofline.SG_SHARED)
    cost = next(c for c in roofline.center_costs(100, 5, 6.0) if c.trainer == roofline.SG_SHARED)
    assert shared["words_per_s"] == roofline.words_per_s_bound(cost, 10.0, 2e7, 0.5, 2)


def test_center_costs_count_the_rows_a_center_fetches_and_its_flops_by_hand():
    """d = 100, k = 5, 6 contexts: a pair is 6 x 100 x 6 + 200 = 3,800 flops; per-pair negatives fetch a new input
    row, the center's output row and 5 negatives a pair; shared negatives and CBOW 5 a center."""
    costs = {c.trainer: (c.flops, c.rows) for c in roofline.center_costs(100, 5, 6.0)}
    assert costs[roofline.SG_PER_PAIR] == (22_800, 32)
    assert costs[roofline.SG_SHARED] == (22_800, 7)
    assert costs[roofline.CBOW] == (3 * 100 * 6 + 100 + 3_600, 7)
