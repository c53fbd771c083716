"""Framework mappings: one YAML file per framework version, saying which signals satisfy which control.

A mapping file (see `mappings/README.md` for the full format):

    id: cis-aws-7.0.0
    framework: CIS AWS Foundations Benchmark      # as control-mappings.csv spells it
    version: 7.0.0
    family: cis-aws                               # versions of one framework share a family
    supersedes: [cis-aws-6.0.0]                   # the versions this one replaces
    controls:
      - id: "2.5"
        title: Ensure MFA is enabled for the 'root' user account
        level: L1
        assessment: Automated
        scope: [member_accounts, management_account]
        signals: {all: [ROOT_MFA_ENABLED_OR_NO_ROOT_PASSWORD]}
        not_applicable: {when: root_credentials_removed_centrally, justification: "..."}
        basis: published
        source: "prowler:…; cloudaware:…"

Files are checked as they load: an unknown key, an unknown signal, scope or not-applicable rule, or a
malformed value raises `MappingError` naming the file and line.

Which frameworks are evaluated when none are named is data too: a framework is *current* unless another
loaded framework `supersedes` it, and `select(frameworks, None)` chooses the current ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rootaudit.bounded import YAML_LIMIT, InputTooLarge, check_aliases, check_size, read_bounded
from rootaudit.controls.signals import ORGANIZATION_SIGNALS, VOCABULARY

SCOPES = ("member_accounts", "management_account", "organization")
BASES = ("published", "rationale")
# Named rules that make a control NOT_APPLICABLE for an account (evaluated in rootaudit.controls.evaluator).
NOT_APPLICABLE_RULES = (
    # a member account whose root has no credentials while RootCredentialsManagement is enabled
    "root_credentials_removed_centrally",
    # an account whose root has no credentials at all (AWS Config's NOT_APPLICABLE for the MFA rules)
    "root_credentials_absent",
)
_FILE_KEYS = {"id", "framework", "version", "family", "supersedes", "title", "url", "note", "controls"}
# Names `--frameworks` accepts besides ids: every framework loaded, or the current ones.
ALL = "all"
DEFAULT = "default"
_CONTROL_KEYS = {"id", "title", "level", "assessment", "scope", "signals", "informational",
                 "management_account_signals", "not_applicable", "manual", "basis", "source",
                 "unverified", "note"}


class MappingError(ValueError):
    """A mapping file that cannot be used: the message names the file and line."""


class _Map(dict):
    """A YAML mapping that remembers the line it started on and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: str) -> int:
        return getattr(self, "key_lines", {}).get(key, self.line)


# The C parser when PyYAML has it (marks and lines are the same), else the pure-Python one.
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map(loader.construct_pairs(node, deep=True))
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            out.key_lines.setdefault(key_node.value, key_node.start_mark.line + 1)
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def load_yaml(text: bytes, name: str) -> Any:
    """YAML with line numbers on every mapping; a syntax error names the file and line. A file above
    the YAML size limit, or whose aliases would expand past the node limit, is refused (rootaudit.bounded)."""
    try:
        check_size(text, name, "YAML file", YAML_LIMIT)
        decoded = text.decode("utf-8")
        check_aliases(decoded, name)
        return yaml.load(decoded, Loader=_LineLoader)
    except InputTooLarge as exc:
        raise MappingError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise MappingError(f"{name}: not UTF-8 text ({exc})") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        raise MappingError(f"{where}: not valid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:  # e.g. the C reader's errors for control characters
        raise MappingError(f"{name}: not valid YAML: {exc}") from exc


@dataclass(frozen=True)
class SignalRule:
    """Which signals must hold: all of them, or (any=True) at least one."""

    signals: tuple[str, ...]
    any: bool = False

    def describe(self) -> str:
        return (" or " if self.any else " and ").join(self.signals) or "(no signal)"


@dataclass(frozen=True)
class Control:
    framework_id: str
    framework: str
    version: str
    id: str
    title: str
    scope: tuple[str, ...]
    rule: SignalRule
    basis: str
    source: str
    line: int
    level: str = ""
    assessment: str = ""
    informational: tuple[str, ...] = ()
    management_rule: SignalRule | None = None
    not_applicable_when: str = ""
    not_applicable_justification: str = ""
    manual: str = ""  # what the auditor must look at; empty when the signals decide
    unverified: str = ""
    note: str = ""

    def basis_text(self) -> str:
        text = f"{self.basis}: {self.source}" if self.source else self.basis
        return text + (f" [UNVERIFIED: {self.unverified}]" if self.unverified else "")


@dataclass(frozen=True)
class Framework:
    id: str
    framework: str
    version: str
    title: str
    file: str  # the file name, e.g. cis-aws-7.0.0.yaml
    sha256: str
    controls: tuple[Control, ...] = field(default_factory=tuple)
    family: str = ""  # versions of one framework share it; a file without one is its own family
    supersedes: tuple[str, ...] = ()  # ids of the older versions this one replaces

    @property
    def stem(self) -> str:
        return self.file.rsplit(".", 1)[0]


def _where(name: str, node: Any, fallback: int = 0) -> str:
    return f"{name}:{getattr(node, 'line', fallback) or fallback}"


def at_key(doc: Any, key: str, name: str) -> str:
    """file:line of a top-level key (the document's first line when the key is absent)."""
    return f"{name}:{doc.line_of(key) if isinstance(doc, _Map) else 1}"


def _str(value: Any, what: str, where: str, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise MappingError(f"{where}: {what} is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(f"{where}: {what} must be text, not {type(value).__name__}")
    return str(value)


def _signal_list(value: Any, what: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{where}: {what} must be a list of signal names")
    unknown = [v for v in value if v not in VOCABULARY]
    if unknown:
        raise MappingError(f"{where}: unknown signal(s) {', '.join(unknown)} in {what} "
                           f"(known: {', '.join(sorted(VOCABULARY))})")
    return tuple(value)


def _rule(value: Any, what: str, where: str) -> SignalRule:
    if not isinstance(value, dict) or set(value) - {"all", "any"} or len(value) != 1:
        raise MappingError(f"{where}: {what} must be a mapping with exactly one of 'all' or 'any', "
                           f"each a list of signals")
    key = next(iter(value))
    return SignalRule(_signal_list(value[key], f"{what}.{key}", where), any=key == "any")


def _control(node: Any, index: int, head: dict[str, str], name: str, file_line: int) -> Control:
    where = _where(name, node, file_line)
    if not isinstance(node, dict):
        raise MappingError(f"{where}: control #{index + 1} must be a mapping")
    unknown = set(node) - _CONTROL_KEYS
    if unknown:
        first = min(node.line_of(str(k)) for k in unknown)
        raise MappingError(f"{name}:{first}: unknown key(s) {', '.join(sorted(map(str, unknown)))} in "
                           f"control #{index + 1} (allowed: {', '.join(sorted(_CONTROL_KEYS))})")
    cid = _str(node.get("id"), "control id", where)
    label = f"(control {cid})"

    def at(key: str) -> str:
        return f"{name}:{node.line_of(key)} {label}"

    where = f"{where} {label}"
    scope = node.get("scope")
    scope = [scope] if isinstance(scope, str) else scope
    if not isinstance(scope, list) or not scope or any(s not in SCOPES for s in scope):
        raise MappingError(f"{at('scope')}: scope must be one or more of {', '.join(SCOPES)}, got {scope!r}")
    manual = node.get("manual")
    if manual is not None and not (isinstance(manual, dict) and set(manual) == {"look_at"}
                                   and isinstance(manual["look_at"], str) and manual["look_at"].strip()):
        raise MappingError(f"{at('manual')}: manual must be a mapping with 'look_at': what the auditor "
                           f"must look at")
    rule = _rule(node["signals"], "signals", at("signals")) if "signals" in node else SignalRule(())
    if not rule.signals and manual is None:
        raise MappingError(f"{where}: a control without signals must be manual (say what to look at)")
    if "organization" in scope and len(scope) > 1:
        raise MappingError(f"{where}: an organization-scoped control cannot also be account-scoped")
    if scope == ["organization"]:
        account_only = [s for s in rule.signals if s not in ORGANIZATION_SIGNALS]
        if account_only and rule.any:
            raise MappingError(f"{where}: 'any' over account signals at organization scope is ambiguous")
    na = node.get("not_applicable")
    na_when = na_just = ""
    if na is not None:
        if not isinstance(na, dict) or set(na) != {"when", "justification"}:
            raise MappingError(f"{at('not_applicable')}: not_applicable must have 'when' and 'justification'")
        na_when = _str(na["when"], "not_applicable.when", at("not_applicable"))
        if na_when not in NOT_APPLICABLE_RULES:
            raise MappingError(f"{at('not_applicable')}: unknown not_applicable rule {na_when!r} "
                               f"(known: {', '.join(NOT_APPLICABLE_RULES)})")
        na_just = _str(na["justification"], "not_applicable.justification", where)
    basis = _str(node.get("basis"), "basis", at("basis"))
    if basis not in BASES:
        raise MappingError(f"{at('basis')}: basis must be one of {', '.join(BASES)}, got {basis!r}")
    source = _str(node.get("source"), "source", where, required=basis == "published")
    return Control(
        framework_id=head["id"], framework=head["framework"], version=head["version"], id=cid,
        title=_str(node.get("title"), "title", where), scope=tuple(scope), rule=rule, basis=basis,
        source=source, line=getattr(node, "line", file_line),
        level=_str(node.get("level"), "level", where, required=False),
        assessment=_str(node.get("assessment"), "assessment", where, required=False),
        informational=_signal_list(node.get("informational", []), "informational", at("informational")),
        management_rule=(_rule(node["management_account_signals"], "management_account_signals",
                               at("management_account_signals"))
                         if "management_account_signals" in node else None),
        not_applicable_when=na_when, not_applicable_justification=na_just,
        manual=manual["look_at"].strip() if manual else "",
        unverified=_str(node.get("unverified"), "unverified", where, required=False),
        note=_str(node.get("note"), "note", where, required=False),
    )


def parse_framework(data: bytes, name: str) -> Framework:
    """One mapping file's bytes -> a Framework, checked; `name` is the file name used in messages."""
    doc = load_yaml(data, name)
    if not isinstance(doc, dict):
        raise MappingError(f"{name}:1: a mapping file must be a YAML mapping with id, framework, version, "
                           f"controls")
    where = _where(name, doc, 1)
    unknown = set(doc) - _FILE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                           f"(allowed: {', '.join(sorted(_FILE_KEYS))})")
    head = {k: _str(doc.get(k), k, where) for k in ("id", "framework", "version")}
    controls_node = doc.get("controls")
    if not isinstance(controls_node, list) or not controls_node:
        raise MappingError(f"{where}: controls must be a non-empty list")
    controls = [_control(c, i, head, name, doc.line) for i, c in enumerate(controls_node)]
    seen: dict[str, int] = {}
    for c in controls:
        if c.id in seen:
            raise MappingError(f"{name}:{c.line}: control {c.id} is defined twice "
                               f"(first at line {seen[c.id]})")
        seen[c.id] = c.line
    family = _str(doc.get("family"), "family", at_key(doc, "family", name), required=False) or head["id"]
    supersedes = doc.get("supersedes", [])
    if not isinstance(supersedes, list) or not all(isinstance(v, str) and v for v in supersedes):
        raise MappingError(f"{at_key(doc, 'supersedes', name)}: supersedes must be a list of framework ids")
    if head["id"] in supersedes:
        raise MappingError(f"{at_key(doc, 'supersedes', name)}: a framework cannot supersede itself")
    return Framework(id=head["id"], framework=head["framework"], version=head["version"],
                     family=family, supersedes=tuple(supersedes),
                     title=_str(doc.get("title"), "title", where, required=False) or
                     f"{head['framework']} {head['version']}",
                     file=name, sha256=hashlib.sha256(data).hexdigest(), controls=tuple(controls))


def read_mapping_files(mapping_dirs: Iterable[Path]) -> dict[str, bytes]:
    """File name -> bytes of every *.yaml / *.yml file in the folders, in name order. Two files of the
    same name in different folders are an error (one would hide the other)."""
    found: dict[str, Path] = {}
    for folder in mapping_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise MappingError(f"{folder}: not a folder of mapping files")
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            if path.name in found:
                raise MappingError(f"{path}: a mapping file named {path.name} already came from "
                                   f"{found[path.name]}; rename one")
            found[path.name] = path
    return {name: _read_mapping(found[name]) for name in sorted(found)}


def _read_mapping(path: Path) -> bytes:
    try:
        return read_bounded(path, YAML_LIMIT, "YAML file")
    except InputTooLarge as exc:
        raise MappingError(str(exc)) from None


def parse_frameworks(files: dict[str, bytes]) -> list[Framework]:
    frameworks = [parse_framework(data, name) for name, data in sorted(files.items())]
    ids: dict[str, str] = {}
    for fw in frameworks:
        if fw.id in ids:
            raise MappingError(f"{fw.file}: framework id {fw.id} is also defined in {ids[fw.id]}")
        ids[fw.id] = fw.file
    return frameworks


def current(frameworks: Sequence[Framework]) -> list[Framework]:
    """The frameworks no other loaded framework supersedes: those evaluated when none are named.

    A `supersedes` naming a framework that is not loaded is allowed (an older file may be left out), but
    one naming a framework of another family is an error, and so are two current versions in one family
    (a misspelt `supersedes` would otherwise evaluate both without a word)."""
    by_id = {fw.id: fw for fw in frameworks}
    superseded: set[str] = set()
    for fw in frameworks:
        for old in fw.supersedes:
            if old in by_id and by_id[old].family != fw.family:
                raise MappingError(f"{fw.file}: supersedes {old} ({by_id[old].file}), which is of family "
                                   f"{by_id[old].family}, not {fw.family}")
            superseded.add(old)
    chosen = [fw for fw in frameworks if fw.id not in superseded]
    families: dict[str, Framework] = {}
    for fw in chosen:
        if fw.family in families:
            other = families[fw.family]
            raise MappingError(f"{fw.file}: family {fw.family} has two current versions, {other.id} "
                               f"({other.file}) and {fw.id}; the newer must list the older under "
                               f"'supersedes'")
        families[fw.family] = fw
    return chosen


def select(frameworks: Sequence[Framework], wanted: Sequence[str] | None) -> list[Framework]:
    """Frameworks chosen by id or file stem, `all` (every one) or `default` (the current ones);
    None = the current ones. An unknown name is an error listing the known."""
    if wanted is None:
        wanted = [DEFAULT]
    chosen: list[Framework] = []
    for name in wanted:
        if name == ALL:
            match = list(frameworks)
        elif name == DEFAULT:
            match = current(frameworks)
        else:
            match = [fw for fw in frameworks if name in (fw.id, fw.stem, fw.file)]
        if not match:
            known = ", ".join(sorted(fw.id for fw in frameworks))
            raise MappingError(f"unknown framework {name!r} (known: {ALL}, {DEFAULT}, {known})")
        chosen += [fw for fw in match if fw not in chosen]
    return chosen
