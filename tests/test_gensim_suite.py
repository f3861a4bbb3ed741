"""gensim's own Word2Vec tests (gensim/test/test_word2vec.py) with fastw2v.Word2Vec swapped in: only the tests
listed in benchmarks.gensim_suite.EXPECTED_FAILURES may fail, and each listed test is still in gensim's file."""

import os

import pytest

from benchmarks import gensim_suite

pytest.importorskip("gensim")
pytest.importorskip("testfixtures")


@pytest.fixture(scope="module")
def source():
    try:
        path = gensim_suite.gensim_test_file()
    except SystemExit as e:
        pytest.skip(str(e))
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_the_swap_rebinds_word2vec_only(source):
    import gensim.models.word2vec as gensim_word2vec

    import fastw2v

    swapped = gensim_suite.swapped_source(source)
    line = gensim_suite.IMPORT_LINE + "\n"
    assert swapped.replace(line + gensim_suite.SWAP, line, 1) == source  # the swap, right after the import, and no more
    namespace = {"word2vec": gensim_word2vec}
    exec(gensim_suite.SWAP, namespace)
    swapped_module = namespace["word2vec"]
    assert swapped_module.Word2Vec is fastw2v.Word2Vec
    assert gensim_word2vec.Word2Vec is not fastw2v.Word2Vec  # gensim's module itself is left as it was
    others = set(vars(gensim_word2vec)) - {"Word2Vec"}
    assert {"LineSentence", "KeyedVectors", "PathLineSentences"} <= others
    assert all(getattr(swapped_module, name) is getattr(gensim_word2vec, name) for name in others)
    assert set(vars(swapped_module)) == set(vars(gensim_word2vec))


def test_the_swap_fails_loudly_when_gensims_import_line_changes(source):
    changed = source.replace(gensim_suite.IMPORT_LINE, "from gensim.models import keyedvectors, word2vec")
    with pytest.raises(ValueError, match="gensim changed its imports"):
        gensim_suite.swapped_source(changed)


def test_every_expected_failure_is_a_test_of_gensims_file(source):
    names = gensim_suite.test_names(source)
    assert len(names) == len(set(names)) > 50
    stale = sorted(set(gensim_suite.EXPECTED_FAILURES) - set(names))
    assert not stale, f"in EXPECTED_FAILURES but not in gensim's test_word2vec.py any more: {stale}"
    bad = {k: v for k, v in gensim_suite.EXPECTED_FAILURES.items() if not v.strip() or "\n" in v}
    assert not bad, f"each expected failure needs a one-line reason: {bad}"


def test_outcomes_are_read_from_the_junit_report(tmp_path):
    report = tmp_path / "r.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="test_word2vec.TestA" name="test_ok"/>'
        '<testcase classname="test_word2vec.TestA" name="test_bad"><failure message="boom&#10;more"/></testcase>'
        '<testcase classname="test_word2vec.TestA" name="test_off"><skipped message="POT"/></testcase>'
        '<testcase classname="test_word2vec.TestA" name="test_torn"/>'
        '<testcase classname="test_word2vec.TestA" name="test_torn"><error message="teardown"/></testcase>'
        '<testcase classname="test_word2vec" name="test_free"/>'
        "</testsuite></testsuites>"
    )
    outcomes, messages = gensim_suite.outcomes_of(str(report))
    assert outcomes == {
        "TestA::test_ok": "passed",
        "TestA::test_bad": "failed",
        "TestA::test_off": "skipped",
        "TestA::test_torn": "failed",
        "test_free": "passed",
    }
    assert messages == {"TestA::test_bad": "boom", "TestA::test_torn": "teardown"}


def test_gensims_suite_fails_only_where_expected(source, tmp_path):
    """The whole file under pytest, fastw2v swapped in (about 90 s on 2 cores)."""
    outcomes, messages = gensim_suite.run_suite(gensim_suite.swapped_source(source), os.fspath(tmp_path))
    assert set(outcomes) == set(gensim_suite.test_names(source))  # every test ran and was read back
    assert set(gensim_suite.EXPECTED_FAILURES) <= set(outcomes)  # the list names only tests that exist
    unexpected = {
        n: messages.get(n, "") for n, o in outcomes.items() if o == "failed" and n not in gensim_suite.EXPECTED_FAILURES
    }
    assert not unexpected, (
        "gensim's tests failing with fastw2v.Word2Vec, not in benchmarks/gensim_suite.py's "
        f"EXPECTED_FAILURES: {unexpected}"
    )
