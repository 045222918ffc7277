"""The one authorisation policy. Features declare who may do what here (or by calling `allow` from their
own module): an action is allowed to any of a set of roles, optionally only when a condition on the
resource holds (ownership, assignment). Everything not declared is refused.

The system actor (the operator at the CLI, who holds the database anyway) passes every check; anonymous
visitors hold only the `public` role.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..infra.errors import Forbidden, Unauthorized
from ..infra.actor import Actor
from .roles import Role

Condition = Callable[[Actor, Any], bool]


@dataclass(frozen=True)
class Rule:
    action: str
    roles: frozenset[str]
    condition: Condition | None
    #: how the condition reads to a person, e.g. "a user of the organisation itself"
    condition_text: str
    #: the regulation behind the rule, if any
    cites: str | None


RULES: dict[str, list[Rule]] = {}


def allow(action: str, *roles: Role, when: Condition | None = None, text: str = "", cites: str | None = None) -> None:
    RULES.setdefault(action, []).append(Rule(action, frozenset(r.value for r in roles), when, text, cites))


def anonymous() -> Actor:
    return Actor(label="anonymous", roles=frozenset({Role.PUBLIC.value}))


def is_system(actor: Actor) -> bool:
    return actor.user_id is None and Role.PUBLIC.value not in actor.roles


def can(actor: Actor, action: str, resource: Any = None) -> bool:
    return _refusal(actor, action, resource) is None


def require(actor: Actor, action: str, resource: Any = None) -> None:
    why = _refusal(actor, action, resource)
    if why is None:
        return
    if actor.user_id is None and not is_system(actor):
        raise Unauthorized(f"log in first: {why}", field="Authorization")
    raise Forbidden(why, field="actor", rule=action)


def _refusal(actor: Actor, action: str, resource: Any) -> str | None:
    if is_system(actor):
        return None
    rules = RULES.get(action)
    if not rules:
        return f"no one may {action}"
    held = set(actor.roles) | {Role.PUBLIC.value}
    for rule in rules:
        if rule.roles & held and (rule.condition is None or rule.condition(actor, resource)):
            return None
    options = []
    for rule in rules:
        who = " or ".join(sorted(rule.roles))
        options.append(f"{who}{' (' + rule.condition_text + ')' if rule.condition_text else ''}")
    cite = next((r.cites for r in rules if r.cites), None)
    return f"{action} is reserved to {'; '.join(options)}" + (f" [{cite}]" if cite else "")


# ---- conditions reused by features ------------------------------------------------------------------------


def organisation_of(resource: Any) -> int | None:
    if resource is None:
        return None
    if hasattr(resource, "uscc"):  # an Organisation
        return resource.id
    return getattr(resource, "organisation_id", None)


@dataclass(frozen=True)
class OrganisationRef:
    """Stands for "something of organisation N" when a check has no record at hand (listing one's own users, accounts)."""

    organisation_id: int | None


def same_organisation(actor: Actor, resource: Any) -> bool:
    return actor.organisation_id is not None and actor.organisation_id == organisation_of(resource)


# ---- the foundation's own rules --------------------------------------------------------------------------

ALL = tuple(r for r in Role if r is not Role.PUBLIC)

allow("organisation.create", Role.REGISTRY_OPERATOR, cites="Registry Rules Art. 7: the registry opens accounts")
allow("organisation.read", Role.PUBLIC)
allow("organisation.change_status", Role.REGISTRY_OPERATOR, cites="Registry Rules Art. 10–11")
allow("organisation.change_profile", *ALL, when=same_organisation, text="a user of the organisation itself", cites="Registry Rules Art. 8")
# people: the registry adds users to an organisation at once (its first one included); an organisation's own users
# propose, and a second user of theirs — or the registry ("user.review") — confirms (ccer.auth.people, issue 15)
allow("user.create", Role.REGISTRY_OPERATOR, cites="Registry Rules Art. 7: the registry opens accounts")
allow("user.propose", *ALL, when=same_organisation, text="for the user's own organisation", cites="Registry Rules: 发起代表/确认代表")
allow("user.review", Role.REGISTRY_OPERATOR, cites="Registry Rules Art. 7–8: the registry reviews account changes")
allow("user.read", Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY)
allow("user.read", *ALL, when=same_organisation, text="of the user's own organisation")
allow("events.read_all", Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY, cites="Measures Art. 34: supervision")
allow("events.read_own", *ALL)
allow("ledger.head", Role.PUBLIC)
allow("clock.move", Role.REGISTRY_OPERATOR)
