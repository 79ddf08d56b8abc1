"""Benchmarks of msonet at scale: ``python -m bench`` prints one table of figures, targets and PASS/MISS."""

__all__: list[str] = []
