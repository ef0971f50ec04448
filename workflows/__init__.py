"""Deterministic workflow code only: no I/O, no clock, no settings (see STYLE.md)."""

from workflows.journey import LeadJourneyWorkflow

WORKFLOWS = [LeadJourneyWorkflow]
