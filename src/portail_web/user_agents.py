"""A readable name for a session's user agent ("Firefox 128", "Android"): a few clear rules.

Enough for a subscriber to recognise their own devices in the sessions list; the raw string
stays in the database. Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
"""

from __future__ import annotations

import re

import attrs

_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/(\d+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|Chromium)/(\d+)")),
    ("Safari", re.compile(r"\bVersion/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/")),
)
_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


@attrs.frozen
class Device:
    browser: str  # "Firefox 128"; the first product token when no rule knows it; "" when unknown
    system: str  # "Windows", "Android"…; "" when unknown


def device(user_agent: str | None) -> Device:
    """The browser (with its major version) and the system a user-agent string names."""
    text = (user_agent or "")[:512]
    browser = next((f"{name} {m.group(1)}" for name, pattern in _BROWSERS if (m := pattern.search(text))), "")
    if not browser and text.strip():
        browser = text.split()[0].split("/")[0][:40]  # curl/8.5.0 -> curl
    system = next((name for name, pattern in _SYSTEMS if pattern.search(text)), "")
    return Device(browser, system)
