"""The same snapshot and inputs give the same results, byte for byte; a pack's recorded inputs re-perform
the evaluation exactly (what `rootaudit verify` relies on)."""

from __future__ import annotations

from pathlib import Path

from rootaudit import controls
from rootaudit.snapshot import RESULT_SCHEMAS, frame_to_csv_bytes, load_snapshot, save_snapshot

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def fingerprint(results) -> dict:
    frames = {name: frame_to_csv_bytes(name, getattr(results, name)) for name in RESULT_SCHEMAS}
    frames["privileged_sessions"] = frame_to_csv_bytes("privileged_sessions", results.privileged_sessions)
    return {"frames": frames, "headline": results.headline, "frameworks": results.frameworks,
            "inputs": results.inputs}


def scenario(snapshot_of, helpers):
    return snapshot_of(sessions=[helpers.session_row("ev-a-0001", "111111111102"),
                                 helpers.session_row("ev-b-0002", "111111111103")],
                       activity=[helpers.activity_row("ev-login-1", "111111111107", "console_login")])


def test_same_snapshot_same_results(snapshot_of, helpers):
    kwargs = {"frameworks": ["all"], "exceptions_path": SAMPLES / "exceptions.yaml",
              "justifications_path": SAMPLES / "justifications.yaml"}
    first = fingerprint(controls.evaluate(scenario(snapshot_of, helpers), **kwargs))
    second = fingerprint(controls.evaluate(scenario(snapshot_of, helpers), **kwargs))
    assert first == second
    assert len(first["frames"]["control_results"].splitlines()) > 1000  # all frameworks, every account


def test_recorded_inputs_reperform_the_evaluation(tmp_path, snapshot_of, helpers):
    snap = scenario(snapshot_of, helpers)
    results = controls.evaluate(snap, ["cis-aws-7.0.0", "iso27001-2022"],
                                exceptions_path=SAMPLES / "exceptions.yaml",
                                justifications_path=SAMPLES / "justifications.yaml")
    assert sorted(results.inputs) == ["exceptions.yaml", "justifications.yaml", "mappings/cis-aws-7.0.0.yaml",
                                      "mappings/iso27001-2022.yaml"]
    # Through disk, as verify does: the snapshot folder and the input bytes.
    loaded = load_snapshot(save_snapshot(snap, tmp_path / "snap"))
    again = controls.evaluate_inputs(loaded, dict(results.inputs))
    assert fingerprint(again) == fingerprint(results)
    assert [f["sha256"] for f in again.frameworks] == [f["sha256"] for f in results.frameworks]


def test_changed_input_changes_the_results(snapshot_of, helpers):
    """The comparison above can fail: a different mapping file gives different results and hashes."""
    snap = scenario(snapshot_of, helpers)
    results = controls.evaluate(snap, ["cis-aws-7.0.0"])
    inputs = dict(results.inputs)
    inputs["mappings/cis-aws-7.0.0.yaml"] = inputs["mappings/cis-aws-7.0.0.yaml"].replace(
        b"signals: {all: [ROOT_ACCESS_KEYS_ABSENT]}", b"signals: {all: [ROOT_PASSWORD_ABSENT]}")
    changed = controls.evaluate_inputs(snap, inputs)
    before, after = fingerprint(results)["frames"], fingerprint(changed)["frames"]
    assert after["control_results"] != before["control_results"]
    assert changed.frameworks[0]["sha256"] != results.frameworks[0]["sha256"]


def test_row_order_of_the_snapshot_does_not_matter(snapshot_of, helpers):
    snap = scenario(snapshot_of, helpers)
    reference = fingerprint(controls.evaluate(snap, ["soc2-2017-tsc"]))
    for name in ("accounts", "root_credentials", "privileged_sessions"):
        snap.frames[name] = snap.frames[name].iloc[::-1].reset_index(drop=True)
    assert fingerprint(controls.evaluate(snap, ["soc2-2017-tsc"])) == reference
