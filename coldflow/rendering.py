"""The email a lead gets for one step: subject, text and HTML, rendered from a variant (pure).

The send path and the campaign preview both call ``render_email``, so the preview can never
show something other than what goes out. Open and click tracking is a last pass over the HTML
(``apply_tracking``); the URLs it inserts come in as arguments, so this module knows no secret.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from coldflow import mime, templates

# An <a> start tag as the sanitizer serialises it: lower-case names, every value double-quoted
# with "&" and '"' escaped, so a ">" inside a value cannot end the match early.
_ANCHOR_RE = re.compile(r'<a((?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*)\s*/?>')
_HREF_RE = re.compile(r'(\shref=")([^"]*)(")')
_BODY_END_RE = re.compile(r"</body\s*>", re.IGNORECASE)
_HTTP_RE = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tracking:
    """How one send reports opens and clicks; the send path builds it, previews pass none.

    ``open_url``: the pixel's address (None: opens are not tracked). ``click_url``: the redirect
    standing in for the link at an index of ``link_targets`` (None: clicks are not tracked).
    ``keep``: URLs never rewritten, e.g. the unsubscribe link, which must work without any
    redirect and stay recognisable to the reader.
    """

    open_url: str | None = None
    click_url: Callable[[int], str] | None = None
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """Subject, text part and HTML part (None when the campaign is text-only) of one send.

    ``html`` is the message as written, without tracking: what the emails log keeps and what
    click tokens index into. ``tracked_html`` is the HTML part that goes on the wire (equal to
    ``html`` without tracking). The text part never carries tracking.
    """

    subject: str
    text: str
    html: str | None
    tracked_html: str | None = None


def render_email(
    *,
    subject: str,
    body: str,
    variables: Mapping[str, str],
    lead_id: str,
    step: int,
    previous_subject: str,
    text_only: bool,
    signature: str = "",
    tracking: Tracking | None = None,
) -> RenderedEmail:
    """One step's email for one lead, exactly as the journey sends it.

    Spintax is seeded by (lead, step) like the variant choice. A follow-up's subject follows
    ``mime.reply_subject`` (empty or ``Re:`` → ``Re: <previous_subject>``). ``body`` is the
    stored HTML (plain text is accepted too); the text part is derived from the rendered HTML,
    also when text-only (so stored markup never reaches a text/plain body). The inbox's
    signature ends the HTML, or follows a ``-- `` line in a text-only mail. ``tracking`` applies
    to the HTML part only (a text-only mail has nothing to track). Raises MissingVariable naming
    every variable of the failing template with no value and no fallback.
    """
    seed = f"{lead_id}:{step}"
    rendered_subject = templates.render(subject, variables, seed=seed)
    if step > 1:
        rendered_subject = mime.reply_subject(previous_subject, rendered_subject)
    html = templates.render(templates.to_body_html(body), variables, seed=seed, html=True)
    if text_only:
        text = templates.html_to_text(html)
        if signature.strip():
            # RFC 3676 §4.3: "-- " alone on a line starts the signature of a plain-text mail.
            signature_text = templates.html_to_text(templates.to_body_html(signature))
            text = f"{text.rstrip()}\n\n-- \n{signature_text}"
        return RenderedEmail(rendered_subject, text, None)
    if signature.strip():
        html += templates.to_body_html(signature)
    tracked = apply_tracking(html, tracking) if tracking is not None else html
    return RenderedEmail(rendered_subject, templates.html_to_text(html), html, tracked)


def link_targets(html: str) -> list[str]:
    """The href of every ``<a>`` of a rendered HTML part, in document order, unescaped.

    A link's index in this list is the one its click token carries; the click endpoint reads
    the target back from the stored message with this same function.
    """
    targets: list[str] = []
    for anchor in _ANCHOR_RE.finditer(html):
        href = _HREF_RE.search(anchor.group(1))
        if href is not None:
            targets.append(html_lib.unescape(href.group(2)))
    return targets


def is_trackable(url: str) -> bool:
    """Only http(s) links go through the click redirect (never mailto: or anything else)."""
    return _HTTP_RE.match(url) is not None


def apply_tracking(html: str, tracking: Tracking) -> str:
    """``html`` with http(s) links rewritten to ``tracking.click_url`` and the open pixel last.

    Links in ``tracking.keep`` and non-http links (mailto:) stay as they are. The pixel is a
    1×1 image at the very end (before ``</body>`` in a whole document), so it loads after the
    content and never shows above it.
    """
    click_url = tracking.click_url
    if click_url is not None:
        index = -1

        def rewrite(anchor: re.Match[str]) -> str:
            nonlocal index
            attrs = anchor.group(1)
            href = _HREF_RE.search(attrs)
            if href is None:
                return anchor.group(0)
            index += 1
            target = html_lib.unescape(href.group(2))
            if not is_trackable(target) or target in tracking.keep:
                return anchor.group(0)
            new_href = html_lib.escape(click_url(index))
            start, end = anchor.span(1)
            offset = anchor.start(0)
            tag = anchor.group(0)
            attrs = attrs[: href.start(2)] + new_href + attrs[href.end(2) :]
            return tag[: start - offset] + attrs + tag[end - offset :]

        html = _ANCHOR_RE.sub(rewrite, html)
    if tracking.open_url is not None:
        pixel = f'<img src="{html_lib.escape(tracking.open_url)}" width="1" height="1" alt="">'
        ends = list(_BODY_END_RE.finditer(html))
        if ends:
            at = ends[-1].start()
            html = html[:at] + pixel + html[at:]
        else:
            html += pixel
    return html
