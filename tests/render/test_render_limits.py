"""Every text field that reaches a renderer has a stated maximum length (model.TEXT_LIMITS): a longer
value is cut visibly, saying where it is whole, and the data files keep it whole."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from rootaudit.render.model import DEFAULT_TEXT_LIMIT, TEXT_LIMITS, bounded, build_report, shorten
from rootaudit.render.pack import write_pack
from rootaudit.render.pdf import render_html
from rootaudit.snapshot import Snapshot, conform
from tests.support.sample import sample_results, sample_snapshot

HUGE = 100_000


def _hostile() -> tuple[Snapshot, str, str]:
    """The sample organization with a 100,000-character name on an account that holds root
    credentials and a 100,000-character reason on the account not assessed."""
    snap = sample_snapshot(accounts=12, with_credentials=2, not_assessed=1, sessions=2, hostile_names=False)
    accounts, creds = snap["accounts"].copy(), snap["root_credentials"].copy()
    holder = creds.loc[creds["password_present"].fillna(False).astype(bool), "account_id"].iloc[0]
    unassessed = creds.loc[creds["assessment"] == "not_assessed", "account_id"].iloc[0]
    accounts.loc[accounts["account_id"] == holder, "name"] = "N" * HUGE
    creds.loc[creds["account_id"] == unassessed, "reason"] = "R" * HUGE
    frames = {**snap.frames, "accounts": conform("accounts", accounts),
              "root_credentials": conform("root_credentials", creds)}
    return Snapshot(meta=snap.meta, frames=frames, raw=snap.raw), holder, unassessed


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    if hasattr(value, "__dict__"):
        return _strings(vars(value))
    return []


def test_a_long_value_is_cut_visibly_with_where_it_is_whole() -> None:
    assert shorten("abc", 3) == "abc"
    cut = shorten("x" * 500, 100, "data/accounts.csv, column name")
    assert cut.startswith("x" * 99 + "… [cut: whole in data/accounts.csv, column name]")
    rows = bounded([{"name": "n" * 1000, "reason": "r" * 10, "unnamed": "u" * 1000, "count": 3}],
                   "data/accounts.csv")
    assert rows[0]["name"].startswith("n" * (TEXT_LIMITS["name"] - 1) + "… [cut: whole in data/accounts.csv, "
                                      "column name]")
    assert rows[0]["reason"] == "r" * 10 and rows[0]["count"] == 3
    assert rows[0]["unnamed"].startswith("u" * (DEFAULT_TEXT_LIMIT - 1) + "…")


def test_no_text_the_report_shows_outgrows_its_limit() -> None:
    snap, holder, unassessed = _hostile()
    report = build_report(snap, sample_results(snap))
    longest_limit = max([*TEXT_LIMITS.values(), DEFAULT_TEXT_LIMIT, 900])  # 900: the claim
    pointer = len("… [cut: whole in section 5, and workbook sheet Accounts, column reason]")
    too_long = [s[:60] for s in _strings(report) if len(s) > longest_limit + pointer + 80]
    assert not too_long, too_long
    html = render_html(report).replace("<wbr>", "")
    assert not re.search("N{61}", html) and not re.search("R{481}", html)
    assert "… [cut: whole in workbook sheet Accounts, column name]" in html
    assert "… [cut: whole in workbook sheet Accounts, column reason]" in html
    assert holder in html and unassessed in html


def test_the_data_files_keep_the_whole_value(tmp_path: Path) -> None:
    snap, holder, unassessed = _hostile()
    paths = write_pack(snap, sample_results(snap), tmp_path)
    accounts = {r["account_id"]: r for r in csv.DictReader(io.StringIO(
        (paths.folder / "data" / "accounts.csv").read_text(encoding="utf-8")))}
    creds = {r["account_id"]: r for r in csv.DictReader(io.StringIO(
        (paths.folder / "data" / "root_credentials.csv").read_text(encoding="utf-8")))}
    assert accounts[holder]["name"] == "N" * HUGE
    assert creds[unassessed]["reason"] == "R" * HUGE


def test_names_from_a_users_mapping_folder_are_held_to_their_limits_too() -> None:
    snap = sample_snapshot(accounts=6, with_credentials=1, not_assessed=1, sessions=1, hostile_names=False)
    results = sample_results(snap)
    cr = results.control_results.copy()
    cr["framework"] = "F" * 10_000
    first = cr["control_id"].iloc[0]
    cr.loc[cr["control_id"] == first, "control_id"] = "C" * 10_000
    cr["title"] = "T" * 10_000
    results.control_results = cr
    results.frameworks = [{**f, "framework": "F" * 10_000, "file": "x" * 10_000} for f in results.frameworks]
    results.inputs = {**results.inputs, "mappings/" + "m" * 10_000 + ".yaml": b""}
    html = render_html(build_report(snap, results)).replace("<wbr>", "")
    for letter, limit in (("F", TEXT_LIMITS["framework"]), ("C", TEXT_LIMITS["control_id"]),
                          ("T", 240), ("x", TEXT_LIMITS["file"]), ("m", 120)):
        assert not re.search(f"{letter}{{{limit + 1}}}", html), letter
        assert re.search(f"{letter}{{{limit // 2}}}", html), letter  # shown, cut, not dropped
    assert "… [cut: whole in data/control_results.csv" in html
