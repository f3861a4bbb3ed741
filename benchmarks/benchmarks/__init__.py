"""The asv suite (numpy's layout). Shared data builders live in common.py, the workloads in workloads.py;
the bench_<area>.py modules hold the asv classes."""
