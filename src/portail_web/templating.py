"""Jinja2 set up once per language: autoescape, i18n, the formatting filters."""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from functools import partial
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import markupsafe
from jinja2 import Environment, FileSystemLoader, nodes, pass_context, pass_eval_context, select_autoescape
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import EvalContext
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portail_domain.model.limits import Limits

from . import formatting
from .i18n import LANGUAGES, translations
from .urls import RouteTable, path_for
from .user_agents import device

TEMPLATES_DIR = Path(__file__).parent / "templates"


ESCAPED = ("html", "xml", "svg")


def environment(language: str, escaped: tuple[str, ...] = ESCAPED, limits: Limits = Limits(),
                routes: RouteTable | None = None) -> Environment:
    """Templates in ``language``: its catalog and the formatting filters (pages and mails alike).

    Templates whose file type is in ``escaped`` are HTML-escaped; translated texts may print ``limits``.
    With the app's ``routes``, ``url_for`` is a plain function of them: jinja2 copies the whole
    context for each call of a function that takes it (``pass_context``) made inside a loop, and a
    macro imported without the context can use it too (its module is then built once, not per page).
    """
    env = PortalEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(escaped),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package: no stat() of every template file on every render
        # (5 % of a loaded server's samples under py-spy); a restart picks up new ones.
        auto_reload=False,
    )
    catalog = translations(language)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension; jinja2's stubs don't know it
    # Every translated text may print the configured limits: %(upload_max)s, %(upload_quota)s.
    _with_limits(env, {
        "upload_max": formatting.size_limit(limits.upload_max_bytes, language),
        "upload_quota": formatting.size_limit(limits.upload_quota_bytes, language),
    }, catalog)
    env.filters["money"] = partial(_call, formatting.money, language)
    env.filters["day"] = partial(_call, formatting.day, language)
    env.filters["moment"] = partial(_call, formatting.moment, language)
    env.filters["number"] = partial(_call, formatting.number, language)
    env.filters["m3"] = partial(_call, formatting.m3, language)
    env.filters["filesize"] = partial(_call, formatting.file_size, language)
    env.filters["device"] = device
    # What these print is digits, separators, currency signs, units and month names: never a
    # character to escape. Printed as is, not through escape() (see PortalEnvironment).
    env.plain_text_filters |= {"money", "day", "moment", "number", "m3", "filesize", "int", "length"}
    env.globals["url_for"] = routes.link if routes is not None else _url_for
    if routes is not None:
        env.constant_calls["url_for"] = _constant_link(routes)
        env.filters[" url_for"] = routes.link  # a name no template can write: for direct_calls only
        env.direct_calls["url_for"] = " url_for"
    return env


class _ConstantCalls(NodeTransformer):
    """Folds the constant calls that are printed (``{{ … }}``) or assigned (``{% set … %}``).

    Only there: the result keeps the type the call would give at render time (Markup when
    escaping), whereas inside an expression such as ``_("…") ~ x`` jinja2 would fold it to a str.
    """

    def __init__(self, folds: dict[str, Callable[[list[Any], dict[str, Any]], nodes.Expr | None]],
                 direct: dict[str, str], eval_ctx: EvalContext) -> None:
        self.folds = folds
        self.direct = direct
        self.eval_ctx = eval_ctx

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        """A call left to render time that has a filter twin: called directly (a filter), not
        through ``Context.call`` and its checks and keyword arguments on every call. Only a call
        with a variable among its arguments: jinja2 would run a filter of constants at compile
        time, and inside an expression (``_("…") ~ x``) turn its Markup into a str."""
        self.generic_visit(node)
        name = node.node.name if isinstance(node.node, nodes.Name) else None
        if name not in self.direct or not node.args or node.dyn_args is not None or node.dyn_kwargs is not None:
            return node
        try:
            for arg in [*node.args, *(keyword.value for keyword in node.kwargs)]:
                arg.as_const(self.eval_ctx)
            return node  # all constant
        except nodes.Impossible:
            direct = nodes.Filter(node.args[0], self.direct[name], node.args[1:], node.kwargs, None, None,
                                  lineno=node.lineno)
            return direct.set_environment(self.eval_ctx.environment)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        node.nodes = [self._fold(child) if isinstance(child, nodes.Expr) else child for child in node.nodes]
        return self.generic_visit(node)

    def visit_Assign(self, node: nodes.Assign) -> nodes.Node:
        if isinstance(node.node, nodes.Tuple):
            node.node.items = [self._fold(item) for item in node.node.items]
        elif isinstance(node.node, nodes.Expr):
            node.node = self._fold(node.node)
        return self.generic_visit(node)

    def _fold(self, node: nodes.Expr) -> nodes.Expr:
        if not isinstance(node, nodes.Call) or not isinstance(node.node, nodes.Name):
            return node
        fold = self.folds.get(node.node.name)
        if fold is None or node.dyn_args is not None or node.dyn_kwargs is not None:
            return node
        try:
            args = [arg.as_const(self.eval_ctx) for arg in node.args]
            kwargs = {keyword.key: keyword.value.as_const(self.eval_ctx) for keyword in node.kwargs}
        except nodes.Impossible:
            return node
        folded = fold(args, kwargs)
        if folded is None:
            return node
        folded.set_lineno(node.lineno)
        folded.set_environment(self.eval_ctx.environment)
        return folded


def html_text(value: Any, /) -> str:
    """``str(escape(value))``, without making the ``Markup`` (a tenth of a table page's rendering
    went to ``escape`` and ``Markup.__new__``): strings through markupsafe's own escaping, numbers
    as they are (their text holds nothing to escape), anything else through ``escape``."""
    kind = type(value)
    if kind is str:
        return _escape_inner(value)
    if kind is int or kind is float:
        return str(value)
    return str(escape(value))


# markupsafe's escaping of a plain str, as escape() runs it (its C speedup when built); escape() otherwise.
_escape_inner: Callable[[str], str] = getattr(markupsafe, "_escape_inner", lambda text: str(escape(text)))


class _FoldingCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        folds = getattr(self.environment, "constant_calls", {})
        direct = getattr(self.environment, "direct_calls", {})
        assigned = {name.name for name in node.find_all(nodes.Name) if name.ctx in ("store", "param")}
        assigned |= {alias for imported in node.find_all(nodes.FromImport) for alias in _imported_names(imported)}
        folds = {name: fold for name, fold in folds.items() if name not in assigned}
        direct = {name: twin for name, twin in direct.items() if name not in assigned}
        eval_ctx = EvalContext(self.environment, self.name)
        super().visit_Template(_ConstantCalls(folds, direct, eval_ctx).visit(node), frame)

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        """``{{ amount|money }}``: ``str(…)`` where jinja2 writes ``escape(…)``, for the filters
        whose text never needs escaping (a table page prints hundreds of them); any other value
        printed in an escaped template goes through ``html_text``, not ``escape``."""
        if frame.eval_ctx.volatile or finalize.src is not None or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
        elif isinstance(node, nodes.Filter) and node.name in getattr(self.environment, "plain_text_filters", ()):
            self.write("str(")
        else:
            self.write("environment.html_text(")


class PortalEnvironment(Environment):
    """An environment whose templates print constant texts and links as they are, found once at compile time.

    ``{{ _("Mes factures") }}`` or ``{{ url_for("mandates") }}`` gives the same text on every render
    of a page in one language: the compiled template holds the result in its static HTML instead of
    calling the function each time (a third of the calls of a table page, each through jinja2's
    ``Context.call``). ``constant_calls`` maps a global's name to a function of the call's constant
    arguments that returns its output, or ``None`` to leave the call to run at render time.
    ``direct_calls`` maps a global's name to the name of a filter that is the same function: the
    calls left to render time go straight to it (``url_for("invoice", number=n)`` in a table row).
    A template that assigns one of those names (``{% set _ = … %}``) is compiled as is.
    ``plain_text_filters`` names the filters whose output never holds a character HTML escapes
    (numbers, amounts, dates): printed, their text goes out as it is, without ``escape()``.
    Any other printed value goes through ``html_text``: the text ``escape()`` gives, as a plain
    ``str`` (joined into the page at once, it needs no ``Markup`` around it).
    """

    html_text = staticmethod(html_text)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.constant_calls: dict[str, Callable[[list[Any], dict[str, Any]], nodes.Expr | None]] = {}
        self.direct_calls: dict[str, str] = {}
        self.plain_text_filters: set[str] = set()

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not a ``ChainMap`` over the environment's: every
        render copies them into its context, and copying a ``ChainMap`` walks it in Python (a
        tenth of the login page's rendering). The environment's globals are all set before the
        first template loads (``environment()``), as jinja2 requires anyway."""
        return {**self.globals, **(d or {})}

    code_generator_class = _FoldingCodeGenerator


def _imported_names(node: nodes.FromImport) -> list[str]:
    return [name if isinstance(name, str) else name[1] for name in node.names]


def _constant_link(routes: RouteTable) -> Callable[[list[Any], dict[str, Any]], nodes.Expr | None]:
    def fold(args: list[Any], kwargs: dict[str, Any]) -> nodes.Expr | None:
        if len(args) != 1 or not isinstance(args[0], str):
            return None
        try:
            return nodes.Const(routes.link(args[0], **kwargs))
        except Exception:  # noqa: BLE001 - not a route (yet): the render raises as it always did
            return None
    return fold


_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*[\d*]*(?:\.[\d*]+)?([a-zA-Z%])")
CACHED_TEXTS = 4096  # translated texts kept per environment (the templates' literals are far fewer)


def _with_limits(env: PortalEnvironment, values: dict[str, str], catalog: NullTranslations) -> None:
    """``_()`` and ``gettext()`` as jinja2's new-style gettext, with the limits always available.

    Same result as the i18n extension's (translate, Markup when autoescaping, then always ``%``
    with the variables), but a text called without variables is translated and formatted once
    and kept: a page with a table calls ``_()`` for every cell's label (a third of the table's
    rendering time under py-spy, through two wrappers and a context lookup each).
    """
    cache: dict[tuple[str, bool], str] = {}
    formats: dict[str, bool] = {}
    escaped_values = {name: html_text(value) for name, value in values.items()}

    def only_strings(text: str) -> bool:
        """Whether every placeholder of ``text`` is ``%(name)s`` (a ``%(count)d`` needs the number itself)."""
        found = formats.get(text)
        if found is None:
            found = all(spec == "s" for spec in _PLACEHOLDER.findall(text))
            if len(formats) < CACHED_TEXTS:  # bounded as the texts are
                formats[text] = found
        return found

    @pass_eval_context  # not pass_context: jinja2 copies the whole context for those when called in a loop
    def gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
        autoescape = bool(eval_ctx.autoescape)
        if not variables:
            found = cache.get((string, autoescape))
            if found is not None:
                return found
        text = catalog.gettext(string)
        if autoescape and variables and only_strings(text):
            # As Markup(text) % variables gives, without its escaping helper around each value.
            result: str = Markup(text % {**escaped_values, **{k: html_text(v) for k, v in variables.items()}})  # noqa: S704 - as below
        elif autoescape:
            # Our own catalog's text, as jinja2's i18n extension does; the variables are escaped by %.
            result = Markup(text) % ({**values, **variables} if variables else values)  # noqa: S704
        else:
            result = text % ({**values, **variables} if variables else values)
        if not variables and len(cache) < CACHED_TEXTS:
            cache[(string, autoescape)] = result
        return result

    env.globals["gettext"] = gettext
    env.globals["_"] = gettext

    def constant_text(args: list[Any], kwargs: dict[str, Any]) -> nodes.Expr | None:
        """A text without variables: the same as ``gettext`` gives, escaping or not (else left to run)."""
        if len(args) != 1 or kwargs or not isinstance(args[0], str):
            return None
        text = catalog.gettext(args[0])
        escaped, plain = Markup(text) % values, text % values  # noqa: S704 - as gettext above
        return nodes.MarkSafeIfAutoescape(nodes.Const(plain)) if str(escaped) == plain else None

    env.constant_calls["_"] = env.constant_calls["gettext"] = constant_text
    env.filters[" gettext"] = gettext
    env.direct_calls["_"] = env.direct_calls["gettext"] = " gettext"


@pass_context
def _url_for(context: Any, name: str, /, query: dict[str, Any] | None = None, **path_params: Any) -> str:
    """``url_for('contract', contract_number=n)``: the route's path (never a Host-derived URL)."""
    return path_for(context["request"], name, query=query, **path_params)


def _call(fn: Any, language: str, value: Any, *args: Any) -> str:
    return fn(value, language, *args)


class Templates:
    """One Jinja2 environment per UI language."""

    def __init__(self, limits: Limits | None = None, routes: RouteTable | None = None) -> None:
        self.environments = {language: environment(language, limits=limits or Limits(), routes=routes)
                             for language in LANGUAGES}

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """Render ``name`` in the visitor's language with the common context."""
        visitor = getattr(request.state, "visitor", None)
        language = visitor.language if visitor else "fr"
        ctx: dict[str, Any] = {
            "request": request,
            "visitor": visitor,
            "language": language,
            "utility": request.app.state.portal.config.utility,
            "legal": request.app.state.portal.config.legal,
            "csrf_token": visitor.csrf_token if visitor else "",
        }
        ctx.update(context or {})
        html = self.environments[language].get_template(name).render(ctx)
        return HTMLResponse(html, status_code=status_code)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render with the app's templates (the shortcut every endpoint uses)."""
    return request.app.state.templates.render(request, name, context, status_code)
