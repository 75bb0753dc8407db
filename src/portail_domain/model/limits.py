"""Limits: the sizes and durations a utility may configure, with today's values as defaults.

Messages print them from here (``10 Mo``, ``10 mn``), so changing a limit changes what the
subscriber is told; nothing else in the domain repeats these numbers.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

MIB = 1024 * 1024


@attrs.frozen
class Limits:
    upload_max_bytes: int = 10 * MIB  # one uploaded file (documents, attachments, meter photos)
    upload_quota_bytes: int = 200 * MIB  # a subscriber's own uploads; what the utility adds does not count
    link_validity: timedelta = timedelta(minutes=10)  # an e-mailed password or e-mail-change link
    staff_invitation_validity: timedelta = timedelta(hours=24)  # handed on by an administrator
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    staff_session_idle: timedelta = timedelta(minutes=15)  # staff reach every subscriber's data
    staff_session_absolute: timedelta = timedelta(hours=8)
