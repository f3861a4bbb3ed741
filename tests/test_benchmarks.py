"""The benchmark runner's bookkeeping (its rows themselves run in benchmarks/, not in the tests)."""

import pytest

from benchmarks.__main__ import main as runner
from benchmarks.__main__ import merge_rounds


def test_merge_rounds_keeps_every_run():
    a = dict(label="x", rates=[3.0, 5.0], seconds=[1.0, 2.0], wall_s=4.0, maxrss_mib=10.0, children_maxrss_mib=0.0)
    b = dict(label="x", rates=[1.0], seconds=[3.0], wall_s=2.0, maxrss_mib=12.0, children_maxrss_mib=1.0)
    m = merge_rounds(a, b)
    assert m["rates"] == [3.0, 5.0, 1.0] and m["seconds"] == [1.0, 2.0, 3.0]
    assert (m["wall_s"], m["maxrss_mib"], m["children_maxrss_mib"]) == (6.0, 12.0, 1.0)
    assert a["rates"] == [3.0, 5.0]  # the inputs are left as they were
    skipped = dict(label="x", skipped="no gensim")
    assert merge_rounds(skipped, b) is b and merge_rounds(a, skipped) is a


def test_runner_rejects_zero_rounds(capsys):
    with pytest.raises(SystemExit) as e:
        runner(["--rounds", "0"])
    assert e.value.code == 2 and "--rounds 0" in capsys.readouterr().err
