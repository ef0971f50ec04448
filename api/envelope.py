"""The response envelope of PRODUCT §4: ``{"data": ...}``, or a list with ``metadata``."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from coldflow.store.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest, PageResult

T = TypeVar("T")

# Far beyond any real list, and small enough that the row offset stays a 64-bit integer.
MAX_PAGE = 1_000_000


class Data(BaseModel, Generic[T]):
    data: T


class PageMetadata(BaseModel):
    page: int
    page_size: int
    total_count: int
    total_pages: int


class Page(BaseModel, Generic[T]):
    data: list[T]
    metadata: PageMetadata

    @classmethod
    def of(cls, result: PageResult[object], items: list[T]) -> Page[T]:
        return cls(
            data=items,
            metadata=PageMetadata(
                page=result.page,
                page_size=result.page_size,
                total_count=result.total_count,
                total_pages=result.total_pages,
            ),
        )


def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    search: Annotated[str | None, Query(max_length=200)] = None,
    sort_by: Annotated[str | None, Query(max_length=50)] = None,
    sort_order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> PageRequest:
    return PageRequest(
        page=page, page_size=page_size, search=search, sort_by=sort_by, sort_order=sort_order
    )


PageParams = Annotated[PageRequest, Depends(page_params)]
