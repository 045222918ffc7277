"""The registry (注册登记机构): accounts, issuance of registered batches as serial blocks, holdings and the one
block planner, moves into and out of trading accounts and the exchange's settlement verbs, judicial acts,
retirements and forced cancellation, fraud cases, invariants, certificates, open data."""
from __future__ import annotations


def wire() -> None:
    """Register the registry's event subjects, policy rules, maker–checker operations and invariants; once,
    by ccer.load_models."""
    from . import accounts, bundles, fraud, invariants, issuing, registry_acts, retirements, services, trading

    for module in (services, accounts, issuing, trading, retirements, fraud, registry_acts, invariants, bundles):
        module.wire()
