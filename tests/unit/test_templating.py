"""The templates' gettext: what jinja2's i18n extension gives, translated once per text."""

from __future__ import annotations

from jinja2 import Environment

from portail_domain.model.limits import Limits
from portail_web.templating import environment


def _render(env: Environment, source: str, **context: object) -> str:
    return env.from_string(source).render(**context)


def test_variables_are_escaped_and_the_limits_always_available():
    env = environment("fr", limits=Limits(upload_max_bytes=10 * 1024 * 1024))
    page = env.get_template("error.html").environment  # the same environment the pages use
    html = _render(page, '{% autoescape true %}{{ _("Bonjour %(name)s", name=who) }}{% endautoescape %}',
                   who="<script>")
    assert html == "Bonjour &lt;script&gt;"
    limit = _render(page, '{{ _("au plus %(upload_max)s") }}')
    assert limit.startswith("au plus 10") and "Mo" in limit


def test_a_text_is_the_same_in_a_loop_translated_or_not_and_percent_signs_stay_single():
    fr, en = environment("fr"), environment("en")
    source = '{% autoescape true %}{% for n in rows %}[{{ _("Mes factures") }} 100 %%]{% endfor %}{% endautoescape %}'
    assert _render(fr, source, rows=range(3)) == "[Mes factures 100 %%]" * 3
    assert _render(en, '{% for n in rows %}{{ _("Mes factures") }};{% endfor %}', rows=range(2)) == "My invoices;" * 2
    assert _render(fr, '{{ _("100 %% en ligne") }}') == "100 % en ligne"  # formatted like jinja2's: %% is %


def test_a_cached_text_keeps_its_escaping_apart_from_the_unescaped_one():
    env = environment("fr", escaped=("html",))
    escaped = _render(env, '{% autoescape true %}{{ _("Statut") }}|{{ _("Statut") ~ "<" }}{% endautoescape %}')
    plain = _render(env, '{% autoescape false %}{{ _("Statut") ~ "<" }}{% endautoescape %}')
    assert escaped == "Statut|Statut&lt;" and plain == "Statut<"
