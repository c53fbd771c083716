"""Mapping files: checked at load, with the file and line of every problem; selection; user folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from rootaudit import controls
from rootaudit.controls.mappings import (
    MappingError,
    parse_framework,
    parse_frameworks,
    read_mapping_files,
    select,
)
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
    assert next(f for f in listed if f["id"] == "cis-aws-2.0.0")["not_checked"] == 2


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
        assert cr.loc[("R1", "111111111101"), "basis"] == (
            "Mapping by rationale (rootaudit's reasoning, not a published crosswalk).")
        org = results.control_results
        assert set(org.loc[org["control_id"] == "R2", "basis"]) == {"Published mapping: ACME policy 4.2."}


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


# The current version of each framework family: what `rootaudit report` evaluates when none is named.
CURRENT = ["aws-securityhub", "cis-aws-7.0.0", "hipaa-security-rule", "iso27001-2022", "nist-800-53-r5",
           "nist-csf-2.0", "pci-dss-4.0.1", "soc2-2017-tsc"]


def test_default_selection_is_the_current_version_of_each_family(snapshot_of):
    listed = controls.list_frameworks()
    assert sorted(f["id"] for f in listed if f["default"]) == CURRENT
    superseded = {f["id"] for f in listed if not f["default"]}
    assert superseded == {f"cis-aws-{v}" for v in ("1.4.0", "1.5.0", "2.0.0", "3.0.0", "4.0.1", "5.0.0",
                                                   "6.0.0")} | {"iso27001-2013"}
    results = controls.evaluate(snapshot_of(["clean_rcm"]))
    assert sorted(f["id"] for f in results.frameworks) == CURRENT
    assert sorted(results.inputs) == [f"mappings/{i}.yaml" for i in CURRENT]
    assert set(results.control_results.version) >= {"7.0.0", "2022 (Annex A)"}
    assert not set(results.control_results.version) & {"5.0.0", "2013 (Annex A)"}


def test_all_default_and_named_older_versions_are_selectable():
    frameworks = parse_frameworks(read_mapping_files([mappings_dir()]))
    assert [f.id for f in select(frameworks, ["all"])] == [f.id for f in frameworks]
    assert len(frameworks) == 16
    assert sorted(f.id for f in select(frameworks, None)) == CURRENT
    assert sorted(f.id for f in select(frameworks, ["default"])) == CURRENT
    older = select(frameworks, ["cis-aws-5.0.0", "iso27001-2013"])
    assert [f.id for f in older] == ["cis-aws-5.0.0", "iso27001-2013"]
    both = select(frameworks, ["default", "cis-aws-5.0.0", "cis-aws-7.0.0"])  # no framework twice
    assert sorted(f.id for f in both) == sorted([*CURRENT, "cis-aws-5.0.0"])


def test_family_and_supersedes_are_checked(tmp_path):
    v2 = GOOD.replace('version: "1"', 'version: "2"\nfamily: acme\nsupersedes: [acme-root-policy]')
    v2 = v2.replace("id: acme-root-policy", "id: acme-root-policy-2")
    (tmp_path / "acme.yaml").write_text(GOOD.replace('version: "1"', 'version: "1"\nfamily: acme'), "utf-8")
    (tmp_path / "acme-2.yaml").write_text(v2, encoding="utf-8")
    listed = {f["id"]: f for f in controls.list_frameworks([tmp_path])}
    assert listed["acme-root-policy-2"]["default"] and not listed["acme-root-policy"]["default"]
    assert listed["acme-root-policy-2"]["family"] == "acme"
    # a misspelt supersedes leaves two current versions of one family: an error naming both
    (tmp_path / "acme-2.yaml").write_text(v2.replace("[acme-root-policy]", "[acme-root-polcy]"), "utf-8")
    with pytest.raises(MappingError, match="family acme has two current versions, acme-root-policy"):
        controls.list_frameworks([tmp_path])
    # superseding a framework of another family is an error
    (tmp_path / "acme-2.yaml").write_text(v2.replace("[acme-root-policy]", "[soc2-2017-tsc]"), "utf-8")
    with pytest.raises(MappingError, match=r"supersedes soc2-2017-tsc .* family soc2, not acme"):
        controls.list_frameworks([tmp_path])
    for bad, message in (("supersedes: acme-root-policy", "supersedes must be a list"),
                         ("supersedes: [acme-root-policy-2]", "cannot supersede itself")):
        text = v2.replace("supersedes: [acme-root-policy]", bad)
        with pytest.raises(MappingError, match=message):
            parse_framework(text.encode(), "acme-2.yaml")
    # a file without family is a family of its own, current unless superseded
    (tmp_path / "acme-2.yaml").unlink()
    (tmp_path / "acme.yaml").write_text(GOOD, encoding="utf-8")
    assert {f["id"]: f["default"] for f in controls.list_frameworks([tmp_path])}["acme-root-policy"]


def test_frameworks_command_marks_the_defaults(capsys):
    from rootaudit.cli import main

    assert main(["frameworks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if "evaluated by default" not in line]
    marked = {line.split()[1] for line in rows if line.startswith("* ")}
    unmarked = {line.split()[0] for line in rows if line.startswith("  ")}
    assert marked == set(CURRENT)
    assert "cis-aws-5.0.0" in unmarked and "iso27001-2013" in unmarked and not marked & unmarked
    assert any("--frameworks all" in line for line in lines)


def test_every_basis_is_a_sentence_and_none_says_unverified_or_from_memory():
    """What reaches a pack (the mapping files under inputs/, each control's basis) says what a mapping
    rests on in words: published with its sources, or rootaudit's rationale."""
    import re

    from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
    from rootaudit.resources import mappings_dir

    files = read_mapping_files([mappings_dir()])
    for name, data in files.items():
        text = data.decode("utf-8")
        assert not re.search(r"unverified|from memory|\s-\sverify\b", text, re.IGNORECASE), name
    for fw in parse_frameworks(files):
        for c in fw.controls:
            basis = c.basis_text()
            assert basis.startswith(("Published mapping", "Mapping by rationale")), (fw.id, c.id)
            assert basis != "rationale: rationale" and "UNVERIFIED" not in basis, (fw.id, c.id)
            if c.unverified:
                assert basis.startswith("Mapping by rationale") and c.unverified in basis, (fw.id, c.id)
            if c.basis == "published" and not c.unverified:
                assert basis.startswith("Published mapping: "), (fw.id, c.id)
