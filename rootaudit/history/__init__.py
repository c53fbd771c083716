"""The history of evidence packs: what each pack recorded (`record`), the SQLite store that indexes them
(`store`), what changed between two packs (`diff`), credential changes inside one period (`drift`), and
their text, Markdown, CSV and JSON views (`render`).

The store is an index, not the evidence: every row in it is read from a pack's own files, so
`rootaudit history --rebuild PACK…` gives the same history from the packs alone.
"""
