"""The benchmark runner's bookkeeping (its rows themselves run in benchmarks/, not in the tests)."""

import json
import time
import types

import pytest

import benchmarks.__main__ as runner
from benchmarks import report
from benchmarks.__main__ import merge_rounds
from benchmarks.benchmarks import common
from benchmarks.rows import DISTRIBUTED, MEMORY, plan


def test_merge_rounds_keeps_every_run():
    a = dict(label="x", rates=[3.0, 5.0], seconds=[1.0, 2.0], wall_s=4.0, maxrss_mib=10.0, children_maxrss_mib=0.0)
    b = dict(label="x", rates=[1.0], seconds=[3.0], wall_s=2.0, maxrss_mib=12.0, children_maxrss_mib=1.0)
    m = merge_rounds(a, b)
    for key in ("rates", "seconds"):  # each run's figures, round after round
        assert m[key] == a[key] + b[key]
    assert (m["wall_s"], m["maxrss_mib"], m["children_maxrss_mib"]) == (6.0, 12.0, 1.0)
    assert a["rates"] == [3.0, 5.0] and "skipped_rounds" not in m  # the inputs are left as they were
    skipped = dict(label="x", skipped="timed out")
    for merged in (merge_rounds(skipped, b), merge_rounds(b, skipped)):
        assert merged["rates"] == [1.0] and merged["skipped_rounds"] == 1  # a lost round is counted, not hidden
    assert merge_rounds(merge_rounds(skipped, b), skipped)["skipped_rounds"] == 2


def fake_rows(monkeypatch):
    """The runner with its subprocess rows replaced by a recorder: row i's n-th run measures n."""
    calls = []

    def measure(row, args):
        calls.append(row.label)
        return dict(
            row.record(),
            wall_s=1.0,
            rates=[float(len(calls))],
            unit="words/s",
            work=1,
            seconds=[1.0],
            note="",
            tokens=10,
            maxrss_mib=1.0,
            children_maxrss_mib=0.0,
        )

    monkeypatch.setattr(runner, "measure", measure)
    monkeypatch.setattr(runner.common, "full_corpus", lambda arg: types.SimpleNamespace(description="fake"))
    return calls


def test_rounds_run_the_rows_in_turn(monkeypatch, tmp_path, capsys):
    calls = fake_rows(monkeypatch)
    out = tmp_path / "r.json"
    assert (
        runner.main(["--rows", "4 iterable,4 CBOW iterable", "--rounds", "3", "--repeat", "1", "--out", str(out)]) == 0
    )
    first, second = calls[0], calls[1]
    assert first != second and calls == [first, second] * 3  # row A, row B, A, B, A, B
    rows = {r["label"]: r["rates"] for r in json.loads(out.read_text())["rows"]}
    assert rows == {first: [1.0, 3.0, 5.0], second: [2.0, 4.0, 6.0]}
    assert "| 3 (1–5) |" in capsys.readouterr().out


def plans():
    """The runner's plans: full, --quick, --large and with the CUDA rows."""
    for quick, large, device in (
        (False, False, "cpu"),
        (True, False, "cpu"),
        (False, True, "cpu"),
        (True, False, "cuda"),
    ):
        yield plan(types.SimpleNamespace(quick=quick, large=large, device=device))


def test_every_ratio_is_against_a_row_of_the_same_run():
    """A row's ratio columns point at rows of the same plan (--quick keeps what its rows are compared with), and
    each baseline, gensim and word2vec.c row is its own reference (1x)."""
    for rows in plans():
        for row in rows:
            for other in (row.baseline, row.gensim, row.word2vec_c):
                assert other is None or any(other is r for r in rows), (row.label, other.label)
        for row in rows:
            for column in ("gensim", "word2vec_c"):
                reference = getattr(row, column)
                assert reference is None or getattr(reference, column) is reference
            if row.baseline is not None and row.group != DISTRIBUTED:
                assert row.baseline.baseline is row.baseline
        assert len({row.label for row in rows}) == len(rows)


def test_quick_runs_the_rows_marked_quick():
    full, quick = (plan(types.SimpleNamespace(quick=q, large=False, device="cpu")) for q in (False, True))
    assert [r.label for r in quick if r.group != MEMORY] == [r.label for r in full if r.quick and r.group != MEMORY]
    assert 0 < len(quick) < len(full)


def test_ratio_columns_follow_rows_not_labels():
    """Renaming rows leaves every ratio as it was: the columns hold rows, not label text."""
    rows = plan(types.SimpleNamespace(quick=False, large=False, device="cpu"))
    info = dict(report.machine(), load_average_end=(0.0,))

    def results():
        return [
            dict(
                row.record(),
                rates=[100.0 * (i + 1)],
                unit="words/s",
                note="",
                tokens=1,
                maxrss_mib=1.0,
                children_maxrss_mib=0.0,
            )
            for i, row in enumerate(rows)
        ]

    before = report.table(rows, results(), info).splitlines()
    for row in rows:
        row.label = f"renamed {row.label}"
    after = report.table(rows, results(), info).splitlines()
    cells = [line.split(" | ")[5:8] for line in before[5:]]  # the machine, corpus, a blank line, the table's head
    assert cells == [line.split(" | ")[5:8] for line in after[5:]]
    hogwild_job = next(
        i for i, r in enumerate(rows) if r.workload == "distributed" and r.settings["backend"] == "hogwild"
    )
    baseline = next(i for i, r in enumerate(rows) if r is rows[hogwild_job].baseline)
    assert cells[hogwild_job][0] == report.ratio(hogwild_job + 1, baseline + 1)
    assert info["cpu"] == common.cpu_model() and f"Machine: {info['cpu']}," in after[0]


def test_runner_rejects_zero_rounds_or_repeats(monkeypatch, capsys):
    calls = fake_rows(monkeypatch)
    for bad in (["--rounds", "0"], ["--repeat", "0"]):
        with pytest.raises(SystemExit) as e:
            runner.main(bad)
        assert e.value.code == 2 and f"{bad[0]} 0" in capsys.readouterr().err
    assert calls == []


def test_scaling_gains_are_medians_of_each_rounds_own_ratio():
    from benchmarks.scaling import control_rate, gains

    # round 2 ran at half speed: its ratios still count as 1.5x and 3x, unlike a ratio of the medians
    runs = [{1: 100.0, 2: 150.0, 4: 300.0}, {1: 50.0, 2: 75.0, 4: 150.0}, {1: 100.0, 2: 190.0, 4: 280.0}]
    assert gains(runs, 1) == {1: 1.0, 2: 1.5, 4: 3.0}
    assert gains([{2: 10.0, 4: 15.0}], 2) == {2: 2.0, 4: 3.0}  # relative to the first count, in threads
    assert control_rate(1, reps=5) > 0


def test_processes_rate_sums_children_over_one_window(monkeypatch):
    """The plumbing of --processes with a stand-in child: n processes, each given the same window, summed."""
    import benchmarks.scaling as scaling

    child = "import sys; print(float(sys.argv[2]) / 50)"  # its 'rate': the token count it was given / 50
    monkeypatch.setattr(scaling, "PROCESS_CHILD", child)
    starts = []
    real_popen = scaling.subprocess.Popen

    def popen(cmd, **kw):
        starts.append(cmd[-2])  # the window's opening time, the same for every child
        return real_popen(cmd, **kw)

    monkeypatch.setattr(scaling.subprocess, "Popen", popen)
    total = scaling.processes_rate(None, 1000, 3, seconds=2.0, lead=0.0)
    assert total == 3 * 1000 / 50  # three children's outputs, summed
    assert len(starts) == 3 and len(set(starts)) == 1
    monkeypatch.setattr(scaling, "PROCESS_CHILD", "raise SystemExit(3)")
    with pytest.raises(SystemExit, match="child failed"):
        scaling.processes_rate(None, 1000, 2, seconds=1.0, lead=0.0)


def test_generated_corpora_differ_only_in_their_line_ends(tmp_path):
    """The memory rows compare one line against lines of 200 tokens: the same words, only the line ends differ."""
    from benchmarks.benchmarks import common

    lines = common.zipf_lines(str(tmp_path), 1000, 200, vocab_size=50)
    one = common.zipf_lines(str(tmp_path), 1000, 0, vocab_size=50)
    text_lines, text_one = open(lines).read(), open(one).read()
    assert text_lines.count("\n") == 5 and text_one.count("\n") == 1
    assert text_lines.split() == text_one.split() and len(text_one.split()) == 1000
    assert all(len(line.split()) == 200 for line in text_lines.splitlines())


def test_the_python_encoder_baseline_reads_the_same_tokens(tmp_path):
    """The ingest rows' baseline and fastw2v.encode count the same tokens and keep the same words."""
    import fastw2v
    from benchmarks.benchmarks.workloads import encode_python

    path = tmp_path / "t.txt"
    path.write_text("".join(f"The café<br />Doc {i % 13} don't {'x ' * (i % 5)}\n" for i in range(500)))
    corpus = fastw2v.encode(fastw2v.from_files(str(path)), min_count=5, cache_dir=None)
    raw = json.loads(open(f"{corpus.path}/meta.json").read())["raw_tokens"]
    assert encode_python(str(path), "simple") == raw


def test_peak_memory_keeps_the_highest_reading(monkeypatch):
    """The sampler's bookkeeping, on scripted readings (the allocator may reuse freed pages, so a real
    allocation need not raise RssAnon); and /proc gives a plausible reading."""
    from benchmarks.benchmarks import common

    assert 1 < common.PeakMemory.anon_mib() < 1 << 20 and common.peak_rss_mib() > 1
    readings = iter([100.0, 150.0, 300.0] + [120.0] * 10_000)
    monkeypatch.setattr(common.PeakMemory, "anon_mib", staticmethod(lambda: next(readings)))
    with common.PeakMemory() as peak:
        time.sleep(0.2)  # the thread reads every 10 ms
    assert peak.peak_mib == 300.0


def test_distributed_summary_gives_each_jobs_gap_to_one_process():
    from benchmarks.distributed import summary

    def row(ranks, seed, analogy, ws, **kw):
        return dict(
            ranks=ranks,
            seed=seed,
            analogy=analogy,
            ws353=ws,
            words_per_sec=1000.0,
            sync_share=0.25,
            sync_bytes_per_token=100.0,
            final_loss=2.5,
            alone_as_ranks=0,
            span_tokens=1 << 18,
            chunk_tokens=1 << 20,
            **kw,
        )

    alone = dict(row(1, 1, 0.29, 0.49), alone_as_ranks=8)  # not a baseline row
    zipf = row(2, 1, None, None)  # generated text: nothing to evaluate
    rows = [
        row(1, 1, 0.30, 0.50),
        row(1, 2, 0.32, 0.52),
        row(2, 1, 0.305, 0.515),
        row(2, 2, 0.315, 0.505),
        alone,
        dict(ranks=8, seed=1, error="diverged"),
    ]
    table = summary(rows).splitlines()
    assert table[2] == "| 1 | - | - | - | 1,2 | 31.00% | 0.510 | +0.00 | +0.000 | 1,000 | 25% | 100 | 2.5000 |"
    assert table[3].startswith("| 1 | 8 | 262144 | 1048576 | 1 | 29.00% | 0.490 | -2.00 | -0.020 |")
    assert table[4].startswith("| 2 | 0 | 262144 | 1048576 | 1,2 | 31.00% | 0.510 | +0.00 | +0.000 |")
    assert table[5] == "error, 8 ranks, seed 1: diverged"
    assert summary([zipf]).splitlines()[2].startswith("| 2 | 0 | 262144 | 1048576 | 1 | - | - | - | - | 1,000 |")


def test_distributed_projection_takes_the_longer_of_training_and_the_hand_over():
    import pytest

    from benchmarks.distributed import BATCH, GPU_RATES, LINKS, PAIRS_PER_WORD, gpu_step, project

    cost, rate = gpu_step()  # the two measured rates, back from the step's model
    for pairs, measured in GPU_RATES.items():
        words = pairs / PAIRS_PER_WORD
        assert words / (cost + words / rate) == pytest.approx(measured)
    assert [n for _, n, _, _ in LINKS] == [8, 32]
    span = 1 << 22
    (_, _, bytes8, words8, _), (_, _, bytes32, words32, times32) = project(100, 0.1, span)
    assert bytes8 == bytes32 == 0.1 * 416  # rows of 4 d + 16 bytes, per token whatever the number of ranks
    # 8 GPUs over NVLink: each trains 524k words of a 4M span in 16 buckets of ~147k pairs (3 steps each): training
    steps8 = 16 * 3
    assert words8 == pytest.approx(span / (span / 8 / rate + steps8 * cost), rel=0.02)
    # a 2M-word model at d = 300 over Ethernet, short spans: the hand-over (and its 2 x 64 messages) bounds it
    _, (_, _, per_token, words, _) = project(300, 0.5, 1 << 18)
    transfer = 0.5 * (1 << 18) * 1216 / 11e9 + 2 * 64 * 100e-6
    assert per_token == 0.5 * 1216 and words == pytest.approx((1 << 18) / transfer)
    assert BATCH == 1 << 16


def test_raw_text_of_a_jsonl_corpus_is_its_text_column(tmp_path, monkeypatch):
    """gensim's side of the benchmarks reads raw text: a .jsonl corpus gives its "text" fields, one a line, not the
    JSON (whose keys would become words)."""
    from benchmarks.benchmarks import common

    monkeypatch.setattr(common, "BENCH_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "one two\\nthree", "source": "a"}\n{"text": "four", "source": "b"}\n', encoding="utf-8")
    with open(common.raw_text_file(str(path)), encoding="utf-8") as f:
        assert f.read() == "one two three\nfour\n"


def test_percent_of_roofline_is_the_rate_over_the_bound():
    assert report.percent_of_roofline(1.5e6, 3e6) == "50%"
    assert report.percent_of_roofline(4.5e6, 3e6) == "150%"  # above the bound: the model undercounts, shown as is
    assert report.percent_of_roofline(3.7e4, 1e6) == "3.7%"
    for rate, bound in ((1e6, None), (None, 1e6), (1e6, 0.0)):
        assert report.percent_of_roofline(rate, bound) == "-"


def test_hogwild_rows_name_the_trainer_that_bounds_them():
    from benchmarks.roofline import CBOW, SG_PER_PAIR, SG_SHARED

    rows = plan(types.SimpleNamespace(quick=False, large=False, device="cpu"))
    bound = {row.label: row.roofline for row in rows if row.roofline}
    t = common.cpu_count()
    expected = {
        f"fastw2v hogwild, {t} threads": SG_SHARED,
        "fastw2v hogwild, 1 thread": SG_SHARED,
        f"fastw2v hogwild, per-pair negatives, {t} threads": SG_PER_PAIR,
        "fastw2v hogwild, per-pair negatives, 1 thread": SG_PER_PAIR,
        f"fastw2v hogwild CBOW, {t} threads": CBOW,
        "fastw2v hogwild CBOW, 1 thread": CBOW,
    }
    assert {label: bound.get(label) for label in expected} == expected
    # the model has no cost for hs, nor for a job of processes: their column stays blank
    assert all("hogwild" in label and " hs " not in label and "processes" not in label for label in bound)


def fake_roofline(monkeypatch):
    """The runner's probe and corpus counts replaced by fixed figures: one CBOW center (6 contexts, 5 negatives, d
    100: 5,500 flops, 7 rows) takes 1 s of arithmetic and 1 s of rows, half the tokens are centers; so a CBOW
    row's bound is 2 words/s a thread. Returns the list of the probe's calls."""
    from benchmarks import roofline

    calls = []

    def probe(dim, vocab):
        calls.append((dim, vocab))
        return roofline.Machine("test CPU", dim, 5500e-9, {"model, Zipf": 7.0}, {}, {"model": 1.0})

    monkeypatch.setattr(runner.roofline, "probe", probe)
    monkeypatch.setattr(runner.roofline, "corpus_shape", lambda c, w, s: roofline.CorpusShape(10, 0.5, 6.0))
    monkeypatch.setattr(runner.common, "corpus", lambda arg, tokens: None)
    monkeypatch.setattr(runner.common, "full_corpus", lambda arg: types.SimpleNamespace(description="f", vocab="abc"))
    return calls


def test_the_runner_divides_each_hogwild_rate_by_its_bound(monkeypatch, tmp_path, capsys):
    calls = fake_rows(monkeypatch)
    probes = fake_roofline(monkeypatch)
    threads = common.cpu_count()
    out = tmp_path / "r.json"
    assert runner.main(["--rows", "hogwild CBOW,4 CBOW iterable", "--repeat", "1", "--out", str(out)]) == 0
    assert probes == [(100, 3)] and len(calls) == 3  # one probe for the run, the model's d and vocabulary
    column = report.HEADER[0].split(" | ").index("% of roofline")
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    cells = {line.split(" | ")[1]: line.split(" | ")[column] for line in table[1:]}
    # row 1 (all threads) measured 1 word/s, row 2 (1 thread) 2, gensim 3: bounds 2 x threads, 2, none
    assert cells[calls[0]] == report.percent_of_roofline(1.0, 2.0 * threads)
    assert cells[calls[1]] == "100%" and cells[calls[2]] == "-"
    written = json.loads(out.read_text())
    assert list(written)[:4] == ["command", "commit", "machine", "date"] and common.cpu_model() in written["machine"]
    assert [r["roofline_words_per_s"] for r in written["rows"]] == [2.0 * threads, 2.0, None]
    assert written["machine_details"]["roofline"]["probe"]["cpu"] == "test CPU"
    assert "counted: 50.0% of 10 tokens kept, 6.00 contexts a center" in written["table"]

    calls.clear()
    assert runner.main(["--rows", "hogwild CBOW", "--repeat", "1", "--no-roofline"]) == 0
    assert len(probes) == 1  # not probed again
    printed = capsys.readouterr().out
    table = [line for line in printed.splitlines() if line.startswith("| ") and "| fastw2v hogwild" in line]
    assert [line.split(" | ")[column] for line in table] == ["-", "-"]
    assert "% of roofline: not measured (--no-roofline)" in printed


def test_rows_texts_keep_the_commas_of_labels_and_can_anchor_the_end():
    t = common.cpu_count()

    def labels(rows: str) -> list[str]:
        args = runner.parser().parse_args(["--rows", rows])
        return [row.label for row in runner.select_rows(args)]

    wanted = f"hogwild, {t} threads$,hogwild, 1 thread,per-pair,hogwild CBOW"
    assert labels(wanted) == [
        f"fastw2v hogwild, {t} threads",  # not its variants (buckets, checkpoint), which go on after "threads"
        "fastw2v hogwild, 1 thread",
        f"fastw2v hogwild, per-pair negatives, {t} threads",
        "fastw2v hogwild, per-pair negatives, 1 thread",
        f"fastw2v hogwild CBOW, {t} threads",
        "fastw2v hogwild CBOW, 1 thread",
    ]
    both = labels("hs ,word2vec.c")  # a comma without a space after it separates two texts, as before
    assert labels("hs") and labels("word2vec.c") and set(both) == set(labels("hs")) | set(labels("word2vec.c"))
