"""Workspace totals (seed 004's ``/stats``), in coldflow's envelope and names."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CampaignCounts(BaseModel):
    total: int
    draft: int
    active: int
    paused: int
    completed: int


class InboxCounts(BaseModel):
    total: int
    pending: int
    validating: int
    connected: int
    error: int


class DomainCounts(BaseModel):
    total: int
    pending: int
    verified: int
    partially_verified: int
    failed: int


class RecentActivity(BaseModel):
    sent: int = Field(description="Messages sent (campaign steps and API emails)")
    replied: int = Field(description="Leads that replied (each lead once)")
    bounced: int = Field(description="Messages that bounced (at send or by a bounce report)")


class WorkspaceStats(BaseModel):
    contacts: int
    leads: int
    campaigns: CampaignCounts
    inboxes: InboxCounts
    domains: DomainCounts
    emails_this_month: int = Field(description="Messages sent since the 1st of this UTC month")
    last_30_days: RecentActivity
