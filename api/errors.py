"""The only place that builds the error envelope; no request ever gets a bare 500 body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from coldflow.errors import CodedError, RateLimited

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    status: int
    details: list[dict[str, Any]] = []
    request_id: str


class ErrorResponse(BaseModel):
    """The error envelope, declared on every route for OpenAPI."""

    error: ErrorBody


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "req_unknown")


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = request_id_of(request)
    body = ErrorBody(
        code=code, message=message, status=status, details=details or [], request_id=request_id
    )
    return JSONResponse(
        {"error": body.model_dump()},
        status_code=status,
        headers={"X-Request-ID": request_id, **(headers or {})},
    )


def _field(loc: tuple[int | str, ...]) -> str:
    """``("body", "leads", 0, "email")`` → ``leads[0].email``; only the first part is a source."""
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    parts = [str(p) for p in loc]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


async def _coded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CodedError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(request, exc.status, exc.code, exc.message, exc.details, headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "field": _field(tuple(e.get("loc", ()))),
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(request, 400, "INVALID_JSON", "The body is not valid JSON", details)
    return error_response(
        request, 422, "VALIDATION_ERROR", "The request has invalid or missing fields", details
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    if exc.status_code == 404:
        code = "ROUTE_NOT_FOUND"
    elif exc.status_code == 400 and "parsing the body" in str(exc.detail):
        # FastAPI's answer to bytes that are not even text (invalid UTF-8): still bad JSON.
        code = "INVALID_JSON"
    return error_response(request, exc.status_code, code, str(exc.detail))


async def _integrity(request: Request, exc: Exception) -> JSONResponse:
    """A unique constraint lost a race with a concurrent request: safe to retry, not a 500."""
    log.info("integrity conflict on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        request,
        409,
        "CONCURRENT_CONFLICT",
        "A concurrent request changed the same records; retry the request",
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request, 500, "INTERNAL_ERROR", "An unexpected error occurred; quote the request id"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CodedError, _coded)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": code}
    for status, code in {
        400: "INVALID_JSON",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN",
        413: "PAYLOAD_TOO_LARGE",
        422: "VALIDATION_ERROR",
        429: "RATE_LIMITED",
    }.items()
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declared error responses for a route: the common ones plus its own."""
    extra: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorResponse, "description": HTTP_CODES.get(s, "ERROR")} for s in statuses
    }
    return {**ERROR_RESPONSES, **extra}
