"""VVB engagements, findings (CAR/CL/OBS), validation and verification reports, commitments."""
from __future__ import annotations


def wire() -> None:
    """Register the validation bodies' event subjects and policy rules; once, by ccer.load_models."""
    from . import services

    services.wire()
