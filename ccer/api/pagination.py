"""Keyset pagination for every list resource: `?limit=50&cursor=<next_cursor>`, stable while rows arrive."""
from __future__ import annotations

import base64

from marshmallow import Schema, fields, validate

from ..infra.errors import ValidationError


class PageArgs(Schema):
    cursor = fields.Str(load_default=None, metadata={"description": "opaque cursor from next_cursor"})
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema)), "next_cursor": fields.Str(allow_none=True)},
        name=name,
    )


def encode_cursor(key: int | None) -> str | None:
    return None if key is None else base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "k":
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
