"""What crosses the Temporal boundary for a CSV lead import."""

from __future__ import annotations

from dataclasses import dataclass

LEAD_IMPORT_WORKFLOW = "LeadImport"
IMPORT_LEADS_ACTIVITY = "import_leads"


@dataclass(frozen=True)
class LeadImportInput:
    workspace_id: str
    import_id: str


@dataclass(frozen=True)
class LeadImportResult:
    status: str
    processed_rows: int
    created: int
    failed: int
