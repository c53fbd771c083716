"""`rootaudit verify PACK`: check a pack step by step, and say which step failed.

A pack is a folder or its zip. The steps, in order, each naming the file it is about:
1. files: every file against manifest.json and SHA256SUMS (missing, extra, hash, size); the zip itself
   (a name held twice, absolute or `..` member paths, members outside its one folder, a folder named for
   another organization or period); the files every pack has (the report, workbook, PDF, snapshot);
2. manifest: the snapshot's digest (over snapshot.json and data/, as they are in the pack) is the one
   manifest.json records, and the manifest's organization, period and collection time are snapshot.json's;
3. signature: the collection's signature (snapshot.signature.json) signs this digest, and verifies with
   the key given (`public_key`: a PEM file's bytes; `kms_key`: kms:Verify). Without a key from outside
   the pack, a signature that verifies with the public key inside it is only "self-asserted";
4. rendered: report.html, evidence.xlsx and evidence.pdf were rendered from this snapshot (binding.py):
   the digest each carries, the PDF's cover and attachments; and, when the evaluation is re-performed
   identically by the rootaudit version that rendered the pack, report.html and evidence.xlsx rendered
   again from the pack (its report_history.json gives what they took from the history file) are byte
   for byte the pack's, so an edit to their text that keeps the digest is caught too;
5. derivation: every frame (but the call log) follows from the raw API responses kept in the pack, by
   the collectors' own transforms (collectors/rederive.py);
6. evaluation: evaluating the snapshot again from the pack's inputs/ gives byte-identical result frames.

The verdict (`status`): "failed" when any step found a problem; otherwise "verified" (signed, and the
signature checked with a key given from outside the pack), "self-asserted" (signed, checked only with
the key the pack carries) or "unsigned" (nothing signed the snapshot). Only "verified" says who vouches
for the evidence; the other two say the pack is consistent with itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rootaudit.controls.results import Results
from rootaudit.render.packfiles import PackError, read_pack
from rootaudit.snapshot import (
    RESULT_SCHEMAS,
    SCHEMAS,
    SIGNATURE_FILE,
    Snapshot,
    SnapshotFileError,
    is_snapshot_file,
    read_raw,
    snapshot_digest_of,
    snapshot_from_files,
)

Evaluator = Callable[[Snapshot, dict[str, bytes]], Results]

MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
INPUTS_DIR = "inputs"
STEPS: dict[str, str] = {
    "files": "the files against manifest.json and SHA256SUMS",
    "manifest": "manifest.json against the snapshot (its digest and metadata)",
    "signature": "the collection's signature against the signer's key",
    "rendered": "the report, workbook and PDF against the snapshot they were rendered from",
    "derivation": "the frames against the raw API responses they were derived from",
    "evaluation": "the re-performed evaluation against the results",
}
VERIFIED, SELF_ASSERTED, UNSIGNED, FAILED = "verified", "self-asserted", "unsigned", "failed"
# Every pack has these; the manifest cannot make one optional by leaving it out.
REQUIRED = ("snapshot.json", MANIFEST, CHECKSUMS, "evidence.pdf", "evidence.xlsx", "report.html",
            *(f"data/{name}.csv" for name in (*SCHEMAS, *RESULT_SCHEMAS)))


@dataclass(frozen=True)
class Problem:
    file: str  # the pack file the problem is about ("" for the pack as a whole)
    kind: str  # missing | extra | hash | size | unreadable | digest | metadata | signature | rendered |
    #            unsupported | result | evaluation | zip
    detail: str
    step: str = "files"

    def __str__(self) -> str:
        return f"[{self.step}] {self.file or '(pack)'}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    pack: Path
    files_checked: int = 0
    re_evaluated: bool = False
    problems: list[Problem] = field(default_factory=list)
    signature: str = UNSIGNED  # verified | self-asserted | unsigned (when no step failed)
    signature_detail: str = "nothing signed the snapshot"
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every step ran and found nothing: the pack is consistent with itself (signed or not)."""
        return self.re_evaluated and not self.problems

    @property
    def status(self) -> str:
        return self.signature if self.ok else FAILED

    @property
    def failed_step(self) -> str | None:
        steps = {p.step for p in self.problems} | (set() if self.re_evaluated else {"evaluation"})
        return next((s for s in STEPS if s in steps), None)

    def add(self, step: str, file: str, kind: str, detail: str) -> None:
        self.problems.append(Problem(file, kind, detail, step))

    def ordered(self) -> list[Problem]:
        order = list(STEPS)
        return sorted(self.problems, key=lambda p: order.index(p.step))

    def lines(self) -> list[str]:
        if self.ok:
            return [f"{self.pack}: {self.status.upper()} ({self.files_checked} files; every step passed; "
                    f"{self.signature_detail})"]
        step = self.failed_step or "evaluation"
        return [f"{self.pack}: FAILED at step {list(STEPS).index(step) + 1}, {step} ({STEPS[step]}); "
                f"{len(self.problems)} problem(s)", *(f"  {p}" for p in self.ordered())]


def read_pack_files(path: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file in a pack folder or zip (what could be read safely)."""
    return read_pack(Path(path)).files


def _check_listing(report: VerifyReport, files: Mapping[str, bytes],
                   listed: Mapping[str, tuple[str, int | None]], source: str, exempt: set[str]) -> None:
    for rel, (digest, size) in sorted(listed.items()):
        if rel not in files:
            report.add("files", rel, "missing", f"listed in {source} but not in the pack")
            continue
        data = files[rel]
        if size is not None and len(data) != size:
            report.add("files", rel, "size", f"{len(data)} bytes, {source} says {size}")
        if hashlib.sha256(data).hexdigest() != digest:
            report.add("files", rel, "hash", f"SHA-256 differs from {source}")
    for rel in sorted(set(files) - set(listed) - exempt):
        report.add("files", rel, "extra", f"in the pack but not listed in {source}")


def _manifest(report: VerifyReport, files: Mapping[str, bytes]
              ) -> tuple[dict[str, tuple[str, int | None]], dict[str, Any]]:
    if MANIFEST not in files:
        return {}, {}  # named by the required-files check
    try:
        manifest = json.loads(files[MANIFEST].decode("utf-8"))
        listing = {e["path"]: (e["sha256"], int(e["size"])) for e in manifest["files"]}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        report.add("files", MANIFEST, "unreadable", f"not a valid manifest: {exc}")
        return {}, {}
    return listing, manifest


def _checksums(report: VerifyReport, files: Mapping[str, bytes]) -> dict[str, tuple[str, int | None]]:
    if CHECKSUMS not in files:
        return {}
    listing: dict[str, tuple[str, int | None]] = {}
    try:
        lines = files[CHECKSUMS].decode("utf-8").splitlines()
    except UnicodeDecodeError:
        report.add("files", CHECKSUMS, "unreadable", "not UTF-8 text")
        return {}
    for n, line in enumerate(lines, start=1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            report.add("files", CHECKSUMS, "unreadable", f"line {n} is not '<sha256>  <path>'")
            return {}
        listing[rel.lstrip("*")] = (digest.lower(), None)
    return listing


def _compare_listings(report: VerifyReport, manifest: Mapping[str, tuple[str, int | None]],
                      sums: Mapping[str, tuple[str, int | None]]) -> None:
    """SHA256SUMS must record the same hash as manifest.json for every file: where they disagree and the
    file itself matches the manifest, it is SHA256SUMS that was changed."""
    wrong = sorted(p for p in set(manifest) & set(sums) if manifest[p][0] != sums[p][0])
    other = sorted(set(sums) ^ (set(manifest) | {MANIFEST}))
    if other:
        more = f" and {len(other) - 5} more" if len(other) > 5 else ""
        report.add("files", CHECKSUMS, "extra", f"lists other files than manifest.json (and it): "
                   f"{', '.join(other[:5])}{more}")
    if wrong:
        more = f" and {len(wrong) - 5} more" if len(wrong) > 5 else ""
        report.add("files", CHECKSUMS, "hash",
                   f"records other hashes than manifest.json for {', '.join(wrong[:5])}{more}")


def _readable_snapshot(report: VerifyReport, files: Mapping[str, bytes]) -> Snapshot | None:
    """The pack's snapshot; each raw response file that cannot be read is a problem naming it."""
    usable = dict(files)
    for rel in sorted(files):
        if rel.startswith("data/raw/") and rel.endswith(".json.gz"):
            try:
                read_raw(rel, files[rel])
            except SnapshotFileError as exc:
                report.add("files", rel, "unreadable", str(exc).removeprefix(f"{rel}: "))
                usable.pop(rel)
    try:
        return snapshot_from_files(usable)
    except SnapshotFileError as exc:
        report.add("files", exc.path, "unreadable", f"the snapshot cannot be loaded: {exc}")
    except (FileNotFoundError, ValueError) as exc:
        report.add("files", "snapshot.json", "unreadable", f"the snapshot cannot be loaded: {exc}")
    return None


def _check_manifest(report: VerifyReport, manifest: Mapping[str, Any], snapshot: Snapshot,
                    digest: str) -> None:
    from rootaudit.render.model import meta_of

    if not manifest:
        return
    if manifest.get("snapshot_digest") != digest:
        report.add("manifest", "snapshot.json", "digest", f"the snapshot's digest (snapshot.json, data/) is "
                   f"{digest}; manifest.json records {manifest.get('snapshot_digest')}")
    m = meta_of(snapshot)
    for key, value in (("organization_id", m.organization_id), ("period", m.period_label),
                       ("collected_at", m.collected_at)):
        if manifest.get(key) != value:
            report.add("manifest", MANIFEST, "metadata",
                       f"{key} is {manifest.get(key)!r}; snapshot.json says {value!r}")


def _check_zip_folder(report: VerifyReport, top: str | None, snapshot: Snapshot) -> None:
    from rootaudit.render.pack import pack_name

    expected = pack_name(snapshot)
    if top is not None and top != expected:
        report.add("files", f"{top}/", "zip", f"the zip's folder is {top}, the pack inside is {expected} "
                   "(its organization and period, from snapshot.json)")


def _check_signature(report: VerifyReport, files: Mapping[str, bytes], manifest: Mapping[str, Any],
                     digest: str, public_key: bytes | None, kms_key: str | None, profile: str | None) -> None:
    from rootaudit.signing.record import Signature, SignatureFileError, signature_problem, signature_summary

    data = files.get(SIGNATURE_FILE)
    if data is None:
        if manifest.get("signature"):
            report.add("signature", SIGNATURE_FILE, "missing", "manifest.json records a signature of the "
                       "collection, the pack does not hold it")
        given = " (a key was given, but the pack holds no signature)" if public_key or kms_key else ""
        report.signature, report.signature_detail = UNSIGNED, f"nothing signed the snapshot{given}"
        return
    try:
        signature = Signature.from_bytes(data)
    except SignatureFileError as exc:
        report.add("signature", SIGNATURE_FILE, "unreadable", str(exc))
        return
    summary = signature_summary(data, digest)
    if manifest and manifest.get("signature") != summary:
        report.add("signature", MANIFEST, "signature", "its signature entry differs from "
                   f"{SIGNATURE_FILE}")
    if signature.snapshot_digest != digest:
        report.add("signature", SIGNATURE_FILE, "signature",
                   f"it signs snapshot digest {signature.snapshot_digest}, the pack's snapshot is {digest}: "
                   "the snapshot was changed after collection (or the signature is another snapshot's)")
        return
    inside = signature_problem(signature, signature.public_key)
    if inside:
        report.add("signature", SIGNATURE_FILE, "signature", f"with the public key it carries: {inside}")
        return
    who = f"{signature.algorithm} by {signature.key_id}, signed {signature.signed_at}"
    if public_key is not None:
        problem = signature_problem(signature, public_key)
        if problem:
            report.add("signature", SIGNATURE_FILE, "signature", f"with the public key given: {problem}")
            return
        report.signature, report.signature_detail = VERIFIED, f"signature verified with the key given: {who}"
    elif kms_key is not None:
        from rootaudit.signing.kms import kms_verify

        problem = kms_verify(kms_key, signature, profile)
        if problem:
            report.add("signature", SIGNATURE_FILE, "signature", problem)
            return
        report.signature, report.signature_detail = VERIFIED, f"signature verified by kms:Verify: {who}"
    else:
        report.signature = SELF_ASSERTED
        report.signature_detail = (f"the signature verifies only with the public key inside the pack "
                                   f"({who}); give --public-key or --kms-key to verify it")


def _default_evaluator() -> Evaluator | None:
    try:
        from rootaudit.controls import evaluate_inputs  # the controls stage, when installed
    except ImportError:
        return None
    return evaluate_inputs


def verify_pack(path: Path, evaluate: Evaluator | None = None, *, public_key: bytes | None = None,
                kms_key: str | None = None, profile: str | None = None) -> VerifyReport:
    """Check a pack (folder or zip). `evaluate` defaults to `rootaudit.controls.evaluate_inputs`;
    `public_key` (PEM bytes) or `kms_key` (an ARN) is the signer's key, from outside the pack."""
    report = VerifyReport(pack=Path(path))
    read = read_pack(Path(path))
    files = read.files
    report.files_checked = len(files)
    for member, why in read.problems:
        report.add("files", member, "zip", why)

    # 1. files
    listing, manifest = _manifest(report, files)
    if listing:
        _check_listing(report, files, listing, MANIFEST, {MANIFEST, CHECKSUMS})
    sums = _checksums(report, files)
    if sums:
        _check_listing(report, files, sums, CHECKSUMS, {CHECKSUMS})
    if sums and listing:
        _compare_listings(report, listing, sums)
    for rel in REQUIRED:
        if rel not in files and rel not in listing:  # one listed in the manifest is named above
            report.add("files", rel, "missing", "every pack holds it; this one does not")
    snapshot = _readable_snapshot(report, files)
    if snapshot is None:
        return report
    _check_zip_folder(report, read.top, snapshot)

    # 2. manifest, 3. signature
    digest = snapshot_digest_of(files)
    _check_manifest(report, manifest, snapshot, digest)
    _check_signature(report, files, manifest, digest, public_key, kms_key, profile)

    # 5. derivation
    from rootaudit.collectors.rederive import REDERIVED, rederive

    other = _other_version("snapshot was collected", str(snapshot.meta.get("tool_version") or ""),
                           "collectors may keep or derive otherwise")
    for unsupported in rederive(snapshot):
        report.add("derivation", unsupported.file, "unsupported", unsupported.detail + other)
    report.notes.append(f"re-derived from the raw responses: {', '.join(REDERIVED)}; not re-derived: "
                        f"{', '.join(n for n in SCHEMAS if n not in REDERIVED)}")
    from rootaudit.collectors.cloudtrail.kept import DIGEST_BUDGET, recorded_streams

    if recorded := recorded_streams(snapshot.raw):
        shown = ", ".join(recorded[:5]) + (f" and {len(recorded) - 5} more" if len(recorded) > 5 else "")
        report.notes.append(f"CloudTrail validation not re-checked for {len(recorded)} stream(s) past the "
                            f"pack's budget of {DIGEST_BUDGET:,} kept digests: {shown}; their sources rows "
                            "are as collection's validation found them")

    # 4. rendered, 6. evaluation
    _check_rendered(report, files, snapshot, digest)
    results = _evaluate(report, files, snapshot, evaluate, str((manifest or {}).get("tool_version") or ""))
    if results is not None and not any(p.step == "evaluation" for p in report.problems):
        _render_again(report, files, snapshot, results, digest, manifest)
    return report


def _render_again(report: VerifyReport, files: Mapping[str, bytes], snapshot: Snapshot, results: Results,
                  digest: str, manifest: Mapping[str, Any]) -> None:
    """report.html and evidence.xlsx made again from the pack, compared byte for byte (step 4)."""
    from rootaudit import __version__
    from rootaudit.render.pack import HISTORY_PART, HTML, XLSX, rendered_html, rendered_workbook

    rendered_by = str((manifest or {}).get("tool_version") or "")
    if HISTORY_PART not in files:
        report.notes.append(f"{HTML} and {XLSX} not rendered again: the pack has no {HISTORY_PART} "
                            "(packs before rootaudit recorded it)")
        return
    if rendered_by != __version__:
        report.notes.append(f"{HTML} and {XLSX} not rendered again: the pack was rendered by rootaudit "
                            f"{rendered_by or '(unknown)'}, this is {__version__}")
        return
    try:
        part = json.loads(files[HISTORY_PART])
        if not isinstance(part, dict):
            raise ValueError("not a JSON object")
        again = {HTML: rendered_html(snapshot, results, digest, part).encode("utf-8"),
                 XLSX: rendered_workbook(snapshot, results, digest, part)}
    except Exception as exc:  # a damaged record is a finding of verify, not a crash
        report.add("rendered", HISTORY_PART, "rendered",
                   f"cannot render the report again from it: {type(exc).__name__}: {exc}")
        return
    for rel, data in again.items():
        if rel in files and files[rel] != data:
            report.add("rendered", rel, "rendered",
                       "not the file rendered from this snapshot and these results: rendered again from "
                       f"the pack, it differs ({_first_byte_difference(files[rel], data)})")
    report.notes.append(f"{HTML} and {XLSX} rendered again from the pack: "
                        + ("byte for byte the pack's" if all(files.get(r) == d for r, d in again.items())
                           else "see the findings"))


def _other_version(done: str, by: str, why: str) -> str:
    """" (the <done> by rootaudit X, this is Y, whose <why>: …)" when X is not this version, else ""."""
    from rootaudit import __version__

    if by == __version__:
        return ""
    return (f" (the {done} by rootaudit {by or '(unknown)'}, this is {__version__}, whose {why}: "
            "re-perform with that version)")


def _first_byte_difference(packed: bytes, again: bytes) -> str:
    at = next((i for i, (x, y) in enumerate(zip(packed, again, strict=False)) if x != y),
              min(len(packed), len(again)))
    return f"first at byte {at:,} of {len(packed):,}; rendered again: {len(again):,} bytes"


def _evaluate(report: VerifyReport, files: Mapping[str, bytes], snapshot: Snapshot,
              evaluate: Evaluator | None, evaluated_by: str) -> Results | None:
    from rootaudit.render.pack import result_files

    evaluate = evaluate or _default_evaluator()
    if evaluate is None:
        report.add("evaluation", "", "evaluation", "cannot re-evaluate: rootaudit.controls is not available")
        return None
    inputs = {rel[len(INPUTS_DIR) + 1:]: data for rel, data in files.items()
              if rel.startswith(f"{INPUTS_DIR}/")}
    try:
        results = evaluate(snapshot, inputs)
    except Exception as exc:  # any failure of the evaluation is a finding of verify, not a crash
        report.add("evaluation", "", "evaluation", f"re-evaluation failed: {type(exc).__name__}: {exc}")
        return None
    report.re_evaluated = True
    for rel, data in sorted(result_files(results).items()):
        if rel not in files:
            continue  # named as missing in step 1
        if files[rel] != data:
            # Still a finding: another version's signals are not this pack's evidence.
            other = _other_version("pack was evaluated", evaluated_by, "signals may differ")
            report.add("evaluation", rel, "result", _first_difference(files[rel], data) + other)
    return results


def _check_rendered(report: VerifyReport, files: Mapping[str, bytes], snapshot: Snapshot,
                    digest: str) -> None:
    from rootaudit.render.binding import rendered_problems

    snapshot_files = {rel: data for rel, data in files.items() if is_snapshot_file(rel)}
    results_in_pack = {rel: files[rel] for rel in (f"data/{n}.csv" for n in RESULT_SCHEMAS) if rel in files}
    for rel, why in rendered_problems(files, digest, snapshot_files, results_in_pack):
        report.add("rendered", rel, "rendered", why)


def _first_difference(packed: bytes, again: bytes) -> str:
    a = packed.decode("utf-8", errors="replace").splitlines()
    b = again.decode("utf-8", errors="replace").splitlines()
    for n, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return f"re-evaluation differs at line {n}: pack {x[:120]!r}, re-evaluated {y[:120]!r}"
    return f"re-evaluation differs: pack has {len(a)} lines, re-evaluation {len(b)}"


__all__ = ["FAILED", "SELF_ASSERTED", "STEPS", "UNSIGNED", "VERIFIED", "PackError", "Problem",
           "VerifyReport", "read_pack_files", "verify_pack"]
