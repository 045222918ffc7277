"""What CCERs are retired (注销) for, what each use must state, and the cap on national ETS offsets (the offset
ratio in force, reference data).

Uses: Measures Art. 28 and ccer-rules.md §8. Record fields beyond "certificate plus publication" are not
published (§6 "Retirement record": UNCONFIRMED); these are the fields a beneficiary, an auditor of a
neutrality claim or a provincial department would need, named after the texts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from ..infra.errors import ValidationError


@dataclass(frozen=True)
class Purpose:
    code: str
    zh: str
    en: str
    #: fields a retirement for this purpose must carry
    requires: tuple[str, ...] = ()
    cites: str = "Measures Art. 28"


PURPOSES = {
    p.code: p
    for p in (
        Purpose("national_ets", "全国碳排放权交易市场配额清缴抵销", "National ETS compliance offset",
                ("compliance_year", "beneficiary_uscc"), "ETS Measures Art. 29; Measures Art. 28"),
        Purpose("local_ets", "地方碳排放权交易市场配额清缴抵销", "Local ETS compliance offset",
                ("compliance_year",)),
        Purpose("event_neutrality", "大型活动碳中和", "Large-event carbon neutrality",
                ("event_name", "event_start", "event_end"), "MEE 大型活动碳中和实施指南（试行） 2019; Measures Art. 28"),
        Purpose("enterprise_offset", "企业温室气体排放抵销", "Enterprise emissions offset"),
        Purpose("public_good", "公益注销", "Voluntary cancellation for the public good"),
        # Art. 43: CCERs obtained by fraud; the registry cancels them, not the holder
        Purpose("forced_cancellation", "强制注销", "Forced cancellation (fraud)", ("note",), "Measures Art. 43"),
        # Art. 43: the owner cancels, as ordered, as many CCERs as it obtained by fraud (fraud.py)
        Purpose("fraud_cancellation", "责令注销", "Cancellation ordered after fraud", ("note",), "Measures Art. 43"),
    )
}
#: cancellations ordered after fraud (Measures Art. 43): their units end `cancelled`, not `retired`, and no
#: holder chooses them as a use
CANCELLATIONS = ("forced_cancellation", "fraud_cancellation")
HOLDER_PURPOSES = tuple(code for code in PURPOSES if code not in CANCELLATIONS)

#: the national ETS offset ratio of ETS Measures Art. 29 (≤ 5 %); the ratio in force is reference data
#: (ccer.reference offset-ratio editions, "to be set" by the 2025 opinion) — this is the packaged edition's value
NATIONAL_ETS_CAP_PERCENT = 5


#: the offset ratio in force on a day, (ratio, source) — provided by ccer.reference's wire() (reference data);
#: without it the packaged 5 % applies
_RATIO_SOURCE = None


def provide_offset_ratio(source) -> None:
    """Called once by ccer.reference.wire(): `source(session, day) -> (ratio, where from)` (no import of the
    reference services here: they sit above the lifecycle, which sits above issuance)."""
    global _RATIO_SOURCE
    _RATIO_SOURCE = source


def offset_ratio(session, day: date) -> tuple[Decimal, str]:
    if _RATIO_SOURCE is None:
        return Decimal(NATIONAL_ETS_CAP_PERCENT) / 100, "ETS Measures Art. 29 (packaged 5 %)"
    return _RATIO_SOURCE(session, day)


def national_ets_cap(allowances: int, ratio: Decimal | None = None) -> int:
    """Whole tCO2e that may be offset: `ratio` (default: the packaged 5 %) of the allowances to surrender, rounded
    down (a cap is never exceeded by rounding). E.g. 1 234 567 t to surrender → 61 728 t (61 728.35 rounded down)."""
    if ratio is None:
        return allowances * NATIONAL_ETS_CAP_PERCENT // 100
    return int((Decimal(allowances) * ratio).to_integral_value(rounding=ROUND_FLOOR))


def cap_in_force(session, allowances: int, day: date) -> tuple[int, Decimal, str]:
    """The cap on `day` at the offset ratio in force then, with that ratio and its source (for what is shown;
    retirements._check_cap enforces it)."""
    ratio, source = offset_ratio(session, day)
    return national_ets_cap(allowances, ratio), ratio, source


def check_details(purpose: str, details: dict) -> Purpose:
    """The purpose exists and the retirement carries what it requires."""
    if purpose not in PURPOSES:
        raise ValidationError(f"unknown purpose {purpose!r}; one of {', '.join(PURPOSES)}", field="purpose", rule="Measures Art. 28")
    p = PURPOSES[purpose]
    for name in p.requires:
        if details.get(name) in (None, ""):
            raise ValidationError(f"is required when retiring for {p.en.lower()}", field=name, rule=p.cites)
    start, end = details.get("event_start"), details.get("event_end")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        raise ValidationError(f"the event ends ({end}) before it starts ({start})", field="event_end")
    return p
