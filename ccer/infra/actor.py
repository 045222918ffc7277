"""Who acts: the ground floor every service, policy check and event names (no imports of the platform)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Actor:
    """A user acting for an organisation with roles, or the platform itself (a label only)."""

    label: str
    user_id: int | None = None
    organisation_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(label=label)
