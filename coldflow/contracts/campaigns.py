"""What crosses the Temporal boundary when a campaign enrols its leads in the background."""

from __future__ import annotations

from dataclasses import dataclass

ENROLLMENT_WORKFLOW = "CampaignEnrollment"
ENROLL_LEADS_ACTIVITY = "enroll_leads"


def enrollment_workflow_id(campaign_id: str) -> str:
    return f"campaign-enroll/{campaign_id}"


@dataclass(frozen=True)
class EnrollmentInput:
    workspace_id: str
    campaign_id: str


@dataclass(frozen=True)
class EnrollmentResult:
    started: int
    stopped_early: bool = False
