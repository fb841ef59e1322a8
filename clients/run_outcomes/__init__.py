"""What a run leaves besides its records: the per-record outcomes, the run report (both targets and tap-billbee),
the bookmarks the targets hold back for records they could not write, and the acknowledgement contract between
target-wemalo and tap-billbee (protocol)."""

from run_outcomes.report import Outcome, RunReport
from run_outcomes.state import HeldBookmarks, hold_back_bookmark

__all__ = ["HeldBookmarks", "Outcome", "RunReport", "hold_back_bookmark"]
