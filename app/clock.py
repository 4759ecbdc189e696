"""One source of "now", always timezone-aware UTC; display in Asia/Shanghai."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """A moment as the city sees it, with its +08:00 offset."""
    return moment.astimezone(CITY_TZ)


def shown(moment: datetime | None) -> str | None:
    """How an API answer shows a moment: ISO 8601 in city time, or None."""
    return None if moment is None else local(moment).isoformat()
