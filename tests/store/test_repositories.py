"""Repositories: every lookup is scoped by workspace, lists page, search and sort the same way on
SQLite and PostgreSQL, and the unique constraints on leads and inboxes hold.

Runs on SQLite and PostgreSQL through ``store_url``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.errors import InvalidInput
from coldflow.models import Campaign, CampaignStatus, Inbox, Lead, LeadStatus
from coldflow.store import campaigns as campaign_store
from coldflow.store import inboxes as inbox_store
from coldflow.store import leads as lead_store
from coldflow.store.db import SessionFactory, unit_of_work
from coldflow.store.paging import PageRequest, PageResult

if TYPE_CHECKING:
    from tests.store.conftest import Seeder

Row = Campaign | Lead | Inbox
Tenants = dict[str, dict[str, Any]]  # "a"/"b" -> workspace, campaign, lead, inbox


@dataclass(frozen=True)
class Resource:
    """One repository seen through the same three doors: get, list, and its sort keys."""

    get: Callable[[AsyncSession, str, str], Awaitable[Row | None]]
    list: Callable[[AsyncSession, str, PageRequest], Awaitable[PageResult[Any]]]
    sorts: Mapping[str, Any]


RESOURCES = {
    "campaign": Resource(
        campaign_store.get_campaign, campaign_store.list_campaigns, campaign_store.CAMPAIGN_SORTS
    ),
    "lead": Resource(
        lead_store.get_lead, partial(lead_store.list_leads, campaign_id=None), lead_store.LEAD_SORTS
    ),
    "inbox": Resource(inbox_store.get_inbox, inbox_store.list_inboxes, inbox_store.INBOX_SORTS),
}


async def _make(seed: Seeder, kind: str, workspace_id: str, labels: list[str]) -> list[Row]:
    """Rows through the services; ``labels`` are what each list searches by (name, email)."""
    if kind == "campaign":
        return [await seed.campaign(workspace_id, label) for label in labels]
    if kind == "inbox":
        return [await seed.inbox(workspace_id, label) for label in labels]
    campaign = await seed.campaign(workspace_id)
    people = [{"email": f"p{n}@buyer.io", "first_name": name} for n, name in enumerate(labels)]
    return list(await seed.leads(workspace_id, campaign.id, *people))


async def _list_ids(
    sessions: SessionFactory, kind: str, workspace_id: str, request: PageRequest
) -> list[str]:
    async with sessions() as session:
        page = await RESOURCES[kind].list(session, workspace_id, request)
    return [row.id for row in page.items]


# --- workspace scoping -----------------------------------------------------------------------


@pytest.fixture
async def tenants(seed: Seeder) -> Tenants:
    """Two workspaces with one campaign, lead and inbox each."""
    world: Tenants = {}
    for key in ("a", "b"):
        workspace = await seed.workspace(f"tenant-{key}")
        inbox = await seed.inbox(workspace.id, f"sales@{key}.io")
        campaign = await seed.campaign(workspace.id, f"campaign {key}", inbox_ids=[inbox.id])
        (lead,) = await seed.leads(workspace.id, campaign.id, {"email": f"ann@{key}-buyer.io"})
        world[key] = {"workspace": workspace, "campaign": campaign, "lead": lead, "inbox": inbox}
    return world


@pytest.mark.parametrize("kind", RESOURCES)
async def test_get_through_other_workspace_returns_none(
    tenants: Tenants, store_sessions: SessionFactory, kind: str
) -> None:
    a, b = tenants["a"], tenants["b"]
    async with store_sessions() as session:
        own = await RESOURCES[kind].get(session, a["workspace"].id, a[kind].id)
        other = await RESOURCES[kind].get(session, b["workspace"].id, a[kind].id)

    assert (own and own.id, other) == (a[kind].id, None)


@pytest.mark.parametrize("kind", RESOURCES)
async def test_list_shows_only_own_workspace(
    tenants: Tenants, store_sessions: SessionFactory, kind: str
) -> None:
    b = tenants["b"]

    ids = await _list_ids(store_sessions, kind, b["workspace"].id, PageRequest())

    assert ids == [b[kind].id]


async def test_leads_of_other_workspace_campaign_are_not_listed(
    tenants: Tenants, store_sessions: SessionFactory
) -> None:
    a, b = tenants["a"], tenants["b"]
    async with store_sessions() as session:
        page = await lead_store.list_leads(
            session, b["workspace"].id, PageRequest(), campaign_id=a["campaign"].id
        )

    assert (page.items, page.total_count) == ([], 0)


async def _get_inboxes(session: AsyncSession, workspace_id: str, inbox: Inbox) -> list[str]:
    return [i.id for i in await inbox_store.get_inboxes(session, workspace_id, [inbox.id])]


async def _find_inbox(session: AsyncSession, workspace_id: str, inbox: Inbox) -> list[str]:
    found = await inbox_store.find_inbox_by_email(session, workspace_id, inbox.email)
    return [] if found is None else [found.id]


INBOX_LOOKUPS = {"get_inboxes": _get_inboxes, "find_inbox_by_email": _find_inbox}


@pytest.mark.parametrize("lookup", INBOX_LOOKUPS)
async def test_inbox_lookup_ignores_other_workspace(
    tenants: Tenants, store_sessions: SessionFactory, lookup: str
) -> None:
    a, b = tenants["a"], tenants["b"]
    async with store_sessions() as session:
        inbox = a["inbox"]
        assert isinstance(inbox, Inbox)
        own = await INBOX_LOOKUPS[lookup](session, a["workspace"].id, inbox)
        other = await INBOX_LOOKUPS[lookup](session, b["workspace"].id, inbox)

    assert (own, other) == ([inbox.id], [])


# --- paging ----------------------------------------------------------------------------------


@pytest.fixture
async def seven_campaigns(seed: Seeder) -> tuple[str, list[str]]:
    """A workspace with seven campaigns; returns its id and the ids in name order."""
    workspace = await seed.workspace("acme")
    names = [f"campaign {n}" for n in range(7)]
    campaigns = [await seed.campaign(workspace.id, name) for name in reversed(names)]
    return workspace.id, [c.id for c in sorted(campaigns, key=lambda c: c.name)]


async def _campaign_page(
    sessions: SessionFactory, workspace_id: str, request: PageRequest
) -> PageResult[Campaign]:
    async with sessions() as session:
        return await campaign_store.list_campaigns(session, workspace_id, request)


async def test_page_reports_total_count_and_total_pages(
    seven_campaigns: tuple[str, list[str]], store_sessions: SessionFactory
) -> None:
    workspace_id, _ = seven_campaigns

    page = await _campaign_page(store_sessions, workspace_id, PageRequest(page=1, page_size=3))

    assert (len(page.items), page.total_count, page.total_pages) == (3, 7, 3)


async def test_pages_slice_the_sorted_list_without_gaps_or_overlap(
    seven_campaigns: tuple[str, list[str]], store_sessions: SessionFactory
) -> None:
    workspace_id, by_name = seven_campaigns

    pages = [
        await _list_ids(
            store_sessions,
            "campaign",
            workspace_id,
            PageRequest(page=n, page_size=3, sort_by="name", sort_order="asc"),
        )
        for n in (1, 2, 3)
    ]

    assert pages == [by_name[0:3], by_name[3:6], by_name[6:7]]


async def test_page_past_the_end_is_empty_but_keeps_the_total(
    seven_campaigns: tuple[str, list[str]], store_sessions: SessionFactory
) -> None:
    workspace_id, _ = seven_campaigns

    page = await _campaign_page(store_sessions, workspace_id, PageRequest(page=4, page_size=3))

    assert (list(page.items), page.total_count, page.total_pages) == ([], 7, 3)


async def test_empty_list_has_zero_pages(seed: Seeder, store_sessions: SessionFactory) -> None:
    workspace = await seed.workspace("acme")

    page = await _campaign_page(store_sessions, workspace.id, PageRequest())

    assert (list(page.items), page.total_count, page.total_pages) == ([], 0, 0)


# --- search ----------------------------------------------------------------------------------

# (labels, search term in another case, indexes of the labels it must find)
SEARCHES = {
    "campaign": (["Acme Q2 outreach", "acme renewals", "Globex launch"], "ACME", [0, 1]),
    "lead": (["Ann", "Joanna", "Bob"], "ANN", [0, 1]),
    "inbox": (["sales@acme.io", "presales@globex.io", "alex@acme.io"], "SALES", [0, 1]),
}


@pytest.mark.parametrize("kind", SEARCHES)
async def test_search_matches_substring_ignoring_case(
    seed: Seeder, store_sessions: SessionFactory, kind: str
) -> None:
    labels, term, expected = SEARCHES[kind]
    workspace = await seed.workspace("acme")
    rows = await _make(seed, kind, workspace.id, labels)
    async with store_sessions() as session:
        page = await RESOURCES[kind].list(session, workspace.id, PageRequest(search=term))

    assert sorted(row.id for row in page.items) == sorted(rows[i].id for i in expected)
    assert page.total_count == len(expected)


# (labels, a search with a LIKE wildcard in it); only the first label contains it literally.
WILDCARD_SEARCHES = {
    "campaign": (["50% off", "500 leads"], "50%"),
    "lead": (["Jo_Ann", "Joyann"], "o_a"),
    "inbox": (["a_b@acme.io", "axb@acme.io"], "a_b"),
}


@pytest.mark.parametrize("kind", WILDCARD_SEARCHES)
async def test_search_treats_like_wildcards_literally(
    seed: Seeder, store_sessions: SessionFactory, kind: str
) -> None:
    labels, term = WILDCARD_SEARCHES[kind]
    workspace = await seed.workspace("acme")
    literal, _ = await _make(seed, kind, workspace.id, labels)

    ids = await _list_ids(store_sessions, kind, workspace.id, PageRequest(search=term))

    assert ids == [literal.id]


# --- sorting ---------------------------------------------------------------------------------

# Four rows whose order differs under every key; lead statuses tie on purpose (tiebreak: id).
SORT_LABELS = {
    "campaign": ["delta", "alpha", "charlie", "bravo"],
    "lead": ["Dora", "Abe", "Cleo", "Bea"],
    "inbox": ["delta@acme.io", "alpha@acme.io", "charlie@acme.io", "bravo@acme.io"],
}
CREATED_MINUTES = [2, 4, 1, 3]
UPDATED_MINUTES = [3, 1, 4, 2]
STATUSES: dict[str, list[Any]] = {
    "campaign": [CampaignStatus(s) for s in ("paused", "draft", "completed", "active")],
    "lead": [LeadStatus(s) for s in ("replied", "uncontacted", "contacted", "replied")],
}
BASE_TIME = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
SORT_CASES = [
    pytest.param(kind, key, id=f"{kind}-{key}") for kind, r in RESOURCES.items() for key in r.sorts
]


async def _sortable_rows(seed: Seeder, kind: str) -> tuple[str, list[Row]]:
    workspace = await seed.workspace("acme")
    rows = await _make(seed, kind, workspace.id, SORT_LABELS[kind])
    async with unit_of_work(seed.sessions) as session:
        for n, row in enumerate(rows):
            stored = await session.get(type(row), row.id)
            assert stored is not None
            stored.created_at = BASE_TIME + timedelta(minutes=CREATED_MINUTES[n])
            stored.updated_at = BASE_TIME + timedelta(minutes=UPDATED_MINUTES[n])
            if kind in STATUSES:
                stored.status = STATUSES[kind][n]
            session.add(stored)
    fresh: list[Row] = []
    async with seed.sessions() as session:
        for row in rows:
            reloaded = await session.get(type(row), row.id)
            assert isinstance(reloaded, Campaign | Lead | Inbox)
            fresh.append(reloaded)
    return workspace.id, fresh


def _expected_order(rows: list[Row], key: str, order: str) -> list[str]:
    """The key's order (enums by their string value), ties broken by id ascending either way."""
    by_id = sorted(rows, key=lambda row: row.id)
    # sorted() is stable even with reverse=True, so ties keep their ascending-id order.
    ordered = sorted(by_id, key=lambda row: _sort_value(row, key), reverse=order == "desc")
    return [row.id for row in ordered]


def _sort_value(row: Row, key: str) -> Any:
    value = getattr(row, key)
    return value.value if isinstance(value, CampaignStatus | LeadStatus) else value


@pytest.mark.parametrize(("kind", "key"), SORT_CASES)
async def test_list_sorts_by_key_both_ways(
    seed: Seeder,
    store_sessions: SessionFactory,
    kind: str,
    key: str,
) -> None:
    workspace_id, rows = await _sortable_rows(seed, kind)

    found = {
        order: await _list_ids(
            store_sessions, kind, workspace_id, PageRequest(sort_by=key, sort_order=order)
        )
        for order in ("asc", "desc")
    }

    assert found == {order: _expected_order(rows, key, order) for order in ("asc", "desc")}


@pytest.mark.parametrize("kind", RESOURCES)
async def test_unknown_sort_key_is_invalid_sort(
    seed: Seeder, store_sessions: SessionFactory, kind: str
) -> None:
    workspace = await seed.workspace("acme")
    async with store_sessions() as session:
        with pytest.raises(InvalidInput) as raised:
            await RESOURCES[kind].list(session, workspace.id, PageRequest(sort_by="password"))

    assert raised.value.code == "INVALID_SORT"
    assert raised.value.details[0]["field"] == "sort_by"


# --- unique constraints ----------------------------------------------------------------------


@pytest.fixture
async def taken(seed: Seeder) -> dict[str, Any]:
    """Workspace A with an inbox and a lead in campaign one; a second campaign; workspace B."""
    a = await seed.workspace("tenant-a")
    b = await seed.workspace("tenant-b")
    inbox = await seed.inbox(a.id, "alex@acme.io")
    one = await seed.campaign(a.id, "one")
    two = await seed.campaign(a.id, "two")
    (lead,) = await seed.leads(a.id, one.id, {"email": "ann@buyer.io"})
    return {"a": a.id, "b": b.id, "one": one.id, "two": two.id, "lead": lead, "inbox": inbox}


def _lead_in(campaign: str) -> Callable[[dict[str, Any]], Row]:
    return lambda t: Lead(workspace_id=t["a"], campaign_id=t[campaign], email=t["lead"].email)


def _inbox_in(workspace: str) -> Callable[[dict[str, Any]], Row]:
    return lambda t: Inbox(workspace_id=t[workspace], email=t["inbox"].email)


DUPLICATES = {"lead-same-campaign": _lead_in("one"), "inbox-same-workspace": _inbox_in("a")}
NOT_DUPLICATES = {"lead-other-campaign": _lead_in("two"), "inbox-other-workspace": _inbox_in("b")}


@pytest.mark.parametrize("case", DUPLICATES)
async def test_duplicate_is_refused_by_unique_constraint(
    taken: dict[str, Any], store_sessions: SessionFactory, case: str
) -> None:
    with pytest.raises(IntegrityError):
        async with unit_of_work(store_sessions) as session:
            session.add(DUPLICATES[case](taken))


@pytest.mark.parametrize("case", NOT_DUPLICATES)
async def test_same_email_in_another_scope_is_allowed(
    taken: dict[str, Any], store_sessions: SessionFactory, case: str
) -> None:
    row = NOT_DUPLICATES[case](taken)
    async with unit_of_work(store_sessions) as session:
        session.add(row)

    async with store_sessions() as session:
        assert await session.get(type(row), row.id) is not None
