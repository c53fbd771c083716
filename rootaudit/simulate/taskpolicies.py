"""The five root-task policies: which actions each allows and which organization feature it needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TASK_POLICY_PREFIX = "arn:aws:iam::aws:policy/root-task/"


@dataclass(frozen=True)
class TaskPolicy:
    name: str
    feature: str  # RootCredentialsManagement | RootSessions
    actions: frozenset[str]  # "iam:GetUser", "s3:GetBucketPolicy", …

    @property
    def arn(self) -> str:
        return TASK_POLICY_PREFIX + self.name

    def allows(self, service: str, action: str) -> bool:
        return f"{service}:{action}" in self.actions


@cache
def task_policies() -> dict[str, TaskPolicy]:
    """Task policies by ARN, from task_policies.json."""
    data = json.loads((Path(__file__).with_name("task_policies.json")).read_text())
    out = {}
    for name, spec in data["policies"].items():
        policy = TaskPolicy(name, spec["feature"], frozenset(spec["actions"]))
        out[policy.arn] = policy
    return out


TASK_NAMES = ("IAMAuditRootUserCredentials", "IAMCreateRootUserPassword", "IAMDeleteRootUserCredentials",
              "S3UnlockBucketPolicy", "SQSUnlockQueuePolicy")
