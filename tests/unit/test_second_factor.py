"""The staff's second factor on fakes: TOTP window and reuse by the Clock, recovery codes, throttling,
enrolment; staff management rules (disable, role, reset, invitation)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.accounts import LinkInvalid, LoginFailed, LoginThrottled, StaffRole, TokenPurpose, hash_token
from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.model.second_factor import SecondFactorFailed, accepted_step, totp_at
from portail_domain.model.team import OwnAccount
from portail_domain.services import team
from portail_domain.services.accounts import log_in, resolve_session
from portail_domain.services.activation import check_link
from portail_domain.services.audit import audit_page
from portail_domain.services.second_factor import confirm_enrolment, enrolment_secret, verify_code
from tests.support import add_staff

PASSWORD = "une-phrase-de-passe-solide"
SECRET = "JBSWY3DPEHPK3PXP" * 2


def code(clock, offset_steps: int = 0) -> str:
    return pyotp.TOTP(SECRET).at(clock.now() + timedelta(seconds=30 * offset_steps))


@given(st.integers(min_value=0, max_value=8_000_000_000))  # up to year ~9600, pyotp's limit
def test_our_totp_is_rfc_6238_as_pyotp_computes_it(step):
    assert totp_at(SECRET, step) == pyotp.TOTP(SECRET).at(step * 30)


def test_rfc_6238_reference_value():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); its last 6 digits
    assert totp_at("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1) == "287082"


@pytest.fixture
def agent(memory_portal):
    return add_staff(memory_portal, password=PASSWORD, totp_secret=SECRET)


def _password_step(portal, email="agent@eau-test.example") -> str:
    _account, token = log_in(portal, email, PASSWORD, client="10.0.0.1")
    return token


def test_a_code_is_accepted_one_step_either_side_and_not_two(memory_portal, agent, clock):
    now = clock.now()
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        candidate = pyotp.TOTP(SECRET).at(now + timedelta(seconds=30 * offset))
        assert (accepted_step(SECRET, candidate, now, None) is not None) is accepted, offset


def test_a_code_is_refused_when_used_again_and_so_are_older_ones(memory_portal, agent, clock):
    first = code(clock)
    verify_code(memory_portal, _password_step(memory_portal), first)
    with pytest.raises(SecondFactorFailed):  # replay in the same 30 s window
        verify_code(memory_portal, _password_step(memory_portal), first)
    clock.advance(seconds=30)
    with pytest.raises(SecondFactorFailed):  # still within ±1 step, but its step was used
        verify_code(memory_portal, _password_step(memory_portal), first)
    with pytest.raises(SecondFactorFailed):  # an older code than the one used
        verify_code(memory_portal, _password_step(memory_portal), code(clock, -2))
    verify_code(memory_portal, _password_step(memory_portal), code(clock))  # the next step's code works


def test_passing_the_code_gives_a_new_session_and_ends_the_password_only_one(memory_portal, agent, clock):
    pending = _password_step(memory_portal)
    assert resolve_session(memory_portal, pending).session.second_factor is False
    accepted = verify_code(memory_portal, pending, code(clock))
    assert accepted.token != pending and resolve_session(memory_portal, pending) is None
    assert resolve_session(memory_portal, accepted.token).session.second_factor is True


def test_recovery_codes_work_once_each_in_any_case(memory_portal, clock):
    add_staff(memory_portal, "nouveau@eau-test.example", password=PASSWORD)
    token = _password_step(memory_portal, "nouveau@eau-test.example")
    secret = enrolment_secret(memory_portal, token)
    assert enrolment_secret(memory_portal, token) == secret  # the QR code does not change on reload
    with pytest.raises(SecondFactorFailed):
        confirm_enrolment(memory_portal, token, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    enrolled = confirm_enrolment(memory_portal, token, pyotp.TOTP(secret).at(clock.now()))
    assert len(enrolled.recovery_codes) == len(set(enrolled.recovery_codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", c) for c in enrolled.recovery_codes)
    assert resolve_session(memory_portal, enrolled.token).session.second_factor
    first = enrolled.recovery_codes[0]
    clock.advance(minutes=1)
    used = verify_code(memory_portal, _password_step(memory_portal, "nouveau@eau-test.example"),
                       first.lower().replace("-", " "))
    assert used.recovery_codes_left == 9
    with pytest.raises(SecondFactorFailed):
        verify_code(memory_portal, _password_step(memory_portal, "nouveau@eau-test.example"), first)
    actions = [e.action for e in audit_page(memory_portal, AuditQuery()).entries]
    assert actions == [AuditAction.STAFF_RECOVERY_CODE, AuditAction.STAFF_ENROL]


def test_wrong_codes_are_throttled_like_passwords_and_a_new_password_login_forgives_nothing(
        memory_portal, agent, clock):
    wrong = "000000" if code(clock) != "000000" else "111111"
    throttled = failed = 0
    while failed < 10:  # each try signs in with the password again: that clears no code counter
        try:
            verify_code(memory_portal, _password_step(memory_portal), wrong, client="10.0.0.1")
        except LoginThrottled:
            throttled += 1
            clock.advance(seconds=61)  # the delay passes, the count stays
        except SecondFactorFailed:
            failed += 1
    with pytest.raises(LoginThrottled) as blocked:  # ten wrong codes: blocked, the right one too
        verify_code(memory_portal, _password_step(memory_portal), code(clock), client="10.0.0.1")
    assert blocked.value.blocked and throttled > 0
    clock.advance(minutes=16)
    verify_code(memory_portal, _password_step(memory_portal), code(clock), client="10.0.0.1")


def test_a_subscriber_or_dead_session_cannot_use_the_code_step(memory_portal, agent, clock):
    with pytest.raises(SecondFactorFailed):
        verify_code(memory_portal, "no-such-token", code(clock))
    token = _password_step(memory_portal)
    clock.advance(minutes=16)  # idle past the staff's 15 minutes
    with pytest.raises(SecondFactorFailed):
        verify_code(memory_portal, token, code(clock))


# --- team management ---------------------------------------------------------------------------


@pytest.fixture
def admin(memory_portal):
    return add_staff(memory_portal, "admin@eau-test.example", password=PASSWORD, name="Alice Admin", role="admin",
                     totp_secret=SECRET)


def test_disabling_a_member_ends_their_live_session_at_once(memory_portal, agent, admin, clock):
    session = verify_code(memory_portal, _password_step(memory_portal), code(clock)).token
    assert resolve_session(memory_portal, session) is not None
    team.disable_member(memory_portal, admin, agent.id)
    assert resolve_session(memory_portal, session) is None
    with memory_portal.uow() as uow:
        assert uow.sessions.get(hash_token(session)) is None
    with pytest.raises(LoginFailed):  # a disabled member cannot sign in
        _password_step(memory_portal)
    (entry,) = audit_page(memory_portal, AuditQuery(staff_email="admin@eau-test.example")).entries
    assert (entry.action, entry.target, entry.before, entry.after) == \
        (AuditAction.STAFF_DISABLE, "agent@eau-test.example", {"active": "True"}, {"active": "False"})


def test_resetting_the_second_factor_makes_the_member_enrol_again(memory_portal, agent, admin, clock):
    session = verify_code(memory_portal, _password_step(memory_portal), code(clock)).token
    team.reset_second_factor(memory_portal, admin, agent.id)
    assert resolve_session(memory_portal, session) is None
    token = _password_step(memory_portal)
    assert resolve_session(memory_portal, token).staff.enrolled is False
    assert enrolment_secret(memory_portal, token) != SECRET


def test_role_changes_are_audited_and_no_admin_acts_on_their_own_account(memory_portal, agent, admin):
    team.change_role(memory_portal, admin, agent.id, StaffRole.ADMIN)
    (entry,) = audit_page(memory_portal, AuditQuery()).entries
    assert (entry.before, entry.after) == ({"role": "agent"}, {"role": "admin"})
    for act in (lambda: team.disable_member(memory_portal, admin, admin.id),
                lambda: team.change_role(memory_portal, admin, admin.id, StaffRole.AGENT),
                lambda: team.reset_second_factor(memory_portal, admin, admin.id)):
        with pytest.raises(OwnAccount):
            act()


def test_an_invitation_mails_a_link_valid_24_hours(memory_portal, admin, clock):
    member = team.invite_member(memory_portal, admin, "Nouvelle@Eau-Test.example", "Nina Nouvelle", StaffRole.AGENT)
    assert member.role is StaffRole.AGENT and member.name == "Nina Nouvelle"
    with memory_portal.uow() as uow:
        (mail,) = [e.mail for e in uow.outbox.pending()]
    assert mail.to == "Nouvelle@Eau-Test.example" and "Alice Admin" in mail.text and "24 heures" in mail.text
    token = re.search(r"jeton=([\w-]+)", mail.text).group(1)
    clock.advance(hours=24)
    assert check_link(memory_portal, token, TokenPurpose.PASSWORD).staff_id == member.id
    clock.advance(seconds=1)
    with pytest.raises(LinkInvalid):
        check_link(memory_portal, token, TokenPurpose.PASSWORD)
    (entry,) = audit_page(memory_portal, AuditQuery()).entries
    assert entry.action is AuditAction.STAFF_INVITE and entry.after == {"name": "Nina Nouvelle", "role": "agent"}
