"""Command line: argument parsing and command wiring only.

Cross-cutting behaviour, the same for every command (see `_add_common` and `main`):
- `--config FILE` (default: rootaudit.toml in the working directory, when there is one) fills every
  option the command line leaves unset (`rootaudit.config`); flags override it.
- `--json`: one JSON document on stdout (`rootaudit.outcome.Output`); people's lines go to stderr.
- progress bars on stderr when it is a terminal (`rootaudit.progress`), none with `--quiet`.
- `-v`: rootaudit's own steps and each AWS call on stderr; never the libraries' internals.
- a usage or runtime error is one line on stderr saying what to do, exit status 3.

A subcommand is its own `_add_<cmd>(sub)` and `cmd_<cmd>(args, out)` and one entry in `COMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rootaudit import __version__, progress
from rootaudit.outcome import Outcome, Output

EXIT_USAGE = 3

EXIT_MEANING = {0: "every control passes or is accepted",
                1: "a control fails without an active exception",
                2: "the evidence is incomplete: see NOT_ASSESSED in the pack"}

RESULT_EXIT_STATUSES = """exit status:
  0  every control passes, or fails with an active exception
  1  a control fails without an active exception
  2  the evidence is incomplete (a result is NOT_ASSESSED), whatever else failed
  3  a usage or runtime error (one line on stderr says what to do)"""

MAIN_EPILOG = f"""{RESULT_EXIT_STATUSES}
  (run and report; demo exits 0 when it made its pack; verify and doctor: see their --help)

Every command takes --config FILE (default: rootaudit.toml in the working directory), -v and --quiet;
those that report a result take --json. Flags override the configuration file."""

# What an option is when neither the command line nor the configuration file sets it.
DEFAULTS: dict[str, Any] = {
    "cloudtrail": "auto",
    "member_role": "RootAuditReadOnly",
    "workers": 18,
    "region": "us-east-1",
    "mappings": [],
    "strict": False,
}
ADMIN_ROLE = "OrganizationAccountAccessRole"


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit status 3."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs keep their lines (the exit statuses are a table); option help is wrapped as usual."""


# ---- parser -------------------------------------------------------------------------------------

def _add_period(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", help="the audit period: 2026-Q3, 2026-09 or 2026 (default: the last "
                                    "complete quarter)")
    p.add_argument("--start", metavar="YYYY-MM-DD", help="first day of the period (with --end)")
    p.add_argument("--end", metavar="YYYY-MM-DD", help="last day of the period, inclusive (with --start)")


def _add_collect_options(p: argparse.ArgumentParser) -> None:
    _add_period(p)
    p.add_argument("--cloudtrail", metavar="SOURCE",
                   help="where root activity is read: auto (the organization trail's S3 bucket, found "
                        "with DescribeTrails; LookupEvents when there is none), lookup (LookupEvents, 90 "
                        "days only), s3://bucket/prefix, a local folder of trail files, or "
                        "athena://workgroup/database.table (a query over the trail's Athena table; "
                        "`rootaudit athena-ddl` prints one) (default: auto)")
    p.add_argument("--athena-output", metavar="S3_URI",
                   help="with athena://: where Athena writes the query's results, s3://bucket/prefix "
                        "(default: the workgroup's own result location)")
    p.add_argument("--regions", nargs="+", metavar="REGION",
                   help="regions to read (default: every region enabled for the caller)")
    p.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    p.add_argument("--region", metavar="REGION",
                   help="home region for STS and global calls (default: us-east-1)")
    p.add_argument("--member-role", "--fallback-role", dest="member_role", metavar="NAME",
                   help="read-only role in member accounts, assumed where AssumeRoot cannot be used "
                        "or its session answers incompletely (policies/ deploys it; default: "
                        "RootAuditReadOnly)")
    p.add_argument("--workers", type=int, metavar="N", help="accounts collected at once (default: 18)")


def _add_sign_with(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sign-with", metavar="KEY",
                   help="sign the snapshot's digest as soon as it is written: kms:arn:aws:kms:REGION:ACCOUNT:"
                        "key/ID (an asymmetric KMS signing key, ECC_NIST_P256 or RSA; needs kms:Sign and "
                        "kms:GetPublicKey on it) or an Ed25519 private key file (openssl genpkey -algorithm "
                        "ed25519); `verify --public-key` or `--kms-key` then checks it")


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frameworks", nargs="+", metavar="ID",
                   help="frameworks to evaluate: ids, 'all', or 'default' (the current version of each "
                        "framework; see `rootaudit frameworks`)")
    p.add_argument("--mappings", nargs="+", type=Path, metavar="DIR",
                   help="your own mapping folders, added to the packaged ones")
    p.add_argument("--exceptions", type=Path, metavar="FILE", help="risk acceptances (YAML)")
    p.add_argument("--justifications", type=Path, metavar="FILE",
                   help="justifications of AssumeRoot sessions and root sign-ins (YAML)")
    p.add_argument("--strict", action="store_true", default=None,
                   help="treat every warning about the exceptions or justifications file as an error "
                        "(exit status 3, no pack written)")
    p.add_argument("--remediation-records", nargs="+", type=Path, default=[], metavar="RECORD",
                   help="records written by `remediate --apply`: they justify the root sessions they opened")
    p.add_argument("--force", action="store_true",
                   help="replace an existing pack of the same name in --out (the older pack is kept until "
                        "the new one is complete); without it, an existing pack is an error")
    p.add_argument("--history", type=Path, metavar="FILE",
                   help="the history (SQLite) each pack is recorded in (default: rootaudit-history.sqlite "
                        "in the --out folder)")


def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="the whole pipeline on a simulated organization, for the period and the "
                       "one before it, with their history (no AWS account needed)",
                       epilog="exit status: 0 when the pack was made (its own status is printed beside "
                              "it), 3 on error", formatter_class=_Formatter)
    p.add_argument("--accounts", type=int, default=40, metavar="N",
                   help="accounts simulated, the management account included (default: 40)")
    p.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7)")
    p.add_argument("--out", type=Path, default=Path("rootaudit-demo"), metavar="DIR",
                   help="folder for the snapshot, the inputs and the pack (default: rootaudit-demo)")
    _add_period(p)


def _add_collect(sub: Any) -> None:
    p = sub.add_parser("collect", help="read the organization (read-only) and write a snapshot",
                       epilog="exit status: 0 when the snapshot was written (run `rootaudit report` on it), "
                              "3 on error", formatter_class=_Formatter)
    p.add_argument("--out", type=Path, required=True, metavar="SNAPSHOT", help="snapshot folder to write")
    _add_collect_options(p)
    _add_sign_with(p)
    _add_resume(p)


def _add_resume(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted collection: accounts it already read (kept in "
                        "SNAPSHOT.checkpoint.jsonl beside the snapshot) are not read again")


def _add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="evaluate a snapshot and write the evidence pack (no AWS access)",
                       epilog=RESULT_EXIT_STATUSES, formatter_class=_Formatter)
    p.add_argument("snapshot", type=Path, metavar="SNAPSHOT", help="snapshot folder written by collect")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder the pack is written to (or `out` in rootaudit.toml)")
    _add_report_options(p)


def _add_run(sub: Any) -> None:
    p = sub.add_parser("run", help="collect, then report", epilog=RESULT_EXIT_STATUSES,
                       formatter_class=_Formatter)
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder for the snapshot and the pack (or `out` in rootaudit.toml)")
    _add_collect_options(p)
    _add_sign_with(p)
    _add_resume(p)
    _add_report_options(p)


VERIFY_MEANING = {0: "verified: every step passed and the signature verifies with the key given",
                  1: "failed: a step found a problem (the first failing step is named)",
                  4: "unsigned: every step passed, but nothing signed the snapshot",
                  5: "self-asserted: every step passed and the signature verifies only with the public key "
                     "inside the pack"}
VERIFY_EPILOG = """steps, in order (the first that fails is named):
  1 files       every file against manifest.json and SHA256SUMS; the zip's members and folder
  2 manifest    the snapshot's digest and metadata against manifest.json
  3 signature   the collection's signature against --public-key FILE or --kms-key ARN
  4 rendered    report.html, evidence.xlsx and evidence.pdf rendered from this snapshot
  5 derivation  the frames against the raw API responses kept in the pack
  6 evaluation  the evaluation re-performed against the pack's results

exit status:
  0  verified: every step passed and the signature verifies with the key given
  1  failed: a step found a problem
  3  the pack cannot be read at all, or a usage error
  4  unsigned: every step passed, but nothing signed the snapshot (collect --sign-with)
  5  self-asserted: every step passed, but the signature was checked only with the public key inside
     the pack; give --public-key or --kms-key to verify who signed it"""


def _add_verify(sub: Any) -> None:
    p = sub.add_parser("verify", help="check a pack step by step: files, manifest, signature, rendered "
                       "files, the frames against the raw responses, the re-performed evaluation",
                       epilog=VERIFY_EPILOG, formatter_class=_Formatter)
    p.add_argument("pack", type=Path, metavar="PACK", help="pack folder or zip")
    key = p.add_mutually_exclusive_group()
    key.add_argument("--public-key", type=Path, metavar="FILE",
                     help="the signer's public key (PEM), obtained from the signer, not from the pack")
    key.add_argument("--kms-key", metavar="ARN",
                     help="the signer's KMS key: kms:Verify checks the signature (needs kms:Verify on it)")
    p.add_argument("--profile", help="AWS profile for --kms-key (default: the standard credential chain)")


def _add_frameworks(sub: Any) -> None:
    p = sub.add_parser("frameworks", help="list the frameworks and versions available")
    p.add_argument("--mappings", nargs="+", type=Path, metavar="DIR",
                   help="your own mapping folders, listed with the packaged ones")


def _add_athena_ddl(sub: Any) -> None:
    p = sub.add_parser("athena-ddl", formatter_class=_Formatter,
                       help="print the CREATE EXTERNAL TABLE of an organization trail for Amazon Athena",
                       description="Print the CREATE EXTERNAL TABLE statement of an Athena table over an\n"
                                   "organization trail's bucket (AWS's documented CloudTrail columns,\n"
                                   "partition projection over account, region and day), for\n"
                                   "--cloudtrail athena://….\n"
                                   "The organization id, accounts and regions are read from AWS (read-only)\n"
                                   "unless given. Run the statement in the Athena query editor.",
                       epilog="exit status: 0 the statement was printed; 3 a usage or AWS error")
    p.add_argument("location", metavar="S3_URI", help="where the trail delivers: s3://bucket/prefix")
    p.add_argument("--table", default="cloudtrail_logs", help="the table's name (default: cloudtrail_logs)")
    p.add_argument("--organization-id", metavar="O_ID",
                   help="the organization's id, o-… (default: DescribeOrganization)")
    p.add_argument("--accounts", nargs="+", metavar="ID",
                   help="the accounts the table projects (default: every account ListAccounts lists)")
    p.add_argument("--regions", nargs="+", metavar="REGION",
                   help="the regions the table projects (default: every region enabled for the caller)")
    p.add_argument("--since", metavar="YYYY-MM-DD",
                   help="the first day the table covers (default: 2020-01-01)")
    p.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    p.add_argument("--region", metavar="REGION", help="home region for the calls (default: us-east-1)")


def _add_simulate(sub: Any) -> None:
    p = sub.add_parser("simulate", help="serve the simulated organization on loopback for other tools")
    p.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (default: 5000)")
    p.add_argument("--accounts", type=int, default=40, metavar="N",
                   help="accounts, the management account included (default: 40, as the demo)")
    p.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7, as the demo)")
    _add_period(p)


def _add_plan(sub: Any) -> None:
    p = sub.add_parser("plan", help="the rollout plan from a snapshot: prerequisites, phases by OU, "
                       "root credentials to remove, accounts left out (no AWS access)")
    p.add_argument("snapshot", type=Path, metavar="SNAPSHOT", help="snapshot or pack folder")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the plan here (default: print it)")
    p.add_argument("--format", choices=("markdown", "csv", "json"),
                   help="markdown, csv or json (default: from --out's suffix, else markdown); "
                        "`remediate` reads the json plan")
    p.add_argument("--exceptions", type=Path, help="risk acceptances (YAML): accounts they name are left out")
    p.add_argument("--signed-off", nargs="+", default=[], metavar="ACCOUNT=REFERENCE",
                   help="accounts whose root was used recently and whose owner signed off the removal")
    p.add_argument("--mappings", nargs="+", type=Path, default=[], metavar="DIR",
                   help="your own mapping folders (to tell which exceptions concern root credentials)")


def _plan_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = args.out.suffix.lower() if args.out else ""
    return {".json": "json", ".csv": "csv"}.get(suffix, "markdown")


def _signed_off(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        account, sep, reference = value.partition("=")
        if not (sep and account.isdigit() and len(account) == 12 and reference.strip()):
            raise UsageError(f"--signed-off {value!r}: give ACCOUNT=REFERENCE, a 12-digit account id and the "
                             "owner's sign-off (ticket, e-mail)")
        out[account] = reference.strip()
    return out


def cmd_plan(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.atomic import write_file_atomically
    from rootaudit.remediate.plan import plan_from_files
    from rootaudit.remediate.render import render_plan
    from rootaudit.snapshot import SnapshotLoadError

    if args.exceptions is not None and not args.exceptions.is_file():
        raise UsageError(f"{_origin(args, 'exceptions', '--exceptions')}: no such file: {args.exceptions}")
    try:
        plan = plan_from_files(args.snapshot, args.exceptions, args.mappings, _signed_off(args.signed_off))
    except (FileNotFoundError, SnapshotLoadError) as exc:
        raise UsageError(str(exc)) from exc
    data = render_plan(plan, _plan_format(args))
    s = plan.summary()
    details: dict[str, Any] = {"summary": s, "plan_file": str(args.out) if args.out else None}
    if args.out is None:
        if not out.json_mode:  # the plan itself is the output: nothing else on stdout
            sys.stdout.write(data.decode("utf-8"))
            return 0
        details["plan"] = plan.data
    else:
        write_file_atomically(args.out, data)
    lines = [f"plan written: {args.out} ({s['credentials_to_remove']} credential(s) to remove from "
             f"{s['accounts_to_clean']} account(s) in {len(s['phases'])} phase(s); {s['left_out']} left out, "
             f"{s['already_clean']} already clean; prerequisites missing: "
             f"{', '.join(s['prerequisites_missing']) or 'none'})"]
    next_step = ("enable the missing prerequisites first: `rootaudit remediate --plan PLAN --enable-features`"
                 if {"iam_trusted_access", "root_credentials_management"} & set(s["prerequisites_missing"])
                 else "show a phase's calls: `rootaudit remediate --plan PLAN --phase OU`" if s["phases"]
                 else "")
    return out.finish(Outcome("plan", 0, "the plan was made from the snapshot (no AWS access)",
                              next_step=next_step, details=details), lines)


def _add_remediate(sub: Any) -> None:
    p = sub.add_parser("remediate", help="remove the member root credentials a plan names (a dry run "
                       "unless --apply), or enable the organization's features (--enable-features)")
    p.add_argument("--plan", type=Path, required=True, metavar="FILE", help="the JSON plan (rootaudit plan)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--phase", metavar="OU", help="one phase of the plan: its OU path, e.g. Root/Prod")
    which.add_argument("--accounts", nargs="+", metavar="ID", help="accounts of the plan")
    which.add_argument("--enable-features", action="store_true",
                       help="enable IAM trusted access, RootCredentialsManagement and RootSessions, where "
                            "missing, in that order (asked for separately from any removal)")
    p.add_argument("--apply", action="store_true", help="make the changes (default: show them only)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (for a pipeline)")
    p.add_argument("--change", metavar="TICKET", help="the approved change, recorded (required with --apply)")
    p.add_argument("--approved-by", metavar="WHO", help="who approved it, recorded (required with --apply)")
    p.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    p.add_argument("--region", help="region of the STS endpoint (default: the plan's home region)")


def _confirm(args: argparse.Namespace, out: Output, question: str) -> None:
    """Ask before changing anything; refuse without a terminal unless --yes was given."""
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to change accounts without confirmation: no terminal to ask on; "
                         "pass --yes to confirm in a pipeline")
    prompt = f"{question} Type 'yes' to go ahead: "
    if out.json_mode:  # stdout holds only the JSON document
        sys.stderr.write(prompt)
        sys.stderr.flush()
        answer = sys.stdin.readline()
    else:
        answer = input(prompt)
    if answer.strip().lower() != "yes":
        raise UsageError("not confirmed: nothing was changed")


REMEDIATE_MEANING = {0: "done: every selected account was cleaned, or the features are on",
                     1: "some accounts were skipped: their root credentials changed since the plan",
                     2: "the run stopped at an error: the record names the account and the call"}
REMEDIATE_NEXT = {0: "collect again and report with --remediation-records RECORD: the pack links the "
                     "sessions to the change",
                  1: "collect again and make a new plan for the skipped accounts",
                  2: "fix the cause the record names, collect again and make a new plan"}


def cmd_remediate(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.aws import AwsSettings
    from rootaudit.remediate.apply import RemediationStopped, SelectionError, select_accounts
    from rootaudit.remediate.plan import PlanError, load_plan
    from rootaudit.remediate.render import dry_run_lines, features_dry_run_lines
    from rootaudit.remediate.run import apply_features, apply_plan

    try:
        plan = load_plan(args.plan)
        chosen = [] if args.enable_features else select_accounts(plan, args.phase, args.accounts)
    except (PlanError, SelectionError) as exc:
        raise UsageError(str(exc)) from exc
    lines = features_dry_run_lines(plan) if args.enable_features else dry_run_lines(plan, chosen)
    if not args.apply:
        details = {"dry_run": True, "plan_digest": plan.digest,
                   "accounts": [{"account_id": a["account_id"], "calls": a["calls"]} for a in chosen]}
        outcome = Outcome("remediate", 0, "dry run: nothing was changed (no AWS call was made)",
                          next_step="add --apply (with --change and --approved-by) to make these calls",
                          details=details)
        return out.finish(outcome, lines or ["nothing to do: the plan names no account for this selection"])
    if not (args.change and args.approved_by):
        raise UsageError("--apply needs --change TICKET and --approved-by WHO: the record names the approved "
                         "change")
    if not args.enable_features and not (args.phase or args.accounts):
        raise UsageError("--apply needs --phase OU or --accounts ID…: a change board approves one phase at "
                         "a time")
    if not chosen and not args.enable_features:
        raise UsageError("the selection names no account: nothing to do")
    for line in lines:
        out.say(line)
    what = ("enable the organization's missing features" if args.enable_features else
            f"remove {sum(len(a['credentials']) for a in chosen)} root credential(s) from {len(chosen)} "
            "account(s)")
    _confirm(args, out, f"This will {what} (change {args.change}).")
    settings = AwsSettings(profile=args.profile, region=args.region or plan.home_region)
    change = {"ticket": args.change, "approved_by": args.approved_by}
    try:
        if args.enable_features:
            result = apply_features(plan, args.plan, change, settings, progress=out.say)
        else:
            selection = {"phase": args.phase, "accounts": [a["account_id"] for a in chosen]}
            result = apply_plan(plan, args.plan, chosen, change, selection, settings, progress=out.say)
    except RemediationStopped as exc:
        raise UsageError(str(exc)) from exc
    summary = result.summary()
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items())
    status = result.exit_status
    outcome = Outcome("remediate", status, REMEDIATE_MEANING[status], next_step=REMEDIATE_NEXT[status],
                      counts=summary["counts"] or None, details=summary)
    return out.finish(outcome,
                      [f"record written: {result.path} (sha256 in {result.checksum.name}); outcome "
                       f"{summary['outcome']}" + (f": {counts}" if counts else "")])


def _add_history(sub: Any) -> None:
    p = sub.add_parser("history", help="the recorded packs, oldest first: each one's headline and each "
                       "control's status per pack (no AWS access)",
                       epilog="exit status: 0 when the history was read (or rebuilt), 3 on error",
                       formatter_class=_Formatter)
    p.add_argument("--history", type=Path, metavar="FILE",
                   help="the history file (or `history` in rootaudit.toml; default: rootaudit-history.sqlite "
                        "in the working directory; report and run write it in their --out folder)")
    p.add_argument("--org", metavar="ID", help="only this organization's packs")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="table (for a terminal), csv or json (default: table)")
    p.add_argument("--rebuild", nargs="+", type=Path, metavar="PACK",
                   help="record these packs (folders or zips) first: the history is an index of the packs, "
                        "so it can be made again from them")


def cmd_history(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.history.command import HistoryCommandError, history_command

    try:
        result = history_command(args.history, args.rebuild or [], args.org, args.format)
    except HistoryCommandError as exc:
        raise UsageError(str(exc)) from exc
    if not out.json_mode:
        for line in result.lines:
            out.say(line)
        sys.stdout.write(result.text)
        return 0
    return out.finish(Outcome("history", 0, "the history was read", details=result.details))


def _add_diff(sub: Any) -> None:
    p = sub.add_parser("diff", help="what changed between two packs of one organization: accounts, root "
                       "credentials (and the session that made each change), features, controls, exceptions",
                       epilog="exit status: 0 when nothing changed, 1 when something did, 3 when a pack "
                              "cannot be read or the packs are of different organizations",
                       formatter_class=_Formatter)
    p.add_argument("old", type=Path, metavar="OLD", help="the older pack (folder or zip)")
    p.add_argument("new", type=Path, metavar="NEW", help="the newer pack (folder or zip)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="text, json (for a pipeline) or markdown (for a change ticket) (default: text)")


def cmd_diff(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.history.command import HistoryCommandError, diff_command

    try:
        result = diff_command(args.old, args.new, args.format)
    except HistoryCommandError as exc:
        raise UsageError(str(exc)) from exc
    status = 1 if result.changed else 0
    if not out.json_mode:
        sys.stdout.write(result.text)
        return status
    return out.finish(Outcome("diff", status, "the packs differ" if result.changed else "nothing changed",
                              counts=result.details["counts"], details=result.details))


# Commands whose result `--json` prints as an `Outcome` document; a command joins when it builds one.
JSON_COMMANDS = frozenset({"demo", "collect", "report", "run", "verify", "doctor", "frameworks", "plan",
                           "remediate", "history", "diff"})


def _add_common(p: argparse.ArgumentParser, with_json: bool) -> None:
    """--config, --json, --quiet, -v on a subcommand, unless it defines its own. Their defaults live on
    the top-level parser (SUPPRESS here), so `rootaudit -v run` and `rootaudit run -v` both work."""
    have = p._option_string_actions
    group = p.add_argument_group("common options")
    if "--config" not in have:
        group.add_argument("--config", type=Path, metavar="FILE", default=argparse.SUPPRESS,
                           help="configuration file (default: rootaudit.toml in the working directory, "
                                "when there is one)")
    if with_json and "--json" not in have:
        group.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                           help="print one JSON document on stdout (headline, counts, pack, warnings, "
                                "exit status); messages go to stderr")
    if "--quiet" not in have:
        group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                           help="no progress bars and no informational lines; warnings and errors stay")
    if "--verbose" not in have:
        group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="log rootaudit's steps and each AWS call (secrets removed) on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rootaudit", description="Evidence on root access across an AWS "
                                     "Organization: collect, evaluate against frameworks, write a pack.",
                                     epilog=MAIN_EPILOG, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"rootaudit {__version__}",
                        help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log rootaudit's steps and each AWS call (secrets removed) on stderr")
    parser.set_defaults(config=None, json=False, quiet=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_demo, _add_collect, _add_report, _add_run, _add_verify, _add_doctor, _add_frameworks,
                _add_simulate, _add_plan, _add_remediate, _add_history, _add_diff, _add_athena_ddl):
        add(sub)
    for name, p in sub.choices.items():
        _add_common(p, with_json=name in JSON_COMMANDS)
    return parser


# ---- shared steps ---------------------------------------------------------------------------------

def _origin(args: argparse.Namespace, dest: str, flag: str) -> str:
    """How the user gave an option, for error messages: the flag, or the key in the configuration file."""
    source = getattr(args, "_config_keys", {}).get(dest)
    return f"'{dest}' in {source}" if source else flag


def _period(args: argparse.Namespace) -> Any:
    from rootaudit.period import PeriodError, parse_period

    try:
        return parse_period(args.period, args.start, args.end)
    except PeriodError as exc:
        raise UsageError(f"{_origin(args, 'period', '--period')}: {exc}") from exc


def _collect_settings(args: argparse.Namespace, out: Output) -> Any:
    from rootaudit.collectors import CollectSettings

    if args.workers < 1:
        raise UsageError(f"{_origin(args, 'workers', '--workers')} must be at least 1, not {args.workers}")
    if args.member_role == ADMIN_ROLE:
        out.warn("member_role", f"{ADMIN_ROLE} is an administrator role (AWS creates it with "
                 "AdministratorAccess); rootaudit only reads, but deploy the read-only RootAuditReadOnly "
                 "role (policies/member-role-stackset.yaml) and use that instead")
    _check_athena(args)
    return CollectSettings(period=_period(args), regions=args.regions, cloudtrail=args.cloudtrail,
                           fallback_role=args.member_role, workers=args.workers,
                           athena_output=args.athena_output)


def _check_athena(args: argparse.Namespace) -> None:
    from rootaudit.collectors.cloudtrail.athena_query import parse_athena_uri

    if str(args.cloudtrail).startswith("athena://"):
        try:
            parse_athena_uri(args.cloudtrail)
        except ValueError as exc:
            raise UsageError(f"{_origin(args, 'cloudtrail', '--cloudtrail')}: {exc}") from exc
    if args.athena_output and (not args.athena_output.startswith("s3://") or args.athena_output == "s3://"):
        raise UsageError(f"--athena-output must be s3://bucket/prefix, not {args.athena_output!r}")


def _context(args: argparse.Namespace) -> Any:
    from rootaudit.aws import AwsContext, AwsSettings

    return AwsContext(AwsSettings(profile=args.profile, region=args.region))


def _choose_source(ctx: Any, settings: Any, out: Output) -> Any:
    """Resolve `auto` before collecting, and say what LookupEvents will not cover."""
    from dataclasses import replace

    from rootaudit.collectors.cloudtrail.discover import choose_source

    choice = choose_source(ctx, settings.cloudtrail, settings.period)
    out.say(f"CloudTrail:    {choice.source} ({choice.why})")
    if choice.gap:
        out.warn("cloudtrail", f"LookupEvents reaches back 90 days only: this pack will not cover "
                 f"{choice.gap}, and the controls on root activity and AssumeRoot sessions will be "
                 "NOT_ASSESSED; give --cloudtrail s3://bucket/prefix (the organization trail's bucket) to "
                 "cover the whole period")
    return replace(settings, cloudtrail=choice.source, cloudtrail_requested=choice.requested)


def _do_collect(args: argparse.Namespace, snapshot_dir: Path, out: Output) -> Any:
    from dataclasses import replace

    from rootaudit.checkpoint import CheckpointError, checkpoint_path
    from rootaudit.collect import collect
    from rootaudit.snapshot import save_snapshot

    checkpoint = checkpoint_path(snapshot_dir)
    resume = bool(getattr(args, "resume", False))
    if checkpoint.is_file() and not resume:
        out.warn("resume", f"{checkpoint} holds an interrupted collection: it is started again from the "
                 "first account (--resume continues it)")
    elif resume and not checkpoint.is_file():
        out.warn("resume", f"no interrupted collection to resume ({checkpoint} is not there): collecting "
                 "every account")
    settings = replace(_collect_settings(args, out), checkpoint_path=checkpoint, resume=resume)
    signer = _signer(args)
    ctx = _context(args)
    caller = ctx.caller()
    out.say(f"collecting:    {settings.period.label} as {caller['Arn']}")
    settings = _choose_source(ctx, settings, out)
    try:
        snapshot = collect(ctx, settings)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from exc
    if "resumed" in snapshot.meta:
        out.say(f"resumed:       {snapshot.meta['resumed']['accounts_reused']} account(s) read before the "
                f"interruption were not read again ({checkpoint})")
    progress.step("writing the snapshot")
    save_snapshot(snapshot, snapshot_dir)
    if signer is not None:
        _sign(snapshot_dir, snapshot, signer, out)
    checkpoint.unlink(missing_ok=True)  # written whole: nothing left to resume
    population = snapshot.meta.get("population", {})
    out.say(f"snapshot:      {snapshot_dir} ({population.get('listed', 0)} accounts listed, "
            f"{population.get('assessed', 0)} assessed, {population.get('not_assessed', 0)} not assessed)")
    return snapshot


def _signer(args: argparse.Namespace) -> Any:
    """The signer --sign-with names, checked before collecting (a key that cannot sign fails now)."""
    from rootaudit.signing import SigningKeyError, signer_for

    if not getattr(args, "sign_with", None):
        return None
    try:
        return signer_for(args.sign_with, profile=args.profile)
    except SigningKeyError as exc:
        raise UsageError(str(exc)) from exc


def _sign(snapshot_dir: Path, snapshot: Any, signer: Any, out: Output) -> None:
    from rootaudit.signing import SigningKeyError, sign_snapshot_folder

    try:
        signature = sign_snapshot_folder(snapshot_dir, snapshot, signer)
    except SigningKeyError as exc:
        raise UsageError(f"{exc}; the snapshot {snapshot_dir} is written but NOT signed") from exc
    out.say(f"signed:        {signature.algorithm} by {signature.key_id} at {signature.signed_at}")


def _input_paths(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    for dest, flag in (("exceptions", "--exceptions"), ("justifications", "--justifications")):
        path = getattr(args, dest)
        if path is not None and not path.is_file():
            raise UsageError(f"{_origin(args, dest, flag)}: no such file: {path}")
    return args.exceptions, args.justifications


def _report_warnings(findings: list[Any], out: Output, strict: bool, snapshot_dir: Path | None) -> None:
    for finding in findings:
        out.warn(finding.kind, finding.message, file=finding.file, line=finding.line)
    if strict and findings:
        keep = (f"; the snapshot is kept: `rootaudit report {snapshot_dir}` after the fix" if snapshot_dir
                else "")
        raise UsageError(f"--strict: {len(findings)} warning(s) about the input files (above); correct "
                         f"them, or run without --strict{keep}")


def _precheck_inputs(args: argparse.Namespace, out: Output) -> None:
    """Before collecting: an input file that is missing or cannot be read is an error now, not after the
    wait; with --strict, so is a malformed entry. (Without it, entries are warned about once, after
    evaluation, when expiry and names can be judged too.)"""
    from rootaudit.controls.input_checks import precheck_inputs

    exceptions, justifications = _input_paths(args)
    findings = precheck_inputs(exceptions, justifications)
    if args.strict:
        _report_warnings(findings, out, True, None)


def _pack_outcome(command: str, paths: Any, results: Any, status: int) -> Outcome:
    from rootaudit.outcome import pack_facts

    cr = results.control_results
    org_level = cr[cr["account_id"].isna()]  # one row per control; account rows are in the pack
    counts = {str(k): int(v) for k, v in org_level["status"].value_counts().items()}
    headline = results.headline or {}
    next_step = {
        0: f"hand {paths.zip} to the auditor; `rootaudit verify {paths.zip}` re-checks it",
        1: f"see the failing controls in {paths.folder / 'evidence.pdf'}; fix them or record a risk "
           "acceptance (--exceptions), then run again",
        2: f"see why evidence is missing (NOT_ASSESSED reasons) in {paths.folder / 'evidence.pdf'}; "
           "`rootaudit doctor` says what access to fix; then run again",
    }[status]
    return Outcome(command, status, EXIT_MEANING[status], next_step=next_step,
                   headline={k: v for k, v in headline.items() if isinstance(v, str | int | float | bool)},
                   counts=dict(sorted(counts.items())), pack=pack_facts(paths.folder, paths.zip),
                   details={"frameworks": [fw["id"] for fw in results.frameworks],
                            "controls": len(org_level)})


def _pack_lines(paths: Any, results: Any, counts: dict[str, int]) -> list[str]:
    headline = results.headline or {}
    return [f"evidence pack: {paths.folder}", f"zip:           {paths.zip}",
            f"headline:      {headline.get('claim') or headline.get('text') or '(none)'}",
            f"controls:      {sum(counts.values())} across {len(results.frameworks)} frameworks: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]


def _do_report(snapshot: Any, args: argparse.Namespace, pack_dir: Path, out: Output,
               snapshot_dir: Path | None) -> int:
    from rootaudit.controls import evaluate, exit_status
    from rootaudit.controls.input_checks import check_inputs
    from rootaudit.history.recorder import history_file, record_written_pack, view_before_writing
    from rootaudit.remediate.record import RecordError
    from rootaudit.render.pack import write_pack

    exceptions, justifications = _input_paths(args)
    progress.step("evaluating the controls")
    for record in args.remediation_records:
        if not record.is_file():
            raise UsageError(f"--remediation-records: no such file: {record}")
    try:
        results = evaluate(snapshot, frameworks=args.frameworks, mapping_dirs=args.mappings,
                           exceptions_path=exceptions, justifications_path=justifications,
                           remediation_records=args.remediation_records)
    except RecordError as exc:
        raise UsageError(str(exc)) from exc
    _report_warnings(check_inputs(snapshot, results, exceptions, justifications), out, args.strict,
                     snapshot_dir)
    history = history_file(args.history, pack_dir)
    view = _history(args, lambda: view_before_writing(history, snapshot, results.control_results,
                                                      results.exceptions, results.inputs))
    paths = write_pack(snapshot, results, pack_dir, replace=args.force, history=view)
    recorded = _history(args, lambda: record_written_pack(history, paths.folder))
    outcome = _pack_outcome(args.command, paths, results, int(exit_status(results)))
    outcome.details["history"] = recorded.details()
    return out.finish(outcome, [*_pack_lines(paths, results, outcome.counts or {}), recorded.line()])


def _history(args: argparse.Namespace, step: Callable[[], Any]) -> Any:
    """A step on the history file; its error is one line naming the file (and the flag or config key)."""
    from rootaudit.history.store import HistoryError

    try:
        return step()
    except HistoryError as exc:
        raise UsageError(f"{_origin(args, 'history', '--history')}: {exc}") from exc


def _pack_dir(args: argparse.Namespace) -> Path:
    if args.out is None:
        raise UsageError("give --out DIR (or `out = \"DIR\"` in rootaudit.toml): where the pack is written")
    return Path(args.out)


# ---- commands -------------------------------------------------------------------------------------

def cmd_collect(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.outcome import file_sha256

    snapshot = _do_collect(args, args.out, out)
    meta_file = args.out / "snapshot.json"
    return out.finish(Outcome(
        "collect", 0, "the snapshot was written",
        next_step=f"`rootaudit report {args.out} --out DIR` writes the evidence pack (no AWS access)",
        details={"snapshot": str(args.out), "snapshot_json_sha256": file_sha256(meta_file),
                 "population": snapshot.meta.get("population", {}),
                 "cloudtrail_source": snapshot.meta.get("cloudtrail_source")}))


def cmd_report(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.snapshot import SnapshotLoadError, load_snapshot

    pack_dir = _pack_dir(args)
    try:
        snapshot = load_snapshot(args.snapshot)
    except (FileNotFoundError, SnapshotLoadError) as exc:
        raise UsageError(f"SNAPSHOT {args.snapshot}: {exc}") from exc
    return _do_report(snapshot, args, pack_dir, out, args.snapshot)


def cmd_run(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.atomic import output_lock, refuse_existing
    from rootaudit.history.recorder import history_file
    from rootaudit.history.store import HistoryStore
    from rootaudit.render.pack import packs_for_period

    pack_dir = _pack_dir(args)
    _precheck_inputs(args, out)
    with output_lock(pack_dir):  # held from collection to the pack: one run per folder
        if not args.force:  # the organization's id is known only after collecting: refuse on the period
            refuse_existing(packs_for_period(pack_dir, _period(args).label))
        # a history file that cannot be used stops the run before it collects (read only: nothing made)
        _history(args, lambda: HistoryStore.check(history_file(args.history, pack_dir)))
        snapshot = _do_collect(args, pack_dir / "snapshot", out)
        return _do_report(snapshot, args, pack_dir, out, pack_dir / "snapshot")


def cmd_verify(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.render.verify import FAILED, STEPS, PackError, verify_pack
    from rootaudit.signing import SigningKeyError
    from rootaudit.signing.record import SignatureFileError, load_public_key

    if not args.pack.exists():
        raise UsageError(f"PACK {args.pack}: no such pack folder or zip")
    public_key = None
    if args.public_key is not None:
        try:
            public_key = args.public_key.read_bytes()
            load_public_key(public_key)
        except (OSError, SignatureFileError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise UsageError(f"--public-key {args.public_key}: {why}") from exc
    try:
        report = verify_pack(args.pack, public_key=public_key, kms_key=args.kms_key, profile=args.profile)
    except PackError as exc:
        raise UsageError(f"{exc} (give the pack folder or its .zip)") from exc
    except SigningKeyError as exc:
        raise UsageError(str(exc)) from exc
    status = {FAILED: 1, "verified": 0, "unsigned": 4, "self-asserted": 5}[report.status]
    lines = [f"MISMATCH {problem}" for problem in report.ordered()] + report.notes
    step = report.failed_step
    lines.append(f"verification FAILED at step {list(STEPS).index(step) + 1}, {step}: {STEPS[step]}"
                 if step else f"{report.status}: {report.files_checked} files; every hash, frame and result "
                 f"matches; {report.signature_detail}")
    next_step = {0: "the pack is as it was collected and signed: read its evidence.pdf (docs/auditors.md)",
                 1: "do not rely on this pack: ask its sender for the original, or collect again",
                 4: "the pack is consistent, but nothing outside it vouches for it: ask for a pack signed at "
                    "collection (collect --sign-with; docs/evidence-integrity.md)",
                 5: "get the signer's public key or KMS key ARN from the signer (not from the pack) and run "
                    "verify again with --public-key or --kms-key"}[status]
    outcome = Outcome("verify", status, VERIFY_MEANING[status], next_step=next_step,
                      pack=_verified_pack(args.pack),
                      details={"pack": str(args.pack), "files_checked": report.files_checked,
                               "status": report.status, "failed_step": step, "signature": report.signature,
                               "signature_detail": report.signature_detail,
                               "re_evaluated": report.re_evaluated, "notes": report.notes,
                               "problems": [str(p) for p in report.ordered()]})
    return out.finish(outcome, lines)


def _verified_pack(path: Path) -> dict[str, Any]:
    from rootaudit.outcome import file_sha256

    if path.is_file():
        return {"zip": str(path), "zip_sha256": file_sha256(path)}
    manifest = path / "manifest.json"
    return {"folder": str(path), "manifest_sha256": file_sha256(manifest) if manifest.is_file() else None}


def cmd_frameworks(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.controls import list_frameworks

    frameworks = list_frameworks(args.mappings)
    lines = [f"{'*' if fw['default'] else ' '} {fw['id']:<28} {fw['framework']} {fw['version']} "
             f"({fw['controls']} controls)" for fw in frameworks]
    lines.append("\n* evaluated by default (the current version of each framework); name others with "
                 "--frameworks ID …, or --frameworks all")
    if not out.json_mode:
        print("\n".join(lines))
        return 0
    return out.finish(Outcome("frameworks", 0, "frameworks listed", details={"frameworks": frameworks}))


def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.controls import exit_status
    from rootaudit.demo import run_demo

    if not 1 <= args.accounts <= 5000:
        raise UsageError(f"--accounts must be between 1 and 5000, not {args.accounts}")
    out.say(f"simulating an organization of {args.accounts} accounts (seed {args.seed})")
    demo = run_demo(accounts=args.accounts, seed=args.seed, out=args.out, period=_period(args))
    paths, results = demo.paths, demo.results
    pack_status = int(exit_status(results))
    outcome = _pack_outcome("demo", paths, results, pack_status)
    lines = [f"earlier pack:  {demo.earlier.folder} (the period before, for the history)",
             *_pack_lines(paths, results, outcome.counts or {}),
             f"history:       {demo.history} (both packs; `rootaudit history --history {demo.history}`, "
             f"`rootaudit diff {demo.earlier.zip} {paths.zip}`)"]
    outcome.details["earlier_pack"] = str(demo.earlier.folder)
    outcome.details["history"] = str(demo.history)
    lines.append(f"pack status:   {pack_status} ({EXIT_MEANING[pack_status]}; the simulated organization "
                 "holds, on purpose, an account whose audit is refused and accounts with root credentials)")
    outcome.details["pack_status"] = pack_status
    outcome.exit_status, outcome.meaning = 0, "the demo made its pack"
    key = args.out / "signing-key.pub.pem"  # the simulated KMS key's, which signed the snapshot
    outcome.next_step = (f"open {paths.folder / 'evidence.pdf'}; `rootaudit verify {paths.zip} --public-key "
                         f"{key}` re-checks it against the key that signed it; `rootaudit doctor` and "
                         "`rootaudit run` do the same against your organization")
    return out.finish(outcome, lines)


def cmd_simulate(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.simulate.server import serve

    serve(port=args.port, accounts=args.accounts, seed=args.seed, period=_period(args))
    return 0


def _add_doctor(sub: Any) -> None:
    from rootaudit.doctor import DOCTOR_EPILOG

    p = sub.add_parser("doctor", help="check, read-only, that a run would be complete: caller, centralized "
                       "root access, AssumeRoot, the member role, the CloudTrail source",
                       epilog=DOCTOR_EPILOG, formatter_class=_Formatter)
    _add_collect_options(p)
    p.add_argument("--sample", type=int, default=3, metavar="N",
                   help="member accounts in which the member role is tried (default: 3)")


def cmd_doctor(args: argparse.Namespace, out: Output) -> int:
    from rootaudit.doctor import run_doctor

    settings = _collect_settings(args, out)
    if args.sample < 0:
        raise UsageError(f"--sample must be 0 or more, not {args.sample}")
    return run_doctor(_context(args), settings, out, sample=args.sample)


def cmd_athena_ddl(args: argparse.Namespace, out: Output) -> int:
    from datetime import date

    from rootaudit.aws import error_text
    from rootaudit.collectors.cloudtrail import athena_setup
    from rootaudit.collectors.cloudtrail.athena_table import create_table_ddl

    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError as exc:
        raise UsageError(f"--since must be YYYY-MM-DD, not {args.since!r}") from exc
    ctx = None if args.organization_id and args.accounts and args.regions else _context(args)
    reads = (("organization_id", "--organization-id", athena_setup.organization_id),
             ("accounts", "--accounts", athena_setup.account_ids),
             ("regions", "--regions", athena_setup.region_names))
    values: dict[str, Any] = {}
    for dest, flag, read in reads:
        values[dest] = getattr(args, dest)
        if not values[dest] and ctx is not None:
            try:
                values[dest] = read(ctx)
            except Exception as exc:
                raise UsageError(f"cannot read the organization ({error_text(exc)}): give {flag}, or "
                                 "credentials that can read it") from exc
    try:
        ddl = create_table_ddl(args.location, values["organization_id"], values["accounts"],
                               values["regions"], table=args.table, start=since)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(ddl, end="")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Output], int]] = {
    "collect": cmd_collect, "report": cmd_report, "run": cmd_run, "verify": cmd_verify,
    "frameworks": cmd_frameworks, "demo": cmd_demo, "simulate": cmd_simulate, "doctor": cmd_doctor,
    "plan": cmd_plan, "remediate": cmd_remediate, "history": cmd_history, "diff": cmd_diff,
    "athena-ddl": cmd_athena_ddl}


# ---- main -----------------------------------------------------------------------------------------

def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse; an unknown option is reported with the usage of the subcommand it was given to."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        subparsers.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _configure(args: argparse.Namespace) -> None:
    """Fill unset options from the configuration file, then from DEFAULTS."""
    from rootaudit.config import apply_config, find_config

    config = find_config(args.config)
    used = apply_config(args, config, args.command)
    args._config_keys = {key: config.path for key in used}
    for dest, value in DEFAULTS.items():
        if hasattr(args, dest) and getattr(args, dest) is None:
            setattr(args, dest, value)


class _ConsoleHandler(logging.Handler):
    """Log lines through the progress reporter, so they never break a live progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            progress.current().write_line(self.format(record))
        except Exception:
            self.handleError(record)


def _setup_logging(verbose: bool) -> None:
    handler = _ConsoleHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # -v is rootaudit's own account of what it does. Libraries stay at WARNING: WeasyPrint's and
    # fontTools' layout and subsetting lines are for packagers, and botocore's and urllib3's debug logs
    # carry request headers, session tokens included.
    logging.getLogger("rootaudit").setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    for wire in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(wire).setLevel(logging.WARNING)


def _fail(out: Output, command: str, message: str) -> int:
    print(f"rootaudit: {message}", file=sys.stderr)
    if out.json_mode:
        document = out.document(Outcome(command, EXIT_USAGE, "usage or runtime error"))
        document["error"] = message
        import json

        print(json.dumps(document, indent=2, sort_keys=True, default=str))
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()  # imports most of rootaudit: a Ctrl-C can land here too
        args = _parse(parser, argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage; 2 means "incomplete evidence" here
        return 0 if exc.code == 0 else EXIT_USAGE
    except KeyboardInterrupt:
        print("rootaudit: interrupted before anything was done", file=sys.stderr)
        return EXIT_USAGE
    _setup_logging(args.verbose)
    out = Output(json_mode=args.json, quiet=args.quiet)
    with _sigterm_interrupts():
        return _main(args, out)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a cancelled CI job, `kill`) ends a command as Ctrl-C does, through the same clean-up:
    nothing half-written is left, and an older pack stays as it was."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(args: argparse.Namespace, out: Output) -> int:
    try:
        _configure(args)
        with progress.use(progress.reporter_for(sys.stderr, quiet=args.quiet)):
            return COMMANDS[args.command](args, out)
    except UsageError as exc:
        return _fail(out, args.command, str(exc))
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit, on purpose
        return 0
    except KeyboardInterrupt:
        if not args.verbose:
            # What the interrupt cut short (a half-written workbook's generators, the PDF worker) can
            # only complain at exit, when it is collected: the one line below says all there is.
            sys.unraisablehook = lambda unraisable: None
        return _fail(out, args.command, "interrupted; nothing was written for the unfinished step "
                                        "(an older pack of the same name is kept as it was)")
    except Exception as exc:  # one line that says what to do; -v shows the trace
        if args.verbose:
            traceback.print_exc()
        return _fail(out, args.command, explain(exc))


def explain(exc: BaseException) -> str:
    """One line for a runtime failure, saying what to do about it."""
    from botocore.exceptions import (
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ProfileNotFound,
        SSOTokenLoadError,
        TokenRetrievalError,
    )

    from rootaudit.atomic import OutputError
    from rootaudit.bounded import InputTooLarge
    from rootaudit.config import ConfigError
    from rootaudit.controls.exceptions import ExceptionsFileError
    from rootaudit.controls.justifications import JustificationsFileError
    from rootaudit.controls.mappings import MappingError

    if isinstance(exc, OutputError):
        return str(exc)
    if isinstance(exc, ConfigError):
        return f"{exc} (correct the configuration file and run again)"
    if isinstance(exc, MappingError | ExceptionsFileError | JustificationsFileError | InputTooLarge):
        return f"{exc} (correct the file and run again)"
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == "moto":
        return "the simulated organization needs moto: pip install 'rootaudit[simulate]'"
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: check --profile / AWS_PROFILE against ~/.aws/config"
    if isinstance(exc, SSOTokenLoadError | TokenRetrievalError):
        return f"{exc}: run `aws sso login` (with the same --profile) and try again"
    if isinstance(exc, NoCredentialsError):
        return ("no AWS credentials found: use --profile, set AWS_PROFILE, or run `aws sso login` "
                "(or try `rootaudit demo`, which needs none)")
    if isinstance(exc, NoRegionError):
        return "no AWS region configured: pass --region or set AWS_DEFAULT_REGION"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach AWS: {exc} (check the network, or AWS_ENDPOINT_URL if you set it)"
    return f"{type(exc).__name__}: {exc} (run with -v for the details)"
