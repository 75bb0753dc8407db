"""The demo's staff: one administrator and one agent with known passwords and TOTP secrets (printed
by ``portail demo``), so a tester can sign in to the back office. Demo data only."""

from __future__ import annotations

import attrs

from portail_domain.model.accounts import Account, StaffRole, StaffUser
from portail_domain.model.values import EmailAddress
from portail_domain.portal import Portal
from portail_domain.ports import UnitOfWork


@attrs.frozen
class DemoStaff:
    email: str
    name: str
    role: StaffRole
    password: str
    totp_secret: str  # base32: add it to an authenticator app, or `pyotp.TOTP(secret).now()`


DEMO_STAFF = (
    DemoStaff("admin@eau-demo.example", "Alice Martin", StaffRole.ADMIN, "admin-demo-eau-2026",  # noqa: S106
              "JBSWY3DPEHPK3PXPALICEADMINDEMO23"),
    DemoStaff("agent@eau-demo.example", "Paul Girard", StaffRole.AGENT, "agent-demo-eau-2026",  # noqa: S106
              "JBSWY3DPEHPK3PXPPAULAGENTDEMO234"),
)


def add_demo_staff(uow: UnitOfWork, portal: Portal) -> None:
    """The demo staff, enrolled in TOTP; those already there are left as they are."""
    for demo in DEMO_STAFF:
        address = EmailAddress.parse(demo.email)
        if uow.staff.by_email(address.normalised) is not None:
            continue
        staff = StaffUser(address, demo.name, demo.role, totp_secret=demo.totp_secret)
        uow.staff.add(staff)
        uow.accounts.add(Account(password_hash=portal.passwords.hash(demo.password), created_at=portal.clock.now(),
                                 staff_id=staff.id))
