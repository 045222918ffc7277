"""Reference data the registry maintains, as versioned data sets with provenance: MEE grid-factor editions (with
their province → grid mapping), fuel defaults, the PRC holiday calendar by year, the national-ETS offset ratio.
Packaged files (ccer/reference/data/) are in force until the registry loads a version of the same edition
(`ccer reference load FILE`, POST /api/v1/reference); every load is an event in the ledger.

Kept light: `datasets` (the file format) is read by the methodology tools, so nothing here imports them at import
time; the services are imported by `wire()` and by the CLI and API."""
from __future__ import annotations


def wire() -> None:
    """Who may load, what the ledger vouches for, and the sync of loaded data into the tools before each service;
    once, by ccer.load_models."""
    from .. import ledger
    from ..auth import policy
    from ..auth.roles import Role
    from ..infra import db
    from ..issuance import purposes
    from . import services
    from .models import ReferenceDataset

    policy.allow(services.LOAD, Role.REGISTRY_OPERATOR, cites="Measures Art. 6 (the registry keeps the registry's data)")
    ledger.register_fields("reference_dataset", ReferenceDataset, ("kind", "edition", "version", "title", "status", "published",
                                                                   "sha256", "loaded_by"))
    if services.sync not in db.BEFORE_SERVICE:
        db.BEFORE_SERVICE.append(services.sync)
    purposes.provide_offset_ratio(services.offset_ratio)  # the national-ETS cap reads the ratio in force


__all__ = ["wire"]
