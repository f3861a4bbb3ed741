"""fastw2v's benchmarks: the asv suite in ``benchmarks/benchmarks/`` and the side-by-side runner
(``python -m benchmarks``: ``__main__.py`` runs the rows of ``rows.py``, ``report.py`` prints their table and
``profile.py`` where the time goes), beside the scripts ``quality`` (with ``quality_train`` and ``quality_report``),
``scaling``, ``distributed`` and ``gpu_fused``."""
