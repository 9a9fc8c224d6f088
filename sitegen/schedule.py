"""Scheduled posts: the site's clock, and the rule that holds back a post dated later.

Every command reads the time in the site's ``timezone`` (default UTC), never the
machine's: ``sitegen new`` on a laptop and ``sitegen build`` on a CI machine in another
zone must agree on when a post is due. A date written without a zone is wall-clock time
in the site's zone; one with a zone is that instant. Standard library only: the check
that skips an unchanged build uses it too.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def site_zone(name: str) -> tzinfo | None:
    """The zone ``timezone`` names; None for UTC (dates stay naive, as written) and for
    a name the system does not know (the configuration check warns about those)."""
    if not name or name.upper() == "UTC":
        return None
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        return None


def site_now(name: str) -> datetime:
    """The wall-clock time now in the site's zone, without a zone attached: what
    ``sitegen new`` writes as a new post's date."""
    zone = site_zone(name)
    return datetime.now(zone or UTC).replace(tzinfo=None)


def instant(when: datetime, zone: tzinfo | None) -> datetime:
    """``when`` as a moment (in UTC): naive dates are wall-clock time in ``zone``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone or UTC)
    return when.astimezone(UTC)


def is_scheduled(when: datetime, zone: tzinfo | None, now: datetime | None = None) -> bool:
    """Whether a post dated ``when`` is still in the future (``now``: a moment in UTC)."""
    return instant(when, zone) > (now or datetime.now(UTC))


def due(scheduled: str | None, now: datetime | None = None) -> bool:
    """Whether a recorded moment (ISO 8601, as the manifest keeps it) has come."""
    if not scheduled:
        return False
    try:
        moment = datetime.fromisoformat(scheduled)
    except ValueError:
        return True  # a damaged record: build rather than hold a post back
    return instant(moment, None) <= (now or datetime.now(UTC))
