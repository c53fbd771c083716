"""CloudTrail's own integrity, end to end against the simulated organization: the trail's digest files
prove every log file the run read. (A log file edited, deleted or emptied, a digest deleted or a chain
broken: the fault matrix's `trail_tampered` case, tests/reliability/test_reliability_faults.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from rootaudit.collectors.cloudtrail.integrity import INTEGRITY_GAPS

ACTIVITY = "NO_ROOT_CONSOLE_LOGIN|NO_ROOT_API_CALLS"


@pytest.mark.slow  # a whole run
def test_every_log_file_of_the_simulated_trail_validates(baseline: Any) -> None:
    sources = baseline.snapshot["sources"]
    files = sources[sources["source"].str.startswith("s3://") & (sources["item"] == "*")]
    assert len(files) > 0
    assert not sources["status"].isin(INTEGRITY_GAPS).any(), sources[sources["status"].isin(INTEGRITY_GAPS)]
    assert (files["files_validated"] == files["files_read"]).all()
    assert (files["digests_validated"] == files["digests_read"]).all() and files["digests_read"].sum() > 0
    assert (files["read_end"] > files["period_end"]).all()  # the grace window, stated
    activity = baseline.snapshot["root_activity"]
    assert len(activity) > 0 and set(activity["log_file_integrity"]) == {"validated"}
