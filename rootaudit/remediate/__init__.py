"""From finding to zero: a rollout plan made from a snapshot, and guarded removal of member root
credentials.

- `plan.py`: the plan (pure, from a loaded snapshot): prerequisites, phases by OU, accounts left out.
- `render.py`: the plan as Markdown or CSV, and the calls a run would make.
- `calls.py`: each AWS call once, shown as the API call, an AWS CLI command and a boto3 line.
- `state.py`: an account's credential state, as planned and as re-read, and what changed.
- `allowlist.py`: the only mutating calls rootaudit makes, with their parameter checks.
- `apply.py`: the guarded removal, one account at a time; `features.py`: enabling the features.
- `record.py`: the remediation record (hashed) that the next pack links its ledger to.
- `run.py`: the thin I/O edge of `remediate --apply` (the contexts, the run, the record on disk).
- `files.py`: writing a plan or record atomically.
"""
