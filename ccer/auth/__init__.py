"""Parties and permissions: organisations (USCC, roles, VVB accreditation fields), users and tokens, the one
authorisation policy (`policy.allow`), and maker–checker (an initiator proposes, a second user confirms)."""
from __future__ import annotations


def wire() -> None:
    """Register the package's event subjects (organisations, users, approval requests); once, by ccer.load_models."""
    from . import makerchecker, people, services

    services.wire()
    makerchecker.wire()
    people.wire()
