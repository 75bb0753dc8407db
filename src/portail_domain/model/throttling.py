"""Login throttling: failures counted per typed e-mail and per client, in the database.

The counters live in storage (not in a process) so they hold across workers. The key for
an e-mail is the typed address, normalised, whether or not an account has it: the
answers never tell which addresses exist.

Numbers (per e-mail; per client address the thresholds are higher, for shared NATs):

- the first ``free`` failures cost nothing;
- each further failure makes the next try wait 2 s, 4 s, 8 s… (at most ``longest_delay``);
- at ``block_at`` failures, tries are refused for ``block_for`` after the last failure;
- counters are forgotten after ``window`` without a failure, and the e-mail's counter
  after a successful login or a new password.

Nobody can lock the real subscriber out (OWASP "device cookies"): a browser that has signed
in to an account carries a signed device cookie for it, and its tries are counted on their
own key (``device_key``), with the per-e-mail numbers. Failures from anywhere else fill the
e-mail's counter, which then blocks unknown devices only: the subscriber on her own browser
still signs in while whoever guesses elsewhere waits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs


@attrs.define(eq=False)
class LoginAttempts:
    key: str
    failures: int
    last_failure_at: datetime


@attrs.frozen
class ThrottlePolicy:
    free: int
    block_at: int
    block_for: timedelta
    window: timedelta = timedelta(hours=1)
    longest_delay: timedelta = timedelta(minutes=1)

    def wait(self, attempts: LoginAttempts | None, now: datetime) -> timedelta:
        """How long before the next try is allowed (zero: now)."""
        if attempts is None or now - attempts.last_failure_at > self.window:
            return timedelta(0)
        if attempts.failures >= self.block_at:
            until = attempts.last_failure_at + self.block_for
        elif attempts.failures > self.free:
            delay = timedelta(seconds=2 ** min(attempts.failures - self.free, 20))
            until = attempts.last_failure_at + min(delay, self.longest_delay)
        else:
            return timedelta(0)
        return max(until - now, timedelta(0))

    def blocks(self, attempts: LoginAttempts | None) -> bool:
        return attempts is not None and attempts.failures >= self.block_at


PER_EMAIL = ThrottlePolicy(free=4, block_at=10, block_for=timedelta(minutes=15))
PER_CLIENT = ThrottlePolicy(free=20, block_at=100, block_for=timedelta(minutes=15))


# "Créer / Renouveler": at most 5 links an hour per subscriber and client address, and 20 per
# subscriber from all addresses (what bounds a mail bomb), then silence (same answer page). The
# hour runs from the last link sent: a refused request counts nothing and moves nothing, so
# someone else's requests never silence the subscriber's own from her address.
LINKS_PER_HOUR = 5
LINKS_PER_HOUR_ALL_CLIENTS = 20
LINKS_WINDOW = timedelta(hours=1)


def email_key(normalised_email: str) -> str:
    return "email:" + normalised_email[:250]


def device_key(device: str) -> str:
    return "device:" + device[:64]


def client_key(client: str) -> str:
    return "client:" + (client or "-")[:64]


def link_key(subject: object, client: str | None = None) -> str:
    """The key of link requests for ``subject``, from ``client`` only when given."""
    return f"link:{subject}" if client is None else f"link:{subject}:{(client or '-')[:64]}"
