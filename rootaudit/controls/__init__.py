"""The controls stage: signals over the snapshot, framework mappings, exceptions and justifications,
evaluated into Results (see `stage`)."""

from rootaudit.controls.mappings import MappingError
from rootaudit.controls.stage import evaluate, evaluate_inputs, exit_status, list_frameworks

__all__ = ["MappingError", "evaluate", "evaluate_inputs", "exit_status", "list_frameworks"]
