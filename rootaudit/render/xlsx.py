"""The workbook: every population on its own sheet, as an Excel table with filters and a frozen header.

Cell text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is stored as a text cell
with Excel's quote prefix: the exact text is kept and shown, and never evaluated. The bytes depend only
on the snapshot and results: document times are the collection time and zip entries are restamped.

openpyxl makes the workbook (sheets, styles, tables, frozen headers, conditional formats) and each
sheet's header row; the data rows are written by `sheetxml` and spliced in after saving, because
openpyxl's per-cell element trees took most of the pack's time at 5,000 accounts (about two million
cells: 20 s, against about 2 s this way).
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.packaging.core import DocumentProperties
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.views import Pane, Selection
from openpyxl.xml.functions import tostring

from rootaudit.controls.results import Results
from rootaudit.render import labels
from rootaudit.render.model import (
    account_table,
    build_population,
    claim_made,
    control_sort_key,
    meta_of,
    shorten,
)
from rootaudit.render.sheetnames import sheet_title
from rootaudit.render.sheetxml import (
    FORMULA_STARTS,
    ExcelTime,
    is_formula_like,
    plain,
    rows_xml_pieces,
    splice_pieces,
)
from rootaudit.render.zipfiles import zip_entries, zip_time
from rootaudit.signing.record import signature_summary
from rootaudit.snapshot import ALL_SCHEMAS, Snapshot

__all__ = ["FORMULA_STARTS", "framework_matrix", "is_formula_like", "render_xlsx", "sheet_title"]
MAX_WIDTH = 60
MIN_WIDTH = 8
# Times are Excel dates in UTC (the frames' zone), shown to the second; their column names say UTC.
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
TIME_SUFFIX = " (UTC)"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Text columns of the result frames that hold a date (an exception's expiry): dates in the workbook too;
# a value that is not a date (a malformed exception's) stays text.
SHEET_TIMES = {"exceptions": {"expires": "time"}}
# The Summary sheet's text values are short: a longer one (the headline) is cut, saying where it is whole.
SUMMARY_TEXT_CHARS = 200
# Status colours for conditional formatting: value -> (fill, font colour).
STATUS_COLOURS = {
    "PASS": ("D9F2DF", "11602A"),
    "FAIL (accepted)": ("FDE9C8", "7A4A00"),
    "FAIL": ("F9D6D5", "8A1410"),
    "NOT_ASSESSED": ("E4E0F5", "3B2A86"),
    "MANUAL": ("FFF3BF", "6B5400"),
    "NOT_APPLICABLE": ("E8E8E8", "444444"),
    "accepted": ("FDE9C8", "7A4A00"),
    "not_assessed": ("E4E0F5", "3B2A86"),
    "active_credentials": ("F9D6D5", "8A1410"),
    "other_residue": ("FDE9C8", "7A4A00"),
    "clean": ("D9F2DF", "11602A"),
    "limited": ("E8E8E8", "444444"),
    "expired": ("F9D6D5", "8A1410"),
    "malformed": ("F9D6D5", "8A1410"),
    "active": ("FDE9C8", "7A4A00"),
    "error": ("F9D6D5", "8A1410"),
    "failed": ("F9D6D5", "8A1410"),
    "skipped": ("F9D6D5", "8A1410"),
    "partial": ("FFF3BF", "6B5400"),
    "not_covered": ("FFF3BF", "6B5400"),
}
ORGANIZATION_ROW = "(organization)"
STATUS_COLUMNS = {"status", "posture", "assessment", "exception_status", "outcome", "value"}


class _Writer:
    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.titles: set[str] = set()
        self.tables = 0
        # each sheet's data rows, written as XML into the saved workbook one sheet at a time (`_finish`),
        # so that only one sheet's XML is in memory at once
        self.bodies: list[tuple[Any, Sequence[Sequence[Any]] | FrameRows]] = []
        self.quote_style: int | None = None
        self.date_style: int | None = None

    def _date_style(self, ws: Any) -> int:
        """The workbook's style index of a date cell (registered once, on first use)."""
        if self.date_style is None:
            cell = WriteOnlyCell(ws, value=datetime(2000, 1, 1))
            cell.number_format = DATE_FORMAT
            self.date_style = cell.style_id
        return self.date_style

    def _quote_style(self, ws: Any) -> int:
        """The workbook's style index of a quote-prefixed cell (registered once, on first use)."""
        if self.quote_style is None:
            cell = WriteOnlyCell(ws, value="'")
            cell.quotePrefix = True
            self.quote_style = cell.style_id
        return self.quote_style

    def sheet(
        self,
        name: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]] | FrameRows,
        status_columns: Iterable[str] = (),
    ) -> None:
        ws = self.wb.create_sheet(sheet_title(name, self.titles))
        rows = rows if isinstance(rows, list | FrameRows) else list(rows)
        widths = [max(MIN_WIDTH, min(MAX_WIDTH, len(c) + 2)) for c in columns]
        for row in rows[:500]:  # widths from a sample: readable, and cheap on big sheets
            for i, v in enumerate(row):
                shown = plain(v)
                if isinstance(shown, ExcelTime):
                    widths[i] = max(widths[i], len(DATE_FORMAT) + 2)
                elif shown is not None:
                    widths[i] = max(widths[i], min(MAX_WIDTH, len(str(shown)) + 2))
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.sheet_view.pane = Pane(ySplit=1, topLeftCell="A2", activePane="bottomLeft", state="frozen")
        ws.sheet_view.selection = [Selection(pane="bottomLeft", activeCell="A2", sqref="A2")]
        header = []
        for c in columns:
            cell = WriteOnlyCell(ws, value=c)
            cell.font = Font(bold=True)
            header.append(cell)
        ws.append(header)
        if not len(rows):
            rows = [["(no rows)"] + [None] * (len(columns) - 1)]
        self._quote_style(ws)
        self._date_style(ws)
        self.bodies.append((ws, rows))
        last = f"{get_column_letter(len(columns))}{len(rows) + 1}"
        self.tables += 1
        table = Table(
            displayName=f"T{self.tables}_{re.sub(r'[^A-Za-z0-9_]', '_', name)[:40]}", ref=f"A1:{last}"
        )
        table.tableColumns = [TableColumn(id=i, name=c) for i, c in enumerate(columns, start=1)]
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        with warnings.catch_warnings():
            # openpyxl always warns in write-only mode; the columns are set just above.
            warnings.simplefilter("ignore", UserWarning)
            ws.add_table(table)
        for i, c in enumerate(columns, start=1):
            if c in STATUS_COLUMNS or c in set(status_columns):
                col = get_column_letter(i)
                rng = f"{col}2:{col}{len(rows) + 1}"
                for value, (fill, font) in STATUS_COLOURS.items():
                    ws.conditional_formatting.add(
                        rng,
                        CellIsRule(
                            operator="equal",
                            formula=[f'"{value}"'],
                            fill=PatternFill(start_color=fill, end_color=fill, fill_type="solid"),
                            font=Font(color=font),
                        ),
                    )


def framework_matrix(
    results: pd.DataFrame, names: dict[str, Any]
) -> tuple[list[str], list[str], list[list[Any]]]:
    """One framework's results as a matrix: a row per account (the organization first), a column per
    control, each cell the status ("FAIL (accepted)" where an exception accepts it).

    Every account's status for every control stays filterable; the long per-account rationales are
    in the "Control results" sheet for the findings and in data/control_results.csv for all.
    """
    accepted = (results["status"] == "FAIL") & (results["exception_status"] == "accepted").fillna(False)
    status = results["status"].astype(object).where(~accepted, "FAIL (accepted)")
    frame = pd.DataFrame(
        {
            "account_id": results["account_id"].astype(object).fillna(ORGANIZATION_ROW),
            "control_id": results["control_id"].astype(object),
            "status": status,
        }
    )
    frame = frame.drop_duplicates(["account_id", "control_id"])
    controls = sorted(frame["control_id"].unique(), key=control_sort_key)
    matrix = frame.pivot(index="account_id", columns="control_id", values="status").reindex(columns=controls)
    order = sorted(matrix.index, key=lambda a: (a != ORGANIZATION_ROW, a))
    matrix = matrix.reindex(order)
    columns = ["account_id", "name", *controls]
    rows = [
        [acct, names.get(acct), *values]
        for acct, values in zip(
            matrix.index, matrix.astype(object).itertuples(index=False, name=None), strict=True
        )
    ]
    return columns, controls, rows


def excel_times(series: pd.Series) -> pd.Series:
    """ISO-8601 UTC text as Excel dates (ExcelTime); a value that is not a time stays as its text, so
    nothing is lost, and an empty one stays empty."""
    moments = pd.to_datetime(series.astype("string"), utc=True, errors="coerce", format="ISO8601")
    serials = (moments.dt.tz_convert(None) - _EXCEL_EPOCH) / pd.Timedelta(days=1)
    out = series.astype(object).where(series.notna(), None)
    parsed = serials.notna()
    out[parsed] = [ExcelTime(float(v)) for v in serials[parsed]]
    return out


class FrameRows:
    """A frame's rows as a sheet writes them, made a chunk at a time when the sheet's XML is written:
    the workbook holds its frames, not every cell of every sheet as a Python object at once (at 5,000
    accounts the findings sheet alone was millions of cells)."""

    CHUNK = 5000

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, rows: slice) -> list[tuple[Any, ...]]:
        return _frame_rows(self.frame.iloc[rows])

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for start in range(0, len(self.frame), self.CHUNK):
            yield from self[start:start + self.CHUNK]


def typed_frame(frame: pd.DataFrame, kinds: dict[str, str]) -> tuple[list[str], FrameRows]:
    """A frame as a sheet's columns and rows with real types: times as Excel dates (the column's name
    says UTC), booleans and counts as the frame holds them (bool, int); `kinds`: column -> schema kind."""
    frame = frame.copy()
    columns = []
    for col in frame.columns:
        if kinds.get(col) == "time":
            frame[col] = excel_times(frame[col])
            columns.append(col + TIME_SUFFIX)
        else:
            columns.append(col)
    return columns, FrameRows(frame)


def _frame_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return list(frame.astype(object).itertuples(index=False, name=None))


def _moment(iso: str) -> datetime:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    except (ValueError, AttributeError):
        return datetime(1980, 1, 1)


def _when(iso: str) -> Any:
    """A summary time as an Excel date (UTC), or its text when it is not a time."""
    serial = excel_times(pd.Series([iso or None], dtype="string")).iloc[0]
    return serial if serial is not None else ""


def signature_rows(snapshot: Snapshot, digest: str) -> list[tuple[str, Any]]:
    """The collection's signature as the Summary sheet shows it."""
    sig = signature_summary(snapshot.signature, digest)
    if sig is None:
        return [("Signature", "unsigned: the collection was not signed (collect --sign-with)")]
    if "unreadable" in sig:
        return [("Signature", f"unreadable: {sig['unreadable']}")]
    return [("Signature", f"{sig['algorithm']} ({sig['key_source']})" + (
                "" if sig["matches"] else "; it signs another snapshot digest: changed after collection")),
            ("Signing key", sig["key_id"]), ("Signed at", sig["signed_at"]),
            ("Public key SHA-256", sig["public_key_sha256"])]


def summary_rows(snapshot: Snapshot, results: Results, digest: str | None = None) -> list[tuple[str, Any]]:
    """The Summary sheet: short labelled figures (numbers as numbers, times as dates, flags as
    booleans), counted from the report's one population."""
    m = meta_of(snapshot)
    population = build_population(snapshot)
    headline = results.headline
    rows: list[tuple[str, Any]] = [
        ("Organization", m.organization_id),
        ("Management account", m.management_account_id),
        ("Audit period", m.period_label),
        ("Period start" + TIME_SUFFIX, _when(m.period_start)),
        ("Period end, exclusive" + TIME_SUFFIX, _when(m.period_end)),
        ("Evidence collected" + TIME_SUFFIX, _when(m.collected_at)),
        ("Collected by", shorten(m.collector, SUMMARY_TEXT_CHARS, "snapshot.json")),
        ("Tool version", m.tool_version),
        ("Snapshot digest (SHA-256)", digest or snapshot.digest()),
        ("Clean headline stated", claim_made(headline)),
        ("Headline", shorten(str(headline.get("claim") or ""), SUMMARY_TEXT_CHARS,
                             "the PDF's executive summary")),
        ("Accounts in the organization", population.listed),
        ("Member accounts", population.members),
        ("Member accounts assessed", population.members_assessed),
        ("Member accounts not assessed", population.members_not_assessed),
        ("Member accounts not active (not assessed)", population.members_not_active),
        ("Management account assessed", bool(population.management_assessed)),


        *signature_rows(snapshot, digest or snapshot.digest()),
    ]
    for key, label in (("with_active_root_credentials", "Member accounts with active root credentials"),
                       ("with_other_residue", "Member accounts with other root residue")):
        if isinstance(headline.get(key), int) and not isinstance(headline.get(key), bool):
            rows.append((label, headline[key]))
    cr = results.control_results
    org_level = cr[cr["account_id"].isna()]
    for (fw, ver), grp in org_level.groupby(["framework", "version"], sort=True):
        counts = grp["status"].value_counts()
        for status in ("FAIL", "NOT_ASSESSED", "MANUAL", "PASS", "NOT_APPLICABLE"):
            rows.append((f"{fw} {ver}: controls {labels.status(status).lower()}", int(counts.get(status, 0))))
    activity = snapshot["root_activity"]
    calls = snapshot["api_calls"]
    rows += [
        ("Privileged (AssumeRoot) sessions",
         len(results.privileged_sessions) or len(snapshot["privileged_sessions"])),
        ("Root console sign-ins", int((activity["kind"] == "console_login").sum())),
        ("Calls with a long-term root key", int((activity["kind"] == "long_term_key").sum())),
        ("Root activity events", len(activity)),
        ("API calls", len(calls)),
        ("API calls that ended in an error", int((calls["outcome"] == "error").sum()) if len(calls) else 0),
    ]
    return rows


def _account_kinds() -> dict[str, str]:
    return {**ALL_SCHEMAS["accounts"], **ALL_SCHEMAS["root_credentials"]}


def render_xlsx(snapshot: Snapshot, results: Results, digest: str | None = None,
                extra_sheets: Iterable[tuple[str, list[str], list[list[Any]]]] = ()) -> bytes:
    """The workbook's bytes. `digest`: the snapshot's, when the caller has it. `extra_sheets`: (title,
    columns, rows) added last (the history's sheets)."""
    wb = Workbook(write_only=True)
    w = _Writer(wb)
    w.sheet("Summary", ["item", "value"], summary_rows(snapshot, results, digest))
    cr = results.control_results
    names = dict(zip(snapshot["accounts"]["account_id"], snapshot["accounts"]["name"], strict=True))
    ids = {(f.get("framework"), f.get("version")): f.get("id") for f in results.frameworks}
    for (fw, ver), grp in cr.groupby(["framework", "version"], sort=True):
        columns, controls, rows = framework_matrix(grp, names)
        w.sheet(ids.get((fw, ver)) or f"{fw} {ver}", columns, rows, status_columns=controls)
    findings = cr[cr["account_id"].isna() | ~cr["status"].isin(["PASS", "NOT_APPLICABLE"])]
    w.sheet("Control results", list(findings.columns), FrameRows(findings))
    w.sheet("Accounts", *typed_frame(account_table(snapshot), _account_kinds()))
    for title, name, frame in (
        ("Root credentials", "root_credentials", snapshot["root_credentials"]),
        ("Credential items", "root_credential_items", snapshot["root_credential_items"]),
        (
            "Privileged sessions",
            "privileged_sessions",
            results.privileged_sessions
            if len(results.privileged_sessions)
            else snapshot["privileged_sessions"],
        ),
        ("Root activity", "root_activity", snapshot["root_activity"]),
        ("Monitoring", "monitoring", snapshot["monitoring"]),
        ("Exceptions", "exceptions", results.exceptions),
        ("Sources", "sources", snapshot["sources"]),
        ("API calls", "api_calls", snapshot["api_calls"]),
        ("Signals", "signals", results.signals),
    ):
        w.sheet(title, *typed_frame(frame, {**ALL_SCHEMAS.get(name, {}), **SHEET_TIMES.get(name, {})}))
    for title, columns, rows in extra_sheets:
        w.sheet(title, columns, rows)
    collected = meta_of(snapshot).collected_at
    moment = _moment(collected)
    wb.properties.creator = f"rootaudit {meta_of(snapshot).tool_version}"
    wb.properties.created = moment
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps "modified" with the wall clock at save: write the document properties again.
    props = DocumentProperties(
        creator=wb.properties.creator,
        created=moment,
        modified=moment,
        title=f"Root access evidence {meta_of(snapshot).organization_id}",
        # verify checks that the workbook carries the digest of the snapshot it was rendered from
        keywords=f"snapshot-sha256:{digest or snapshot.digest()}",
    )
    return _finish(
        buf.getvalue(),
        {ws.path.lstrip("/"): rows for ws, rows in w.bodies},
        w.quote_style or 0,
        w.date_style or 0,
        b"<?xml version='1.0' encoding='UTF-8'?>\n" + tostring(props.to_tree()),
        zip_time(collected),
    )


def _finish(
    data: bytes,
    bodies: Mapping[str, Iterable[Sequence[Any]]],
    quote_style: int,
    date_style: int,
    core: bytes,
    when: tuple[int, int, int, int, int, int],
) -> bytes:
    """The saved workbook with each sheet's data rows spliced in, the document properties replaced, and
    every entry stamped with the collection time, in openpyxl's entry order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        missing = sorted(set(bodies) - {i.filename for i in infos})
        if missing:
            raise ValueError(f"the saved workbook lacks the worksheet(s) {', '.join(missing)}")

        def content(name: str) -> bytes | Iterator[bytes]:
            if name == "docProps/core.xml":
                return core
            if name in bodies:
                rows = rows_xml_pieces(bodies[name], first_row=2, quote_style=quote_style,
                                       date_style=date_style)
                return splice_pieces(zf.read(name), rows)
            return zf.read(name)

        return zip_entries(((i.filename, content) for i in infos), when)
