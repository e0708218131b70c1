"""The sync engine: one run = pull → recompute → diff → push → record (DESIGN §2, §6)."""

from crm_sync.sync.computer import Computer, FakeComputer, RulesComputer
from crm_sync.sync.engine import RunRecord, account_key, run_sync
from crm_sync.sync.options import RunOptions

__all__ = [
    "Computer",
    "FakeComputer",
    "RulesComputer",
    "RunOptions",
    "RunRecord",
    "account_key",
    "run_sync",
]
