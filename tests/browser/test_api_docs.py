"""/api/v1/docs in a real browser under the platform's Content-Security-Policy (script-src 'self'): Swagger UI from
the vendored assets renders the API's own document with no CSP violation and nothing fetched from another origin.
Swagger UI 5 renders its operation list virtually (only what is on screen), so the test scrolls through it."""
from __future__ import annotations

from .conftest import shot


def test_swagger_ui_renders_the_document_under_the_csp(live_server, page):
    problems, foreign = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(live_server.url) and not r.url.startswith("data:") else None)
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=20_000)  # an operation block: the bundle ran and read openapi.json
    assert "ccer" in page.inner_text(".info .title")
    shot(page, "api-docs")
    seen: set[str] = set()
    for _ in range(150):  # scroll through the virtual list, noting the paths rendered on the way
        seen.update(page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.dataset.path)"))
        if "/api/v1/registry/due" in seen:
            break
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(50)
    assert {"/api/v1/auth/tokens", "/api/v1/public/events", "/api/v1/methodologies/{code}/calculate", "/api/v1/registry/due"} <= seen
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not foreign, foreign
