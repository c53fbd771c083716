"""Edits of the simulator's answers on the wire, for `FaultPlan.rewrite`: each is a function from a
successful answer's body to the body sent instead, shaped as AWS would send it (JSON for Organizations,
the query protocol's XML for IAM), so the client parses it as it would parse AWS's.

    sim.faults.rewrite(rewrites.drop_accounts({"111122223333"}), "organizations", "ListAccounts")
    sim.faults.rewrite(rewrites.drop_xml_member("LoginProfile"), "iam", "GetLoginProfile",
                       caller_account=target)

These are the answers that look whole and are not: an account left out of a listing, an entry without
its state, a 200 without its required member, a truncated listing without its marker, a listing
emptied while GetAccountSummary still counts what it held.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any

Edit = Callable[[bytes], bytes]
ACCOUNT_LISTS = ("Accounts", "DelegatedAdministrators")  # Organizations listings that name accounts


def json_edit(change: Callable[[dict[str, Any]], None]) -> Edit:
    """An edit of a JSON answer: `change` alters the parsed document in place."""

    def edit(body: bytes) -> bytes:
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return body
        if not isinstance(doc, dict):
            return body
        change(doc)
        return json.dumps(doc).encode()

    return edit


def _entries(doc: dict[str, Any], account_ids: set[str]) -> Iterable[dict[str, Any]]:
    for key in ACCOUNT_LISTS:
        for entry in doc.get(key) or []:
            if isinstance(entry, dict) and str(entry.get("Id")) in account_ids:
                yield entry


def drop_accounts(account_ids: Iterable[str]) -> Edit:
    """Leave the accounts out of an Organizations listing, as if they were not there."""
    wanted = set(account_ids)

    def change(doc: dict[str, Any]) -> None:
        for key in ACCOUNT_LISTS:
            if isinstance(doc.get(key), list):
                doc[key] = [e for e in doc[key] if not (isinstance(e, dict) and str(e.get("Id")) in wanted)]

    return json_edit(change)


def set_account_fields(account_ids: Iterable[str], **fields: str | None) -> Edit:
    """Set fields of the accounts' entries in an Organizations listing; None removes the field."""
    wanted = set(account_ids)

    def change(doc: dict[str, Any]) -> None:
        for entry in _entries(doc, wanted):
            for name, value in fields.items():
                if value is None:
                    entry.pop(name, None)
                else:
                    entry[name] = value

    return json_edit(change)


def xml_edit(change: Callable[[ET.Element, str], None]) -> Edit:
    """An edit of a query-protocol XML answer: `change(root, namespace)` alters the tree in place."""

    def edit(body: bytes) -> bytes:
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return body
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        if namespace:
            ET.register_namespace("", namespace)
        change(root, namespace)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    return edit


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}" if namespace else name


def _result(root: ET.Element) -> ET.Element:
    """The `<…Result>` element of a query-protocol answer (the root when there is none)."""
    return next((child for child in root if child.tag.endswith("Result")), root)


def drop_xml_member(name: str) -> Edit:
    """Remove a member of the answer's result (e.g. GetLoginProfile's LoginProfile), keeping the 200."""

    def change(root: ET.Element, namespace: str) -> None:
        result = _result(root)
        for child in result.findall(_tag(namespace, name)):
            result.remove(child)

    return xml_edit(change)


def truncated_without_marker() -> Edit:
    """Say that a listing goes on (IsTruncated true) and give no Marker to go on from."""

    def change(root: ET.Element, namespace: str) -> None:
        result = _result(root)
        for marker in result.findall(_tag(namespace, "Marker")):
            result.remove(marker)
        truncated = result.find(_tag(namespace, "IsTruncated"))
        if truncated is None:
            truncated = ET.SubElement(result, _tag(namespace, "IsTruncated"))
        truncated.text = "true"

    return xml_edit(change)


def empty_xml_list(name: str) -> Edit:
    """Empty a list of the answer's result (e.g. ListAccessKeys' AccessKeyMetadata): a 200 that says
    "none", whatever the account holds."""

    def change(root: ET.Element, namespace: str) -> None:
        for listing in _result(root).findall(_tag(namespace, name)):
            for member in list(listing):
                listing.remove(member)

    return xml_edit(change)
