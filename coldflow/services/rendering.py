"""Merge-tag values of one send, built from the lead and inbox rows."""

from __future__ import annotations

from coldflow import templates
from coldflow.models import Inbox, Lead


def email_variables(lead: Lead, inbox: Inbox | None, unsubscribe_url: str | None) -> dict[str, str]:
    """The merge-tag values of one send: the lead's fields and columns, the sender's fields
    (empty without an inbox), and the unsubscribe URL when the campaign has one."""
    return templates.build_variables(
        templates.LeadFields(
            email=lead.email,
            first_name=lead.first_name,
            last_name=lead.last_name,
            company=lead.company,
            custom=lead.variables,
        ),
        templates.SenderFields(
            name=inbox.from_name if inbox else "", email=inbox.email if inbox else ""
        ),
        unsubscribe_url,
    )
