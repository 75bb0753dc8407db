"""Staff management (équipe), for administrators: invite, disable, change role, reset the second factor.

Every action is written to the audit log in its own transaction. A member's sessions end at once
when they are disabled or their second factor is reset (and ``resolve_session`` refuses a
disabled member's session anyway).
"""

from __future__ import annotations

import uuid

from ..model import errors
from ..model.accounts import StaffRole, StaffUser
from ..model.audit import AuditAction
from ..model.mail import Mail, MailKind
from ..model.team import MemberDisabled, OwnAccount, TeamMember
from ..portal import Portal
from ..ports import UnitOfWork
from .activation import issue_staff_invitation
from .audit import record_audit
from .mail import queue_mail


def team(portal: Portal) -> list[TeamMember]:
    """Every member, active or not, by name, with whether they have set a password and their live sessions."""
    now, limits = portal.clock.now(), portal.config.limits
    with portal.uow(read_only=True) as uow:
        members = []
        for staff in uow.staff.list():
            account = uow.accounts.for_staff(staff.id)
            sessions = uow.sessions.for_account(account.id) if account is not None else []
            members.append(TeamMember(staff, account is not None,
                                      sum(1 for s in sessions if s.alive(now, limits, staff=True))))
        return members


def invite_member(portal: Portal, admin: StaffUser, email: str, name: str, role: StaffRole) -> StaffUser:
    """Create the member (or renew a pending member's link) and e-mail them the set-password link."""
    validity = portal.config.limits.staff_invitation_validity
    with portal.uow() as uow:
        existing = uow.staff.by_email(email.strip().casefold()) if email.strip() else None
        if existing is not None and not existing.active:
            raise MemberDisabled()
        invitation = issue_staff_invitation(uow, portal, email, role, name.strip()[:200])
        staff = invitation.staff
        queue_mail(uow, portal, Mail(MailKind.STAFF_INVITATION, staff.email.address, "fr", {
            "name": staff.name, "inviter": admin.name, "role": staff.role.value, "link": invitation.link,
            "validity_hours": int(validity.total_seconds() // 3600)}))
        after = {"name": staff.name, "role": staff.role.value} if invitation.created else {"link": "renewed"}
        record_audit(uow, portal, admin, AuditAction.STAFF_INVITE, target=staff.email.address, after=after)
        uow.commit()
        return staff


def _member(uow: UnitOfWork, admin: StaffUser, staff_id: uuid.UUID) -> StaffUser:
    staff = uow.staff.get(staff_id)
    if staff is None:
        raise errors.NotFound()
    if staff.id == admin.id:
        raise OwnAccount()
    return staff


def _end_sessions(uow: UnitOfWork, staff: StaffUser) -> None:
    account = uow.accounts.for_staff(staff.id)
    if account is not None:
        uow.sessions.remove_for_account(account.id)


def disable_member(portal: Portal, admin: StaffUser, staff_id: uuid.UUID) -> StaffUser:
    """The member can no longer sign in; their sessions and pending links end now."""
    with portal.uow() as uow:
        staff = _member(uow, admin, staff_id)
        if staff.active:
            staff.active = False
            uow.staff.update(staff)
            _end_sessions(uow, staff)
            uow.tokens.remove_for(staff_id=staff.id)
            record_audit(uow, portal, admin, AuditAction.STAFF_DISABLE, target=staff.email.address,
                         before={"active": True}, after={"active": False})
            uow.commit()
        return staff


def change_role(portal: Portal, admin: StaffUser, staff_id: uuid.UUID, role: StaffRole) -> StaffUser:
    with portal.uow() as uow:
        staff = _member(uow, admin, staff_id)
        if staff.role is not role:
            before = staff.role
            staff.role = role
            uow.staff.update(staff)
            record_audit(uow, portal, admin, AuditAction.STAFF_ROLE, target=staff.email.address,
                         before={"role": before.value}, after={"role": role.value})
            uow.commit()
        return staff


def reset_second_factor(portal: Portal, admin: StaffUser, staff_id: uuid.UUID) -> StaffUser:
    """Forget the member's TOTP secret and recovery codes and end their sessions: they enrol again
    at their next sign-in (password, then ``/agent/securite``)."""
    with portal.uow() as uow:
        staff = _member(uow, admin, staff_id)
        enrolled = staff.enrolled
        staff.totp_secret = staff.totp_pending_secret = staff.totp_last_step = None
        uow.staff.update(staff)
        uow.recovery_codes.replace(staff.id, [])
        _end_sessions(uow, staff)
        record_audit(uow, portal, admin, AuditAction.STAFF_RESET_2FA, target=staff.email.address,
                     before={"enrolled": enrolled}, after={"enrolled": False})
        uow.commit()
        return staff
