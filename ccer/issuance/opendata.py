"""Open data: what the registry publishes (Measures Art. 15, 22; Registry Rules Art. 13, 15), in rows that map
onto the common open formats, with keyset pagination so an export is stable while the registry moves.

- **credits** — one row per issuance, retirement or forced cancellation, the shape of OffsetsDB's
  `credits` table (project_id, vintage, quantity, transaction_date, transaction_type, retirement_*),
  keyed by the ledger event's seq.
- **units** — one row per serial block as it stands now, the shape of the Climate Action Data Trust
  (CAD Trust) `units` table (unitBlockStart/End, unitCount, vintageYear, unitStatus, unitOwner, …),
  keyed by block id. Superseded blocks are history, not units, and are left out.
"""
from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .. import ledger
from ..ledger import Event
from ..projects.models import Project
from .holdings import block_serial
from .models import Account, Issuance, Retirement, SerialBlock
from .purposes import PURPOSES
from .serials import parse_serial

CREDIT_ACTIONS = dict(zip(ledger.CREDIT_ACTIONS, ("issuance", "retirement", "cancellation")))
CREDIT_COLUMNS = ["id", "project_id", "project_name", "methodology", "vintage", "quantity", "transaction_date",
                  "transaction_type", "serial_numbers", "retirement_account", "retirement_beneficiary",
                  "retirement_beneficiary_uscc", "retirement_reason", "retirement_note", "certificate"]
#: CAD Trust unitStatus values for the registry's holding statuses
CADT_STATUS = {"available": "Held", "trading": "Held", "frozen": "Held", "retired": "Retired", "cancelled": "Cancelled"}
UNIT_COLUMNS = ["warehouseUnitId", "issuanceId", "projectId", "projectName", "unitBlockStart", "unitBlockEnd", "unitCount",
                "vintageYear", "unitType", "unitStatus", "unitStatusReason", "unitOwner", "countryJurisdictionOfOwner",
                "inCountryJurisdictionOfOwner", "unitRegistryLink", "holdingStatus"]


def public_project_id(project: Project) -> str:
    return f"CCER-{project.registry_no:06d}"


def _unit_type(project: Project) -> str:
    """CAD Trust unitType: removals for the carbon-sink methodologies (sector 14), reductions otherwise."""
    return "Removal - nature" if project.sector == "14" else "Reduction - technical"


def _keyset_page(session: Session, stmt, key, after: int | None, limit: int) -> tuple[list, int | None]:
    """Up to `limit` rows after the cursor, in key order, and the cursor of the next page (None at the end):
    stable under inserts, unlike offsets."""
    if after is not None:
        stmt = stmt.where(key > after)
    rows = session.execute(stmt.order_by(key).limit(limit + 1)).scalars().all()
    return rows[:limit], (getattr(rows[limit - 1], key.key) if len(rows) > limit else None)


def credits(session: Session, after: int | None, limit: int) -> tuple[list[dict], int | None]:
    stmt = select(Event).where(text(ledger.CREDIT_EVENTS), Event.seq.is_not(None))  # sealed: the cursor is the seq
    evs, cursor = _keyset_page(session, stmt, Event.seq, after, limit)
    rows = []
    for ev in evs:
        payload, kind = ev.payload, CREDIT_ACTIONS[ev.action]
        row = dict.fromkeys(CREDIT_COLUMNS)
        row.update(id=ev.seq, transaction_type=kind, transaction_date=ev.occurred_at.date().isoformat())
        if kind == "issuance":
            iss = session.get(Issuance, int(ev.subject_id))
            project, vintage, quantity, serials = iss.project, iss.vintage, iss.quantity, [payload["serial"]]
        else:
            r = session.get(Retirement, int(ev.subject_id))
            project, vintage, quantity, serials = r.project, r.vintage, r.quantity, payload["serials"]
            row.update(retirement_account=r.account.number, retirement_beneficiary=r.beneficiary_name,
                       retirement_beneficiary_uscc=r.beneficiary_uscc, retirement_reason=PURPOSES[r.purpose].en,
                       retirement_note=r.event_name or (f"compliance year {r.compliance_year}" if r.compliance_year else r.note),
                       certificate=r.number)
        row.update(project_id=public_project_id(project), project_name=project.title, methodology=project.methodology_code,
                   vintage=vintage, quantity=quantity, serial_numbers=" ".join(serials))
        rows.append(row)
    return rows, cursor


def units(session: Session, after: int | None, limit: int, public_url: str = "") -> tuple[list[dict], int | None]:
    blocks, cursor = _keyset_page(session, select(SerialBlock).where(SerialBlock.active), SerialBlock.id, after, limit)
    rows = []
    for b in blocks:
        project, account = session.get(Project, b.project_id), session.get(Account, b.account_id)
        serial = parse_serial(block_serial(session, b))
        reason = None
        if b.retirement_id:
            r = session.get(Retirement, b.retirement_id)
            reason = f"{PURPOSES[r.purpose].en}; beneficiary {r.beneficiary_name}; certificate {r.number}"
        rows.append({
            "warehouseUnitId": b.id, "issuanceId": b.issuance_id, "projectId": public_project_id(project),
            "projectName": project.title, "unitBlockStart": serial.unit_id(b.first), "unitBlockEnd": serial.unit_id(b.last), "unitCount": b.quantity,
            "vintageYear": b.vintage, "unitType": _unit_type(project), "unitStatus": CADT_STATUS[b.status],
            "unitStatusReason": reason, "unitOwner": account.organisation.name, "countryJurisdictionOfOwner": "China",
            "inCountryJurisdictionOfOwner": account.organisation.province,
            "unitRegistryLink": f"{public_url}/registry/units/{b.id}", "holdingStatus": b.status,
        })
    return rows, cursor


def totals(session: Session) -> dict:
    """Units by status over the whole registry, and issued/retired per project."""
    q = func.sum(SerialBlock.last - SerialBlock.first + 1)
    by_status = {s: int(n) for s, n in session.execute(select(SerialBlock.status, q).where(SerialBlock.active).group_by(SerialBlock.status))}
    per_project = []
    issued = dict(session.execute(select(Issuance.project_id, func.sum(Issuance.quantity)).group_by(Issuance.project_id)).all())
    retired = dict(session.execute(select(Retirement.project_id, func.sum(Retirement.quantity)).group_by(Retirement.project_id)).all())
    for pid in sorted(issued):
        p = session.get(Project, pid)
        per_project.append({"project_id": public_project_id(p), "project": p.title, "methodology": p.methodology_code,
                            "issued": int(issued[pid]), "retired": int(retired.get(pid, 0))})
    return {"issued": sum(int(v) for v in issued.values()), "by_status": by_status, "projects": per_project}


def to_csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1)
