"""Reports from a results store: `python -m optlab.report DIR|DB [--out DIR]` writes `report.md`."""

from optlab.report.document import write

__all__ = ["write"]
