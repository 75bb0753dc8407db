"""Reading a billing-system CSV file: UTF-8 (a BOM is fine), ``;`` or ``,``, a header row, then
records in chunks of typed rows, each with the line it starts on.

``CsvSource`` is what ``portail_domain.services.exchange.import_rows`` reads from (its
``ImportSource`` port); memory stays bounded by the chunk size, not by the file size.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from portail_domain.model.exchange import FileHeader, ImportRejected, ImportRow, Problem, RowChunk

from .cells import Record
from .formats import Format, RowReader

Progress = Callable[[int, int, int], None]  # (bytes read, total bytes or 0, rows read)


def detect_delimiter(header: str, known: Iterable[str] = ()) -> str:
    """``;`` or ``,``: the one that splits the header into more known column names.

    Without known names (or on a tie) the one that occurs more often wins, ``;`` first.
    """
    names = {n.lower() for n in known}
    best, best_score = ";", (-1, -1)
    for delimiter in (";", ","):
        cells = next(csv.reader([header], delimiter=delimiter), [])
        score = (sum(c.strip().lower() in names for c in cells), len(cells))
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _Lines:
    """Decodes a binary stream line by line (UTF-8, BOM dropped), counting bytes for progress."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.stream = stream
        self.name = name
        self.bytes_read = 0
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.number += 1
            self.bytes_read += len(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                detail = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
                raise ImportRejected(self.name, [Problem(self.number, "", f"the file is not UTF-8 text ({detail}); "
                                                                          "save it as UTF-8")]) from None
            if self.number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield text


class CsvSource:
    """One CSV file of ``kind``, read once from ``stream``: the header, then chunks of rows."""

    def __init__(self, kind: str, stream: BinaryIO, *, name: str, format: Format, base_dir: Path | None = None,
                 size: int = 0, chunk_rows: int = 5000, progress: Progress | None = None) -> None:
        self.kind = kind
        self.name = name
        self.format = format
        self.base_dir = base_dir
        self.size = size
        self.chunk_rows = chunk_rows
        self.progress = progress
        self.rows = 0  # records read (blank lines apart)
        self._lines = _Lines(stream, name)
        self._iterator = iter(self._lines)
        self._header: list[str] = []
        self._delimiter = ";"

    def read_header(self) -> FileHeader:
        line = next(self._iterator, None)
        while line is not None and not line.strip():
            line = next(self._iterator, None)
        if line is None:
            return FileHeader(frozenset(), [Problem(None, "", "the file is empty (a header row naming the columns "
                                                              "is expected)")])
        self._delimiter = detect_delimiter(line, self.format.columns)
        self._header = [c.strip().lower() for c in next(csv.reader([line], delimiter=self._delimiter))]
        return FileHeader(self.format.fields_of(self._header), self._header_problems(self._lines.number))

    def _header_problems(self, line: int) -> list[Problem]:
        header, columns = self._header, self.format.columns
        unknown = [c or f"(no name, column {n})" for n, c in enumerate(header, 1) if c not in columns]
        missing = [c for c in self.format.required if c not in header]
        twice = sorted({c for c in header if header.count(c) > 1})
        problems = []
        if unknown:
            problems.append(Problem(line, "header", f"unknown column(s): {', '.join(unknown)} "
                                                    f"(expected: {', '.join(columns)})"))
        if missing:
            problems.append(Problem(line, "header", f"missing column(s): {', '.join(missing)}"))
        if twice:
            problems.append(Problem(line, "header", f"column(s) named twice: {', '.join(twice)}"))
        return problems

    def chunks(self) -> Iterator[RowChunk]:
        """The records after the header, ``chunk_rows`` at a time, read into typed rows."""
        header, lines, read = self._header, self._lines, self.format.read
        reader = RowReader(frozenset(header), self.base_dir)
        rows: list[ImportRow] = []
        records = 0
        end = lines.number  # a record starts on the line after the previous one ends
        try:
            for cells in csv.reader(self._iterator, delimiter=self._delimiter):
                line, end = end + 1, lines.number
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                self.rows += 1
                records += 1
                if len(cells) != len(header):
                    reader.add(line, "", f"{len(cells)} cells where the header names {len(header)}")
                else:
                    row = read(reader, Record(line, dict(zip(header, cells, strict=True))))
                    if row is not None:
                        rows.append(row)
                if records >= self.chunk_rows:
                    yield RowChunk(rows, reader.problems)
                    rows, reader.problems, records = [], [], 0
                    self._report()
        except csv.Error as exc:
            reader.add(lines.number, "", f"not readable as CSV ({exc})")
        if rows or reader.problems:
            yield RowChunk(rows, reader.problems)
        self._report()

    def _report(self) -> None:
        if self.progress:
            self.progress(self._lines.bytes_read, self.size, self.rows)
