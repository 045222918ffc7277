"""Role workspaces at /workspace/ (issue 16): what waits for me, what I own, what I can start — per role.

Each role's pages live in their own module (`owner`, `vvb`, `registry`, `holder`, `author`, …) on the one
blueprint (`blueprint.py`) and contribute a `Panel` to the home page through `panel(session, actor)`. Views are thin: parse the
form (with the same schema the API uses where one exists), call one service, render; a DomainError is shown next to
its field and nothing is saved.
"""
from __future__ import annotations

from flask import Blueprint


def wire() -> Blueprint:
    """Import the role modules so their routes join the blueprint, and give it to the app factory."""
    from . import access, author, batches, evidence, holder, home, owner, registry, trader, vvb  # noqa: F401
    from .blueprint import bp

    access.wire()

    return bp

