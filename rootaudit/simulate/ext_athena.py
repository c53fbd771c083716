"""Athena as AWS answers it, where moto 5.2.5 does not (moto runs no query; its results are queued
through moto's own API, `/moto-api/static/athena/query-results`):

- GetTableMetadata (moto has none): the table from the Glue Data Catalog of the same account and
  region, in Athena's `TableMetadata` shape (Columns, PartitionKeys, and Parameters holding the table's
  properties with the storage descriptor's location and formats, as Athena lists them); a table that
  is not there is a MetadataException.
- GetQueryResults pages by MaxResults (at most 1,000) and NextToken, as Athena does (moto returns every
  row at once); the header row is the first row of the first page and counts towards its size.
- GetQueryExecution reports why a query ended when it did not succeed (`Status.StateChangeReason` and
  `AthenaError`), from `state_change_reason` / `athena_error` set on moto's execution.
"""

from __future__ import annotations

import json
from typing import Any

_installed = False
MAX_RESULTS = 1000


def _table_metadata(table: dict[str, Any]) -> dict[str, Any]:
    storage = table.get("StorageDescriptor") or {}
    parameters = dict(table.get("Parameters") or {})
    for name, value in (("location", storage.get("Location")), ("inputformat", storage.get("InputFormat")),
                        ("outputformat", storage.get("OutputFormat")),
                        ("serde.serialization.lib", (storage.get("SerdeInfo") or {}).get(
                            "SerializationLibrary"))):
        if value:
            parameters[name] = value
    created = table.get("CreateTime")
    return {
        "Name": table["Name"],
        **({"CreateTime": created.timestamp()} if hasattr(created, "timestamp") else {}),
        "TableType": table.get("TableType") or "EXTERNAL_TABLE",
        "Columns": [{"Name": c["Name"], "Type": c.get("Type", "string")} for c in storage.get("Columns", [])],
        "PartitionKeys": [{"Name": c["Name"], "Type": c.get("Type", "string")}
                          for c in table.get("PartitionKeys", [])],
        "Parameters": parameters,
    }


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.athena.exceptions import MetadataException
    from moto.athena.responses import AthenaResponse
    from moto.glue.models import glue_backends

    cls: Any = AthenaResponse

    def get_table_metadata(self: Any) -> str:
        database, name = self._get_param("DatabaseName"), self._get_param("TableName")
        glue = glue_backends[self.current_account][self.region]
        try:
            table = glue.get_table(database, name).as_dict()
        except Exception as exc:
            raise MetadataException(
                f"Table {name} not found in database {database} (Service: AmazonDataCatalog; "
                f"Error Code: EntityNotFoundException)") from exc
        return json.dumps({"TableMetadata": _table_metadata(table)})

    original_results = cls.get_query_results

    def get_query_results(self: Any) -> str:
        whole = json.loads(original_results(self))
        rows = whole["ResultSet"]["Rows"]
        size = min(int(self._get_param("MaxResults") or MAX_RESULTS), MAX_RESULTS)
        start = int(self._get_param("NextToken") or 0)
        whole["ResultSet"]["Rows"] = rows[start:start + size]
        if start + size < len(rows):
            whole["NextToken"] = str(start + size)
        return json.dumps(whole)

    original_execution = cls.get_query_execution

    def get_query_execution(self: Any) -> str:
        answer = json.loads(original_execution(self))
        execution = self.athena_backend.executions[self._get_param("QueryExecutionId")]
        status = answer["QueryExecution"]["Status"]
        if status["State"] in ("FAILED", "CANCELLED"):
            reason = getattr(execution, "state_change_reason", "")
            if reason:
                status["StateChangeReason"] = reason
            error = getattr(execution, "athena_error", None)
            if error:
                status["AthenaError"] = error
        return json.dumps(answer)

    cls.get_table_metadata = get_table_metadata
    cls.get_query_results = get_query_results
    cls.get_query_execution = get_query_execution
    _installed = True
