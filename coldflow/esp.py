"""Which mailbox provider (ESP) an address is hosted by, and which domains are free mail.

Known consumer domains only: detecting a company's provider needs an MX lookup, which the
sender-domain checks will add; until then every other domain is ``other``.
"""

from __future__ import annotations

GOOGLE = "google"
MICROSOFT = "microsoft"
YAHOO = "yahoo"
ZOHO = "zoho"
OTHER = "other"

_PROVIDERS = {
    "gmail.com": GOOGLE,
    "googlemail.com": GOOGLE,
    "outlook.com": MICROSOFT,
    "hotmail.com": MICROSOFT,
    "live.com": MICROSOFT,
    "msn.com": MICROSOFT,
    "yahoo.com": YAHOO,
    "ymail.com": YAHOO,
    "zoho.com": ZOHO,
    "zohomail.com": ZOHO,
}

# Replies from these domains never stop colleagues' journeys (stop_on_company_reply): two
# gmail.com leads are not colleagues.
FREE_MAIL_DOMAINS = frozenset(
    {
        *_PROVIDERS,
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "web.de",
        "mail.com",
        "yandex.ru",
        "qq.com",
        "163.com",
    }
)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def provider_for(email_or_domain: str) -> str:
    """``google``, ``microsoft``, ``yahoo``, ``zoho`` or ``other``."""
    return _PROVIDERS.get(
        domain_of(email_or_domain) if "@" in email_or_domain else email_or_domain.lower(), OTHER
    )


def is_free_mail(domain: str) -> bool:
    return domain.lower() in FREE_MAIL_DOMAINS
