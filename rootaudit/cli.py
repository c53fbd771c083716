"""Command line: argument parsing and command wiring only.

Exit status: 2 when evidence is incomplete (any NOT_ASSESSED), whatever else failed; else 1 when any
control FAILs without an active exception; else 0. 3 is a usage or runtime error, with a one-line
message that says what to do.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rootaudit import __version__

EXIT_USAGE = 3


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit status 3."""


def _add_period(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", help="2026-Q3, 2026-09 or 2026 (default: the last complete quarter)")
    p.add_argument("--start", help="first day of the period, YYYY-MM-DD (with --end)")
    p.add_argument("--end", help="last day of the period, YYYY-MM-DD, inclusive (with --start)")


def _add_collect(p: argparse.ArgumentParser) -> None:
    _add_period(p)
    p.add_argument("--cloudtrail", default="lookup", metavar="SOURCE",
                   help="lookup (LookupEvents), s3://bucket/prefix (organization trail), a local "
                        "directory of trail files, or athena://… (default: lookup)")
    p.add_argument("--regions", nargs="+", metavar="REGION", help="regions to read (default: all enabled)")
    p.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    p.add_argument("--region", default=None, help="home region for STS and global calls (default: us-east-1)")
    p.add_argument("--fallback-role", default="OrganizationAccountAccessRole",
                   help="read-only role in member accounts used when AssumeRoot cannot be")
    p.add_argument("--workers", type=int, default=18, help="accounts collected at once (default: 18)")


def _add_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frameworks", nargs="+", metavar="ID", help="frameworks to evaluate: ids, "
                   "'all', or 'default' (the default: the current version of each framework; "
                   "see `rootaudit frameworks`)")
    p.add_argument("--mappings", nargs="+", type=Path, default=[], metavar="DIR",
                   help="your own mapping folders, added to the packaged ones")
    p.add_argument("--exceptions", type=Path, help="risk acceptances (YAML)")
    p.add_argument("--justifications", type=Path, help="AssumeRoot session justifications (YAML)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rootaudit", description="Evidence on root access across an AWS "
                                     "Organization: collect, evaluate against frameworks, write a pack.")
    parser.add_argument("--version", action="version", version=f"rootaudit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and each stage")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="the whole pipeline on a simulated organization (no AWS account needed)")
    p.add_argument("--accounts", type=int, default=40,
                   help="accounts simulated, the management account included (default: 40)")
    p.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7)")
    p.add_argument("--out", type=Path, default=Path("rootaudit-demo"), help="output folder")
    _add_period(p)

    p = sub.add_parser("collect", help="read the organization (read-only) and write a snapshot")
    p.add_argument("--out", type=Path, required=True, metavar="SNAPSHOT", help="snapshot folder to write")
    _add_collect(p)

    p = sub.add_parser("report", help="evaluate a snapshot and write the evidence pack (no AWS access)")
    p.add_argument("snapshot", type=Path, metavar="SNAPSHOT")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the pack")
    _add_report(p)

    p = sub.add_parser("run", help="collect, then report")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="folder for the snapshot and the pack")
    _add_collect(p)
    _add_report(p)

    p = sub.add_parser("verify", help="check a pack's hashes and re-perform its evaluation")
    p.add_argument("pack", type=Path, metavar="PACK", help="pack folder or zip")

    p = sub.add_parser("frameworks", help="list the frameworks and versions available")
    p.add_argument("--mappings", nargs="+", type=Path, default=[], metavar="DIR")

    _add_plan(sub)

    p = sub.add_parser("simulate", help="serve the simulated organization on loopback for other tools")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--accounts", type=int, default=12, help="accounts, the management account included")
    p.add_argument("--seed", type=int, default=7)
    return parser


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


def cmd_plan(args: argparse.Namespace) -> int:
    from rootaudit.remediate.files import write_file_atomically
    from rootaudit.remediate.plan import plan_from_files
    from rootaudit.remediate.render import render_plan

    if args.exceptions is not None and not args.exceptions.is_file():
        raise UsageError(f"no such file: {args.exceptions}")
    try:
        plan = plan_from_files(args.snapshot, args.exceptions, args.mappings, _signed_off(args.signed_off))
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    data = render_plan(plan, _plan_format(args))
    if args.out is None:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    write_file_atomically(args.out, data)
    s = plan.summary()
    print(f"plan written: {args.out} ({s['credentials_to_remove']} credential(s) to remove from "
          f"{s['accounts_to_clean']} account(s) in {len(s['phases'])} phase(s); {s['left_out']} left out, "
          f"{s['already_clean']} already clean; prerequisites missing: "
          f"{', '.join(s['prerequisites_missing']) or 'none'})")
    return 0


def _period(args: argparse.Namespace) -> Any:
    from rootaudit.period import PeriodError, parse_period

    try:
        return parse_period(args.period, args.start, args.end)
    except PeriodError as exc:
        raise UsageError(str(exc)) from exc


def _collect_settings(args: argparse.Namespace) -> Any:
    from rootaudit.collectors import CollectSettings

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    return CollectSettings(period=_period(args), regions=args.regions, cloudtrail=args.cloudtrail,
                           fallback_role=args.fallback_role, workers=args.workers)


def _do_collect(args: argparse.Namespace, out: Path) -> Any:
    from rootaudit.aws import AwsContext, AwsSettings
    from rootaudit.collect import collect
    from rootaudit.snapshot import save_snapshot

    settings = _collect_settings(args)
    ctx = AwsContext(AwsSettings(profile=args.profile, region=args.region or "us-east-1"))
    snapshot = collect(ctx, settings)
    save_snapshot(snapshot, out)
    print(f"snapshot written: {out}")
    return snapshot


def _do_report(snapshot: Any, args: argparse.Namespace, out: Path) -> int:
    from rootaudit.controls import evaluate
    from rootaudit.render.pack import write_pack

    for path in (args.exceptions, args.justifications):
        if path is not None and not path.is_file():
            raise UsageError(f"no such file: {path}")
    results = evaluate(snapshot, frameworks=args.frameworks, mapping_dirs=args.mappings,
                       exceptions_path=args.exceptions, justifications_path=args.justifications)
    paths = write_pack(snapshot, results, out)
    return _print_outcome(paths, results)


EXIT_MEANING = {0: "every control passes or is accepted",
                1: "a control fails without an active exception",
                2: "the evidence is incomplete: see NOT_ASSESSED in the pack"}


def _print_outcome(paths: Any, results: Any) -> int:
    from rootaudit.controls import exit_status

    cr = results.control_results
    org_level = cr[cr["account_id"].isna()]  # one row per control; account rows are in the pack
    counts = org_level["status"].value_counts().to_dict() if len(org_level) else {}
    headline = results.headline or {}
    print(f"evidence pack: {paths.folder}")
    print(f"zip:           {paths.zip}")
    print(f"headline:      {headline.get('claim') or headline.get('text') or '(none)'}")
    print(f"controls:      {len(org_level)} across {len(results.frameworks)} frameworks: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    status = int(exit_status(results))
    print(f"exit status {status}: {EXIT_MEANING[status]}")
    return status


def cmd_collect(args: argparse.Namespace) -> int:
    _do_collect(args, args.out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from rootaudit.snapshot import load_snapshot

    try:
        snapshot = load_snapshot(args.snapshot)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    return _do_report(snapshot, args, args.out)


def cmd_run(args: argparse.Namespace) -> int:
    snapshot = _do_collect(args, args.out / "snapshot")
    return _do_report(snapshot, args, args.out)


def cmd_verify(args: argparse.Namespace) -> int:
    from rootaudit.render.verify import verify_pack

    if not args.pack.exists():
        raise UsageError(f"no such pack: {args.pack}")
    report = verify_pack(args.pack)
    for problem in report.problems:
        print(f"MISMATCH {problem}")
    print("verified: every hash and every result matches" if report.ok else "verification FAILED")
    return 0 if report.ok else 1


def cmd_frameworks(args: argparse.Namespace) -> int:
    from rootaudit.controls import list_frameworks

    frameworks = list_frameworks(args.mappings)
    for fw in frameworks:
        mark = "*" if fw["default"] else " "
        print(f"{mark} {fw['id']:<28} {fw['framework']} {fw['version']} ({fw['controls']} controls)")
    print("\n* evaluated by default (the current version of each framework); name others with "
          "--frameworks ID …, or --frameworks all")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from rootaudit.demo import run_demo

    if not 1 <= args.accounts <= 5000:
        raise UsageError("--accounts must be between 1 and 5000")
    print(f"simulating an organization of {args.accounts} accounts (seed {args.seed})")
    paths, results = run_demo(accounts=args.accounts, seed=args.seed, out=args.out, period=_period(args))
    return _print_outcome(paths, results)


def cmd_simulate(args: argparse.Namespace) -> int:
    from rootaudit.simulate.server import serve

    serve(port=args.port, accounts=args.accounts, seed=args.seed)
    return 0


COMMANDS = {"collect": cmd_collect, "report": cmd_report, "run": cmd_run, "verify": cmd_verify,
            "frameworks": cmd_frameworks, "demo": cmd_demo, "simulate": cmd_simulate, "plan": cmd_plan}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage; 2 means "incomplete evidence" here
        return 0 if exc.code == 0 else EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not args.verbose:  # WeasyPrint's font-subsetting advice is for packagers, not for auditors
        for noisy in ("weasyprint", "fontTools"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    # botocore's and urllib3's debug logs carry request headers, session tokens included: never shown
    for wire in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(wire).setLevel(logging.WARNING)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"rootaudit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit, on purpose
        return 0
    except KeyboardInterrupt:
        print("rootaudit: interrupted; nothing was written for the unfinished step", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # one line that says what to do; -v shows the trace
        if args.verbose:
            traceback.print_exc()
        print(f"rootaudit: {explain(exc)}", file=sys.stderr)
        return EXIT_USAGE


def explain(exc: BaseException) -> str:
    """One line for a runtime failure, saying what to do about it."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError

    from rootaudit.controls.exceptions import ExceptionsFileError
    from rootaudit.controls.justifications import JustificationsFileError
    from rootaudit.controls.mappings import MappingError

    if isinstance(exc, MappingError | ExceptionsFileError | JustificationsFileError):
        return f"{exc} (correct the file and run again)"
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == "moto":
        return "the simulated organization needs moto: pip install 'rootaudit[simulate]'"
    if isinstance(exc, NoCredentialsError):
        return ("no AWS credentials found: use --profile, set AWS_PROFILE, or run `aws sso login` "
                "(or try `rootaudit demo`, which needs none)")
    if isinstance(exc, NoRegionError):
        return "no AWS region configured: pass --region or set AWS_DEFAULT_REGION"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach AWS: {exc} (check the network, or AWS_ENDPOINT_URL if you set it)"
    return f"{type(exc).__name__}: {exc} (run with -v for the details)"
