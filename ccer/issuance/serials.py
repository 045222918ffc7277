"""The CCER serial-number format: the one place that writes and reads it.

Neither the Measures nor the registry rules publish a serial format (ccer-rules.md §6, "Identifiers":
UNCONFIRMED); instruments are told apart by registered project and vintage (Trading Rules Art. 10). This
platform numbers every unit it ever issues on one registry-wide axis (1, 2, 3, …), so "no two blocks ever
overlap" is a property of integers, and writes a block as

    CN-CCER-SS-PPPPPP-YYYY-BBB-FFFFFFFFFFFF-LLLLLLLLLLLL
    CN-CCER-14-000007-2024-002-000000120001-000000125000

    SS       methodology sector (the CCER-SS-NNN code's field: 01 energy, 14 forestry, …)
    PPPPPP   the project's registry number, given at registration
    YYYY     vintage: the year the reductions were generated (产生年度)
    BBB      the project's reduction batch (monitoring period) number, from 1
    F…, L…   first and last unit on the registry axis, inclusive: quantity = L − F + 1

A block with a single unit has F = L. The serial's parts are checked against the block on record when a
user names a serial range (`resolve` in services), so a well-formed but wrong serial is refused too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..infra.errors import ValidationError

PATTERN = re.compile(r"CN-CCER-(\d{2})-(\d{6})-(\d{4})-(\d{3})-(\d{12})-(\d{12})")
RULE = "serial format CN-CCER-SS-PPPPPP-YYYY-BBB-F(12)-L(12)"
MAX_UNIT = 10**12 - 1


@dataclass(frozen=True)
class Serial:
    sector: str
    project_no: int
    vintage: int
    batch: int
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    def __str__(self) -> str:
        return format_serial(self.sector, self.project_no, self.vintage, self.batch, self.first, self.last)

    def unit_id(self, unit: int) -> str:
        """One unit's identifier, the serial's prefix and the unit number (CAD Trust unitBlockStart/End)."""
        return f"CN-CCER-{self.sector}-{self.project_no:06d}-{self.vintage:04d}-{self.batch:03d}-{unit:012d}"


def format_serial(sector: str, project_no: int, vintage: int, batch: int, first: int, last: int) -> str:
    if not (len(sector) == 2 and sector.isdigit()):
        raise ValueError(f"sector must be two digits, got {sector!r}")
    if not (1 <= first <= last <= MAX_UNIT):
        raise ValueError(f"unit range {first}–{last} is not 1 ≤ first ≤ last ≤ {MAX_UNIT}")
    for name, value, width in (("project_no", project_no, 6), ("vintage", vintage, 4), ("batch", batch, 3)):
        if not 0 < value < 10**width:
            raise ValueError(f"{name} {value} does not fit {width} digits")
    return f"CN-CCER-{sector}-{project_no:06d}-{vintage:04d}-{batch:03d}-{first:012d}-{last:012d}"


def parse_serial(text: str, field: str = "serial") -> Serial:
    """Read a serial; a malformed one is refused naming the field and the format."""
    m = PATTERN.fullmatch((text or "").strip().upper())
    if not m:
        raise ValidationError(f"{text!r} is not a CCER serial number", field=field, rule=RULE)
    sector, project_no, vintage, batch, first, last = m.groups()
    serial = Serial(sector, int(project_no), int(vintage), int(batch), int(first), int(last))
    if serial.first < 1 or serial.last < serial.first:
        raise ValidationError(f"first unit {serial.first} must be ≥ 1 and ≤ last unit {serial.last}", field=field, rule=RULE)
    if serial.project_no < 1 or serial.batch < 1:
        raise ValidationError("project number and batch start at 1", field=field, rule=RULE)
    return serial
