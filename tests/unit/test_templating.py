"""The templates' gettext: what jinja2's i18n extension gives, translated once per text."""

from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from markupsafe import Markup, escape

from portail_domain.model.limits import Limits
from portail_domain.model.values import Money
from portail_web.templating import environment, html_text


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


def _unfolded(env: Environment) -> Environment:
    """The same environment, every call left to run at render time (the reference)."""
    plain = env.overlay()
    plain.constant_calls, plain.direct_calls = {}, {}  # type: ignore[attr-defined]
    return plain


SOURCES = [
    '{{ _("Date d\'émission") }}|{{ gettext("Mes factures") }}|{{ _("100 %% en ligne") }}',
    '{% set a, b = _("Contrat"), _("Reste à payer") %}'
    '{% for n in rows %}<td data-label="{{ a }}">{{ b }}</td>{% endfor %}',
    '{{ _("Date d\'émission") ~ "<" }}|{{ _("au plus %(upload_max)s") }}|{{ _("Bonjour %(name)s", name="<b>") }}',
    '{% autoescape false %}{{ _("Date d\'émission") }}{% endautoescape %}',
    '{% if _("Statut") %}{{ (_("A & B") ~ "x")|upper }}{% endif %}{{ [_("Date d\'émission")]|join(",") }}',
    '{% for n in rows %}{{ (_("Bonjour %(name)s", name=n) ~ "<")|upper }}{% endfor %}',
]


def test_constant_texts_are_written_into_the_template_and_print_as_the_call_would():
    for language in ("fr", "en"):
        for escaped in (("html",), ()):
            env = environment(language, escaped=escaped, limits=Limits(upload_max_bytes=5 * 1024 * 1024))
            for source in SOURCES:
                expected = _render(_unfolded(env), source, rows=range(2))
                assert _render(env, source, rows=range(2)) == expected, (language, escaped, source)
    env = environment("en", escaped=("html",))
    compiled = env.compile('<h1>{{ _("Mes factures") }}</h1>{% set x = _("Contrat") %}', raw=True)
    assert "My invoices" in compiled and "context.call" not in compiled  # no call left at render time
    with_variable = env.compile('{{ _("Bonjour %(name)s", name=who) }}', raw=True)  # translated at render time,
    assert "Bonjour %(name)s" in with_variable and "context.call" not in with_variable  # by a direct call


def test_a_template_that_names_its_own_underscore_keeps_it():
    env = environment("en", escaped=("html",))
    source = '{% set _ = upper %}{{ _("Mes factures") }}'
    assert _render(env, source, upper=str.upper) == "MES FACTURES"
    macro = '{% macro m(_) %}{{ _("Mes factures") }}{% endmacro %}{{ m(upper) }}'
    assert _render(env, macro, upper=str.upper) == "MES FACTURES"


def test_constant_links_are_written_into_the_template_and_unknown_routes_still_fail():
    from starlette.routing import NoMatchFound, Route

    from portail_web.urls import RouteTable

    async def page(request):  # pragma: no cover - never called
        raise AssertionError

    routes = RouteTable([Route("/factures", page, name="invoices"), Route("/factures/{number}", page, name="invoice")])
    env = environment("fr", routes=routes)
    source = '<a href="{{ url_for("invoices") }}">{{ url_for("invoice", number="F 1&2") }}</a>'
    compiled = env.compile(source, raw=True)
    assert "context.call" not in compiled and "/factures" in compiled
    assert _render(env, source) == _render(_unfolded(env), source) == '<a href="/factures">/factures/F 1&amp;2</a>'
    assert _render(env, '{{ url_for("invoice", number=n) }}', n="F2") == "/factures/F2"  # a variable: at render,
    assert "context.call" not in env.compile('{{ url_for("invoice", number=n) }}', raw=True)  # called directly
    nested = '{{ _("Voir %(link)s", link=url_for("invoice", number=n)) }}'  # a direct call inside another
    assert _render(env, nested, n="F2") == _render(_unfolded(env), nested, n="F2") == "Voir /factures/F2"
    with pytest.raises(NoMatchFound):
        _render(env, '{{ url_for("nowhere") }}')


PLAIN_FILTER_VALUES = {
    "money": st.builds(Money, st.integers(-10**12, 10**12)),
    "day": st.dates(),
    "moment": st.datetimes(timezones=st.just(UTC)),
    "number": st.one_of(st.integers(0, 10**12), st.fractions(min_value=0, max_value=10**9),
                        st.decimals(min_value=-10**9, max_value=10**9, places=3)),
    "m3": st.integers(-10**12, 10**12),
    "filesize": st.integers(0, 10**12),
    "int": st.one_of(st.integers(), st.text()),
    "length": st.text(),
}


@settings(max_examples=60)
@given(data=st.data(), language=st.sampled_from(["fr", "en"]))
def test_the_filters_printed_without_escaping_never_print_a_character_to_escape(data, language):
    env = environment(language, escaped=("html",))
    assert set(env.plain_text_filters) == set(PLAIN_FILTER_VALUES)  # a new one needs its values here
    for name, values in PLAIN_FILTER_VALUES.items():
        value = data.draw(values, label=name)
        printed = env.from_string("{{ v|%s }}" % name).render(v=value)  # noqa: UP031 - a template's text
        assert printed == str(escape(printed)) == str(env.filters[name](value))


def test_a_plain_filter_prints_as_is_and_everything_else_is_still_escaped():
    env = environment("fr", escaped=("html",))
    compiled = env.compile("{{ amount|money }}{{ n|number }}{{ name|upper }}{{ name }}", raw=True)
    assert compiled.count("html_text(") == 2 and compiled.count("str(") >= 2 and "escape(" not in compiled
    html = env.from_string("{{ amount|money }} {{ name|upper }} {{ name }}").render(amount=Money(123456), name="<b>")
    assert html == "1\u202f234,56\u00a0€ &lt;B&gt; &lt;b&gt;"


_PRINTED = st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none(), st.decimals(allow_nan=False),
                     st.text().map(Markup), st.text().map(escape), st.dates())


@given(value=_PRINTED)
def test_a_value_printed_in_a_page_reads_as_escape_gives_it(value):
    assert html_text(value) == str(escape(value)) and type(html_text(value)) is str


@settings(max_examples=50)
@given(variables=st.dictionaries(st.sampled_from(["name", "day", "count"]), _PRINTED, min_size=1),
       language=st.sampled_from(["fr", "en"]))
def test_a_text_with_variables_reads_as_jinja2s_own_gettext_gives_it(variables, language):
    ours = environment(language, escaped=("html",))
    theirs = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    theirs.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    for text in ("Du %(name)s au %(day)s : %(count)s L/jour", "%(count)s <b>%(name)s</b> & co"):
        missing = {name: "" for name in ("name", "day", "count") if name not in variables}
        source = "{{ _(" + repr(text) + ", name=name, day=day, count=count) }}"
        assert ours.from_string(source).render(**missing, **variables) == \
            theirs.from_string(source).render(**missing, **variables)
