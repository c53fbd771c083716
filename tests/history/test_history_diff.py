"""`diff` between two quarters of one simulated organization reports exactly what changed between them:
one account gains a root password through an IAMCreateRootUserPassword session; one loses its access
key (and password and MFA device) through an IAMDeleteRootUserCredentials session; a newly invited
account arrives with root credentials; a risk acceptance expires."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootaudit.cli import main
from rootaudit.history.diff import DiffError, diff_packs
from rootaudit.history.diff_render import render_diff
from rootaudit.history.record import ledger_of

from .conftest import EXPIRING, Collected


@pytest.fixture(scope="module")
def diff(collected: Collected):
    return diff_packs(collected.records["earlier"], collected.records["later"],
                      ledger_of(collected.snapshots["later"]))


def test_accounts_added_and_changed_are_exactly_the_three(diff, collected: Collected) -> None:
    q = collected.quarters
    assert {(a.account_id, a.change) for a in diff.accounts} == {
        (q.invited, "added"), (q.password_created, "changed"), (q.cleaned, "changed")}
    by_id = {a.account_id: a for a in diff.accounts}
    assert by_id[q.password_created].fields == {"root": ("clean", "active")}
    assert by_id[q.cleaned].fields == {"root": ("active", "clean")}
    invited = by_id[q.invited]
    assert "INVITED" in invited.detail and "root active" in invited.detail
    assert {kind for kind, _, _ in invited.credentials} == {"password", "mfa_device"}


def test_an_account_gone_from_the_newer_pack_is_removed_as_the_older_showed_it(
        diff, collected: Collected) -> None:
    q = collected.quarters
    back = diff_packs(collected.records["later"], collected.records["earlier"])  # the other way round
    gone = {a.account_id: a for a in back.accounts}[q.invited]
    came = {a.account_id: a for a in diff.accounts}[q.invited]
    assert gone.change == "removed"
    assert (gone.name, gone.detail, gone.credentials) == (came.name, came.detail, came.credentials)
    assert [a.account_id for a in back.accounts] == sorted(a.account_id for a in back.accounts)


def test_credentials_appeared_and_removed_name_the_session_that_did_it(diff, collected: Collected) -> None:
    q = collected.quarters
    changes = {(c.account_id, c.kind, c.change): c for c in diff.credentials}
    assert set(changes) == {(q.password_created, "password", "appeared"),
                            (q.cleaned, "access_key", "removed"), (q.cleaned, "password", "removed"),
                            (q.cleaned, "mfa_device", "removed")}
    assert changes[(q.cleaned, "access_key", "removed")].credential_id == q.cleaned_key
    sessions = {s["event_id"]: s for s in ledger_of(collected.snapshots["later"]).sessions}
    for key, task, action in (((q.password_created, "password", "appeared"), "IAMCreateRootUserPassword",
                               "CreateLoginProfile"),
                              ((q.cleaned, "access_key", "removed"), "IAMDeleteRootUserCredentials",
                               "DeleteAccessKey"),
                              ((q.cleaned, "password", "removed"), "IAMDeleteRootUserCredentials",
                               "DeleteLoginProfile"),
                              ((q.cleaned, "mfa_device", "removed"), "IAMDeleteRootUserCredentials",
                               "DeactivateMFADevice")):
        [actor] = changes[key].by
        assert (actor.kind, actor.task_policy, actor.action) == ("assume_root", task, action)
        assert sessions[actor.event_id]["target_account"] == key[0]


def test_the_expired_acceptance_and_nothing_else(diff, collected: Collected) -> None:
    assert [(e.exception_id, e.change, e.old_status, e.new_status) for e in diff.exceptions] == [
        (EXPIRING, "expired", "active", "expired")]
    assert diff.features == ()
    q = collected.quarters
    changed_accounts = {q.password_created, q.cleaned, collected.quarters.later.by_kind(
        "inactive_root_key").account_id}
    # every account-level control change is one of the changed accounts' (the acceptance's account
    # included: its FAIL is no longer accepted)
    assert {c.account_id for c in diff.controls if c.account_id} <= changed_accounts
    assert {c.account_id for c in diff.controls if c.account_id} >= {q.password_created, q.cleaned}
    accepted = [c for c in diff.controls if c.account_id == q.later.by_kind("inactive_root_key").account_id]
    assert [(c.control_id, c.old, c.new) for c in accepted] == [("2.4", "FAIL (accepted)", "FAIL")]
    # the headline moves by the changes: one more member, one more and one fewer with active credentials
    old, new = diff.old.headline, diff.new.headline
    assert new["member_accounts"] == old["member_accounts"] + 1
    assert new["with_active_root_credentials"] == old["with_active_root_credentials"] + 1


def test_the_same_pack_against_itself_is_no_change(collected: Collected) -> None:
    same = diff_packs(collected.records["later"], collected.records["later"],
                      ledger_of(collected.snapshots["later"]))
    assert not same.changed
    assert render_diff(same, "text").splitlines()[-1] == "no change"


def test_packs_evaluated_by_two_versions_say_so_in_every_format(collected: Collected) -> None:
    """A control can change status because rootaudit's signals changed between the packs' versions (0.2.0
    split LOG_FILE_INTEGRITY from CLOUDTRAIL_COVERAGE): the diff says the versions differ, in each
    format and in the report's "Since the last pack" rows, so that such a change can be explained."""
    import dataclasses

    from rootaudit.history.pack_view import since_rows

    later = collected.records["later"]
    older = dataclasses.replace(collected.records["earlier"], tool_version="0.1.0")
    for new_version, shown in ((later.tool_version, True), ("0.1.0", False)):
        diff = diff_packs(older, dataclasses.replace(later, tool_version=new_version),
                          ledger_of(collected.snapshots["later"]))
        note = f"evaluated by rootaudit 0.1.0, then {new_version}"
        assert (note in render_diff(diff, "text")) is shown
        assert (note.capitalize() in render_diff(diff, "markdown")) is shown
        assert (json.loads(render_diff(diff, "json"))["new"]["tool_version"] == new_version)
        rows = [r for r in since_rows(diff) if r["area"] == "rootaudit version"]
        assert [r["change"] for r in rows] == ([f"evaluated by rootaudit 0.1.0, then {new_version}"]
                                               if shown else [])


def test_a_control_mapped_otherwise_is_named_beside_its_status_changes(collected: Collected) -> None:
    """Between the packs one control rests on other signals (as 0.2.0 moved NIST AU-9 to
    LOG_FILE_INTEGRITY): the diff names the mapping change, with how many of its results changed
    status, in each format and in the report's rows; the status changes it explains are marked. A pack
    recorded without rules (before the history kept them) gives no such claim."""
    import dataclasses

    from rootaudit.history.pack_view import since_rows

    earlier, later = collected.records["earlier"], collected.records["later"]
    assert earlier.rules and set(earlier.rules) == set(later.rules)
    moved = next(c for c in later.controls if c.account_id)  # an account-level control of the later pack
    key = (moved.framework, moved.version, moved.control_id)
    before = {**earlier.rules, key: "CLOUDTRAIL_COVERAGE and PACK_INTEGRITY; scope member_accounts"}
    flipped = tuple(dataclasses.replace(c, status="PASS" if c.status != "PASS" else "FAIL")
                    if (c.framework, c.version, c.control_id) == key else c for c in earlier.controls)
    old = dataclasses.replace(earlier, rules=before, controls=flipped)
    diff = diff_packs(old, later, ledger_of(collected.snapshots["later"]))
    [rule] = diff.rules
    assert (rule.framework, rule.version, rule.control_id) == key
    assert rule.old.startswith("CLOUDTRAIL_COVERAGE") and rule.new == later.rules[key]
    mine = [c for c in diff.controls if (c.framework, c.version, c.control_id) == key]
    assert mine and rule.results_changed == len(mine) and all(c.mapping_changed for c in mine)
    assert not any(c.mapping_changed for c in diff.controls if c not in mine)
    label = f"{moved.framework} {moved.version} {moved.control_id}"
    text = render_diff(diff, "text")
    assert "controls whose mapping changed" in text and f"{label}: CLOUDTRAIL_COVERAGE" in text
    assert "### Control mappings that changed" in render_diff(diff, "markdown")
    data = json.loads(render_diff(diff, "json"))
    assert data["counts"]["control_mappings_changed"] == 1 and data["rules"][0]["new"] == rule.new
    assert [r["change"] for r in since_rows(diff) if r["area"] == "control mapping"] == [
        f"{label} mapped otherwise ({len(mine)} result(s) changed status)"]

    unknown = diff_packs(dataclasses.replace(old, rules={}), later, ledger_of(collected.snapshots["later"]))
    assert unknown.rules == () and not any(c.mapping_changed for c in unknown.controls)


def test_packs_of_two_organizations_are_refused(collected: Collected) -> None:
    import dataclasses

    other = dataclasses.replace(collected.records["later"], organization_id="o-someoneelse")
    with pytest.raises(DiffError, match="different organizations"):
        diff_packs(collected.records["earlier"], other)


def test_every_format_lists_the_same_changes(diff, collected: Collected) -> None:
    q = collected.quarters
    data = json.loads(render_diff(diff, "json"))
    assert data["counts"]["accounts_added"] == 1 and data["counts"]["credentials_removed"] == 3
    text = render_diff(diff, "text")
    markdown = render_diff(diff, "markdown")
    for view in (text, markdown):
        for account in (q.invited, q.password_created, q.cleaned):
            assert account in view
        assert "IAMCreateRootUserPassword" in view and "IAMDeleteRootUserCredentials" in view
        assert EXPIRING in view
    assert "accounts added (1):" in text and "root credentials removed (3):" in text
    assert markdown.startswith("## rootaudit: what changed in ") and "### Root credentials" in markdown


def test_the_command_compares_pack_folders(pack_dirs: dict[str, Path], collected: Collected,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["diff", str(pack_dirs["earlier"]), str(pack_dirs["later"]), "--format", "json"])
    assert status == 1  # something changed
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["credentials_appeared"] == 1
    assert main(["diff", str(pack_dirs["later"]), str(pack_dirs["later"])]) == 0
    capsys.readouterr()
    assert main(["diff", str(pack_dirs["later"]), str(pack_dirs["later"] / "nope")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NEW" in err[0] and "nope" in err[0]


def test_an_account_name_cannot_inject_markup_into_the_change_ticket(collected: Collected) -> None:
    import dataclasses

    later = collected.records["later"]
    hostile = "<script>x</script> [click](http://evil.example) | `rm`"
    accounts = tuple(dataclasses.replace(a, name=hostile) if a.account_id == collected.quarters.invited else a
                     for a in later.accounts)
    diff = diff_packs(collected.records["earlier"], dataclasses.replace(later, accounts=accounts))
    markdown = render_diff(diff, "markdown")
    assert "<script>" not in markdown and "[click](" not in markdown
    assert "&lt;script&gt;x&lt;/script&gt; \\[click\\](http://evil.example) \\| \\`rm\\`" in markdown


def test_credentials_read_by_another_method_are_not_compared_id_by_id(collected: Collected) -> None:
    """The credential report names no key ids: an account read by AssumeRoot in one pack and by the
    credential report in the other shows its method change, never keys removed and others appearing."""
    import dataclasses

    q = collected.quarters
    earlier, later = collected.records["earlier"], collected.records["later"]
    keyed = q.later.by_kind("active_root_key").account_id
    report_read = (("access_key", "1", "Active"),)  # the credential report numbers keys, names no ids
    accounts = tuple(dataclasses.replace(a, method="credential_report", credentials=report_read)
                     if a.account_id == keyed else a for a in later.accounts)
    diff = diff_packs(earlier, dataclasses.replace(later, accounts=accounts),
                      ledger_of(collected.snapshots["later"]))
    assert not [c for c in diff.credentials if c.account_id == keyed]
    [change] = [a for a in diff.accounts if a.account_id == keyed]
    assert change.fields == {"method": ("assume_root_audit", "credential_report")}
