"""Issue 16, "Done when": an author proposes a module. The demo's methodology author uploads a file that is not a zip
(refused beside the field), a zip without a module (refused with the conformance suite's reason), then the scaffold
module zipped (ccer/methodologies/scaffold.py): the sandboxed conformance run passes and the page lists its result
per check. The registry opens the consultation and a comment is published (in-process); the author answers it on the
page. Every step asserts the page in Chinese and in English and keeps a screenshot."""
from __future__ import annotations

import io
import zipfile

import pytest

from ccer import proposals
from ccer.methodologies import scaffold

from .conftest import shot
from .holdings_setup import actor, language, user_page

#: a code no installed methodology uses
CODE = "CCER-14-031-V01"



@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("author")
    good = tmp / "module.zip"
    good.write_bytes(proposals.zip_folder(scaffold.create(CODE, tmp / "src", "浏览器测试方法学")))
    empty = tmp / "empty.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.md", "no module here")
    empty.write_bytes(buf.getvalue())
    text = tmp / "module.txt"
    text.write_text("not a zip")
    return {"good": good, "empty": empty, "text": text}


def _upload(page, path) -> None:
    page.set_input_files("#package", str(path))
    page.click("#propose-form button[type=submit]")
    page.wait_for_load_state()


def test_author_proposes_a_module_and_answers_the_consultation(live_server, browser, files):
    page = user_page(browser, live_server, "author")
    assert "方法学编制" in page.inner_text("#panel-methodology_author")  # the author's panel on the home page
    page.goto(f"{live_server.url}/workspace/author/")
    assert "尚未提交方法学模块。" in page.inner_text("#proposals")

    # ---- the wrong kind of file: refused by the page's check before it is sent ---------------------------------
    page.set_input_files("#package", str(files["text"]))
    assert "只接受 zip 文件" in page.inner_text("#package-hint")
    # a zip that holds no module: the server refuses it beside the field, nothing is kept
    _upload(page, files["empty"])
    assert "__init__.py" in page.inner_text("#package-error")
    assert "尚未提交方法学模块。" in page.inner_text("#proposals")
    shot(page, "author-1-refused-zh")

    # ---- the module: the sandboxed conformance suite passes; each check listed -----------------------------
    page.goto(f"{live_server.url}/workspace/author/")
    _upload(page, files["good"])
    assert f"已提交 {CODE}，一致性检查全部通过。" in page.inner_text("p.flash")
    proposal = page.locator("article.proposal").first
    assert CODE in proposal.inner_text() and "已提交" in proposal.locator(".status").inner_text()
    checks = proposal.locator("table.checks tbody tr")
    assert checks.count() >= 10  # the contract, schema, package and worked-example checks, and the sandbox
    assert proposal.locator("table.checks td.error").count() == 0
    assert "examples/example-1.json: reproduces its documented result" in proposal.inner_text()
    shot(page, "author-2-conformance-zh")
    language(page, "en")
    proposal = page.locator("article.proposal").first
    assert "Conformance results" in proposal.inner_text() and "Submitted" in proposal.locator(".status").inner_text()
    assert "passes" in proposal.locator("table.checks tbody tr").first.inner_text()
    assert "CCER-14-031" in page.inner_text("#versions") and "V01" in page.inner_text("#versions")
    shot(page, "author-2-conformance-en")

    # ---- consultation: the registry opens it and publishes a comment; the author answers ---------------------
    from sqlalchemy import select

    from ccer.projects import comments
    from ccer.proposals.models import MethodologyProposal

    with live_server.session() as s:
        registry = actor(s, live_server, "registry")
        p = s.execute(select(MethodologyProposal).where(MethodologyProposal.code == CODE)).scalar_one()
        proposals.fire(s, registry, p.id, "consult")
        c = comments.submit(s, registry, "methodology_proposal", p.id, "某大学", "建议补充土壤碳库的监测频次")
        comments.moderate(s, registry, c.id, True)
        s.commit()
    page.reload()
    proposal = page.locator("article.proposal").first
    assert "In public consultation" in proposal.locator(".status").inner_text()
    assert "建议补充土壤碳库的监测频次" in proposal.inner_text()
    proposal.locator(".comment button").click()  # an empty answer: refused beside the comment
    assert "is required" in page.locator(".comment .field-error").inner_text()
    page.goto(f"{live_server.url}/workspace/author/")
    page.fill(".comment textarea[name=response]", "第二版将按季度监测土壤碳库")
    page.click(".comment button")
    assert "Answer saved." in page.inner_text("p.flash")
    assert "第二版将按季度监测土壤碳库" in page.inner_text(".comment .response")
    shot(page, "author-3-answered-en")
    language(page, "zh")
    assert "答复: 第二版将按季度监测土壤碳库" in page.inner_text(".comment .response")
    assert "公开征求意见中" in page.inner_text("article.proposal .status")
    shot(page, "author-3-answered-zh")
    page.context.close()
