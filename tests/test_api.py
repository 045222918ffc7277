"""The REST skeleton: OpenAPI document, tokens, one error format, stable cursor pagination."""



def _token(client, parties, roles=("registry_operator",)):
    org = parties.org(list(roles))
    user = parties.user(org)
    resp = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": "correct-horse-battery"})
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.json['token']}"}, user


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["info"]["title"] == "ccer"
    for path in ("/api/v1/organisations", "/api/v1/users", "/api/v1/events", "/api/v1/auth/tokens", "/api/v1/approvals"):
        assert path in doc["paths"], path
    assert "bearer" in doc["components"]["securitySchemes"]


def test_wrong_password_and_bad_token(client, parties):
    org = parties.org(["project_owner"])
    user = parties.user(org)
    bad = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json["field"] == "password"
    resp = client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.json["field"] == "Authorization"


def test_bad_uscc_names_field_and_rule(client, parties):
    headers, _ = _token(client, parties)
    resp = client.post("/api/v1/organisations", headers=headers,
                       json={"uscc": "9144030071526726XA", "name": "腾讯", "roles": ["trading_participant"]})
    assert resp.status_code == 422
    body = resp.json
    assert body["code"] == "validation_error" and body["field"] == "uscc"
    assert "GB 32100-2015 gives 'G'" in body["message"]


def test_schema_errors_use_the_same_format(client, parties):
    headers, _ = _token(client, parties)
    resp = client.post("/api/v1/organisations", headers=headers, json={"uscc": "9144030071526726XG", "name": "x", "roles": ["king"]})
    assert resp.status_code == 422
    assert resp.json["field"] == "roles.0" and resp.json["status"] == 422 and "Must be one of" in resp.json["message"]


def test_create_and_read_organisation(client, parties):
    headers, _ = _token(client, parties)
    resp = client.post("/api/v1/organisations", headers=headers,
                       json={"uscc": "914403001922038216", "name": "华为技术有限公司", "roles": ["trading_participant"]})
    assert resp.status_code == 201, resp.json
    org_id = resp.json["id"]
    got = client.get(f"/api/v1/organisations/{org_id}").json  # public
    assert got["name"] == "华为技术有限公司" and got["roles"] == ["trading_participant"]
    dup = client.post("/api/v1/organisations", headers=headers,
                      json={"uscc": "914403001922038216", "name": "华为", "roles": ["trading_participant"]})
    assert dup.status_code == 409 and dup.json["field"] == "uscc"
    assert client.get("/api/v1/organisations/9999").status_code == 404


def test_cursor_pagination_is_stable_while_rows_arrive(client, session, parties):
    for i in range(7):
        parties.org(["trading_participant"], name=f"分页公司{i}")
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/organisations?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json
        seen += [o["id"] for o in page["items"]]
        pages += 1
        if pages == 1:
            parties.org(["trading_participant"], name="迟到的公司")  # arrives while paging
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 8
    assert client.get("/api/v1/organisations?cursor=garbage").json["field"] == "cursor"
    assert client.get("/api/v1/organisations?limit=0").json["field"] == "limit"


def test_events_visibility(client, parties):
    reg_headers, _ = _token(client, parties)
    owner_headers, owner = _token(client, parties, roles=("project_owner",))
    all_events = client.get("/api/v1/events?limit=500", headers=reg_headers).json["items"]
    own = client.get("/api/v1/events?limit=500", headers=owner_headers).json["items"]
    assert len(own) < len(all_events)
    assert all(e["actor_user_id"] == owner.id or (e["subject_type"] == "organisation" and e["subject_id"] == str(owner.organisation_id)) for e in own)
    assert client.get("/api/v1/events").status_code == 401
    head = client.get("/api/v1/ledger/head").json  # public
    assert head["seq"] == all_events[-1]["seq"] and head["hash"] == all_events[-1]["hash"]


def test_web_login(client, parties):
    org = parties.org(["project_owner"])
    user = parties.user(org)
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    bad = client.post("/login", data={"username": user.username, "password": "nope-nope-nope", "csrf": csrf})
    assert bad.status_code == 401 and "wrong password" in bad.text
    ok = client.post("/login", data={"username": user.username, "password": "correct-horse-battery", "csrf": csrf})
    assert ok.status_code == 302
    assert client.get("/api/v1/users/me").json["username"] == user.username  # the session also authenticates API calls
