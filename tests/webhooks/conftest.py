"""Webhook tests reuse the distributed tests' fake CRM accounts (tests/distributed/crmfake.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "distributed"))
