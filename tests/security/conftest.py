"""The standing attack suite: each test is an attack that worked before it was fixed.

The helpers of the integration tests (api_testkit, campaign_support) are shared from tests/integration."""

from __future__ import annotations

import sys
from pathlib import Path

INTEGRATION = str(Path(__file__).resolve().parents[1] / "integration")
if INTEGRATION not in sys.path:
    sys.path.append(INTEGRATION)
