"""Deterministic workflow code only: no I/O, no clock, no settings (see STYLE.md)."""

from workflows.inbox_check import InboxConnectionCheckWorkflow
from workflows.journey import LeadJourneyWorkflow
from workflows.lead_import import LeadImportWorkflow

WORKFLOWS = [LeadJourneyWorkflow, LeadImportWorkflow, InboxConnectionCheckWorkflow]
