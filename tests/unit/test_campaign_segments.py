"""A one-off campaign's segment is checked when the campaign is made, not at its first run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from luxebrain.campaigns.oneoff import CampaignSpec

LATER = datetime.now(UTC) + timedelta(days=1)


@pytest.mark.parametrize("segment", ["all_customers", "recent_customers", "recent_customers:7", "Champions", "At risk"])
def test_a_segment_the_runner_can_resolve_is_accepted(segment: str) -> None:
    assert CampaignSpec(name="Spring", segment=segment, scheduled_at=LATER).segment == segment


@pytest.mark.parametrize("segment", ["!", "champions", "recent_customers:0", "recent_customers:400", "vip"])
def test_a_segment_no_run_could_resolve_is_refused(segment: str) -> None:
    with pytest.raises(ValidationError, match="segment"):
        CampaignSpec(name="Spring", segment=segment, scheduled_at=LATER)
