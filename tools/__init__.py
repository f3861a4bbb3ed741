"""One-off tools for developers: run as ``python -m tools.NAME``; see tools/README.md."""
