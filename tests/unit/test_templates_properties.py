"""Properties of coldflow.templates, checked with Hypothesis over generated templates and values.

The table-driven cases live in test_templates.py; here the engine meets inputs nobody wrote by
hand. Expected renderings are computed from the generator's own description of a template (which
tags, which names, which values), never by calling parse(), so a parse/render bug cannot hide
behind itself. Runs are derandomized and database-free: CI sees the same examples every time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldflow.templates import (
    LeadFields,
    MissingVariable,
    SenderFields,
    TemplateSyntaxError,
    Text,
    build_variables,
    normalize_name,
    parse,
    render,
    required_variables,
    validate,
    variables_used,
)

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- strategies ---------------------------------------------------------------------------------

# Pieces of template syntax, so arbitrary text hits the parser's interesting paths often.
_SYNTAX = [
    "{{", "}}", "\\{{", "\\", "{", "}", "|", " ", "\n", "SPINTAX", "LOOM", "#if", "RANDOM",
    "first_name", "First Name", "firstName", "é", "İ", "<b>", "&", '"',
    "{{first_name}}", "{{company|there}}", "{{x|}}", "{{SPINTAX|a|b}}", "{{LOOM|video|none}}",
]  # fmt: skip
arbitrary_templates = st.lists(
    st.one_of(st.sampled_from(_SYNTAX), st.text(max_size=4)), max_size=25
).map("".join)
seeds = st.text(max_size=20)
variable_maps = st.dictionaries(
    st.one_of(st.sampled_from(["first_name", "First Name", "company", "x"]), st.text(max_size=8)),
    st.text(max_size=12),
    max_size=5,
)

# Text that cannot start a tag: no "{" at all, and no "\" (which would escape a following tag).
plain_chunks = st.text(st.characters(exclude_characters="{\\", codec="utf-8"), max_size=12)
# Fallbacks and spintax options: template text without braces or pipes.
tag_text = st.text(st.characters(exclude_characters="{}|\\", codec="utf-8"), max_size=10)

# Every spelling normalises to its key; values are looked up by the normalised name.
SPELLINGS = {
    "first_name": ["first_name", "firstName", "First Name", "FIRST_NAME", "first-name"],
    "company": ["company", "Company", "COMPANY", " company "],
    "video_url": ["video_url", "videoUrl", "videoURL", "Video URL", "video-url"],
    "job_title": ["job_title", "jobTitle", "Job Title", "job.title"],
}
URL_VALUES = ["https://www.loom.com/share/0123456789abcdef0123456789abcdef", "http://x.test/v?id=1"]
NON_URL_VALUES = ["n/a", "javascript:alert(1)", "www.x.test", "ftp://x.test/a"]


@dataclass(frozen=True)
class Escape:
    """``\\{{`` in the source, ``{{`` in the output."""


@dataclass(frozen=True)
class Var:
    spelling: str
    name: str
    fallback: str | None
    pad: str  # spaces around the name inside the braces: {{ first_name }}


@dataclass(frozen=True)
class Spin:
    options: tuple[str, ...]


@dataclass(frozen=True)
class LoomTag:
    spelling: str
    name: str
    fallback: str | None


Segment = str | Escape | Var | Spin | LoomTag


def source(segment: Segment) -> str:
    """The template text of one generated segment."""
    if isinstance(segment, str):
        return segment
    if isinstance(segment, Escape):
        return "\\{{"
    if isinstance(segment, Var):
        tail = "" if segment.fallback is None else f"|{segment.fallback}"
        return f"{{{{{segment.pad}{segment.spelling}{segment.pad}{tail}}}}}"
    if isinstance(segment, Spin):
        return "{{SPINTAX|" + "|".join(segment.options) + "}}"
    tail = "" if segment.fallback is None else f"|{segment.fallback}"
    return f"{{{{LOOM|{segment.spelling}{tail}}}}}"


@st.composite
def variable_tags(draw: st.DrawFn) -> Var:
    name = draw(st.sampled_from(sorted(SPELLINGS)))
    return Var(
        spelling=draw(st.sampled_from(SPELLINGS[name])),
        name=name,
        fallback=draw(st.none() | tag_text),
        pad=draw(st.sampled_from(["", " "])),
    )


@st.composite
def loom_tags(draw: st.DrawFn) -> LoomTag:
    return LoomTag(
        spelling=draw(st.sampled_from(SPELLINGS["video_url"])),
        name="video_url",
        fallback=draw(st.none() | tag_text),
    )


segments = st.one_of(
    plain_chunks,
    st.just(Escape()),
    variable_tags(),
    st.builds(Spin, st.lists(tag_text, min_size=2, max_size=4).map(tuple)),
    loom_tags(),
)
# A value per name, keyed by any spelling: (spelling, value). Blank values count as missing.
lead_values = st.fixed_dictionaries(
    {},
    optional={
        name: st.tuples(
            st.sampled_from(spellings),
            st.one_of(
                st.text(max_size=10),
                st.sampled_from(["", "   ", "\t"]),
                st.sampled_from(URL_VALUES + NON_URL_VALUES),
            ),
        )
        for name, spellings in SPELLINGS.items()
    },
)


def spintax_choices(pieces: list[Segment], seed: str) -> list[str]:
    """The options the engine picks for the template's spintax tags, rendered without the text and
    variables around them: a choice may depend on the seed, the tag's ordinal and its options only.
    """
    spins = [source(piece) for piece in pieces if isinstance(piece, Spin)]
    choices: list[str] = []
    previous = ""
    for count in range(1, len(spins) + 1):
        # Each longer prefix adds one tag, and its choice is what that rendering appends.
        rendered = render("".join(spins[:count]), {}, seed=seed)
        assert rendered.startswith(previous)
        choices.append(rendered[len(previous) :])
        previous = rendered
    return choices


def is_http_url(value: str) -> bool:
    """A LOOM column value the engine must use as a link: an http(s) URL with a host."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not re.search(r"\s", value)


def syntax_error_of(template: str, field: str = "template") -> TemplateSyntaxError | None:
    try:
        parse(template, field=field)
    except TemplateSyntaxError as error:
        return error
    return None


# --- no crash, coded errors only -----------------------------------------------------------------


@PROPERTY
@given(template=arbitrary_templates, variables=variable_maps, seed=seeds, html=st.booleans())
def test_render_raises_only_coded_errors(
    template: str, variables: dict[str, str], seed: str, html: bool
) -> None:
    try:
        outcome: object = render(template, variables, seed=seed, html=html)
    except (TemplateSyntaxError, MissingVariable) as error:
        outcome = error
    if isinstance(outcome, TemplateSyntaxError | MissingVariable):
        assert (outcome.status, bool(outcome.details)) == (422, True)
    else:
        assert isinstance(outcome, str)


@PROPERTY
@given(template=arbitrary_templates, field=st.sampled_from(["subject", "sequences[2].body"]))
def test_validate_agrees_with_parse(template: str, field: str) -> None:
    parse_error = syntax_error_of(template, field)
    if parse_error is None:
        validate(template, field=field)
        return
    with pytest.raises(TemplateSyntaxError) as caught:
        validate(template, field=field)
    assert caught.value.offset == parse_error.offset
    assert caught.value.details == [
        {"field": field, "offset": parse_error.offset, "message": parse_error.message}
    ]
    with pytest.raises(TemplateSyntaxError):
        render(template, {}, seed="s")


@PROPERTY
@given(template=arbitrary_templates)
def test_syntax_error_offset_points_at_an_unescaped_open(template: str) -> None:
    error = syntax_error_of(template)
    if error is None:
        return
    offset = error.offset
    assert template[offset : offset + 2] == "{{"
    assert template[offset - 1 : offset] != "\\" or offset == 0
    assert f"offset {offset}" in error.message
    # The first error is reported: everything before the offending "{{" is valid.
    parse(template[:offset])


@PROPERTY
@given(template=arbitrary_templates)
def test_missing_variables_are_exactly_the_required_ones(template: str) -> None:
    try:
        required = required_variables(template)
    except TemplateSyntaxError:
        return
    assert required <= variables_used(template)
    if required:
        with pytest.raises(MissingVariable) as caught:
            render(template, {}, seed="s")
        assert caught.value.names == tuple(sorted(required))
    else:
        render(template, {}, seed="s")


# --- text and escapes -----------------------------------------------------------------------------


@PROPERTY
@given(text=st.text(max_size=60).filter(lambda t: "{{" not in t))
def test_text_without_open_braces_renders_to_itself(text: str) -> None:
    assert render(text, {"first_name": "Sam"}, seed="s") == text
    assert parse(text).parts == ((Text(text),) if text else ())


@PROPERTY
@given(pieces=st.lists(st.one_of(plain_chunks, st.just(Escape())), max_size=10))
def test_escaped_open_braces_render_as_literal_braces(pieces: list[str | Escape]) -> None:
    template = "".join(source(piece) for piece in pieces)
    expected = "".join("{{" if isinstance(piece, Escape) else piece for piece in pieces)
    assert render(template, {}, seed="s") == expected
    assert variables_used(template) == set()


# --- well-formed templates render to the independently computed string ---------------------------


@PROPERTY
@given(pieces=st.lists(segments, max_size=12), keyed=lead_values, seed=seeds)
def test_well_formed_template_renders_as_described(
    pieces: list[Segment], keyed: dict[str, tuple[str, str]], seed: str
) -> None:
    template = "".join(source(piece) for piece in pieces)
    variables = dict(keyed.values())  # keys as spelled by the caller; render normalises them
    values = {name: value for name, (_spelling, value) in keyed.items()}
    choices = iter(spintax_choices(pieces, seed))
    out: list[str] = []
    missing: set[str] = set()
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
        elif isinstance(piece, Escape):
            out.append("{{")
        elif isinstance(piece, Spin):
            choice = next(choices)
            assert choice in piece.options
            out.append(choice)
        elif isinstance(piece, Var):
            value = values.get(piece.name, "").strip()
            if value:
                out.append(value)
            elif piece.fallback is not None:
                out.append(piece.fallback.strip())
            else:
                missing.add(piece.name)
        else:
            value = values.get(piece.name, "").strip()
            if is_http_url(value):
                out.append(value)
            elif piece.fallback is not None:
                out.append(piece.fallback.strip())
            else:
                missing.add(piece.name)
    if missing:
        with pytest.raises(MissingVariable) as caught:
            render(template, variables, seed=seed)
        assert caught.value.names == tuple(sorted(missing))
    else:
        assert render(template, variables, seed=seed) == "".join(out)


# --- spintax ----------------------------------------------------------------------------------


@PROPERTY
@given(
    options=st.lists(tag_text, min_size=2, max_size=5),
    seed=seeds,
    prefix=plain_chunks,
    suffix=plain_chunks,
)
def test_spintax_picks_one_option_deterministically(
    options: list[str], seed: str, prefix: str, suffix: str
) -> None:
    tag = "{{SPINTAX|" + "|".join(options) + "}}"
    chosen = render(tag, {}, seed=seed)
    assert chosen in options
    assert render(tag, {}, seed=seed) == chosen
    # Editing the text around a tag does not move the choice.
    assert render(prefix + tag + suffix, {"x": "y"}, seed=seed) == prefix + chosen + suffix


# --- HTML mode --------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def collect(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


# Values as a lead could type them, markup characters included; HTML parsers rewrite NUL and
# carriage returns by design, which is not escaping's business.
html_values = st.text(
    st.one_of(
        st.sampled_from(list("<>&\"'/=")),
        st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")),
    ),
    min_size=1,
    max_size=20,
).filter(str.strip)  # a blank value is missing, not escaped


@PROPERTY
@given(value=html_values)
def test_html_mode_escapes_values_in_text(value: str) -> None:
    rendered = render("<p>{{name}}</p>", {"name": value}, seed="s", html=True)
    parsed = collect(rendered)
    assert parsed.tags == ["p"]
    assert "".join(parsed.text) == value.strip()


@PROPERTY
@given(value=html_values)
def test_html_mode_escapes_values_in_attributes(value: str) -> None:
    template = '<a href="https://x.test/?q={{name}}">link</a>'
    rendered = render(template, {"name": value}, seed="s", html=True)
    parsed = collect(rendered)
    assert parsed.tags == ["a"]
    assert "".join(parsed.text) == "link"
    assert dict(parsed.attrs)["href"] == "https://x.test/?q=" + value.strip()


# --- names ------------------------------------------------------------------------------------

names = st.one_of(
    st.text(max_size=15),
    st.lists(st.sampled_from(["a", "B", "URL", "id", "2", "_", "-", " ", ".", "é", "Ü"])).map(
        "".join
    ),
)


@PROPERTY
@given(name=names)
def test_normalize_name_is_idempotent(name: str) -> None:
    normalized = normalize_name(name)
    assert normalize_name(normalized) == normalized
    assert normalized == normalized.strip("_")
    assert not re.search(r"\s", normalized)


def test_normalize_name_is_idempotent_for_dotted_capital_i() -> None:
    once = normalize_name("İlçe")
    assert normalize_name(once) == once


def test_custom_column_with_dotted_capital_i_fills_its_tag() -> None:
    variables = build_variables(
        LeadFields(email="a@x.test", custom={"İlçe": "Kadıköy"}),
        SenderFields(name="S", email="s@x.test"),
        None,
    )
    assert render("Merhaba {{İlçe}}", variables, seed="s") == "Merhaba Kadıköy"
