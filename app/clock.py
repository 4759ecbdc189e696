"""One source of "now", always timezone-aware UTC; display in Asia/Shanghai."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """A moment as the city sees it, with its +08:00 offset."""
    return moment.astimezone(CITY_TZ)
