"""The role × route matrix of the workspaces (issue 16, item 9): every workspace route answers an anonymous visitor
with a redirect to the login page, and a logged-in user of another role with 403 — through the one policy module
(the page actions declared in ccer/workspace/access.py). Routes are read from the app, so a new route is covered."""
from __future__ import annotations

import re

from ccer.auth import policy

PASSWORD = "correct-horse-battery"  # tests/conftest.py Parties
#: page action -> the roles it is open to (ccer/workspace/access.py)
ROLES = {"workspace.owner": {"project_owner"}, "workspace.vvb": {"vvb"}, "workspace.registry": {"registry_operator"},
         "workspace.holder": {"project_owner", "key_emitter", "trading_participant"},
         "workspace.trader": {"trading_participant"}, "workspace.author": {"methodology_author"},
         "workspace.evidence": {"project_owner", "vvb", "registry_operator"}}


def _routes(app) -> list[tuple[str, str, str]]:
    """(method, url with ids filled in, page action) of every workspace route but the home page."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("workspace.") or rule.endpoint == "workspace.index":
            continue
        view = app.view_functions[rule.endpoint]
        action = getattr(view, "workspace_action", None)
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        url = re.sub(r"<any\((\w+)[^>]*>", r"\1", url)  # the first of the choices
        url = re.sub(r"<\w+>", "publicise", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, url, action))
    return out


def _token(client, path: str) -> str:
    """The form token a page of this session carries (the hidden field every form has)."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _fresh(client) -> str:
    """Forget the login (the cookie jar emptied); the form token of the new anonymous session."""
    client._cookies.clear()
    return _token(client, "/login")


def _login(client, username: str) -> str:
    """Log in through the login form, as a person does (whatever the session mechanism is); the new form token."""
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": _fresh(client)})
    assert resp.status_code == 302, resp.status_code
    return _token(client, "/workspace/")


def test_every_workspace_route_is_guarded_by_a_policy_action(app):
    routes = _routes(app)
    assert len(routes) >= 27, routes  # owner, VVB, registry, holder, trader and author pages are all there
    assert all(action in ROLES for _, _, action in routes), [r for r in routes if r[2] not in ROLES]
    for action, roles in ROLES.items():  # declared in the one policy module, for exactly those roles
        assert [set(r.roles) for r in policy.RULES[action]] == [roles]


def test_anonymous_visitors_are_sent_to_log_in_and_other_roles_refused(app, client, session, parties):
    users = {}
    for role in sorted(set().union(*ROLES.values())):
        org = parties.org([role], sectors=["01"] if role == "vvb" else None)
        users[role] = parties.user(org).username
    session.commit()
    routes = _routes(app)
    token = _fresh(client)
    for method, url, action in routes:
        resp = client.open(url, method=method, data={"csrf": token})
        assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"], (method, url, resp.status_code)
    for role, username in users.items():
        token = _login(client, username)
        for method, url, action in routes:
            resp = client.open(url, method=method, data={"csrf": token})
            if role in ROLES[action]:
                # its own pages: shown, or 404 for a record not there, or the form refused — never 403, never a 5xx
                assert resp.status_code != 403 and resp.status_code < 500, (role, method, url, resp.status_code)
            else:
                # refused by the policy's page action (not by anything else that answers 403, such as CSRF)
                assert resp.status_code == 403 and f"{action} is reserved to" in resp.get_data(as_text=True), \
                    (role, method, url, resp.status_code)
