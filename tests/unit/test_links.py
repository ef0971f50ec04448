"""Signed public links: every token verifies for its own purpose only, and edits break it."""

from __future__ import annotations

import pytest

from coldflow.links import CLICK, UNSUBSCRIBE, ClickTarget, Links, sign, verify

LINKS = Links(public_url="https://cf.example.com", secret="s3cret")
LEAD = "0b7c6a52-3d4e-4f51-9a8b-1c2d3e4f5a6b"
SENT = "9f8e7d6c-5b4a-4321-8765-fedcba987654"


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


class TestUrls:
    def test_unsubscribe(self) -> None:
        url = LINKS.unsubscribe_url(LEAD)
        assert url.startswith("https://cf.example.com/u/")
        assert LINKS.unsubscribe_lead(token_of(url)) == LEAD

    def test_open(self) -> None:
        url = LINKS.open_url(SENT)
        assert url.startswith("https://cf.example.com/t/o/")
        assert LINKS.opened_message(token_of(url)) == SENT

    @pytest.mark.parametrize("index", [0, 1, 17, 9_999])
    def test_click(self, index: int) -> None:
        url = LINKS.click_url(SENT, index)
        assert url.startswith("https://cf.example.com/t/c/")
        assert LINKS.clicked_link(token_of(url)) == ClickTarget(SENT, index)

    def test_tokens_are_url_path_safe(self) -> None:
        for url in (LINKS.unsubscribe_url(LEAD), LINKS.open_url(SENT), LINKS.click_url(SENT, 3)):
            assert all(c.isalnum() or c in "-_." for c in token_of(url)), url

    def test_tokens_are_deterministic(self) -> None:
        """A retried send must produce the same bytes, so the same token."""
        assert LINKS.click_url(SENT, 2) == LINKS.click_url(SENT, 2)


class TestForgery:
    def test_other_secret_rejected(self) -> None:
        other = Links(public_url=LINKS.public_url, secret="another")
        assert other.opened_message(token_of(LINKS.open_url(SENT))) is None

    @pytest.mark.parametrize(
        ("make", "read"),
        [
            pytest.param(
                lambda: LINKS.open_url(SENT), LINKS.unsubscribe_lead, id="open-as-unsubscribe"
            ),
            pytest.param(lambda: LINKS.unsubscribe_url(LEAD), LINKS.opened_message, id="u-as-open"),
            pytest.param(lambda: LINKS.open_url(SENT), LINKS.clicked_link, id="open-as-click"),
            pytest.param(
                lambda: LINKS.click_url(SENT, 0), LINKS.opened_message, id="click-as-open"
            ),
        ],
    )
    def test_purpose_is_bound(self, make: object, read: object) -> None:
        assert read(token_of(make())) is None  # type: ignore[operator]

    def test_changed_link_index_rejected(self) -> None:
        """A click token for link 0 cannot be edited into one for link 1."""
        value, _, mac = token_of(LINKS.click_url(SENT, 0)).rpartition(".")
        assert LINKS.clicked_link(f"{SENT}.1.{mac}") is None
        assert LINKS.clicked_link(f"{value}.{mac}") == ClickTarget(SENT, 0)

    def test_changed_id_rejected(self) -> None:
        _, _, mac = token_of(LINKS.unsubscribe_url(LEAD)).rpartition(".")
        assert LINKS.unsubscribe_lead(f"{SENT}.{mac}") is None

    @pytest.mark.parametrize(
        "token",
        [
            "",
            ".",
            "nodot",
            f"{LEAD}.",
            f".{sign('s3cret', UNSUBSCRIBE, LEAD).rpartition('.')[2]}",
            f"{LEAD}.ünïcode",
            "x" * 500,
            "../../etc/passwd",
        ],
        ids=["empty", "dot", "no-mac", "empty-mac", "empty-value", "non-ascii", "long", "path"],
    )
    def test_garbage_rejected(self, token: str) -> None:
        assert LINKS.unsubscribe_lead(token) is None
        assert LINKS.opened_message(token) is None
        assert LINKS.clicked_link(token) is None

    @pytest.mark.parametrize(
        "value", [SENT, f"{SENT}.x", f"{SENT}.-1", f"{SENT}.99999", ".3"], ids=str
    )
    def test_click_value_must_name_a_link(self, value: str) -> None:
        """Even a correctly signed click value is refused unless it is ``<id>.<index>``."""
        assert verify("s3cret", CLICK, sign("s3cret", CLICK, value)) == value
        assert LINKS.clicked_link(sign("s3cret", CLICK, value)) is None


class TestTracking:
    def test_nothing_tracked(self) -> None:
        assert LINKS.tracking(SENT, opens=False, clicks=False) is None

    def test_opens_only(self) -> None:
        tracking = LINKS.tracking(SENT, opens=True, clicks=False)
        assert tracking is not None
        assert tracking.open_url == LINKS.open_url(SENT)
        assert tracking.click_url is None

    def test_clicks_only_keep_unsubscribe(self) -> None:
        unsubscribe = LINKS.unsubscribe_url(LEAD)
        tracking = LINKS.tracking(SENT, opens=False, clicks=True, keep=[unsubscribe])
        assert tracking is not None
        assert tracking.open_url is None
        assert tracking.click_url is not None
        assert tracking.click_url(4) == LINKS.click_url(SENT, 4)
        assert tracking.keep == {unsubscribe}
