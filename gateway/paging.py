"""The one paging rule of the history APIs: a page size (default 50, at most 200) and
an opaque cursor. REST names them `limit`/`cursor`, gRPC `page_size`/`page_token`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page(
    size: int | None,
    token: str | None,
    parse: Callable[[str], T],
    *,
    size_name: str,
    token_name: str,
) -> tuple[int, T | None]:
    """`(size, cursor)`: `size` None means the default; an empty token means the first page.

    InvalidArgument names the field when the size is out of range or the token does not parse.
    """
    size = DEFAULT_PAGE_SIZE if size is None else size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"{size_name} must be between 1 and {MAX_PAGE_SIZE}")
    if not token:
        return size, None
    try:
        return size, parse(token)
    except ValueError:
        raise InvalidArgument(f"invalid {token_name}") from None


def proto_page(page_size: int, page_token: str, parse: Callable[[str], T]) -> tuple[int, T | None]:
    """`page` for a gRPC request: proto3 has no absent int, so a page_size of 0 is the default."""
    return page(
        page_size or None, page_token, parse, size_name="page_size", token_name="page_token"
    )
