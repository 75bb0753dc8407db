"""The e-mail on file across nightly imports, on SQLite and PostgreSQL: the subscriber's own change survives."""

from __future__ import annotations

import logging

from sqlalchemy import select

from portail_adapters.exchange_csv import import_csv
from portail_adapters.sql import tables as t
from tests.support import add_account, change_email_on_portal

PASSWORD = "une-phrase-de-passe-solide"
HEADER = "subscriber_number;name;email;phone\n"


def email_on_file(portal, number):
    with portal.uow() as uow:
        return str(uow.subscribers.by_number(number).email)


def test_a_re_import_keeps_the_subscribers_own_e_mail_and_a_new_billing_address_wins(
        sql_portal, engine, tmp_path, caplog):
    night = tmp_path / "subscribers.csv"
    night.write_text(HEADER + "100001;Marie Dupont;marie@example.org;04 67 00 00 01\n"
                              "100002;Paul Martin;paul@example.org;\n", encoding="utf-8")
    assert str(import_csv(sql_portal, "subscribers", night)) == "2 created, 0 updated, 0 unchanged"
    add_account(sql_portal, "100001", PASSWORD)
    change_email_on_portal(sql_portal, "100001", "marie.perso@example.net", PASSWORD)

    with caplog.at_level(logging.INFO, logger="portail.security"):
        assert str(import_csv(sql_portal, "subscribers", night)) == "0 created, 0 updated, 2 unchanged"
    assert email_on_file(sql_portal, "100001") == "marie.perso@example.net"
    assert not [r for r in caplog.records if r.name == "portail.security"]
    with engine.connect() as c:
        remembered = dict(c.execute(select(t.subscribers.c.number, t.subscribers.c.billing_email)).all())
    assert remembered == {"100001": "marie@example.org", "100002": "paul@example.org"}

    night.write_text(HEADER + "100001;Marie Dupont;m.dupont@example.com;04 67 00 00 01\n"
                              "100002;Paul Martin;paul@example.org;\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="portail.security"):
        assert str(import_csv(sql_portal, "subscribers", night)) == "0 created, 1 updated, 1 unchanged"
    assert email_on_file(sql_portal, "100001") == "m.dupont@example.com"
    assert [r.getMessage() for r in caplog.records if r.name == "portail.security"] == [
        "import: e-mail on file of subscriber 100001 changed from m***@example.net to m***@example.com"]
    assert str(import_csv(sql_portal, "subscribers", night)) == "0 created, 0 updated, 2 unchanged"
