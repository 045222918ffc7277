"""Keyset pagination for every list resource: `?limit=50&cursor=<next_cursor>`, stable while rows arrive."""
from __future__ import annotations

import base64

from marshmallow import Schema, fields, validate

from ..infra.bounds import INT32_MAX, Name
from ..infra.errors import ValidationError


class PageArgs(Schema):
    cursor = Name(40, load_default=None, metadata={"description": "opaque cursor: the next_cursor of the previous page"})
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500), metadata={"description": "items per page"})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The envelope of every list: {items, next_cursor}."""
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema), required=True),
         "next_cursor": fields.Str(required=True, allow_none=True, metadata={
             "description": "pass as ?cursor= for the next page; null on the last page"})},
        name=name,
    )


def encode_cursor(key: int | None) -> str | None:
    return None if key is None else base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "k" or not (value.isascii() and value.isdigit()) or int(value) > INT32_MAX:  # keys are INTEGER ids
            raise ValueError
        return int(value)
    except Exception:
        raise ValidationError("not a cursor returned by this API", field="cursor")


def paginate(session, stmt, key_column, args: dict) -> dict:
    """Keyset pagination on a unique, increasing column: stable while new rows arrive."""
    after = decode_cursor(args.get("cursor"))
    if after is not None:
        stmt = stmt.where(key_column > after)
    limit = args.get("limit", 50)
    rows = session.execute(stmt.order_by(key_column).limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(getattr(rows[-1], key_column.key) if more else None)}
