"""The second factor on SQLite and PostgreSQL: a code or a recovery code is accepted once, even by two
requests racing with it; a disabled member's sessions end; the migrated schema holds the new columns."""

from __future__ import annotations

import pyotp
import pytest

from portail_domain.model.accounts import StaffRole
from portail_domain.model.second_factor import SecondFactorFailed, hash_recovery_code, time_step
from portail_domain.services import team
from portail_domain.services.accounts import log_in, resolve_session
from portail_domain.services.second_factor import confirm_enrolment, enrolment_secret, verify_code
from tests.support import add_staff, run_while_held

PASSWORD = "une-phrase-de-passe-solide"
SECRET = "JBSWY3DPEHPK3PXP" * 2


def _pending(portal, email: str = "agent@eau-test.example") -> str:
    return log_in(portal, email, PASSWORD)[1]


def test_a_totp_step_is_taken_once_even_by_racing_transactions(sql_portal, clock):
    agent = add_staff(sql_portal, password=PASSWORD, totp_secret=SECRET)
    step = time_step(clock.now())

    def first(hold):
        with sql_portal.uow() as uow:
            won = uow.staff.advance_totp_step(agent.id, step)
            hold()
            uow.commit()
            return won

    def second():
        with sql_portal.uow() as uow:
            won = uow.staff.advance_totp_step(agent.id, step)
            uow.commit()
            return won

    assert run_while_held(first, second) == (True, False)
    with pytest.raises(SecondFactorFailed):
        verify_code(sql_portal, _pending(sql_portal), pyotp.TOTP(SECRET).at(clock.now()))


def test_enrolment_then_recovery_codes_once_each(sql_portal, clock):
    add_staff(sql_portal, "nouveau@eau-test.example", password=PASSWORD)
    token = _pending(sql_portal, "nouveau@eau-test.example")
    secret = enrolment_secret(sql_portal, token)
    enrolled = confirm_enrolment(sql_portal, token, pyotp.TOTP(secret).at(clock.now()))
    assert resolve_session(sql_portal, enrolled.token).session.second_factor
    with sql_portal.uow() as uow:
        staff = uow.staff.by_email("nouveau@eau-test.example")
        assert staff.totp_secret == secret and staff.totp_pending_secret is None
        assert uow.recovery_codes.remaining(staff.id) == 10
        assert uow.recovery_codes.use(staff.id, hash_recovery_code(enrolled.recovery_codes[1]), clock.now())
        assert not uow.recovery_codes.use(staff.id, hash_recovery_code(enrolled.recovery_codes[1]), clock.now())
        uow.commit()
    accepted = verify_code(sql_portal, _pending(sql_portal, "nouveau@eau-test.example"), enrolled.recovery_codes[0])
    assert accepted.recovery_codes_left == 8
    with pytest.raises(SecondFactorFailed):
        verify_code(sql_portal, _pending(sql_portal, "nouveau@eau-test.example"), enrolled.recovery_codes[0])


def test_disable_and_reset_end_the_members_sessions(sql_portal, clock):
    admin = add_staff(sql_portal, "admin@eau-test.example", password=PASSWORD, name="Alice Admin", role="admin",
                      totp_secret=SECRET)
    agent = add_staff(sql_portal, password=PASSWORD, totp_secret=SECRET)
    live = verify_code(sql_portal, _pending(sql_portal), pyotp.TOTP(SECRET).at(clock.now())).token
    team.change_role(sql_portal, admin, agent.id, StaffRole.ADMIN)
    assert resolve_session(sql_portal, live).staff.role is StaffRole.ADMIN
    team.reset_second_factor(sql_portal, admin, agent.id)
    assert resolve_session(sql_portal, live) is None
    pending = _pending(sql_portal)
    team.disable_member(sql_portal, admin, agent.id)
    assert resolve_session(sql_portal, pending) is None
    assert [m.staff.active for m in team.team(sql_portal)] == [True, False]  # Alice Admin, Paul Agent
