"""Open and click tracking in ``render_email``: the pixel, the rewritten links, what stays put."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from coldflow.rendering import (
    RenderedEmail,
    Tracking,
    apply_tracking,
    link_targets,
    render_email,
)

PIXEL = "https://cf.test/t/o/PIXEL"
UNSUBSCRIBE = "https://cf.test/u/lead.mac"
BODY = (
    "<p>Hi {{first_name}}, see <a href='https://acme.example/pricing?a=1&b=2'>pricing</a>,"
    ' <a href="mailto:sales@acme.example">write us</a> or <a href="{{site}}">our site</a>.</p>'
    '<p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>'
)
VARIABLES = {"first_name": "Ann", "site": "http://ann.example/", "unsubscribe_url": UNSUBSCRIBE}


def click(index: int) -> str:
    return f"https://cf.test/t/c/CLICK-{index}"


FULL = Tracking(open_url=PIXEL, click_url=click, keep=frozenset({UNSUBSCRIBE}))


def render(
    tracking: Tracking | None,
    *,
    body: str = BODY,
    text_only: bool = False,
    variables: Mapping[str, str] = VARIABLES,
    signature: str = "",
) -> RenderedEmail:
    return render_email(
        subject="Hello",
        body=body,
        variables=variables,
        lead_id="lead-1",
        step=1,
        previous_subject="",
        text_only=text_only,
        signature=signature,
        tracking=tracking,
    )


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


class TestPixel:
    def test_last_thing_in_the_html(self) -> None:
        email = render(Tracking(open_url=PIXEL))
        assert email.tracked_html is not None
        assert email.tracked_html.endswith(f'<img src="{PIXEL}" width="1" height="1" alt="">')
        assert email.tracked_html.count("<img") == 1

    def test_after_the_signature(self) -> None:
        email = render(Tracking(open_url=PIXEL), signature="<p>Alex, Acme</p>")
        assert email.tracked_html is not None
        assert email.tracked_html.index("Alex, Acme") < email.tracked_html.index(PIXEL)

    def test_before_body_end_of_a_whole_document(self) -> None:
        tracked = apply_tracking("<html><body><p>Hi</p></body></html>", Tracking(open_url=PIXEL))
        assert tracked.endswith('alt=""></body></html>')

    def test_url_escaped(self) -> None:
        tracked = apply_tracking("<p>x</p>", Tracking(open_url='https://cf.test/t/o/a"b&c'))
        assert 'src="https://cf.test/t/o/a&quot;b&amp;c"' in tracked

    def test_never_in_text(self) -> None:
        email = render(FULL)
        assert PIXEL not in email.text
        assert "CLICK" not in email.text

    def test_text_only_mail_has_no_pixel(self) -> None:
        email = render(FULL, text_only=True)
        assert (email.html, email.tracked_html) == (None, None)
        assert PIXEL not in email.text

    def test_opens_only_leaves_links(self) -> None:
        email = render(Tracking(open_url=PIXEL))
        assert email.tracked_html is not None
        assert hrefs(email.tracked_html) == hrefs(email.html or "")


class TestLinks:
    def test_http_links_rewritten_by_index(self) -> None:
        email = render(FULL)
        assert email.tracked_html is not None
        assert hrefs(email.tracked_html) == [
            click(0),
            "mailto:sales@acme.example",
            click(2),
            UNSUBSCRIBE,
        ]

    def test_targets_read_back_from_the_untracked_html(self) -> None:
        """The click endpoint finds link N of the stored (untracked) HTML: the original URL."""
        email = render(FULL)
        assert link_targets(email.html or "") == [
            "https://acme.example/pricing?a=1&b=2",
            "mailto:sales@acme.example",
            "http://ann.example/",
            UNSUBSCRIBE,
        ]

    def test_unsubscribe_and_mailto_untouched(self) -> None:
        email = render(FULL)
        assert email.tracked_html is not None
        assert f'href="{UNSUBSCRIBE}"' in email.tracked_html
        assert 'href="mailto:sales@acme.example"' in email.tracked_html

    def test_other_attributes_kept(self) -> None:
        tracked = apply_tracking(
            '<a title="a &gt; b" href="https://x.example/" rel="noopener noreferrer">x</a>',
            Tracking(click_url=click),
        )
        assert tracked == (f'<a title="a &gt; b" href="{click(0)}" rel="noopener noreferrer">x</a>')

    def test_anchor_without_href_not_counted(self) -> None:
        html = '<a name="top">t</a><a href="https://x.example/">x</a>'
        assert link_targets(html) == ["https://x.example/"]
        assert hrefs(apply_tracking(html, Tracking(click_url=click))) == [click(0)]

    @pytest.mark.parametrize(
        "href",
        ["HTTPS://X.EXAMPLE/", "http://x.example/path?q=1#frag"],
        ids=["upper-case-scheme", "query-and-fragment"],
    )
    def test_http_variants_rewritten(self, href: str) -> None:
        tracked = apply_tracking(f'<a href="{href}">x</a>', Tracking(click_url=click))
        assert hrefs(tracked) == [click(0)]

    def test_clicks_only_has_no_pixel(self) -> None:
        email = render(Tracking(click_url=click))
        assert email.tracked_html is not None
        assert "<img" not in email.tracked_html


class TestUnchanged:
    def test_text_part_is_the_untracked_one(self) -> None:
        assert render(FULL).text == render(None).text

    def test_html_field_is_untracked(self) -> None:
        assert render(FULL).html == render(None).html

    def test_no_tracking_means_identical_html(self) -> None:
        email = render(None)
        assert email.tracked_html == email.html

    def test_text_keeps_original_urls(self) -> None:
        text = render(FULL).text
        assert "https://acme.example/pricing?a=1&b=2" in text
        assert UNSUBSCRIBE in text
