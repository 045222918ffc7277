"""Methodology proposals: an author submits a new module (a zipped package that passes the conformance
suite) → public consultation → the registry, for the ministry, approves → the version is activated and
plugs in like the official six. Activating a new version of a code supersedes the old one for new
projects; projects registered under the old version keep calculating with it.

The consultation period for methodologies is not fixed by the texts in ccer-rules.md (UNCONFIRMED); MEE's
2024–2025 consultations ran about a month, so it is CONSULTATION_DAYS calendar days here, one constant.
"""
from __future__ import annotations

from .models import MethodologyProposal
from .services import CONSULTATION_DAYS, MAX_PACKAGE_BYTES, PROPOSAL, fire, submit, superseded, zip_folder


def wire() -> None:
    """Who may propose and decide, what the ledger vouches for, and comments on a proposal's consultation;
    once, by ccer.load_models."""
    from .. import ledger
    from ..auth import policy
    from ..auth.roles import Role
    from ..projects import comments

    policy.allow("methodology.propose", Role.METHODOLOGY_AUTHOR, cites="Measures Art. 8")
    policy.allow("methodology.decide", Role.REGISTRY_OPERATOR, cites="Measures Art. 5, 8 (MEE issues methodologies)")
    ledger.register_fields("methodology_proposal", MethodologyProposal, ("code", "name", "author_id", "status", "package_sha256",
                                                                      "publicity_start", "publicity_end", "reason"))
    comments.SUBJECTS["methodology_proposal"] = MethodologyProposal


__all__ = ["CONSULTATION_DAYS", "MAX_PACKAGE_BYTES", "PROPOSAL", "MethodologyProposal", "fire", "submit", "superseded", "zip_folder", "wire"]
