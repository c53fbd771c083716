"""A worksheet's rows as SpreadsheetML, written directly: the same XML openpyxl's write-only mode writes
for these values, at a fraction of the cost.

openpyxl builds an element tree per cell (about 10 µs a cell); a 5,000-account organization evaluated
against eight frameworks fills about two million cells. The workbook is still made by openpyxl (sheets,
styles, tables, frozen headers, conditional formats); only the data rows of each sheet are written here
and spliced into its `<sheetData>` after openpyxl has saved the workbook (`splice_rows`).

Cells: None (and NaN) is left out; an int or float is a number (`%.16g`, as openpyxl writes it); a
bool is a boolean cell; an `ExcelTime` is a number (Excel's day serial) in the workbook's date style;
text is an inline string. Text that a spreadsheet would run as a formula gets the quote-prefix style
(shown and kept as typed, never evaluated). Unlike openpyxl, text that looks like an error code (`#N/A`)
stays text, and control characters XML cannot carry are written with Excel's `_xHHHH_` escape instead of
failing the whole workbook. Text longer than a cell holds is cut with a note saying where it is whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML text cannot carry these; Excel reads _xHHHH_ back as the character. CR is escaped too: an XML
# reader would turn a raw CR into LF.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]")
EXCEL_CELL_CHARS = 32767
CUT_NOTE = " …(cut: the whole text is in the pack's CSV data)"


@dataclass(frozen=True, slots=True)
class ExcelTime:
    """A moment as Excel stores it: days since 1899-12-30 (UTC, the frames' zone), shown in the date style."""

    serial: float


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def excel_text(value: str) -> str:
    """Text as a cell stores it: unsafe control characters (and CR) escaped, cut to a cell's size."""
    value = _UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    if len(value) > EXCEL_CELL_CHARS:
        value = value[: EXCEL_CELL_CHARS - len(CUT_NOTE)] + CUT_NOTE
    return value


def _text_cell(value: str, quote_style: int) -> str:
    """The part of a text cell after its reference: `<c r="B2"` + this."""
    formula_like = is_formula_like(value)
    value = excel_text(value)
    if value == "":
        return ' t="inlineStr" />'
    style = f' s="{quote_style}"' if formula_like else ""
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f'{style} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'


def plain(value: Any) -> Any:
    """A frame's value as a cell value: None for NA/NaN, bool for booleans, Python numbers, ExcelTime,
    text."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, ExcelTime):
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, str | int | float):
        return value
    return str(value)


def rows_xml(
    rows: Iterable[Sequence[Any]], first_row: int, quote_style: int, date_style: int | None = None
) -> bytes:
    """`<row>` elements for the rows (values as a frame holds them, see `plain`), numbered from
    `first_row`; `quote_style` is the workbook's style index of a quote-prefixed cell, `date_style` that
    of a date cell (needed when a row holds an ExcelTime)."""
    letters: list[str] = []
    texts: dict[str, str] = {}  # value -> its cell's XML after the reference (values repeat a lot)
    out: list[str] = []
    for r, row in enumerate(rows, start=first_row):
        while len(letters) < len(row):
            letters.append(get_column_letter(len(letters) + 1))
        cells = [f'<row r="{r}">']
        for letter, value in zip(letters, row, strict=False):
            if value.__class__ is not str:  # text is by far the most common: test it first
                value = plain(value)
                if value is None:
                    continue
                if value.__class__ is bool:
                    cells.append(f'<c r="{letter}{r}" t="b"><v>{int(value)}</v></c>')
                    continue
                if value.__class__ is ExcelTime:
                    if date_style is None:
                        raise ValueError("a date cell needs the workbook's date style")
                    cells.append(f'<c r="{letter}{r}" s="{date_style}" t="n"><v>{value.serial:.16g}</v></c>')
                    continue
                if not isinstance(value, str):
                    number = "" if value in (float("inf"), float("-inf")) else f"{value:.16g}"
                    cells.append(f'<c r="{letter}{r}" t="n"><v>{number}</v></c>')
                    continue
            tail = texts.get(value)
            if tail is None:
                tail = texts[value] = _text_cell(value, quote_style)
            cells.append(f'<c r="{letter}{r}"{tail}')
        cells.append("</row>")
        out.append("".join(cells))
    return "".join(out).encode("utf-8")


def rows_xml_pieces(
    rows: Iterable[Sequence[Any]], first_row: int, quote_style: int, date_style: int | None = None,
    rows_per_piece: int = 5000,
) -> Iterator[bytes]:
    """`rows_xml`'s bytes a piece of `rows_per_piece` rows at a time (joined, the same bytes): a sheet of
    hundreds of thousands of rows is written without its whole XML in memory."""
    batch: list[Sequence[Any]] = []
    start = first_row
    for row in rows:
        batch.append(row)
        if len(batch) == rows_per_piece:
            yield rows_xml(batch, start, quote_style, date_style)
            start += len(batch)
            batch = []
    if batch:
        yield rows_xml(batch, start, quote_style, date_style)


def splice_pieces(sheet: bytes, rows: Iterable[bytes]) -> Iterator[bytes]:
    """`splice_rows`, as pieces: the sheet's XML up to the end of its `<sheetData>`, the rows, the rest."""
    head, tail = _sheet_data_parts(sheet)
    yield head
    yield from rows
    yield tail


def _sheet_data_parts(sheet: bytes) -> tuple[bytes, bytes]:
    marker = b"</sheetData>"
    if sheet.count(marker) != 1:
        raise ValueError("worksheet XML without exactly one </sheetData>: cannot add its rows")
    at = sheet.index(marker)
    return sheet[:at], sheet[at:]


def splice_rows(sheet: bytes, rows: bytes) -> bytes:
    """A saved worksheet's XML with `rows` added at the end of its `<sheetData>`."""
    head, tail = _sheet_data_parts(sheet)
    return head + rows + tail
