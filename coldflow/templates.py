"""Merge-tag templates: parse, validate, render, and the HTML rules around them.

Syntax (the API contract, seed 003):

* ``{{var}}`` and ``{{var|fallback}}``: a lead or sender value; an empty fallback (``{{var|}}``)
  means "leave it out".
* ``{{SPINTAX|a|b|c}}``: one option, chosen deterministically per seed (never ``random``), so a
  journey and its preview always agree.
* ``{{LOOM|column|fallback}}``: a personalised video link read from a lead column.
* ``\\{{`` is a literal ``{{``. A stray ``}}`` is ordinary text, so ``\\{{name}}`` needs no second
  escape.

Fallbacks and spintax options are template text, written in the template's own format: in an HTML
body they are HTML already (the sanitizer saw them), so they are inserted verbatim, while lead
values are always escaped. Tags cannot nest (no variables inside spintax options).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3

from coldflow.errors import CodedError, InvalidInput

# Mustache/Handlebars section syntax authors paste from other tools; we do not support it.
_FOREIGN_SIGILS = frozenset("#/^>!{&=")
# An escape, or a tag: its body stops at the next "{{" or "}}"; group 2 is None when unclosed.
_TAG_RE = re.compile(r"\\\{\{|\{\{((?:(?!\{\{|\}\}).)*)(\}\})?", re.DOTALL)
_NAME_RE = re.compile(r"\w[\w .\-]*")
_DIRECTIVE_LIKE_RE = re.compile(r"[A-Z][A-Z0-9_]*")
_CAMEL_ACRONYM_RE = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_RE = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS_RE = re.compile(r"[\W_]+")
_LOOM_SHARE_RE = re.compile(r"https://(?:www\.)?loom\.com/(?:share|embed)/([0-9a-f]{32})\b")
_HTTP_URL_RE = re.compile(r"https?://[^\s/?#]+\S*", re.IGNORECASE)


class TemplateSyntaxError(InvalidInput):
    """A template that cannot be parsed; ``offset`` is the 0-based index of the offending ``{{``."""

    code = "TEMPLATE_SYNTAX_ERROR"

    def __init__(self, reason: str, *, offset: int, field: str = "template") -> None:
        message = f"{reason} (at offset {offset} in {field})"
        super().__init__(message, details=[{"field": field, "offset": offset, "message": message}])
        self.reason = reason
        self.offset = offset
        self.field_name = field


class MissingVariable(CodedError):
    """Variables with no value and no fallback: the journey holds the lead instead of sending."""

    code = "MISSING_VARIABLE"
    status = 422

    def __init__(self, names: set[str]) -> None:
        self.names: tuple[str, ...] = tuple(sorted(names))
        super().__init__(
            f"Missing value for {', '.join(self.names)} and no fallback",
            details=[{"field": name, "message": "missing value"} for name in self.names],
        )


# The parts of a parsed template. Names and columns are normalised; a fallback is None when the
# tag has none; spintax options are verbatim because spaces can matter (``{{SPINTAX|Hi |}}``);
# ``offset`` is where the tag's ``{{`` starts; Text has its escapes resolved.
@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    fallback: str | None
    offset: int


@dataclass(frozen=True, slots=True)
class Spintax:
    options: tuple[str, ...]
    offset: int


@dataclass(frozen=True, slots=True)
class Loom:
    column: str
    fallback: str | None
    offset: int


Part = Text | Variable | Spintax | Loom


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: an immutable sequence of parts."""

    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class LeadFields:
    """The lead values templates may use; ``custom`` keys are normalised by build_variables."""

    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    custom: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SenderFields:
    """The sending inbox's identity."""

    name: str
    email: str


def normalize_name(name: str) -> str:
    """Canonical form of a variable name or lead column: ``First Name``, ``firstName``,
    ``FIRST_NAME`` and ``first-name`` all become ``first_name``.

    Edge cases: acronyms split before the last capital (``companyURL`` → ``company_url``,
    ``URLSlug`` → ``url_slug``); non-ASCII letters are kept (``Prénom`` → ``prénom``); a name of
    only punctuation normalises to ``""``.
    """
    spaced = _CAMEL_RE.sub(r"\1_\2", _CAMEL_ACRONYM_RE.sub(r"\1_\2", name.strip()))
    # Lower-casing can leave a bare combining mark ("İ" → "i" + U+0307) that has no composed
    # form; dropping such marks keeps the function idempotent ("İlçe" → "ilçe" both times).
    lowered = unicodedata.normalize("NFC", spaced.lower())
    letters = "".join(c for c in lowered if unicodedata.category(c) != "Mn")
    return _SEPARATORS_RE.sub("_", letters).strip("_")


def parse(template: str, *, field: str = "template") -> Template:
    """Parse a template into parts, or raise TemplateSyntaxError naming ``field`` and the offset.

    Errors: an unclosed ``{{``, a ``{{`` opened inside a tag, an empty tag, an invalid name, an
    unknown directive (``{{#if}}``, ``{{RANDOM|a|b}}``), a second ``|`` in a variable tag, a
    SPINTAX with fewer than two options, a LOOM without a column.
    """
    parts: list[Part] = []
    text: list[str] = []
    pos = 0
    for match in _TAG_RE.finditer(template):
        text.append(template[pos : match.start()])
        pos = match.end()
        if match.group(0) == "\\{{":
            text.append("{{")
            continue
        if match.group(2) is None:
            nested = template.find("{{", match.start() + 2)
            reason = f"'{{{{' is not closed before the next '{{{{' at offset {nested}"
            raise TemplateSyntaxError(
                "Unclosed '{{'" if nested == -1 else reason, offset=match.start(), field=field
            )
        if literal := "".join(text):
            parts.append(Text(literal))
        text = []
        parts.append(_parse_tag(match.group(1), match.start(), field))
    if literal := "".join(text) + template[pos:]:
        parts.append(Text(literal))
    return Template(tuple(parts))


def _parse_tag(body: str, offset: int, field: str) -> Part:
    pieces = body.split("|")
    head = pieces[0].strip()

    def fail(reason: str) -> TemplateSyntaxError:
        return TemplateSyntaxError(reason, offset=offset, field=field)

    if not body.strip():
        raise fail("Empty tag '{{}}'")
    if head == "SPINTAX":
        if len(pieces) < 3:
            raise fail("SPINTAX needs at least two options: {{SPINTAX|a|b}}")
        return Spintax(tuple(pieces[1:]), offset)
    if head == "LOOM":
        if len(pieces) not in (2, 3) or not _is_name(pieces[1].strip()):
            raise fail("LOOM takes a column and an optional fallback: {{LOOM|column|fallback}}")
        fallback = pieces[2].strip() if len(pieces) == 3 else None
        return Loom(normalize_name(pieces[1]), fallback, offset)
    if head[:1] in _FOREIGN_SIGILS:
        raise fail(f"Unknown directive '{head}'")
    if len(pieces) > 2:
        if _DIRECTIVE_LIKE_RE.fullmatch(head):
            raise fail(f"Unknown directive '{head}' (known: LOOM, SPINTAX)")
        raise fail("A variable takes one fallback; '|' cannot appear in a fallback")
    if not _is_name(head):
        raise fail(f"Invalid variable name '{head}'")
    fallback = pieces[1].strip() if len(pieces) == 2 else None
    return Variable(normalize_name(head), fallback, offset)


def _is_name(text: str) -> bool:
    return bool(_NAME_RE.fullmatch(text)) and bool(normalize_name(text))


def validate(template: str, *, field: str) -> None:
    """Raise TemplateSyntaxError (422, with ``field`` and offset in details) if ``template`` is
    invalid; the API calls this on every subject and body it accepts."""
    parse(template, field=field)


def variables_used(template: str) -> set[str]:
    """Normalised names of every variable and LOOM column, fallbacks or not (a column missing on
    some leads deserves a warning even when a fallback hides it); see required_variables."""
    return _names(template, required_only=False)


def required_variables(template: str) -> set[str]:
    """The subset of variables_used with no fallback: a lead without them would be held."""
    return _names(template, required_only=True)


def _names(template: str, *, required_only: bool) -> set[str]:
    return {
        part.name if isinstance(part, Variable) else part.column
        for part in parse(template).parts
        if isinstance(part, Variable | Loom) and not (required_only and part.fallback is not None)
    }


def render(template: str, variables: Mapping[str, str], *, seed: str, html: bool = False) -> str:
    """Render ``template`` with ``variables`` (keys normalised here too).

    A value that is absent, empty or only whitespace counts as missing; values are stripped. Every
    missing variable without a fallback is collected into one MissingVariable. In HTML mode values
    are HTML-escaped (not URL-encoded, even inside ``href``) and the result passes sanitize_html
    once more, so a lead value such as ``javascript:...`` used as a whole ``href`` is dropped.

    Spintax is chosen from sha256(seed, the tag's ordinal among spintax tags, its options): two
    tags in one template are independent, and editing text around a tag does not move the choice.
    """
    values = {normalize_name(key): value.strip() for key, value in variables.items()}
    out: list[str] = []
    missing: set[str] = set()
    spin_index = 0
    for part in parse(template).parts:
        if isinstance(part, Text):
            out.append(part.text)
        elif isinstance(part, Spintax):
            out.append(_choose(part.options, seed, spin_index))
            spin_index += 1
        elif isinstance(part, Variable):
            value = values.get(part.name, "")
            if value:
                out.append(html_lib.escape(value) if html else value)
            elif part.fallback is not None:
                out.append(part.fallback)
            else:
                missing.add(part.name)
        else:
            out.append(_render_loom(part, values.get(part.column, ""), html, missing))
    if missing:
        raise MissingVariable(missing)
    rendered = "".join(out)
    return sanitize_html(rendered) if html else rendered


def _choose(options: tuple[str, ...], seed: str, index: int) -> str:
    key = "\x1f".join((seed, str(index), *options)).encode()
    digest = hashlib.sha256(key).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def _render_loom(part: Loom, value: str, html: bool, missing: set[str]) -> str:
    # A column value that is not an http(s) URL ("n/a", "javascript:...") counts as missing.
    if _HTTP_URL_RE.fullmatch(value):
        return _loom_html(value) if html else value
    if part.fallback is not None:
        return (
            _loom_html(part.fallback)
            if html and _HTTP_URL_RE.fullmatch(part.fallback)
            else part.fallback
        )
    missing.add(part.column)
    return ""


def _loom_html(url: str) -> str:
    # Loom share links have a public animated thumbnail at a predictable CDN path; other video
    # hosts get a neutral text link rather than a guessed (possibly broken) image.
    href = html_lib.escape(url)
    match = _LOOM_SHARE_RE.match(url)
    if match is None:
        return f'<a href="{href}">&#9654; Watch video</a>'
    thumb = f"https://cdn.loom.com/sessions/thumbnails/{match.group(1)}-with-play.gif"
    return f'<a href="{href}"><img src="{thumb}" alt="Watch video" width="320"></a>'


def build_variables(
    lead: LeadFields, sender: SenderFields, unsubscribe_url: str | None
) -> dict[str, str]:
    """The mapping render() receives: custom columns (keys normalised), then built-ins.

    A non-empty built-in wins over a custom column of the same name; an empty one leaves the
    column's value (a CSV ``Company`` column still fills ``{{company}}``). ``full_name`` joins
    first and last name; ``unsubscribe_url`` is absent when unsubscribe links are off, so a body
    that still uses it holds the lead instead of sending a dead link.
    """
    variables = {normalize_name(key): value for key, value in lead.custom.items()}
    full_name = " ".join(p for p in (lead.first_name.strip(), lead.last_name.strip()) if p)
    builtins = {
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "full_name": full_name,
        "company": lead.company,
        "sender_name": sender.name,
        "sender_email": sender.email,
    }
    if unsubscribe_url is not None:
        builtins["unsubscribe_url"] = unsubscribe_url
    for key, value in builtins.items():
        if value.strip() or key not in variables:
            variables[key] = value
    return variables


def _keep_merge_tag_url(url: str) -> str | None:
    # Relative URLs are refused, except a whole-value merge tag such as href="{{unsubscribe_url}}".
    return url if url.startswith("{{") and url.endswith("}}") else None


_CLEANER = nh3.Cleaner(
    tags={
        *("p", "br", "a", "strong", "em", "b", "i", "u", "s", "ul", "ol", "li", "blockquote"),
        *("span", "div", "img", "h1", "h2", "h3", "hr"),
    },
    attributes={"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}},
    url_schemes={"http", "https", "mailto"},
    url_relative=_keep_merge_tag_url,
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Restrict HTML to what a cold email needs, and normalise its markup.

    Disallowed tags are unwrapped (their text kept) except ``script``/``style``, which go with
    their content; unknown attributes (``onclick``, ``style``) are dropped; ``href``/``src`` keep
    only http, https and mailto (``javascript:`` and ``data:`` are removed) or a whole merge tag;
    links get ``rel="noopener noreferrer"``. Merge tags survive, but ``<`` in a fallback must be
    written ``&lt;``. Idempotent.
    """
    return _CLEANER.clean(html)


def text_to_html(text: str) -> str:
    """Plain text to HTML: blank lines separate ``<p>`` paragraphs, single newlines become
    ``<br>``; text is escaped, merge tags are left intact."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(html_lib.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )


def to_body_html(body: str) -> str:
    """The stored ``body_html`` for a body from the API: sanitized HTML when it has tags, else
    text_to_html of the plain text."""
    return sanitize_html(body) if nh3.is_html(body) else text_to_html(body)


_BLOCKS = frozenset({"p", "div", "h1", "h2", "h3", "blockquote", "ul", "ol", "hr", "table", "tr"})
_BREAKS = {"br": "\n", "li": "\n- ", **dict.fromkeys(_BLOCKS, "\n\n")}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._link: tuple[str, list[str]] | None = None
        self._skip = 0

    def _emit(self, text: str) -> None:
        (self._link[1] if self._link else self.chunks).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "a":
            self._link = (dict(attrs).get("href") or "", [])
        elif tag == "img" and self._link is not None:
            self._emit(dict(attrs).get("alt") or "")
        else:
            self._emit(_BREAKS.get(tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self._emit("\n\n")
        elif tag == "a" and self._link is not None:
            href, parts = self._link
            self._link = None
            label = re.sub(r"\s+", " ", "".join(parts)).strip()
            if label and href and label not in (href, href.removeprefix("mailto:")):
                self._emit(f"{label} ({href})")
            else:
                self._emit(label or href)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._emit(re.sub(r"\s+", " ", data))

    def close(self) -> None:
        super().close()
        if self._link is not None:  # an unclosed <a>: still show its text and url
            self.handle_endtag("a")


def html_to_text(html: str) -> str:
    """A readable text/plain alternative of an HTML body.

    Paragraphs and blocks become blank-line separated, ``<br>`` a newline, list items ``- item``,
    links ``text (url)`` (just the url when the text is the url or empty; an image link uses its
    alt text); entities are unescaped; script/style content is dropped. Merge tags pass through,
    so a template's text part is itself a valid template.
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [line.strip() for line in "".join(extractor.chunks).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
