"""Who may open which workspace: one policy action per role's pages, declared in the one policy module
(ccer/auth/policy.py) and checked before every view of that role (issue 16, item 9). Records inside a page are
checked again by the services they call (ownership, engagement) — this only keeps other roles out of the pages."""
from __future__ import annotations

import functools

from ..auth import policy
from ..auth.roles import Role
from ..requests import current_actor

#: the page action of each role's workspace, and the roles it is open to
ACTIONS = {
    "workspace.owner": (Role.PROJECT_OWNER,),
    "workspace.vvb": (Role.VVB,),
    "workspace.registry": (Role.REGISTRY_OPERATOR,),
    # holders of CCERs: whoever may retire or move them from an account (issuance.services._SENDERS but the exchange)
    "workspace.holder": (Role.PROJECT_OWNER, Role.KEY_EMITTER, Role.TRADING_PARTICIPANT),
    "workspace.trader": (Role.TRADING_PARTICIPANT,),
    "workspace.author": (Role.METHODOLOGY_AUTHOR,),
    # evidence files behind answers: the parties of a validation or verification (each file checked again by
    # validation/evidence.py: the owner's organisation, the VVB that raised the finding, the registry)
    "workspace.evidence": (Role.PROJECT_OWNER, Role.VVB, Role.REGISTRY_OPERATOR),
}


def wire() -> None:
    """Declare the page actions once (create_app may run many times in one process)."""
    for action, roles in ACTIONS.items():
        if action not in policy.RULES:
            policy.allow(action, *roles, text=f"the {', '.join(r.value for r in roles)} workspace")


def pages_of(action: str):
    """Decorator: the view answers 403 (Forbidden → the error page) to anyone the policy refuses `action`."""
    def wrap(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            policy.require(current_actor(), action)
            return view(*args, **kwargs)
        checked.workspace_action = action  # read by the role × route test
        return checked
    return wrap
