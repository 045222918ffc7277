"""The public explorer (issue #17): search, filters and keyset pages on hand-built data, drafts never public,
a project's page with its issuances, serial ranges and retirements, certificate lookup, a constant number of SQL
statements per page as the data grows, and error pages in the visitor's language."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from ccer.projects import services as projects
from ccer.projects.models import Project
from tests.conftest import SYSTEM
from tests.registry_world import World


def _listed(session, owner, title, methodology="CCER-14-001-V01", province="云南省", start=2020, end=2039, registered=False):
    return projects.import_listed(session, SYSTEM, title=title, methodology_code=methodology, owner_id=owner.id, province=province,
                                  crediting_start=date(start, 1, 1), crediting_end=date(end, 12, 31), registered=registered)


def _draft(session, owner, title):
    p = Project(title=title, methodology_code="CCER-14-001-V01", owner_id=owner.id, province="云南省", status="draft",
                origin="platform", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(p)
    session.flush()
    return p


def _ids(html: str) -> list[int]:
    """The project ids linked from a list page, in order."""
    return [int(i) for i in re.findall(r'<td><a href="/projects/(\d+)">', html)]


def _next(html: str) -> str | None:
    m = re.search(r'rel="next" href="([^"]+)"', html)
    return m.group(1).replace("&amp;", "&") if m else None


@pytest.fixture()
def hand_built(session, parties):
    """Five public projects and a draft: owners 云南林业 (3) and 华能 (2)."""
    yunnan = parties.org(["project_owner"], name="云南林业投资有限公司")
    huaneng = parties.org(["project_owner"], name="华能新能源股份有限公司")
    made = {
        "a": _listed(session, yunnan, "普洱市思茅区碳汇造林项目", start=2016, end=2035),
        "b": _listed(session, yunnan, "西双版纳红树林修复项目", methodology="CCER-14-002-V01", start=2021, end=2040),
        "c": _listed(session, huaneng, "江苏如东海上风电项目", methodology="CCER-01-002-V01", province="江苏省", start=2022, end=2031,
                     registered=True),
        "d": _listed(session, huaneng, "盐城大丰海上风电项目", methodology="CCER-01-002-V01", province="江苏省", start=2023, end=2032),
        "e": _listed(session, yunnan, "临沧市碳汇造林二期项目", start=2024, end=2043),
        "draft": _draft(session, yunnan, "普洱市草稿造林项目（未公示）"),
    }
    session.commit()
    return {k: p.id for k, p in made.items()}


def test_search_finds_chinese_names_and_owners_by_substring(client, hand_built):
    ids = hand_built
    # "碳汇造林" is inside a's and e's titles (newest first: e was created after a)
    assert _ids(client.get("/projects/?q=碳汇造林").get_data(as_text=True)) == [ids["e"], ids["a"]]
    # two characters in the middle of a title
    assert _ids(client.get("/projects/?q=如东").get_data(as_text=True)) == [ids["c"]]
    # an owner's name: 华能 owns c and d
    assert _ids(client.get("/projects/?q=华能新能源").get_data(as_text=True)) == [ids["d"], ids["c"]]
    # LIKE's wildcards are text: "%" matches nothing here
    assert _ids(client.get("/projects/?q=%25").get_data(as_text=True)) == []


def test_filters_sorts_and_keyset_pages(client, hand_built):
    ids = hand_built
    assert _ids(client.get("/projects/?province=江苏省").get_data(as_text=True)) == [ids["d"], ids["c"]]
    assert _ids(client.get("/projects/?methodology=ccer-14-001-v01").get_data(as_text=True)) == [ids["e"], ids["a"]]
    assert _ids(client.get("/projects/?status=registered").get_data(as_text=True)) == [ids["c"]]
    # crediting years overlapping 2040–2045: b (to 2040) and e (to 2043)
    assert _ids(client.get("/projects/?year_from=2040&year_to=2045").get_data(as_text=True)) == [ids["e"], ids["b"]]
    # crediting years overlapping 2016–2020: only a (2016–2035); b starts 2021
    assert _ids(client.get("/projects/?year_from=2016&year_to=2020").get_data(as_text=True)) == [ids["a"]]
    owner = client.get(f"/projects/?q=&owner={Project_owner(client, ids['c'])}").get_data(as_text=True)
    assert _ids(owner) == [ids["d"], ids["c"]]
    # keyset pages of 2, newest first: e d | c b | a — and no page repeats or skips a row
    seen, path = [], "/projects/?limit=2"
    pages = 0
    while path:
        html = client.get(path).get_data(as_text=True)
        seen.append(_ids(html))
        path, pages = _next(html), pages + 1
    assert seen == [[ids["e"], ids["d"]], [ids["c"], ids["b"]], [ids["a"]]]
    # by name (code-point order of the titles): 临沧 < 普洱 < 江苏 < 盐城 < 西双版纳
    html = client.get("/projects/?sort=title&limit=3").get_data(as_text=True)
    assert _ids(html) == [ids["e"], ids["a"], ids["c"]]
    assert _ids(client.get(_next(html)).get_data(as_text=True)) == [ids["d"], ids["b"]]


def Project_owner(client, project_id):
    html = client.get(f"/projects/{project_id}").get_data(as_text=True)
    return int(re.search(r"/projects/\?owner=(\d+)", html).group(1))


def test_bad_parameters_are_400_pages_naming_them(client, hand_built):
    r = client.get("/projects/?colour=green")
    assert r.status_code == 400 and "colour" in r.get_data(as_text=True) and r.mimetype == "text/html"
    r = client.get("/projects/?cursor=not-a-cursor")
    assert r.status_code == 400 and "cursor" in r.get_data(as_text=True)
    # a cursor of another sort order is refused too
    newest = _next(client.get("/projects/?limit=2").get_data(as_text=True))
    cursor = re.search(r"cursor=([^&]+)", newest).group(1)
    assert client.get(f"/projects/?sort=title&cursor={cursor}").status_code == 400
    assert client.get("/projects/?year_from=20x0").status_code == 400
    assert client.get("/projects/?status=draft").status_code == 400
    assert client.get("/projects/?limit=100000").status_code == 400
    assert client.get("/registry/retirements?page=2").status_code == 400


def test_drafts_never_appear(client, hand_built):
    ids = hand_built
    listed = _ids(client.get("/projects/?limit=200").get_data(as_text=True))
    assert ids["draft"] not in listed and len(listed) == 5
    assert _ids(client.get("/projects/?q=草稿").get_data(as_text=True)) == []
    page = client.get(f"/projects/{ids['draft']}")
    assert page.status_code == 404 and "草稿" not in page.get_data(as_text=True)
    assert client.get(f"/projects/{ids['draft']}/boundary.geojson").status_code == 404
    methodology = client.get("/methodologies/CCER-14-001-V01").get_data(as_text=True)
    assert "草稿" not in methodology and "(2)" in methodology  # a and e; the draft is not counted


def test_project_page_shows_issuances_serials_and_retirements(client, session, parties):
    w = World(session, parties)
    w.issue({2021: 1000, 2022: 500})
    r = w.retire(w.owner, quantity=120, project_no=w.project.registry_no, vintage=2021)
    number, pid = r.number, w.project.id
    session.commit()
    html = client.get(f"/projects/{pid}").get_data(as_text=True)
    # issued 1,000 + 500 (the demo's registered project No. 1 showed "— tCO2e")
    assert "<strong>1,500</strong> tCO2e" in html
    # serial ranges: sector 01, project 000001, vintage, batch 001, units 1–1000 and 1001–1500 (serials.format_serial)
    assert "CN-CCER-01-000001-2021-001-000000000001-000000001000" in html
    assert "CN-CCER-01-000001-2022-001-000000001001-000000001500" in html
    assert number in html and ">120<" in html
    # the timeline reads the ledger: the import, the batch, the issuances and the retirement
    for label in ("从公示名录导入", "签发 CCER", "注销（使用）CCER"):
        assert label in html
    registry = client.get("/registry/").get_data(as_text=True)
    assert number in registry and "1,500" in registry
    assert number in client.get("/registry/retirements").get_data(as_text=True)
    assert "CN-CCER-01-000001-2022-001" in client.get("/registry/issuances").get_data(as_text=True)


def test_certificate_lookup_finds_a_real_retirement_and_refuses_a_forged_number(client, session, parties):
    w = World(session, parties)
    w.issue({2021: 1000})
    number = w.retire(w.owner, quantity=100, project_no=w.project.registry_no, vintage=2021).number
    session.commit()
    found = client.get(f"/registry/verify?number={number.lower()}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/registry/retirements/{number}")
    # the address a certificate's QR code carries (certificates.public_path)
    by_qr = client.get(f"/registry/verify?number=https://ccer.example/registry/retirements/{number}")
    assert by_qr.status_code == 302 and by_qr.headers["Location"].endswith(number)
    page = client.get(f"/registry/retirements/{number}").get_data(as_text=True)
    assert "与账本一致" in page and "CN-CCER-01-000001-2021-001-000000000001-000000000100" in page
    year, seq = number.split("-")[2], int(number.split("-")[3])
    for forged in (f"CCER-R-{int(year) - 1}-{seq:06d}", f"CCER-R-{year}-{seq + 1:06d}", f"CCER-R-{year}-99999999999"):
        r = client.get(f"/registry/verify?number={forged}")
        assert r.status_code == 404 and "text/html" in r.content_type, forged
    assert client.get("/registry/verify?number=hello").status_code == 404
    assert client.get("/registry/verify?number=").status_code == 400


class _Statements:
    def __init__(self, app):
        self.n = 0
        event.listen(app.extensions["ccer.engine"], "before_cursor_execute", self._count)

    #: the tables the explorer's pages read; other statements (the visitor's web session, other areas' periodic
    #: checks, SQLite's BEGIN) are not the page's
    PAGE_TABLES = re.compile(r"\b(projects|organisations|issuances|retirements|serial_blocks|monitoring_periods|documents|comments"
                             r"|findings|engagements|events|clock_settings|ledger_head|checkpoints|project_parcels)\b")

    def _count(self, conn, cursor, statement, *a, **kw):
        if self.PAGE_TABLES.search(statement):
            self.n += 1

    def of(self, client, path) -> int:
        self.n = 0
        assert client.get(path).status_code == 200, path
        return self.n


def test_statements_per_page_do_not_grow_with_the_data(app, client, session, parties):
    w = World(session, parties)
    w.issue({2021: 1000})
    w.retire(w.owner, quantity=10, project_no=w.project.registry_no, vintage=2021)
    owner = parties.org(["project_owner"], name="增长测试业主")
    for i in range(2):
        _listed(session, owner, f"增长测试项目{i}")
    session.commit()
    count = _Statements(app)
    client.get("/")  # the visitor's first request: what the web layer does once per visitor stays out of the counts
    pages = ["/projects/", "/projects/?q=增长", f"/projects/{w.project.id}", "/registry/", "/registry/issuances",
             "/registry/retirements", "/publicity/", "/open-data/", "/methodologies/"]
    small = {p: count.of(client, p) for p in pages}
    # ten times the projects, more batches, issuances and retirements of the same project
    for i in range(2, 22):
        _listed(session, owner, f"增长测试项目{i}", registered=i % 2 == 0)
    w.issue({2022: 500, 2023: 700}, batch=2)
    for q in (11, 12, 13, 14):
        w.retire(w.owner, quantity=q, project_no=w.project.registry_no, vintage=2021)
    session.commit()
    large = {p: count.of(client, p) for p in pages}
    assert large == small
    assert max(small.values()) <= 12


def test_not_found_is_a_page_in_the_visitors_language(client):
    zh = client.get("/no-such-page")
    assert zh.status_code == 404 and zh.mimetype == "text/html" and "找不到该页面" in zh.get_data(as_text=True)
    en = client.get("/no-such-page?lang=en")
    assert en.status_code == 404 and "Page not found" in en.get_data(as_text=True)
    by_header = client.get("/projects/999999", headers={"Accept-Language": "en"})
    assert by_header.status_code == 404 and "Page not found" in by_header.get_data(as_text=True)
    api = client.get("/api/v1/no-such-resource")
    assert api.status_code == 404 and api.json["code"] == "not_found"


def test_other_pages_render(client, session, parties):
    w = World(session, parties)
    w.issue({2021: 1000})
    session.commit()
    for path in ("/", "/publicity/", "/methodologies/", "/methodologies/CCER-01-001-V01", "/statistics/", "/ledger/", "/open-data/",
                 "/registry/verify"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "<script>" not in r.get_data(as_text=True), path  # no inline script (the Content-Security-Policy)
    series = client.get("/statistics/series.json").json
    assert series["total_issued"] == 1000 and sum(series["issued"]) == 1000
    catalogue = client.get("/methodologies/CCER-01-001-V01").get_data(as_text=True)
    assert "敦煌10万千瓦熔盐塔式光热发电项目" in catalogue
