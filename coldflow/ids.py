"""Identifiers: database ids, Temporal workflow ids and API keys (all pure).

One function builds each workflow id, so the API, the activities and the Temporal UI links
always agree on which execution belongs to which lead.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

API_KEY_PREFIX = "cf_"
WEBHOOK_SECRET_PREFIX = "whsec_"


def new_id() -> str:
    """A random UUID4 as text: primary keys are opaque and unguessable."""
    return str(uuid.uuid4())


def journey_workflow_id(campaign_id: str, lead_id: str) -> str:
    """The one workflow per (campaign, lead): readable in the Temporal UI and deterministic."""
    return f"journey/{campaign_id}/{lead_id}"


def campaign_workflow_id(campaign_id: str) -> str:
    """The campaign's fan-out workflow (enrols leads in the background on activation)."""
    return f"campaign/{campaign_id}"


def mailbox_workflow_id(inbox_id: str) -> str:
    """The long-running watcher of one inbox."""
    return f"mailbox/{inbox_id}"


def generate_api_key() -> str:
    """A new API key; it is shown once and only its hash is stored."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """SHA-256 is enough here: keys carry 256 bits of entropy, so no salt or KDF is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_hint(key: str) -> str:
    """The few characters shown in listings so a person can tell keys apart."""
    return key[:6] + "…" + key[-4:]
