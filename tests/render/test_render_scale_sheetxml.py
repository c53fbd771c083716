"""The workbook's data rows are written directly as XML (rootaudit.render.sheetxml): they must be the XML
openpyxl's write-only mode writes for the same values, and the workbook must read back cell for cell."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from rootaudit.render.sheetxml import (
    EXCEL_CELL_CHARS,
    excel_text,
    is_formula_like,
    plain,
    rows_xml,
    rows_xml_pieces,
    splice_pieces,
    splice_rows,
)
from rootaudit.render.zipfiles import zip_entries

VALUES = [None, "", "plain", "a & b <c> \"d\" 'e'", " lead", "trail ", "  ", "line\nbreak", "tab\tin",
          "Zoë — 東京 ✓ 🙂", "=1+1", "+cmd|' /C calc'!A0", "-2", "@SUM(A1)", "\t=1", "\r=1", "cr\r\nlf",
          0, 1, -7, 123456789012345678, 2.5, 1e-9, float("nan"), "_x000D_ literal", "'quoted", True, False]


def rows_of(values: list, width: int) -> list[list]:
    return [values[i:i + width] + [None] * (width - len(values[i:i + width]))
            for i in range(0, len(values), width)]


def openpyxl_sheet_data(rows: list[list]) -> tuple[bytes, int]:
    """What openpyxl itself writes for these rows (the way xlsx.py wrote cells before), and the style
    index it gave the quote-prefixed cells."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    quote = WriteOnlyCell(ws, value="'")
    quote.quotePrefix = True
    style = quote.style_id
    for row in rows:
        out = []
        for v in row:
            if isinstance(v, float) and v != v:
                v = None
            if isinstance(v, str):
                formula_like = is_formula_like(v)
                v = v.replace("\r", "_x000D_")
                if formula_like:
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    v = cell
            out.append(v)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    return re.search(rb"<sheetData>(.*)</sheetData>", xml, re.S).group(1), style


@pytest.mark.parametrize("width", [1, 3, 7])
def test_rows_are_the_xml_openpyxl_writes(width):
    rows = rows_of(VALUES, width)
    expected, style = openpyxl_sheet_data(rows)
    assert rows_xml(rows, first_row=1, quote_style=style) == expected


@pytest.mark.parametrize("per_piece", [1, 4, 1000])
def test_rows_written_in_pieces_are_the_same_bytes(per_piece):
    """A big sheet is written a piece at a time: joined, the pieces are the whole sheet's XML, numbered on
    across pieces, and a zip entry written from pieces equals one written whole."""
    rows = rows_of(VALUES * 3, 5)
    whole = rows_xml(rows, first_row=2, quote_style=1)
    pieces = list(rows_xml_pieces(rows, first_row=2, quote_style=1, rows_per_piece=per_piece))
    assert len(pieces) == -(-len(rows) // per_piece) and b"".join(pieces) == whole
    sheet = b"<worksheet><sheetData></sheetData></worksheet>"
    assert b"".join(splice_pieces(sheet, pieces)) == splice_rows(sheet, whole)
    as_bytes = zip_entries([("s.xml", lambda _: splice_rows(sheet, whole))])
    assert zip_entries([("s.xml", lambda _: splice_pieces(sheet, pieces))]) == as_bytes


def test_workbook_reads_back_cell_for_cell():
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    ws.append(["a", "b", "c"])
    quote = WriteOnlyCell(ws, value="'")
    quote.quotePrefix = True
    style = quote.style_id
    buf = io.BytesIO()
    wb.save(buf)
    rows = rows_of(VALUES, 3)
    with zipfile.ZipFile(buf) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["xl/worksheets/sheet1.xml"] = splice_rows(files["xl/worksheets/sheet1.xml"],
                                                    rows_xml(rows, first_row=2, quote_style=style))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    back = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["x"]
    got = list(back.iter_rows(min_row=2))
    assert len(got) == len(rows)
    for row, cells in zip(rows, got, strict=True):
        for value, cell in zip(row, cells, strict=False):
            if value is None or (isinstance(value, float) and value != value) or value == "":
                assert cell.value is None
            elif isinstance(value, str):
                assert cell.value == value.replace("\r", "_x000D_") and cell.data_type == "s"
                assert bool(cell.quotePrefix) == is_formula_like(value), value
            elif isinstance(value, bool):
                assert cell.value is value and cell.data_type == "b"
            else:
                assert cell.value == pytest.approx(value, rel=1e-15)


def test_what_openpyxl_would_refuse_or_misread_stays_text():
    # an error-code look-alike is text (openpyxl would write an error cell), a control character is
    # escaped as Excel does (openpyxl would refuse the whole workbook), an overlong text says it is cut
    xml = rows_xml([["#N/A", "bell\x07", "x" * (EXCEL_CELL_CHARS + 10)]], first_row=2, quote_style=1)
    assert b'<c r="A2" t="inlineStr"><is><t>#N/A</t></is></c>' in xml
    assert b"bell_x0007_" in xml
    cut = excel_text("x" * (EXCEL_CELL_CHARS + 10))
    assert len(cut) == EXCEL_CELL_CHARS and cut.endswith("the whole text is in the pack's CSV data)")



def test_frame_values_are_written_as_cells():
    import numpy as np
    import pandas as pd

    row = [pd.NA, np.nan, np.float64("nan"), True, np.bool_(False), np.int64(7), np.float64(2.5), None]
    assert [plain(v) for v in row] == [None, None, None, True, False, 7, 2.5, None]
    assert [type(plain(v)) for v in row[3:5]] == [bool, bool]
    assert rows_xml([row], first_row=2, quote_style=1) == rows_xml(
        [[None, None, None, True, False, 7, 2.5, None]], first_row=2, quote_style=1)


def test_times_read_back_as_dates_and_text_that_is_no_time_stays_text():
    import pandas as pd

    from rootaudit.render.xlsx import excel_times

    series = pd.Series(["2026-07-12T14:00:00Z", None, "not a time", "2026-07-12T14:00:00.250Z"],
                       dtype="string")
    cells = list(excel_times(series))
    assert cells[1] is None and cells[2] == "not a time"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    ws.append(["t"])
    date = WriteOnlyCell(ws, value=datetime(2000, 1, 1))
    date.number_format = "yyyy-mm-dd hh:mm:ss"
    style = date.style_id
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["xl/worksheets/sheet1.xml"] = splice_rows(
        files["xl/worksheets/sheet1.xml"],
        rows_xml([[c] for c in cells], first_row=2, quote_style=0, date_style=style))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    back = [c.value for c in openpyxl.load_workbook(io.BytesIO(out.getvalue()))["x"]["A"][1:]]
    assert back[0] == datetime(2026, 7, 12, 14, 0) and back[1] is None and back[2] == "not a time"
    assert back[3] == datetime(2026, 7, 12, 14, 0, 0, 250000)
    with pytest.raises(ValueError, match="date style"):
        rows_xml([[cells[0]]], first_row=2, quote_style=0)


def test_splice_needs_exactly_one_sheet_data():
    with pytest.raises(ValueError, match="exactly one"):
        splice_rows(b"<worksheet/>", b"<row/>")
