"""What both targets share beside their API client: the run report and the Singer-state adjustments."""

from target_common.report import Outcome, RunReport
from target_common.state import HeldBookmarks, hold_back_bookmark

__all__ = ["HeldBookmarks", "Outcome", "RunReport", "hold_back_bookmark"]
