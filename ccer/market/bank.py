"""The settlement bank, behind an interface a real bank adapter can replace ([S7]: funds in by corporate
online banking or transfer from the bound same-name account, out to that account). The simulated bank
confirms every instruction with a reference; a real adapter would call the bank and may refuse."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Confirmation:
    ref: str
    amount: int


class SettlementBank(Protocol):
    def receive(self, from_account_no: str, amount: int) -> Confirmation: ...

    def pay(self, to_account_no: str, amount: int) -> Confirmation: ...


class SimulatedBank:
    """Confirms every transfer at once (demo and tests)."""

    def __init__(self) -> None:
        self._refs = itertools.count(1)

    def receive(self, from_account_no: str, amount: int) -> Confirmation:
        return Confirmation(f"SIM-IN-{next(self._refs):08d}", amount)

    def pay(self, to_account_no: str, amount: int) -> Confirmation:
        return Confirmation(f"SIM-OUT-{next(self._refs):08d}", amount)


#: the bank the exchange talks to; replace with a real adapter in production
BANK: SettlementBank = SimulatedBank()
