"""The staff team as administrators manage it: who is on it, and what an admin may not do."""

from __future__ import annotations

import attrs

from . import errors
from .accounts import StaffRole, StaffUser


@attrs.frozen
class TeamMember:
    staff: StaffUser
    has_password: bool  # False until the invitation link was used
    live_sessions: int


class OwnAccount(errors.DomainError):
    """An administrator cannot disable, demote or reset their own account (the team would lose its admin)."""

    code = "staff_own_account"


class InvalidRole(errors.InvalidValue):
    code = "invalid_role"


class MemberDisabled(errors.DomainError):
    code = "staff_disabled"


def parse_role(text: str) -> StaffRole:
    try:
        return StaffRole(text)
    except ValueError:
        raise InvalidRole(field="role") from None
