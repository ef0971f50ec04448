"""Public endpoints reached from inside sent mail: unsubscribe, open pixel, click redirect.

No API key: the signed token in the path is the credential (``coldflow.links``). They sit
outside ``/api/v1``, so rate limits and idempotency keys do not apply to them.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import JourneysDep, LinksDep, SessionDep
from api.errors import ErrorResponse
from api.uow import UnitOfWorkRoute
from coldflow.errors import NotFound
from coldflow.services import tracking as service

router = APIRouter(tags=["public"], route_class=UnitOfWorkRoute)

# The smallest transparent GIF: 1×1, one palette entry, 43 bytes.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# Every fetch must reach us (an open is counted on the first), and nothing may be stored.
NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}
ONE_CLICK = b"One-Click"
LINK_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "LINK_NOT_FOUND"}
}
PAGE_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "An HTML page: the link is not valid"}
}


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{title}</title></head>'
        '<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto;'
        f' padding: 0 1rem; line-height: 1.5"><h1>{title}</h1>{body}</body></html>'
    )
    return HTMLResponse(document, status_code=status_code, headers=NO_CACHE)


def _not_found() -> HTMLResponse:
    return _page(
        "Link not valid",
        "<p>This unsubscribe link is not valid; it may have been cut short by your email "
        "program. Reply to the email with the word <em>unsubscribe</em> instead.</p>",
        status_code=404,
    )


def _done(email: str) -> HTMLResponse:
    return _page(
        "You are unsubscribed",
        f"<p><strong>{html.escape(email)}</strong> will receive no more emails from us.</p>",
    )


@router.get("/u/{token}", response_class=HTMLResponse, responses=PAGE_NOT_FOUND)
async def unsubscribe_page(token: str, session: SessionDep, links: LinksDep) -> HTMLResponse:
    """A small confirmation page with one button; loading it changes nothing (link scanners
    and previews fetch pages), the button's POST unsubscribes."""
    try:
        target = await service.unsubscribe_target(session=session, links=links, token=token)
    except NotFound:
        return _not_found()
    if target.is_unsubscribed:
        return _done(target.email)
    return _page(
        "Unsubscribe",
        f"<p>Stop all emails to <strong>{html.escape(target.email)}</strong>?</p>"
        '<form method="post"><button type="submit" name="confirm" value="yes" '
        'style="font-size: 1rem; padding: 0.5rem 1.25rem">Unsubscribe</button></form>',
    )


@router.post("/u/{token}", response_class=HTMLResponse, responses=PAGE_NOT_FOUND)
async def unsubscribe(
    token: str, request: Request, session: SessionDep, journeys: JourneysDep, links: LinksDep
) -> HTMLResponse:
    """Unsubscribe at once: RFC 8058 one-click (body ``List-Unsubscribe=One-Click``), the
    page's button, or an empty POST. The address is unsubscribed from every campaign of the
    workspace and blocklisted; running journeys end. Repeating it is harmless (200 again)."""
    # RFC 8058 §3.2: the body is List-Unsubscribe=One-Click, form-urlencoded or multipart.
    source = "one_click" if ONE_CLICK in await request.body() else "link"
    try:
        target = await service.unsubscribe(
            session=session, journeys=journeys, links=links, token=token, source=source
        )
    except NotFound:
        return _not_found()
    return _done(target.email)


@router.get("/t/o/{token}", responses=LINK_NOT_FOUND)
async def open_pixel(token: str, session: SessionDep, links: LinksDep) -> Response:
    """The open-tracking pixel: a 1×1 GIF that records the message's first open."""
    await service.record_open(session=session, links=links, token=token)
    return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)


@router.get("/t/c/{token}", status_code=302, responses=LINK_NOT_FOUND)
async def follow_link(token: str, session: SessionDep, links: LinksDep) -> RedirectResponse:
    """Record a click and redirect (302) to the link's original URL, read from the sent message
    itself: a token can only ever lead to a link that message contained."""
    url = await service.record_click(session=session, links=links, token=token)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
