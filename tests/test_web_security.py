"""The web's defences (issue 15, item 5): CSRF on everything a cookie authenticates, rate limits on logins and
comments, a dummy hash for unknown usernames, the password policy, security headers and cookie flags."""
import re
from pathlib import Path

import pytest

from ccer import PACKAGE, create_app
from ccer.auth import passwords, services
from ccer.infra.errors import Unauthorized, ValidationError

from .conftest import SYSTEM
from .test_sessions import PASSWORD, csrf_of, log_in

EVIL = "https://evil.example"


def _app(db_url, tmp_path, **web):
    app = create_app({"database_url": db_url, "secret_key": "test", "instance_path": tmp_path, "web": web})
    app.config["TESTING"] = True
    return app


# ---- CSRF --------------------------------------------------------------------------------------------------


def test_api_calls_with_the_cookie_need_the_csrf_header(client, parties):
    owner = parties.org(["project_owner"])
    user = parties.user(owner)
    log_in(client, user)
    change = {"kind": "organisation.change_profile", "target": f"organisation:{owner.id}", "payload": {"province": "福建省"}}
    # a cross-origin form POST: the browser sends the cookie and an Origin, and cannot add the header
    forged = client.post("/api/v1/approvals", data={"kind": "x"}, headers={"Origin": EVIL})
    assert forged.status_code == 403 and forged.json["code"] == "csrf_failed" and forged.json["rule"] == "CSRF: same origin"
    no_token = client.post("/api/v1/approvals", json=change)
    assert no_token.status_code == 403 and no_token.json["field"] == "X-CSRF-Token" and no_token.json["rule"] == "CSRF"
    wrong = client.post("/api/v1/approvals", json=change, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    token = csrf_of(client, "/password")
    ok = client.post("/api/v1/approvals", json=change, headers={"X-CSRF-Token": token, "Origin": "http://localhost"})
    assert ok.status_code == 201, ok.json
    # reading needs no token; a bearer token needs none either (browsers never attach one by themselves)
    assert client.get("/api/v1/approvals").status_code == 200
    client.delete_cookie("session")
    bearer = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": PASSWORD}).json["token"]
    assert client.post("/api/v1/approvals", json=change, headers={"Authorization": f"Bearer {bearer}"}).status_code == 201


def test_pages_refuse_a_post_without_the_form_token(client, parties):
    user = parties.user(parties.org(["project_owner"]))
    login = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert login.status_code == 403 and "csrf" in login.text.lower()
    language = client.post("/language", data={"lang": "en", "next": "/"})
    assert language.status_code == 403
    assert client.post("/language", data={"lang": "en", "next": "/", "csrf": csrf_of(client)}).status_code == 302
    token = csrf_of(client)
    cross = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf": token}, headers={"Referer": EVIL + "/x"})
    assert cross.status_code == 403
    log_in(client, user)
    assert client.post("/logout").status_code == 403  # a forged logout does nothing either
    assert client.get("/api/v1/users/me").status_code == 200


def test_the_form_token_is_bound_to_the_cookie(app, parties):
    user = parties.user(parties.org(["project_owner"]))
    attacker, victim = app.test_client(), app.test_client()
    stolen = csrf_of(attacker)  # the attacker's own token, placed in a form the victim submits
    victim.get("/login")
    resp = victim.post("/login", data={"username": user.username, "password": PASSWORD, "csrf": stolen})
    assert resp.status_code == 403


# ---- rate limits -------------------------------------------------------------------------------------------


def test_logins_are_rate_limited_pages_and_tokens_together(db_url, session, parties, tmp_path):
    app = _app(db_url, tmp_path, rate_limits=True, rate_login="3 per minute", redis_url="memory://")
    user = parties.user(parties.org(["project_owner"]))
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/v1/auth/tokens", json={"username": user.username, "password": "wrong-password-x"}).status_code == 401
    page = client.post("/login", data={"username": user.username, "password": "wrong-password-x", "csrf": csrf_of(client)})
    assert page.status_code == 401  # the 3rd attempt of the minute, from the page
    blocked = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": PASSWORD})
    assert blocked.status_code == 429  # the right password too: the 4th attempt of the minute
    assert blocked.json["code"] == "too_many_requests" and blocked.json["status"] == 429
    assert blocked.json["rule"] == "rate limit: login 3 per 1 minute" and "CCER_RATE_LOGIN" in blocked.json["message"]
    assert client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf": csrf_of(client)}).status_code == 429
    assert client.get("/login").status_code == 200  # showing the form costs nothing
    app.extensions["ccer.engine"].dispose()


def test_comments_are_rate_limited(db_url, session, tmp_path):
    app = _app(db_url, tmp_path, rate_limits=True, rate_comment="2 per minute", redis_url="memory://")
    client = app.test_client()
    body = {"subject_type": "project", "subject_id": 999, "author_name": "公众", "body": "意"}
    assert [client.post("/api/v1/comments", json=body).status_code for _ in range(3)] == [404, 404, 429]
    app.extensions["ccer.engine"].dispose()


def test_limits_are_kept_in_redis_when_it_answers_else_in_memory():
    from ccer.infra.config import Web
    from ccer.web.security import storage_uri

    assert storage_uri(Web(redis_url="memory://")) == "memory://"
    assert storage_uri(Web(redis_url="redis://127.0.0.1:1/0")) == "memory://"  # nothing listens on port 1


# ---- login timing and the password policy -----------------------------------------------------------------


class CountingHasher:
    def __init__(self, real):
        self.real, self.verified = real, []

    def hash(self, password):
        return self.real.hash(password)

    def verify(self, hashed, password):
        self.verified.append(hashed)
        return self.real.verify(hashed, password)


def test_an_unknown_username_costs_a_hash_check_too(session, parties, monkeypatch):
    user = parties.user(parties.org(["project_owner"]))
    spy = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", spy)
    for username in (user.username, "nobody-here"):
        with pytest.raises(Unauthorized) as err:
            services.authenticate(session, username, "wrong-password-x")
        assert err.value.message == "unknown username or wrong password"  # the same answer either way
    assert len(spy.verified) == 2
    assert spy.verified[0] == user.password_hash and spy.verified[1] != user.password_hash  # the dummy, a real argon2id hash
    assert spy.verified[1].startswith("$argon2id$")


@pytest.mark.parametrize("password, rule", [
    ("short-one", "password policy: minimum length"),  # 9 < 12 characters
    ("PASSWORD1234", "password policy: not a common password"),  # "password" + digits
    ("qwertyuiop!!", "password policy: not a common password"),
    ("woaini1314520", "password policy: not a common password"),  # "woaini1314" + digits
    ("my name is alice.w", "password policy: not the username"),
    ("greenwood co forever", "password policy: not the organisation's name"),
])
def test_weak_passwords_are_refused_naming_field_and_rule(session, parties, password, rule):
    org = parties.org(["project_owner"], name="Greenwood Co")
    with pytest.raises(ValidationError) as err:
        services.create_user(session, SYSTEM, username="alice.w", password=password, organisation_id=org.id, roles=["project_owner"])
    assert err.value.field == "password" and err.value.rule == rule


def test_the_policy_over_the_api(client, parties):
    registry = parties.org(["registry_operator"])
    clerk = parties.user(registry)
    owner = parties.org(["project_owner"])
    token = client.post("/api/v1/auth/tokens", json={"username": clerk.username, "password": PASSWORD}).json["token"]
    resp = client.post("/api/v1/users", headers={"Authorization": f"Bearer {token}"},
                       json={"username": "newowner", "password": "iloveyou2026", "organisation_id": owner.id, "roles": ["project_owner"]})
    assert resp.status_code == 422 and resp.json["field"] == "password" and resp.json["rule"] == "password policy: not a common password"


def test_the_common_password_list_is_shipped_data():
    common = passwords.common_passwords()
    assert len(common) >= 1900 and {"password", "123456", "qwerty", "woaini1314"} <= common
    assert not passwords.policy_problem("correct-horse-battery")  # the suite's own password passes


# ---- headers and cookies -----------------------------------------------------------------------------------


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/login", "/api/v1/organisations", "/api/v1/nothing-here"):
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in resp.headers  # plain HTTP unless CCER_SECURE_COOKIES=1
    client.get("/login")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure


def test_secure_cookies_and_hsts_when_configured(db_url, session, tmp_path):
    app = _app(db_url, tmp_path, secure_cookies=True)
    resp = app.test_client().get("/login", base_url="https://localhost")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    set_cookie = resp.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    app.extensions["ccer.engine"].dispose()


def test_no_inline_script_in_any_template():
    """The CSP allows scripts from our own files only: an inline <script> or on…= handler would be blocked."""
    found = []
    for path in sorted(Path(PACKAGE, "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b[^>]*>", text):
            if "src=" not in m.group(0):
                found.append(f"{path.name}: {m.group(0)}")
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=", text)]
        found += [f"{path.name}: javascript: URL" for _ in re.finditer(r"javascript:", text, re.I)]
    assert found == []


def test_the_login_page_in_both_languages(client):
    assert "用户名" in client.get("/login").text
    english = client.get("/login?lang=en").text
    assert "Username" in english and "Password" in english  # ccer/translations/en/auth.po
