"""SMTP transport: the one place that talks to a mail server to send.

Replies are sorted by RFC 5321 class: 4xx is "try again later" (raised as ``SmtpTransient`` for
Temporal's retry policy), 5xx on RCPT means the address is bad (a hard bounce) and 535 means the
inbox's credentials are wrong; neither of those two may ever be retried.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosmtplib

from coldflow.errors import CodedError
from coldflow.models import TransportSecurity


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    security: TransportSecurity
    timeout: float = 60.0


class SmtpTransient(CodedError):
    """Worth retrying: a 4xx reply, a timeout or a dropped connection."""

    code = "SMTP_TRANSIENT"
    status = 503


class SmtpRecipientRejected(CodedError):
    """5xx at RCPT: the recipient does not exist or refuses mail (hard bounce)."""

    code = "SMTP_RECIPIENT_REJECTED"
    status = 422


class SmtpAuthFailed(CodedError):
    """535: the inbox's username or password is wrong; sending from it must stop."""

    code = "SMTP_AUTH_FAILED"
    status = 422


class SmtpRejected(CodedError):
    """Any other permanent (5xx) refusal, e.g. of the message content at DATA."""

    code = "SMTP_REJECTED"
    status = 422


def _client(settings: SmtpSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == TransportSecurity.tls,
        start_tls=settings.security == TransportSecurity.starttls,
        timeout=settings.timeout,
    )


def _classify(exc: Exception) -> CodedError:
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SmtpAuthFailed(f"SMTP authentication failed: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0]
        if 400 <= first.code < 500:
            return SmtpTransient(f"Recipient deferred: {first.code} {first.message}")
        return SmtpRecipientRejected(f"Recipient rejected: {first.code} {first.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 400 <= exc.code < 500:
            return SmtpTransient(f"SMTP {exc.code} {exc.message}")
        return SmtpRejected(f"SMTP {exc.code} {exc.message}")
    return SmtpTransient(f"SMTP connection failed: {type(exc).__name__}: {exc}")


async def send_message(
    settings: SmtpSettings, *, sender: str, recipient: str, message: bytes
) -> str:
    """Send one message; returns the server's final reply. Raises one of this module's errors."""
    client = _client(settings)
    try:
        async with client:
            if settings.username:
                await client.login(settings.username, settings.password)
            errors, reply = await client.sendmail(sender, [recipient], message)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise _classify(exc) from exc
    if recipient in errors:
        # aiosmtplib reports per-recipient refusals here unless *all* were refused.
        refused = errors[recipient]
        raise _classify(
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(refused.code, refused.message, recipient)]
            )
        )
    return reply


async def check_login(settings: SmtpSettings) -> None:
    """Connect and authenticate, nothing more: the connection test of a new inbox."""
    client = _client(settings)
    try:
        async with client:
            if settings.username:
                await client.login(settings.username, settings.password)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise _classify(exc) from exc
