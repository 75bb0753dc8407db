"""Accounts storage on SQLite and PostgreSQL: tokens, throttling counters, the whole login on SQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_domain.model.accounts import AccountToken, LoginFailed, LoginThrottled, TokenPurpose, hash_activation_code
from portail_domain.services.accounts import log_in
from tests.support import add_subscriber, listening, make_portal

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
GOOD = "une-phrase-de-passe-solide"


def test_tokens_round_trip_and_die_by_subject_and_purpose(engine):
    uow = SqlUnitOfWorkFactory(engine)
    subscriber = add_subscriber_sql(uow)
    with uow() as work:
        for n, purpose in enumerate([TokenPurpose.PASSWORD, TokenPurpose.PASSWORD, TokenPurpose.EMAIL]):
            work.tokens.add(AccountToken(f"{n:064d}", purpose, NOW, NOW + timedelta(minutes=10),
                                         subscriber_id=subscriber.id, email="nouveau@example.org" if n else None))
        work.commit()
    with uow() as work:
        token = work.tokens.get(f"{1:064d}")
        assert (token.purpose, token.email, token.expires_at) == (TokenPurpose.PASSWORD, "nouveau@example.org",
                                                                   NOW + timedelta(minutes=10))
        work.tokens.remove_for(subscriber_id=subscriber.id, purpose=TokenPurpose.PASSWORD)
        work.commit()
    with uow() as work:
        assert work.tokens.get(f"{0:064d}") is None and work.tokens.get(f"{1:064d}") is None
        assert work.tokens.get(f"{2:064d}") is not None
        work.tokens.remove_for(subscriber_id=subscriber.id)
        work.commit()
    with uow() as work:
        assert work.tokens.get(f"{2:064d}") is None


def add_subscriber_sql(uow):
    from portail_domain.model.accounts import Subscriber

    subscriber = Subscriber(number="100001", name="Marie", activation_code_hash=hash_activation_code("AB12-CD34"))
    with uow() as work:
        work.subscribers.add(subscriber)
        work.commit()
    return subscriber


def test_activation_code_lookup(engine):
    uow = SqlUnitOfWorkFactory(engine)
    subscriber = add_subscriber_sql(uow)
    with uow() as work:
        assert work.subscribers.by_activation_code(hash_activation_code("ab12 cd34")).id == subscriber.id
        assert work.subscribers.by_activation_code(hash_activation_code("AB12-CD35")) is None


def test_throttle_counter_counts_restarts_after_the_window_and_clears(engine):
    uow = SqlUnitOfWorkFactory(engine)
    window = timedelta(hours=1)
    with uow() as work:
        for n in range(3):
            attempts = work.throttles.hit("email:marie@example.org", NOW + timedelta(minutes=n), window)
        assert (attempts.failures, attempts.last_failure_at) == (3, NOW + timedelta(minutes=2))
        assert work.throttles.hit("email:marie@example.org", NOW + timedelta(minutes=62), window).failures == 4
        assert work.throttles.hit("email:marie@example.org", NOW + timedelta(minutes=123), window).failures == 1
        work.throttles.clear("email:marie@example.org")
        assert work.throttles.get("email:marie@example.org") is None
        work.commit()


def run_together(target, count: int) -> None:
    """Run ``target`` in ``count`` threads at once and wait for all of them."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)


@pytest.mark.postgres
def test_concurrent_failures_all_count(pg_engine):
    uow = SqlUnitOfWorkFactory(pg_engine)
    barrier = threading.Barrier(8)

    def fail() -> None:
        with uow() as work:
            barrier.wait(timeout=10)
            work.throttles.hit("client:203.0.113.9", NOW, timedelta(hours=1))
            work.commit()

    run_together(fail, 8)
    with uow() as work:
        assert work.throttles.get("client:203.0.113.9").failures == 8


def test_login_throttling_holds_in_the_database(sql_portal, clock):
    add_subscriber(sql_portal, password=GOOD)

    def attempt(password):
        return log_in(sql_portal, "marie@example.org", password, client="10.0.0.1")

    for _ in range(5):
        with pytest.raises(LoginFailed):
            attempt("mauvais-mot-de-passe")
    with pytest.raises(LoginThrottled):
        attempt(GOOD)
    clock.advance(seconds=2)
    assert attempt(GOOD)[1]


def test_the_new_lookups_are_indexed(engine):
    inspector = inspect(engine)
    for table, column in [("account_tokens", "token_hash"), ("account_tokens", "subscriber_id"),
                          ("account_tokens", "staff_id"), ("login_throttles", "key"),
                          ("subscribers", "activation_code_hash")]:
        leading = {i["column_names"][0] for i in inspector.get_indexes(table)}
        leading |= set(inspector.get_pk_constraint(table)["constrained_columns"][:1])
        assert column in leading, f"{table}.{column} is not indexed"


def test_purge_removes_only_what_is_dead(sql_portal, clock):
    from portail_domain.services.accounts import purge_expired, resolve_session
    from portail_web.mail_relay import purge_now

    subscriber = add_subscriber(sql_portal, password=GOOD)
    _, old = log_in(sql_portal, "marie@example.org", GOOD)
    with sql_portal.uow() as uow:
        uow.tokens.add(AccountToken("a" * 64, TokenPurpose.PASSWORD, clock.now(), clock.now() + timedelta(minutes=10),
                                    subscriber_id=subscriber.id))
        uow.throttles.hit("email:x@example.org", clock.now(), timedelta(hours=1))
        uow.commit()
    clock.advance(minutes=31)
    _, fresh = log_in(sql_portal, "marie@example.org", GOOD)
    with sql_portal.uow() as uow:
        uow.throttles.hit("email:y@example.org", clock.now(), timedelta(hours=1))
        uow.commit()
    clock.advance(minutes=30)  # 1 h 01 after the first counter
    assert purge_now(sql_portal) == 3  # the idle session, the expired token, the old counter
    assert resolve_session(sql_portal, old) is None and resolve_session(sql_portal, fresh) is not None
    with sql_portal.uow() as uow:
        assert uow.tokens.get("a" * 64) is None
        assert uow.throttles.get("email:x@example.org") is None and uow.throttles.get("email:y@example.org")
    assert purge_expired(sql_portal) == 0


def test_login_rehashes_when_the_parameters_change(sql_portal):
    from portail_adapters.passwords import Argon2Hasher

    old = Argon2Hasher(time_cost=2, memory_cost=16, parallelism=1)  # yesterday's parameters
    subscriber = add_subscriber(sql_portal)
    with sql_portal.uow() as uow:
        from portail_domain.model.accounts import Account

        uow.accounts.add(Account(password_hash=old.hash(GOOD), created_at=sql_portal.clock.now(),
                                 subscriber_id=subscriber.id))
        uow.commit()
    log_in(sql_portal, "marie@example.org", GOOD)
    with sql_portal.uow() as uow:
        stored = uow.accounts.for_subscriber(subscriber.id).password_hash
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$") and sql_portal.passwords.verify(stored, GOOD)


def test_a_request_resolves_its_session_in_one_read_only_query(sql_portal, sql_web, engine, clock):
    """The session, its account and its subscriber in one SELECT, without a write lock; the
    last-seen time is written at most once a minute; logout still ends the session."""
    from sqlalchemy import event

    add_subscriber(sql_portal, password=GOOD)
    sql_web.login("marie@example.org", GOOD)
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        verb = statement.strip().split()[0].upper()
        table = " web_sessions" if "web_sessions" in statement else ""
        seen.append(statement.strip() if verb == "BEGIN" else verb + table)

    def statements_of(path: str) -> list[str]:
        seen.clear()
        assert sql_web.get(path).status_code == 200
        return list(seen)

    def trace_begin(statement: str) -> None:
        if statement.upper().startswith("BEGIN"):
            seen.append(statement)

    def on_checkout(dbapi_connection, record, proxy) -> None:
        # BEGIN goes straight to the SQLite driver, past SQLAlchemy's statement events.
        dbapi_connection.set_trace_callback(trace_begin)

    if engine.dialect.name == "sqlite":
        event.listen(engine, "checkout", on_checkout)
    try:
        with listening(engine, "before_cursor_execute", record):
            assert statements_of("/a-propos").count("SELECT web_sessions") == 1
            assert "UPDATE web_sessions" not in statements_of("/a-propos")
            if engine.dialect.name == "sqlite":
                assert "BEGIN" in statements_of("/a-propos") and "BEGIN IMMEDIATE" not in seen
            clock.advance(seconds=59)
            assert "UPDATE web_sessions" not in statements_of("/a-propos")
            clock.advance(seconds=1)
            assert statements_of("/a-propos").count("UPDATE web_sessions") == 1
            assert "UPDATE web_sessions" not in statements_of("/a-propos")
    finally:
        if engine.dialect.name == "sqlite":
            event.remove(engine, "checkout", on_checkout)
    with sql_portal.uow() as uow:
        [session] = uow.sessions.for_account(uow.accounts.for_subscriber(uow.subscribers.by_number("100001").id).id)
        assert session.last_seen_at == clock.now()
    clock.advance(minutes=31)  # idle: the session dies (and is removed) on its next use
    assert 'name="password"' in sql_web.get("/donnees-personnelles", follow_redirects=True).text
    with sql_portal.uow() as uow:
        assert uow.sessions.get(session.token_hash) is None


class SlowCountingHasher:
    """The test hasher, with a verification slow enough for every try to be under way at once."""

    def __init__(self) -> None:
        from portail_adapters.passwords import Argon2Hasher

        self.inner = Argon2Hasher.fast_for_tests()
        self.checked = 0
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.inner.needs_rehash(stored_hash)

    def verify(self, stored_hash: str, password: str) -> bool:
        with self._lock:
            self.checked += 1
        time.sleep(0.3)
        return self.inner.verify(stored_hash, password)


@pytest.mark.parametrize("same_client", [True, False], ids=["one-client", "many-clients"])
def test_simultaneous_wrong_passwords_get_no_more_checks_than_the_free_tries(engine, clock, same_client):
    """The issue's race: 24 wrong passwords sent at once for one e-mail were all checked."""
    from portail_domain.model.throttling import PER_EMAIL

    hasher = SlowCountingHasher()
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock, passwords=hasher)
    add_subscriber(portal, password=GOOD)
    tries = 24
    barrier = threading.Barrier(tries, timeout=20)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            log_in(portal, "marie@example.org", f"mauvais-{n}", client="203.0.113.9" if same_client else f"10.0.0.{n}")
        except LoginThrottled:
            outcomes.append("throttled")
        except LoginFailed:
            outcomes.append("failed")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == tries
    assert hasher.checked == outcomes.count("failed") == PER_EMAIL.free + 1  # then 2 s to wait
    with portal.uow() as uow:
        assert uow.throttles.get("email:marie@example.org").failures == PER_EMAIL.free + 1


def test_a_successful_login_gives_the_client_slot_back(sql_portal):
    add_subscriber(sql_portal, password=GOOD)
    for _ in range(3):
        log_in(sql_portal, "marie@example.org", GOOD, client="10.0.0.1")
    with sql_portal.uow() as uow:
        client = uow.throttles.get("client:10.0.0.1")
        assert client is None or client.failures == 0
