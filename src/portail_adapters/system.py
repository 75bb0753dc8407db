"""The real clock and the real source of randomness."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(PARIS).date()


class SystemSecrets:
    def token(self, nbytes: int = 32) -> str:
        return secrets.token_urlsafe(nbytes)
