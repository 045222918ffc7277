"""Web sessions held on the server and bearer tokens (issue 15, item 5): logout and a password change end them for
good, even for someone who kept the old cookie; they expire on the platform clock."""
from datetime import timedelta

from ccer import create_app
from ccer.auth.models import WebSession
from ccer.infra import clock

PASSWORD = "correct-horse-battery"  # tests/conftest.py Parties.user


def csrf_of(client, path="/login"):
    page = client.get(path)
    return page.text.split('name="csrf" value="')[1].split('"')[0]


def log_in(client, user, password=PASSWORD):
    resp = client.post("/login", data={"username": user.username, "password": password, "csrf": csrf_of(client)})
    assert resp.status_code == 302, resp.text
    return client.get_cookie("session").value


def me(client, cookie=None, token=None):
    if cookie is not None:
        client.set_cookie("session", cookie)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/v1/users/me", headers=headers)


def test_the_cookie_holds_only_the_session_id(client, parties, session):
    user = parties.user(parties.org(["project_owner"]))
    log_in(client, user)
    with client.session_transaction() as cookie:
        assert set(cookie) == {"sid"}  # no user id: the server decides who it is, and can stop deciding so
    row = session.query(WebSession).one()
    assert row.user_id == user.id and row.revoked_at is None and len(row.sid_sha256) == 64


def test_logout_revokes_the_session_even_for_a_kept_cookie(client, parties, session):
    user = parties.user(parties.org(["project_owner"]))
    kept = log_in(client, user)
    assert me(client).json["username"] == user.username
    csrf = csrf_of(client, "/password")
    assert client.post("/logout", data={"csrf": csrf}).status_code == 302
    assert me(client).status_code == 401
    # someone who copied the cookie before the logout gets nothing with it
    assert me(client, cookie=kept).status_code == 401
    assert client.get("/password").status_code == 302  # the page sends them to the login
    assert session.query(WebSession).one().revoked_at is not None


def test_a_new_login_gets_a_new_session_id(client, parties):
    user = parties.user(parties.org(["project_owner"]))
    client.get("/login")
    before = client.get_cookie("session").value
    after = log_in(client, user)
    assert before != after  # no session fixation: an id planted before the login is not the logged-in one


def test_password_change_revokes_every_session_and_token(app, parties, session):
    user = parties.user(parties.org(["project_owner"]))
    browser, laptop, script = app.test_client(), app.test_client(), app.test_client()
    log_in(browser, user)
    kept = log_in(laptop, user)
    token = script.post("/api/v1/auth/tokens", json={"username": user.username, "password": PASSWORD}).json["token"]
    other = script.post("/api/v1/auth/tokens", json={"username": user.username, "password": PASSWORD}).json["token"]
    resp = script.post("/api/v1/users/me/password", headers={"Authorization": f"Bearer {token}"},
                       json={"current_password": PASSWORD, "new_password": "a much better passphrase"})
    assert resp.status_code == 204, resp.json
    assert me(script, token=token).status_code == 401
    assert me(script, token=other).status_code == 401
    assert me(browser).status_code == 401
    assert me(laptop, cookie=kept).status_code == 401
    old = script.post("/api/v1/auth/tokens", json={"username": user.username, "password": PASSWORD})
    assert old.status_code == 401
    log_in(browser, user, "a much better passphrase")
    assert me(browser).json["username"] == user.username


def test_password_change_needs_the_current_password_and_the_policy(client, parties):
    user = parties.user(parties.org(["project_owner"]))
    token = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": PASSWORD}).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    wrong = client.post("/api/v1/users/me/password", headers=auth, json={"current_password": "not-the-password", "new_password": "a much better passphrase"})
    assert wrong.status_code == 401 and wrong.json["field"] == "current_password"
    weak = client.post("/api/v1/users/me/password", headers=auth, json={"current_password": PASSWORD, "new_password": "Password2026!"})
    assert weak.status_code == 422 and weak.json["field"] == "new_password" and weak.json["rule"] == "password policy: not a common password"
    assert me(client, token=token).status_code == 200  # a refused change revokes nothing


def test_the_password_page_shows_the_rule_next_to_the_field(client, parties):
    user = parties.user(parties.org(["project_owner"]))
    log_in(client, user)
    resp = client.post("/password", data={"csrf": csrf_of(client, "/password"), "current_password": PASSWORD,
                                          "new_password": f"{user.username}-is-my-name"})
    assert resp.status_code == 422
    assert "must not contain the username" in resp.text and "password policy: not the username" in resp.text


def test_idle_and_absolute_expiry_on_the_platform_clock(db_url, session, parties, tmp_path):
    app = create_app({"database_url": db_url, "secret_key": "test", "instance_path": tmp_path,
                      "web": {"session_idle_minutes": 30, "session_hours": 2}})
    app.config["TESTING"] = True
    user = parties.user(parties.org(["project_owner"]))
    clock.freeze(session)  # the platform clock moves only when told
    session.commit()
    client = app.test_client()
    log_in(client, user)
    for _ in range(5):  # busy: used every 29 minutes, so never idle, for 2 h 25 min in all
        clock.advance(session, timedelta(minutes=29))
        session.commit()
        if me(client).status_code != 200:
            break
    else:
        raise AssertionError("the session outlived its absolute end")
    # 29 minutes × 5 = 2 h 25 min ≥ 2 h: over at the 5th step at the latest, and not before the 5th (4 × 29 = 1 h 56 min)
    assert clock.now(session) - session.query(WebSession).one().created_at == timedelta(minutes=145)
    session.commit()  # end the read (SQLite: an open transaction holds off the app's writes)
    other = app.test_client()
    log_in(other, user)
    assert me(other).status_code == 200
    clock.advance(session, timedelta(minutes=31))  # idle 31 > 30 minutes
    session.commit()
    assert me(other).status_code == 401
    app.extensions["ccer.engine"].dispose()


def test_bearer_tokens_expire_on_the_platform_clock(client, parties, session):
    user = parties.user(parties.org(["project_owner"]))
    token = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": PASSWORD}).json["token"]
    clock.advance(session, timedelta(days=89, hours=23))
    session.commit()
    assert me(client, token=token).status_code == 200
    clock.advance(session, timedelta(hours=1))  # 90 days: services.TOKEN_LIFETIME
    session.commit()
    resp = me(client, token=token)
    assert resp.status_code == 401 and resp.json["field"] == "Authorization"
