"""Green electricity certificates (绿证, GEC) and CCERs for the same MWh (MEE/NEA notice 2024-09-11; ccer-rules.md
§2.1; methodologies.md §11): owners of offshore-wind and solar-thermal projects choose GECs or CCERs for each
MWh — on project registration the project's untraded GECs are FROZEN; on reduction registration the untraded
GECs matching the registered MWh are CANCELLED; MWh whose GECs were already traded are excluded from the
monitored generation (EG_GEC in the plug-in's EG_PJ). One treatment: the batch is accepted when the MWh it
declares as GEC-claimed are exactly those its calculation excludes, and the registry writes the freeze and the
cancellation as ledger events for the GEC system to act on."""
from __future__ import annotations

import json
from decimal import Decimal

from .. import ledger
from ..infra.actor import Actor
from ..workflow import Guard
from .eligibility import GREEN_CERTIFICATE_METHODOLOGIES

RULE = "MEE/NEA notice 2024-09-11 on green certificates and CCER"


def applies(project) -> bool:
    return project.methodology_code in GREEN_CERTIFICATE_METHODOLOGIES


def _sum_step(calc: dict, symbol: str, field: str | None = None) -> Decimal:
    total = Decimal(0)
    for step in calc.get("trace", []):
        if step["symbol"] == symbol:
            total += Decimal(step["inputs"][field]["value"] if field else step["value"])
    return total


def excluded_mwh(calc: dict) -> Decimal:
    """MWh the calculation excluded as GEC-claimed (Σ EG_GEC over the periods)."""
    return _sum_step(calc, "EG_PJ", "EG_GEC")


def credited_mwh(calc: dict) -> Decimal:
    """MWh the batch's reductions are computed on (Σ EG_PJ): their untraded GECs are cancelled at registration."""
    return _sum_step(calc, "EG_PJ")


def freeze(session, actor: Actor, project) -> None:
    """At project registration: the project's untraded GECs frozen (ledger event for the GEC system)."""
    if applies(project):
        ledger.record(session, actor, "green_certificates.frozen", "project", project.id,
                      {"registry_no": project.registry_no, "from": str(project.crediting_start), "to": str(project.crediting_end),
                       "rule": RULE})


def cancel(session, actor: Actor, mp) -> None:
    """At reduction registration: the untraded GECs of the MWh the batch registered are cancelled."""
    if applies(mp.project) and mp.calculation_json:
        calc = json.loads(mp.calculation_json)
        ledger.record(session, actor, "green_certificates.cancelled", "monitoring_period", mp.id,
                      {"project": mp.project_id, "period": f"{mp.start}/{mp.end}", "mwh": str(credited_mwh(calc)),
                       "traded_excluded_mwh": str(excluded_mwh(calc)), "rule": RULE})


def problem(mp) -> str | None:
    """A batch's GEC-claimed MWh must be exactly those its monitored data exclude (EG_GEC)."""
    if not applies(mp.project) or not mp.calculation_json:
        return None
    excluded = excluded_mwh(json.loads(mp.calculation_json))
    if Decimal(mp.green_certificates_mwh or 0) != excluded:
        return (f"{mp.green_certificates_mwh} MWh of the period were claimed as green certificates but the monitored data exclude "
                f"{excluded} MWh (EG_GEC): electricity is either green certificates or CCERs — exclude exactly the claimed MWh")
    return None


def _guard(session, mp, ctx: dict) -> str | None:
    return problem(mp)


NO_GREEN_CERTIFICATES = Guard("electricity not already claimed as green certificates", _guard, RULE, "green_certificates_mwh")
