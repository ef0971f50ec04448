"""Page, search and sort for every list query, so each repository only names its columns."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from coldflow.errors import InvalidInput

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100

T = TypeVar("T")


def contains(search: str) -> str:
    """A LIKE pattern matching ``search`` literally: ``%`` and ``_`` are not wildcards here.

    Use with ``escape="\\"``.
    """
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class PageRequest:
    """Validated list parameters (the API's query string, or a service's own call)."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    search: str | None = None
    sort_by: str | None = None
    sort_order: Literal["asc", "desc"] = "desc"


@dataclass(frozen=True)
class PageResult(Generic[T]):
    items: Sequence[T]
    page: int
    page_size: int
    total_count: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.page_size) if self.total_count else 0


async def fetch_page(
    session: AsyncSession,
    stmt: SelectOfScalar[T],
    request: PageRequest,
    *,
    sortable: Mapping[str, Mapped[Any]],
    default_sort: str,
    tiebreak: Mapped[Any],
) -> PageResult[T]:
    """Count, order and slice ``stmt``; an unknown ``sort_by`` is a 422 naming the allowed ones."""
    sort_key = request.sort_by or default_sort
    if sort_key not in sortable:
        raise InvalidInput.field(
            "sort_by",
            f"sort_by must be one of: {', '.join(sorted(sortable))}",
            code="INVALID_SORT",
        )
    column = sortable[sort_key]
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = (await session.exec(count)).one()
    ordering = column.asc() if request.sort_order == "asc" else column.desc()
    offset = (request.page - 1) * request.page_size
    result = await session.exec(
        stmt.order_by(ordering, tiebreak).offset(offset).limit(request.page_size)
    )
    return PageResult(
        items=list(result.all()),
        page=request.page,
        page_size=request.page_size,
        total_count=int(total or 0),
    )
