"""Merge tags, spintax, LOOM and the HTML rules of coldflow.templates."""

from __future__ import annotations

from collections import Counter

import pytest

from coldflow.errors import CodedError, InvalidInput
from coldflow.templates import (
    LeadFields,
    Loom,
    MissingVariable,
    SenderFields,
    Spintax,
    TemplateSyntaxError,
    Text,
    Variable,
    build_variables,
    html_to_text,
    normalize_name,
    parse,
    render,
    required_variables,
    sanitize_html,
    text_to_html,
    to_body_html,
    validate,
    variables_used,
)

LOOM_ID = "0123456789abcdef0123456789abcdef"
LOOM_URL = f"https://www.loom.com/share/{LOOM_ID}"
LOOM_THUMB = f"https://cdn.loom.com/sessions/thumbnails/{LOOM_ID}-with-play.gif"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("first_name", "first_name", id="snake"),
        pytest.param("First Name", "first_name", id="title-with-space"),
        pytest.param("firstName", "first_name", id="camel"),
        pytest.param("FirstName", "first_name", id="pascal"),
        pytest.param("FIRST_NAME", "first_name", id="screaming-snake"),
        pytest.param("first-name", "first_name", id="kebab"),
        pytest.param("  first   name  ", "first_name", id="extra-spaces"),
        pytest.param("companyURL", "company_url", id="trailing-acronym"),
        pytest.param("URLSlug", "url_slug", id="leading-acronym"),
        pytest.param("addressLine2", "address_line2", id="digit"),
        pytest.param("Prénom", "prénom", id="non-ascii-kept"),
        pytest.param("contact.title", "contact_title", id="dotted"),
        pytest.param("!!!", "", id="only-punctuation"),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    ("template", "variables", "expected"),
    [
        pytest.param("Hi {{first_name}}", {"first_name": "Sam"}, "Hi Sam", id="plain"),
        pytest.param("Hi {{First Name}}", {"firstName": "Sam"}, "Hi Sam", id="names-normalised"),
        pytest.param("Hi {{ first_name }}!", {"first_name": "Sam"}, "Hi Sam!", id="inner-spaces"),
        pytest.param("Hi {{first_name|there}}", {}, "Hi there", id="fallback-absent"),
        pytest.param(
            "Hi {{first_name|there}}", {"first_name": "  "}, "Hi there", id="fallback-blank"
        ),
        pytest.param("Hi {{first_name | there }}", {}, "Hi there", id="fallback-stripped"),
        pytest.param("Hi{{ first_name|}}!", {}, "Hi!", id="empty-fallback-omits"),
        pytest.param("Hi {{first_name|x}}", {"first_name": " Sam "}, "Hi Sam", id="value-stripped"),
        pytest.param("\\{{first_name}}", {}, "{{first_name}}", id="escaped-open"),
        pytest.param("{{a}}\\{{b}}", {"a": "A"}, "A{{b}}", id="escape-after-tag"),
        pytest.param("x \\{{", {}, "x {{", id="escape-at-end"),
        pytest.param("{{a}}}", {"a": "A"}, "A}", id="triple-close"),
        pytest.param("a }} b", {}, "a }} b", id="stray-close-is-text"),
        pytest.param("{ single }", {}, "{ single }", id="single-braces-are-text"),
        pytest.param("", {}, "", id="empty"),
    ],
)
def test_render_text(template: str, variables: dict[str, str], expected: str) -> None:
    assert render(template, variables, seed="lead:1") == expected


@pytest.mark.parametrize(
    ("template", "offset", "reason"),
    [
        pytest.param("Hi {{first_name", 3, "Unclosed", id="unclosed"),
        pytest.param("Hi {{first_name {{x}}", 3, "not closed before", id="nested-open"),
        pytest.param("{{a}} {{b", 6, "Unclosed", id="unclosed-after-tag"),
        pytest.param("{{a {{b", 0, "not closed before", id="nested-and-unclosed"),
        pytest.param("ok {{}}", 3, "Empty tag", id="empty-tag"),
        pytest.param("{{first\nname}}", 0, "Invalid variable name", id="newline-in-name"),
        pytest.param("ok {{  }}", 3, "Empty tag", id="blank-tag"),
        pytest.param("{{a}} {{#if vip}}", 6, "Unknown directive", id="handlebars-section"),
        pytest.param("{{RANDOM|a|b}}", 0, "Unknown directive", id="unknown-directive"),
        pytest.param("{{title|CEO|Founder}}", 0, "one fallback", id="two-fallbacks"),
        pytest.param("{{fi*rst}}", 0, "Invalid variable name", id="bad-name"),
        pytest.param("{{|there}}", 0, "Invalid variable name", id="fallback-without-name"),
        pytest.param("x {{SPINTAX|only}}", 2, "at least two options", id="spintax-one-option"),
        pytest.param("{{SPINTAX}}", 0, "at least two options", id="spintax-bare"),
        pytest.param("{{LOOM}}", 0, "LOOM takes", id="loom-bare"),
        pytest.param("{{LOOM||x}}", 0, "LOOM takes", id="loom-empty-column"),
        pytest.param("{{LOOM|a|b|c}}", 0, "LOOM takes", id="loom-too-many"),
    ],
)
def test_syntax_error_has_offset(template: str, offset: int, reason: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        validate(template, field="sequences[0].subject")
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert error.code == "TEMPLATE_SYNTAX_ERROR"
    assert error.status == 422
    assert error.offset == offset
    assert reason in error.message
    assert f"offset {offset}" in error.message
    assert error.details[0]["field"] == "sequences[0].subject"
    assert error.details[0]["offset"] == offset


def test_parse_returns_frozen_parts() -> None:
    parsed = parse("Hi {{First Name|there}}, {{SPINTAX|a|b}} {{LOOM|Video Link}}")
    assert parsed.parts == (
        Text("Hi "),
        Variable("first_name", "there", 3),
        Text(", "),
        Spintax(("a", "b"), 25),
        Text(" "),
        Loom("video_link", None, 41),
    )


def test_variables_used_and_required() -> None:
    template = "{{First Name|there}} {{company}} {{LOOM|videoUrl|no video}} {{SPINTAX|a|b}}"
    assert variables_used(template) == {"first_name", "company", "video_url"}
    assert required_variables(template) == {"company"}
    assert required_variables("{{x|y}} {{x}}") == {"x"}


def test_missing_variables_are_all_reported() -> None:
    with pytest.raises(MissingVariable) as caught:
        render("{{company}} {{b|}} {{First Name}} {{LOOM|video}}", {"company": ""}, seed="s")
    error = caught.value
    assert isinstance(error, CodedError)
    assert error.code == "MISSING_VARIABLE"
    assert error.names == ("company", "first_name", "video")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("<p>Hi {{name}}</p>", "<p>Hi &lt;b&gt;Tom &amp; Co&lt;/b&gt;</p>", id="text"),
        pytest.param(
            '<a href="https://x.test/?n={{name}}">x</a>',
            '<a href="https://x.test/?n=&lt;b&gt;Tom &amp; Co&lt;/b&gt;" '
            'rel="noopener noreferrer">x</a>',
            id="attribute",
        ),
        pytest.param("{{missing|<b>hi</b>}}", "<b>hi</b>", id="fallback-is-template-html"),
    ],
)
def test_html_mode_escapes_values(template: str, expected: str) -> None:
    assert render(template, {"name": "<b>Tom & Co</b>"}, seed="s", html=True) == expected


def test_html_mode_drops_dangerous_url_value() -> None:
    rendered = render(
        '<a href="{{site}}">site</a>', {"site": "javascript:alert(1)"}, seed="s", html=True
    )
    assert "javascript" not in rendered


def test_text_mode_does_not_escape() -> None:
    assert render("{{name}}", {"name": "Tom & Co <x>"}, seed="s") == "Tom & Co <x>"


def test_spintax_is_deterministic_per_seed() -> None:
    template = "{{SPINTAX|Hi|Hello|Hey}} {{first_name}}"
    first = render(template, {"first_name": "A"}, seed="lead-1:1")
    assert all(render(template, {"first_name": "A"}, seed="lead-1:1") == first for _ in range(5))


def test_spintax_spreads_over_options() -> None:
    counts = Counter(render("{{SPINTAX|a|b|c}}", {}, seed=f"lead-{n}:1") for n in range(3000))
    assert set(counts) == {"a", "b", "c"}
    assert all(900 <= count <= 1100 for count in counts.values()), counts


def test_two_spintax_tags_are_independent() -> None:
    pairs = Counter(
        render("{{SPINTAX|a|b}}{{SPINTAX|a|b}}", {}, seed=f"l{n}:2") for n in range(2000)
    )
    assert set(pairs) == {"aa", "ab", "ba", "bb"}
    assert all(400 <= count <= 600 for count in pairs.values()), pairs


def test_spintax_keeps_option_whitespace() -> None:
    outputs = {render("{{SPINTAX|Hi |}}there", {}, seed=f"s{n}") for n in range(40)}
    assert outputs == {"Hi there", "there"}


@pytest.mark.parametrize(
    ("template", "variables", "html", "expected"),
    [
        pytest.param(
            "{{LOOM|video}}",
            {"video": LOOM_URL},
            True,
            f'<a href="{LOOM_URL}" rel="noopener noreferrer">'
            f'<img src="{LOOM_THUMB}" alt="Watch video" width="320"></a>',
            id="loom-html-thumbnail",
        ),
        pytest.param(
            "{{LOOM|Video URL}}",
            {"video_url": "https://vimeo.com/1"},
            True,
            '<a href="https://vimeo.com/1" rel="noopener noreferrer">\u25b6 Watch video</a>',
            id="other-host-html-text-link",
        ),
        pytest.param("{{LOOM|video}}", {"video": LOOM_URL}, False, LOOM_URL, id="text-is-url"),
        pytest.param("{{LOOM|video|no video}}", {}, False, "no video", id="fallback-text"),
        pytest.param(
            "{{LOOM|video|https://vimeo.com/2}}",
            {"video": "n/a"},
            True,
            '<a href="https://vimeo.com/2" rel="noopener noreferrer">\u25b6 Watch video</a>',
            id="non-url-value-uses-url-fallback",
        ),
    ],
)
def test_loom(template: str, variables: dict[str, str], html: bool, expected: str) -> None:
    assert render(template, variables, seed="s", html=html) == expected


def test_loom_non_url_without_fallback_is_missing() -> None:
    with pytest.raises(MissingVariable) as caught:
        render("{{LOOM|video}}", {"video": "javascript:alert(1)"}, seed="s", html=True)
    assert caught.value.names == ("video",)


def test_build_variables() -> None:
    lead = LeadFields(
        email="sam@acme.test",
        first_name="Sam",
        last_name="",
        company="",
        custom={"Company": "Acme", "Job Title": "CTO", "firstName": "Samuel"},
    )
    variables = build_variables(lead, SenderFields("Ann", "ann@us.test"), "https://u.test/x")
    assert variables == {
        "company": "Acme",
        "job_title": "CTO",
        "first_name": "Sam",
        "last_name": "",
        "full_name": "Sam",
        "email": "sam@acme.test",
        "sender_name": "Ann",
        "sender_email": "ann@us.test",
        "unsubscribe_url": "https://u.test/x",
    }
    without = build_variables(lead, SenderFields("Ann", "ann@us.test"), None)
    assert "unsubscribe_url" not in without
    with pytest.raises(MissingVariable):
        render("{{unsubscribe_url}}", without, seed="s")


@pytest.mark.parametrize(
    ("dirty", "expected"),
    [
        pytest.param("<p>Hi<script>alert(1)</script></p>", "<p>Hi</p>", id="script-removed"),
        pytest.param("<style>p{}</style><b>x</b>", "<b>x</b>", id="style-removed"),
        pytest.param('<p onclick="x()" style="color:red">a</p>', "<p>a</p>", id="event-attrs"),
        pytest.param(
            '<a href="javascript:alert(1)">j</a>', '<a rel="noopener noreferrer">j</a>', id="js-url"
        ),
        pytest.param(
            '<a href="mailto:a@b.test" target="_blank">m</a>',
            '<a href="mailto:a@b.test" rel="noopener noreferrer">m</a>',
            id="mailto-kept",
        ),
        pytest.param(
            '<a href="{{unsubscribe_url}}">Unsubscribe</a>',
            '<a href="{{unsubscribe_url}}" rel="noopener noreferrer">Unsubscribe</a>',
            id="merge-tag-href-kept",
        ),
        pytest.param(
            '<a href="/relative">r</a>', '<a rel="noopener noreferrer">r</a>', id="relative"
        ),
        pytest.param(
            '<img src="data:image/png;base64,AA" alt="x">', '<img alt="x">', id="data-uri"
        ),
        pytest.param("<table><tr><td>cell</td></tr></table>", "cell", id="table-unwrapped"),
        pytest.param(
            "<p>Hi {{first_name|there}} &amp; co",
            "<p>Hi {{first_name|there}} &amp; co</p>",
            id="tags-kept",
        ),
        pytest.param("<!-- c --><br>", "<br>", id="comment"),
    ],
)
def test_sanitize_html(dirty: str, expected: str) -> None:
    assert sanitize_html(dirty) == expected
    assert sanitize_html(expected) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("<p>One</p><p>Two</p>", "One\n\nTwo", id="paragraphs"),
        pytest.param("a<br>b<br/>c", "a\nb\nc", id="line-breaks"),
        pytest.param(
            '<a href="https://x.test/a">the docs</a>', "the docs (https://x.test/a)", id="link"
        ),
        pytest.param(
            '<a href="https://x.test">https://x.test</a>', "https://x.test", id="bare-link"
        ),
        pytest.param('<a href="mailto:a@b.test">a@b.test</a>', "a@b.test", id="mailto-same-text"),
        pytest.param(
            '<a href="https://v.test"><img src="t.gif" alt="Watch"></a>',
            "Watch (https://v.test)",
            id="img-link",
        ),
        pytest.param("Tom &amp; Jerry &lt;3 &eacute;", "Tom & Jerry <3 é", id="entities"),
        pytest.param("<ul><li>a</li><li>b</li></ul>", "- a\n- b", id="list"),
        pytest.param("<p>  lots   of\n space </p>", "lots of space", id="whitespace"),
        pytest.param("<p>x</p><script>bad()</script>", "x", id="script-dropped"),
        pytest.param(
            '<a href="{{unsubscribe_url}}">Unsubscribe</a>',
            "Unsubscribe ({{unsubscribe_url}})",
            id="tag-url",
        ),
        pytest.param('<a href="https://x.test">open', "open (https://x.test)", id="unclosed-link"),
    ],
)
def test_html_to_text(source: str, expected: str) -> None:
    assert html_to_text(source) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Hi {{first_name}},\n\nBye", "<p>Hi {{first_name}},</p><p>Bye</p>", id="paragraphs"
        ),
        pytest.param("a\nb", "<p>a<br>b</p>", id="line-break"),
        pytest.param("a\r\n\r\n\r\nb", "<p>a</p><p>b</p>", id="crlf-and-blank-runs"),
        pytest.param("Tom & <Jerry>", "<p>Tom &amp; &lt;Jerry&gt;</p>", id="escaped"),
    ],
)
def test_text_to_html(text: str, expected: str) -> None:
    assert text_to_html(text) == expected


def test_to_body_html_picks_by_content() -> None:
    assert to_body_html("Hi\n\nthere") == "<p>Hi</p><p>there</p>"
    assert to_body_html("<p>Hi</p><script>x</script>") == "<p>Hi</p>"


def test_text_part_of_a_template_is_a_template() -> None:
    body = '<p>Hi {{first_name|there}},</p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>'
    text = html_to_text(sanitize_html(body))
    variables = {"unsubscribe_url": "https://u.test/t"}
    assert render(text, variables, seed="s") == "Hi there,\n\nUnsubscribe (https://u.test/t)"
