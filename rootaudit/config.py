"""`rootaudit.toml`: the settings an operator keeps between runs, so each quarter's command is short.

    member_role = "RootAuditReadOnly"
    regions = ["us-east-1", "eu-west-1"]
    workers = 18
    period = "2026-Q3"
    cloudtrail = "auto"
    frameworks = ["default"]
    mappings = ["our-mappings"]
    exceptions = "exceptions.yaml"
    justifications = "justifications.yaml"
    history = "rootaudit-history.sqlite"
    out = "evidence"

The file is read from the working directory, or from `--config FILE`. A flag given on the command line
overrides the file; the file overrides the built-in default. Paths are relative to the file's folder,
so a configuration checked in beside its inputs works from anywhere. An unknown key or a value of the
wrong type is an error naming the key and the file: a misspelt `exceptoins` silently ignored would
drop every risk acceptance from the pack.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rootaudit.bounded import TOML_LIMIT, InputTooLarge, read_bounded

DEFAULT_NAME = "rootaudit.toml"


@dataclass(frozen=True)
class Key:
    kind: str  # str | int | bool | strs | path | paths
    dest: str  # the argparse destination it fills
    help: str


KEYS: dict[str, Key] = {
    "profile": Key("str", "profile", "AWS profile to collect with"),
    "region": Key("str", "region", "home region for STS and global calls"),
    "member_role": Key("str", "member_role", "read-only role in member accounts (policies/ deploys it)"),
    "regions": Key("strs", "regions", "regions to read"),
    "workers": Key("int", "workers", "accounts collected at once"),
    "period": Key("str", "period", "the audit period: 2026-Q3, 2026-09 or 2026"),
    "cloudtrail": Key("str", "cloudtrail", "CloudTrail source: auto, lookup, s3://…, a folder, athena://…"),
    "frameworks": Key("strs", "frameworks", "frameworks to evaluate (ids, 'default' or 'all')"),
    "mappings": Key("paths", "mappings", "your own mapping folders"),
    "exceptions": Key("path", "exceptions", "risk acceptances (YAML)"),
    "justifications": Key("path", "justifications", "AssumeRoot session justifications (YAML)"),
    "history": Key("path", "history", "the history file (SQLite)"),
    "out": Key("path", "out", "folder the evidence packs are written to (run, report)"),
    "strict": Key("bool", "strict", "treat every input warning as an error"),
    "sign_with": Key("signer", "sign_with", "sign each snapshot at collection: kms:ARN or an Ed25519 "
                                            "key file"),
}
# `out` means the pack folder; `collect --out` names a snapshot, so the file never fills it.
OUT_COMMANDS = frozenset({"run", "report"})


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names the file (and the key)."""


@dataclass(frozen=True)
class Config:
    path: Path | None  # None: no file was read
    values: dict[str, Any] = field(default_factory=dict)


_TYPE_NAMES = {"str": "a string", "int": "an integer", "bool": "true or false",
               "strs": "a list of strings", "path": "a path (string)", "paths": "a list of paths (strings)",
               "signer": "kms:ARN or a key file path (string)"}


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _check(key: str, spec: Key, value: Any, path: Path) -> Any:
    ok = {
        "str": isinstance(value, str),
        "path": isinstance(value, str),
        "signer": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "strs": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "paths": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[spec.kind]
    if not ok:
        raise ConfigError(f"{path}: key '{key}' must be {_TYPE_NAMES[spec.kind]}, not {_type_name(value)} "
                          f"({value!r})")
    base = path.parent
    if spec.kind == "path":
        return base / Path(value).expanduser()
    if spec.kind == "paths":
        return [base / Path(v).expanduser() for v in value]
    if spec.kind == "signer":  # kms:ARN as written; a key file, like any path, from this file's folder
        return value if value.startswith("kms:") else str(base / Path(value).expanduser())
    return value


def load_config(path: Path) -> Config:
    """Read and check one configuration file."""
    try:
        data = read_bounded(path, TOML_LIMIT, "configuration file")
    except InputTooLarge as exc:
        raise ConfigError(str(exc)) from None
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (given with --config)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in doc.items():
        spec = KEYS.get(key)
        if spec is None:
            raise ConfigError(f"{path}: unknown key '{key}' (known keys: {', '.join(KEYS)})")
        values[key] = _check(key, spec, value, path)
    return Config(path=path, values=values)


def find_config(given: Path | None, cwd: Path | None = None) -> Config:
    """The file named with --config, else rootaudit.toml in the working directory, else no file."""
    if given is not None:
        return load_config(given)
    candidate = Path(DEFAULT_NAME) if cwd is None else cwd / DEFAULT_NAME
    return load_config(candidate) if candidate.is_file() else Config(None)


def apply_config(args: Any, config: Config, command: str) -> list[str]:
    """Fill every option the command has and the command line left unset (None) from the file;
    returns the keys used."""
    used = []
    for key, value in config.values.items():
        spec = KEYS[key]
        if key == "out" and command not in OUT_COMMANDS:
            continue
        if hasattr(args, spec.dest) and getattr(args, spec.dest) is None:
            setattr(args, spec.dest, value)
            used.append(key)
    return used
