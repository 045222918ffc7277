"""The public project list: its query parameters, checked strictly; filters; full-text search on project titles
and owners' names; keyset pages (no OFFSET: a page costs the same at the first row and the 200,000th).

Search is a case-insensitive substring match (`ILIKE '%…%'`). On PostgreSQL the pg_trgm GIN indexes of
migration f1e7c0de0017 serve it for queries of three characters or more (pg_trgm indexes CJK characters as
word characters under a UTF-8 ctype); SQLite runs the same LIKE over the rows — the same results."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from ..auth.models import Organisation
from ..infra.errors import DomainError
from ..issuance.models import Issuance, Retirement
from ..projects import visibility
from ..projects.models import MonitoringPeriod, Project


class BadParameter(DomainError):
    """A query parameter the page does not know or cannot read: 400 naming it."""
    status = 400
    code = "bad_parameter"


#: the public statuses (a draft is never public: ccer.projects.visibility)
STATUSES = ("publicity", "validated", "rejected", "applied", "returned", "registered", "refused", "cancelled", "revoked", "listed")
#: sort name -> (key columns, descending)
SORTS = {"newest": ((Project.id,), True), "oldest": ((Project.id,), False), "title": ((Project.title, Project.id), False)}
PARAMETERS = ("q", "methodology", "province", "status", "owner", "vvb", "year_from", "year_to", "sort", "cursor", "limit", "lang")
PAGE = 50
MAX_PAGE = 200
MAX_QUERY = 100


@dataclass
class ProjectQuery:
    q: str = ""
    methodology: str = ""
    province: str = ""
    status: str = ""
    owner: int | None = None
    vvb: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "newest"
    after: tuple | None = None
    limit: int = PAGE
    #: the parameters as given (for links to the next page and to sort)
    given: dict = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return any((self.q, self.methodology, self.province, self.status, self.owner, self.vvb, self.year_from, self.year_to))


def _int(args, name: str, low: int, high: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise BadParameter(f"expected a whole number from {low} to {high}, got {raw[:40]!r}", field=name)
    return int(raw)


def _text(args, name: str, limit: int = 120) -> str:
    raw = (args.get(name) or "").strip()
    if len(raw) > limit or any(ord(c) < 32 for c in raw):
        raise BadParameter(f"at most {limit} characters, no control characters", field=name)
    return raw


def parse(args) -> ProjectQuery:
    """Read the list's parameters; anything unknown or unreadable is a BadParameter naming it."""
    for name in args:
        if name not in PARAMETERS:
            raise BadParameter(f"unknown parameter; the list takes {', '.join(PARAMETERS)}", field=name)
    status = _text(args, "status")
    if status and status not in STATUSES:
        raise BadParameter(f"one of {', '.join(STATUSES)}", field="status")
    sort = _text(args, "sort") or "newest"
    if sort not in SORTS:
        raise BadParameter(f"one of {', '.join(SORTS)}", field="sort")
    query = ProjectQuery(q=_text(args, "q", MAX_QUERY), methodology=_text(args, "methodology", 20).upper(),
                         province=_text(args, "province", 40), status=status, owner=_int(args, "owner", 1, 2**31 - 1),
                         vvb=_int(args, "vvb", 1, 2**31 - 1), year_from=_int(args, "year_from", 1990, 2200),
                         year_to=_int(args, "year_to", 1990, 2200), sort=sort, limit=_int(args, "limit", 1, MAX_PAGE) or PAGE,
                         given={k: v for k, v in args.items() if k in PARAMETERS and k != "cursor" and v})
    query.after = decode_cursor(args.get("cursor"), sort)
    return query


# ---- cursors ------------------------------------------------------------------------------------------


def encode_cursor(sort: str, key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, *key], ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, sort: str) -> tuple | None:
    """A cursor names the sort it was made for and the last row's key; anything else is refused."""
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
        columns, _ = SORTS[sort]
        if not isinstance(data, list) or data[0] != sort or len(data) != len(columns) + 1:
            raise ValueError
        key = tuple(data[1:])
        if not isinstance(key[-1], int) or isinstance(key[-1], bool) or not 0 < key[-1] < 2**31:
            raise ValueError
        if len(key) == 2 and not isinstance(key[0], str):
            raise ValueError
        return key
    except Exception:  # noqa: BLE001  (any undecodable cursor is the same mistake)
        raise BadParameter("not a cursor this list gave (they belong to one sort order)", field="cursor") from None


# ---- the query ----------------------------------------------------------------------------------------


def like_pattern(text: str) -> str:
    """A substring pattern with LIKE's wildcards in the text escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


#: owners named by a search, up to which their ids are listed in the owners' branch (an index lookup per owner);
#: beyond it the branch walks the key order instead (a word most owners' names contain)
OWNER_IDS = 1000


def text_matches(session: Session, text: str) -> tuple:
    """The two ways a project matches a search: its title, or its owner's name, contains `text`. The owners
    are looked up first (one statement on the trigram index)."""
    pattern = like_pattern(text)
    # Case folding only matters to a text with cased letters: a Chinese text takes LIKE, which gives the same rows
    # and costs PostgreSQL no lower() of every title it reads (several times cheaper on CJK text)
    cased = text.lower() != text.upper()
    match = (lambda column: column.ilike(pattern, escape="\\")) if cased else (lambda column: column.like(pattern, escape="\\"))
    owners = select(Organisation.id).where(match(Organisation.name))
    ids = session.execute(owners.limit(OWNER_IDS + 1)).scalars().all()
    return match, Project.owner_id.in_(ids if len(ids) <= OWNER_IDS else owners)


#: rows of the list, in key order, read before a rare match is left to the indexes
PROBE = 10_000
#: the columns a probe carries (what the filters and the sort orders read)
PROBED = (Project.id, Project.title, Project.methodology_code, Project.province, Project.status, Project.owner_id,
          Project.validator_id, Project.crediting_start, Project.crediting_end)


def conditions(query: ProjectQuery, p=Project) -> list:
    """The filters as WHERE clauses on `p` (the projects table, or a probe of it that is public already)."""
    where = [visibility.visible_to(None)] if p is Project else []
    if query.methodology:
        where.append(p.methodology_code == query.methodology)
    if query.province:
        where.append(p.province == query.province)
    if query.status:
        where.append(p.status == query.status)
    if query.owner:
        where.append(p.owner_id == query.owner)
    if query.vvb:  # the validating body, or a body that verified one of its batches
        where.append(or_(p.validator_id == query.vvb,
                         p.id.in_(select(MonitoringPeriod.project_id).where(MonitoringPeriod.verifier_id == query.vvb))))
    # crediting years: the crediting period overlaps [year_from, year_to]
    if query.year_from:
        where.append(p.crediting_end >= date(query.year_from, 1, 1))
    if query.year_to:
        where.append(p.crediting_start <= date(query.year_to, 12, 31))
    return where


def _filters(query: ProjectQuery) -> int:
    return sum(1 for f in (query.methodology, query.province, query.status, query.owner, query.vvb, query.year_from, query.year_to) if f)


def first_matching(session: Session, query: ProjectQuery, matches, n: int) -> list[int]:
    """The first `n` public projects in the list's order for which `matches(p)` (WHERE clauses on a projects
    alias) holds. PostgreSQL cannot tell a common condition from a rare one here — LIKE '%…%' gets a fixed
    selectivity, two filters are taken as independent — and the two want opposite plans: a common one is found
    walking the key order, a rare one would walk all 200,000 rows (64 ms for a methodology absent from a
    province, 0.6 s for a rare text) and wants the indexes (trigram, one per filter) combined. So: read at most
    PROBE rows in key order; what is not found `n` times there matches fewer than one row in PROBE/n, and the
    indexes, forced by ordering on an expression none has, give all its matches quickly."""
    columns, descending = SORTS[query.sort]
    probe = _keyset(select(*PROBED).where(visibility.visible_to(None)), query, columns, descending, PROBE).subquery()
    p = aliased(Project, probe)
    key = [getattr(p, c.key) for c in columns]
    ids = session.execute(select(p.id).where(*matches(p))
                          .order_by(*(c.desc() if descending else c.asc() for c in key)).limit(n)).scalars().all()
    if len(ids) >= n:
        return ids
    unindexed = [(c + 0) if c.key == "id" else c.concat("") for c in columns]
    stmt = _after(select(Project.id).where(visibility.visible_to(None), *matches(Project)), query, columns, descending)
    return session.execute(stmt.order_by(*(c.desc() if descending else c.asc() for c in unindexed)).limit(n)).scalars().all()


@dataclass
class Page:
    rows: list[dict]
    next_cursor: str | None


def _after(stmt, query: ProjectQuery, columns, descending: bool):
    """Only the rows after the cursor."""
    if query.after is None:
        return stmt
    key = tuple_(*columns) if len(columns) > 1 else columns[0]
    bound = tuple_(*query.after) if len(columns) > 1 else query.after[0]
    return stmt.where(key < bound if descending else key > bound)


def _keyset(stmt, query: ProjectQuery, columns, descending: bool, limit: int):
    """The rows after the cursor, in key order, at most `limit`."""
    return _after(stmt, query, columns, descending).order_by(*(c.desc() if descending else c.asc() for c in columns)).limit(limit)


def page(session: Session, query: ProjectQuery) -> Page:
    """One page of the list: 2 statements whatever the page or the registry's size (the rows with their owners;
    the issued and retired totals of those rows); 3 or 4 with two filters or more (`first_matching`); 5 or 6 with
    a search (the owners named, the first titles and the first owners' projects matched).

    The page's projects are chosen first, walking an index in key order and stopping after a page, and only then
    joined to their owners (joined first, PostgreSQL hashed every organisation for a filter that matched few
    rows). A search takes the first page of title matches (`first_matching`) and the first page of owner matches, and
    keeps the first page of the two: all matches of a common word were 45,000 rows to sort at 200,000 projects."""
    columns, descending = SORTS[query.sort]
    n = query.limit + 1
    where = conditions(query)
    if query.q:
        match, by_owner = text_matches(session, query.q)
        by_title = first_matching(session, query, lambda p: [*conditions(query, p), match(p.title)], n)
        by_owners = session.execute(_keyset(select(Project.id).where(*where, by_owner), query, columns, descending, n)).scalars().all()
        where = [Project.id.in_(sorted(set(by_title) | set(by_owners)))]  # a list: primary-key lookups (an OR of two IN scanned)
    elif _filters(query) > 1:  # one filter walks its own (filter, id) index; two or more may meet rarely
        where = [Project.id.in_(first_matching(session, query, lambda p: conditions(query, p), n))]
    chosen = _keyset(select(Project).where(*where), query, columns, descending, n).subquery()
    p = aliased(Project, chosen)
    key = [getattr(chosen.c, c.key) for c in columns]
    stmt = (select(p.id, p.registry_no, p.title, p.methodology_code, p.province, p.status, p.crediting_start, p.crediting_end,
                   p.estimate_tco2e, p.publicity_end, p.owner_id, Organisation.name.label("owner"))
            .join(Organisation, Organisation.id == p.owner_id)
            .order_by(*(c.desc() if descending else c.asc() for c in key)))
    rows = [dict(r._mapping) for r in session.execute(stmt)]
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    ids = [r["id"] for r in rows]
    totals = quantities(session, ids)
    for r in rows:
        r["issued"], r["retired"] = totals.get(r["id"], (0, 0))
    cursor = None
    if more:
        last = rows[-1]
        cursor = encode_cursor(query.sort, tuple(last[c.key] for c in columns))
    return Page(rows, cursor)


def quantities(session: Session, project_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Issued and retired tCO2e of these projects, in one statement."""
    if not project_ids:
        return {}
    issued = (select(Issuance.project_id.label("pid"), func.sum(Issuance.quantity).label("issued"), func.sum(0).label("retired"))
              .where(Issuance.project_id.in_(project_ids)).group_by(Issuance.project_id))
    retired = (select(Retirement.project_id.label("pid"), func.sum(0).label("issued"), func.sum(Retirement.quantity).label("retired"))
               .where(Retirement.project_id.in_(project_ids)).group_by(Retirement.project_id))
    out: dict[int, list[int]] = {}
    for pid, i, r in session.execute(union_all(issued, retired)):
        acc = out.setdefault(pid, [0, 0])
        acc[0] += int(i or 0)
        acc[1] += int(r or 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


__all__ = ["SORTS", "STATUSES", "BadParameter", "ProjectQuery", "like_pattern", "page", "parse", "quantities", "text_matches"]
