"""CSV files the service writes: every cell neutralised against formula injection.

A spreadsheet program evaluates a cell that starts with `=`, `+`, `-` or `@` (and, in some
programs, a leading tab or carriage return) as a formula, so a community named
`=cmd|' /C calc'!A0` would run on a manager's machine. Following OWASP's advice, such a
text cell is written with a leading single quote, which the spreadsheet shows as text.
Every CSV writer in the service goes through `writer` or `DictWriter` here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell value as a spreadsheet must show it: text that would start a formula gets a
    leading `'`. Numbers stay numbers (a negative 环比 is data, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


class _NeutralisingWriter:
    """A csv writer whose every row passes through `neutralise`, cell by cell."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.dialect = inner.dialect

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._inner.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: IO[str], **options) -> _NeutralisingWriter:
    """`csv.writer` with every cell neutralised."""
    return _NeutralisingWriter(csv.writer(stream, **options))


class DictWriter(csv.DictWriter):
    """`csv.DictWriter` with every cell, the header included, neutralised."""

    def __init__(self, stream: IO[str], fieldnames, **options) -> None:
        super().__init__(stream, fieldnames, **options)
        # DictWriter writes its header and every row (one or many) through self.writer.
        self.writer = _NeutralisingWriter(self.writer)
