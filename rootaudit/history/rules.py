"""What each control's result rests on, as the pack's own mapping files say: one line per control.

A pack keeps the mapping files it was evaluated with (inputs/mappings/). Recorded beside the results,
their rules let `diff` tell a status that changed with the organization from one that changed because
the control itself was mapped otherwise (another rootaudit release, or a mapping folder of one's own):
GRC teams must explain every change, and "the control now rests on other signals" is such an
explanation.
"""

from __future__ import annotations

from collections.abc import Mapping

from rootaudit.controls.mappings import Control, parse_frameworks

# Where mapping files sit: in a pack (inputs/mappings/) and in an evaluation's inputs (mappings/).
PACK_MAPPINGS = "inputs/mappings/"
MAPPING_PREFIXES = (PACK_MAPPINGS, "mappings/")
RuleKey = tuple[str, str, str]  # framework, version, control id, as the control results name them


def rule_text(control: Control) -> str:
    """The control's rule in a line: the signals that decide it, its scope, and what changes them."""
    parts = [control.rule.describe(), f"scope {', '.join(control.scope)}"]
    if control.management_rule is not None:
        parts.append(f"management account: {control.management_rule.describe()}")
    if control.not_applicable_when:
        parts.append(f"not applicable when {control.not_applicable_when}")
    if control.manual:
        parts.append("manual review when the signals pass")
    return "; ".join(parts)


def control_rules(files: Mapping[str, bytes]) -> dict[RuleKey, str]:
    """Every control's rule line, from the mapping files among `files` (a pack's, or an evaluation's
    inputs). Mapping files that do not parse give no rules: the history then says nothing of them,
    and `verify` is what names such a pack's fault."""
    mappings = {rel.rsplit("/", 1)[-1]: data for rel, data in files.items()
                if rel.startswith(MAPPING_PREFIXES) and rel.endswith((".yaml", ".yml"))}
    try:
        frameworks = parse_frameworks(mappings)
    except ValueError:  # MappingError, with the file and line
        return {}
    return {(c.framework, c.version, c.id): rule_text(c) for fw in frameworks for c in fw.controls}
