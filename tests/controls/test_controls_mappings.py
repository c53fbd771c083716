"""Mapping files: checked at load, with the file and line of every problem; selection; user folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from rootaudit import controls
from rootaudit.mappings import MappingError, parse_framework, parse_frameworks, read_mapping_files, select
from rootaudit.resources import mappings_dir

GOOD = """\
id: acme-root-policy
framework: ACME root policy
version: "1"
controls:
  - id: R1
    title: No root access keys anywhere
    scope: [member_accounts, management_account]
    signals: {all: [ROOT_ACCESS_KEYS_ABSENT]}
    basis: rationale
  - id: R2
    title: Root usage is alarmed or centrally managed
    scope: [organization]
    signals: {any: [RCM_ENABLED, ROOT_SESSIONS_ENABLED]}
    basis: published
    source: ACME policy 4.2
"""


def test_package_mappings_load_and_are_listed():
    listed = controls.list_frameworks()
    ids = {f["id"] for f in listed}
    assert {f"cis-aws-{v}" for v in ("1.4.0", "1.5.0", "2.0.0", "3.0.0", "4.0.1", "5.0.0", "6.0.0",
                                      "7.0.0")} <= ids
    assert {"aws-securityhub", "soc2-2017-tsc", "iso27001-2022", "iso27001-2013", "nist-800-53-r5",
            "pci-dss-4.0.1", "nist-csf-2.0", "hipaa-security-rule"} <= ids
    assert all(f["controls"] > 0 for f in listed)
    assert next(f for f in listed if f["id"] == "cis-aws-2.0.0")["unverified"] == 2


@pytest.mark.parametrize(("replace", "by", "message", "line"), [
    ("ROOT_ACCESS_KEYS_ABSENT]", "ROOT_KEYS_GONE]", "unknown signal(s) ROOT_KEYS_GONE", 8),
    ("scope: [organization]", "scope: [galaxy]", "scope must be one or more of", 12),
    ("basis: rationale", "basis: gut-feeling", "basis must be one of", 9),
    ("    source: ACME policy 4.2\n", "", "source is required", 10),
    ("{all: [ROOT_ACCESS_KEYS_ABSENT]}", "[ROOT_ACCESS_KEYS_ABSENT]", "exactly one of 'all' or 'any'", 8),
    ("    basis: rationale\n", "    basis: rationale\n    severity: high\n", "unknown key(s) severity", 10),
    ("  - id: R2", "  - id: R1", "control R1 is defined twice (first at line 5)", 10),
    ("title: No root access keys anywhere", "title: [unclosed", "not valid YAML", 7),
])
def test_malformed_mapping_names_file_and_line(replace, by, message, line):
    assert replace in GOOD
    with pytest.raises(MappingError) as info:
        parse_framework(GOOD.replace(replace, by).encode(), "acme.yaml")
    text = str(info.value)
    assert message in text
    assert text.startswith(f"acme.yaml:{line}")


def test_not_applicable_rule_and_manual_are_checked():
    bad_rule = GOOD.replace("    basis: rationale\n", "    basis: rationale\n    not_applicable: "
                            "{when: because, justification: x}\n", 1)
    with pytest.raises(MappingError, match="unknown not_applicable rule 'because'"):
        parse_framework(bad_rule.encode(), "acme.yaml")
    no_signals = GOOD.replace("    signals: {all: [ROOT_ACCESS_KEYS_ABSENT]}\n", "", 1)
    with pytest.raises(MappingError, match="without signals must be manual"):
        parse_framework(no_signals.encode(), "acme.yaml")


def test_user_mapping_folder_is_added_and_selectable(tmp_path, snapshot_of):
    (tmp_path / "acme.yaml").write_text(GOOD, encoding="utf-8")
    assert "acme-root-policy" in {f["id"] for f in controls.list_frameworks([tmp_path])}
    snap = snapshot_of(["clean_rcm", "active_key"])
    for name in ("acme-root-policy", "acme"):  # by id or by file stem
        results = controls.evaluate(snap, [name], mapping_dirs=[tmp_path])
        assert list(results.inputs) == ["mappings/acme.yaml"]
        cr = results.control_results.set_index(["control_id", "account_id"])
        assert cr.loc[("R1", "111111111104"), "status"] == "FAIL"
        assert cr.loc[("R1", "111111111101"), "status"] == "PASS"
        assert cr.loc[("R1", "111111111101"), "basis"] == "rationale"


def test_name_clash_with_package_mappings_is_an_error(tmp_path):
    (tmp_path / "cis-aws-7.0.0.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(MappingError, match="already came from"):
        controls.list_frameworks([tmp_path])
    (tmp_path / "cis-aws-7.0.0.yaml").unlink()
    (tmp_path / "mine.yaml").write_text(GOOD.replace("acme-root-policy", "cis-aws-7.0.0"), encoding="utf-8")
    with pytest.raises(MappingError, match=r"framework id cis-aws-7\.0\.0 is also defined"):
        controls.list_frameworks([tmp_path])


def test_unknown_framework_selection_lists_the_known():
    frameworks = parse_frameworks(read_mapping_files([mappings_dir()]))
    with pytest.raises(MappingError, match=r"unknown framework 'cis-9'.*cis-aws-7.0.0"):
        select(frameworks, ["cis-9"])
    assert [f.id for f in select(frameworks, ["soc2-2017-tsc", "cis-aws-7.0.0"])] == ["soc2-2017-tsc",
                                                                                      "cis-aws-7.0.0"]


def test_mappings_reach_the_package_through_the_data_link():
    assert (mappings_dir() / "cis-aws-7.0.0.yaml").is_file()
    assert (mappings_dir() / "README.md").is_file()
    assert mappings_dir().resolve() == (Path(__file__).resolve().parents[2] / "mappings").resolve()
