"""Who may open which workspace: one policy action per role's pages, declared in the one policy module
(ccer/auth/policy.py) and checked before every view of that role (issue 16, item 9). Records inside a page are
checked again by the services they call (ownership, engagement) — this only keeps other roles out of the pages."""
from __future__ import annotations

import functools

from ..auth import policy
from ..auth.roles import Role
from ..requests import current_actor

#: the page action of each role's workspace
ACTIONS = {
    "workspace.owner": Role.PROJECT_OWNER,
    "workspace.vvb": Role.VVB,
    "workspace.registry": Role.REGISTRY_OPERATOR,
}


def wire() -> None:
    """Declare the page actions once (create_app may run many times in one process)."""
    for action, role in ACTIONS.items():
        if action not in policy.RULES:
            policy.allow(action, role, text=f"the {role.value} workspace")


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
