"""fastw2v's benchmarks: the asv suite in ``benchmarks/benchmarks/`` and the side-by-side runner
(``python -m benchmarks``, see ``__main__.py``)."""
