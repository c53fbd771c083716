"""Bounded reading of the files a user hands rootaudit: a stated size limit per kind of file, and YAML
whose aliases cannot grow it past a stated number of nodes.

A 450-byte YAML file of nested aliases ("billion laughs") expands to hundreds of millions of nodes; a
path to /dev/zero or a multi-gigabyte file would be read whole before anything is checked. Both stop the
run with one line naming the file instead, before the content is used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

MiB = 1 << 20
# The largest file of each kind rootaudit reads. Generous for real use (a 1,000-entry exceptions file is
# about 0.25 MiB, the largest mapping file 12 KiB), small enough to read and parse in seconds.
YAML_LIMIT = 4 * MiB
TOML_LIMIT = 1 * MiB
# A remediation plan or record holds a few hundred bytes per member account: 64 MiB is 100,000+ accounts.
JSON_LIMIT = 64 * MiB
# How many nodes YAML aliases may add, in total, when expanded. Files rootaudit reads need none (the
# shipped mappings and samples use no anchor); a merge key (`<<: *common`) per entry of a large
# exceptions file stays well under it.
ALIAS_NODES_LIMIT = 100_000

# The C parser when PyYAML has it (the same events and marks), else the pure-Python one.
_EVENT_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InputTooLarge(ValueError):
    """A file above its kind's limit, or YAML whose aliases expand past the node limit."""


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The file's bytes, or InputTooLarge (naming the file, its size and the limit) when it is larger
    than `limit`. Reads at most limit + 1 bytes, so a device or a file that grows is never read whole."""
    path = Path(path)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise InputTooLarge(too_large(path, what, limit, size))
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputTooLarge(too_large(path, what, limit, None))
    return data


def too_large(name: object, what: str, limit: int, size: int | None) -> str:
    has = f"{size:,} bytes" if size is not None else "larger than that"
    mib = f" ({limit // MiB} MiB)" if limit >= MiB else ""
    return f"{name}: refused: the {what} is {has}; rootaudit reads {what}s of at most {limit:,} bytes{mib}"


def check_size(data: bytes, name: str, what: str, limit: int) -> None:
    if len(data) > limit:
        raise InputTooLarge(too_large(name, what, limit, len(data)))


def check_aliases(text: str, name: str, limit: int = ALIAS_NODES_LIMIT) -> None:
    """Refuse YAML whose aliases, expanded, would add more than `limit` nodes.

    One pass over the parser's events, before anything is composed: each anchored node's size (itself
    and everything under it, aliases expanded) is recorded when it closes, and each alias adds the size
    of the node it names. The count stops at the limit, so even an exponential bomb costs one pass over
    its text. Syntax errors are left to the loader, which reports them with their line."""
    if "*" not in text:  # no alias can occur without its indicator
        return
    sizes: dict[str, int] = {}
    open_nodes: list[list[Any]] = []  # [anchor, size so far] of each open mapping or sequence
    added = 0

    def count(n: int) -> None:
        if open_nodes:
            open_nodes[-1][1] += n

    try:
        for event in yaml.parse(text, Loader=_EVENT_LOADER):
            if isinstance(event, yaml.AliasEvent):
                n = sizes.get(event.anchor or "", 0)
                added += n
                if added > limit:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    raise InputTooLarge(f"{name}:{line}: refused: its YAML aliases expand to more than "
                                        f"{limit:,} nodes; rootaudit reads at most that (write the "
                                        f"entries out in full)")
                count(n)
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor:
                    sizes[event.anchor] = 1
                count(1)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                open_nodes.append([event.anchor, 1])
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent) and open_nodes:
                anchor, n = open_nodes.pop()
                if anchor:
                    sizes[anchor] = n
                count(n)
    except yaml.YAMLError:
        return  # the loader reports it, with its line
