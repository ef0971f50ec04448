"""The email a lead gets for one step: subject, text and HTML, rendered from a variant (pure).

The send path and the campaign preview both call ``render_email``, so the preview can never
show something other than what goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from coldflow import mime, templates


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """Subject, text part and HTML part (None when the campaign is text-only) of one send."""

    subject: str
    text: str
    html: str | None


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
) -> RenderedEmail:
    """One step's email for one lead, exactly as the journey sends it.

    Spintax is seeded by (lead, step) like the variant choice. A follow-up's subject follows
    ``mime.reply_subject`` (empty or ``Re:`` → ``Re: <previous_subject>``). ``body`` is the
    stored HTML (plain text is accepted too); the text part is derived from the rendered HTML,
    also when text-only (so stored markup never reaches a text/plain body). The inbox's
    signature ends the HTML, or follows a ``-- `` line in a text-only mail. Raises
    MissingVariable naming every variable of the failing template with no value and no
    fallback.
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
    return RenderedEmail(rendered_subject, templates.html_to_text(html), html)
