"""Projects, design documents, publicity, public comments, monitoring periods, boundaries and generated records."""
from __future__ import annotations


def wire() -> None:
    """Register the lifecycle's event subjects, policy rules and invariants; once, by ccer.load_models."""
    from . import boundaries, boundary_jobs, comments, lifecycle, monitoring, records, services

    for module in (services, lifecycle, comments, monitoring, records, boundaries, boundary_jobs):
        module.wire()
