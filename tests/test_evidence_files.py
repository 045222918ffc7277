"""Evidence files behind an owner's answer to a finding (issue 16 item 2; validation/evidence.py): the file is kept
in the document store in the answer's own transaction — a refused file saves neither the answer nor the file — and is
downloadable by the owner, the VVB that raised the finding and the registry, by no other owner or VVB and not
publicly (neither on the workspace nor through /api/v1/documents/<id>); the evidence of an answer to a published public
comment is public with it. On SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import io

from sqlalchemy import func, select

from ccer.auth.models import User
from ccer.projects.models import Document
from ccer.validation import services as vv
from ccer.validation.models import Finding
from tests.lifecycle_world import LifeWorld
from tests.test_workspace_routes import _fresh, _login

PDF = b"%PDF-1.4\n% \xe6\xb5\xb7\xe5\x9f\x9f\xe4\xbd\xbf\xe7\x94\xa8\xe6\x9d\x83\xe8\xaf\x81\xe4\xb9\xa6\n%%EOF\n"


def _name(session, actor) -> str:
    return session.get(User, actor.user_id).username


def test_an_owners_evidence_file_is_stored_with_its_answer_and_read_only_by_the_parties(client, session, parties):
    w = LifeWorld(session, parties)
    p = w.to_publicity()
    car = vv.raise_finding(session, w.vvb_a, "project", p.id, "CAR", "请提供海域使用权证书。")
    comment_id = w.comment(p).id  # published by the registry
    other_owner = parties.user(parties.org(["project_owner"], name="另一业主测试有限公司"))
    names = {"owner": _name(session, w.owner), "vvb_a": _name(session, w.vvb_a), "vvb_b": _name(session, w.vvb_b),
             "registry": _name(session, w.registry), "other": other_owner.username}
    car_id, project_id = car.id, p.id
    session.commit()

    token = _login(client, names["owner"])
    url = f"/workspace/owner/findings/{car_id}/answer"
    # a file of a type evidence may not be: refused beside the answer, nothing saved (neither answer nor file)
    resp = client.post(url, data={"csrf": token, "response": "已上传海域使用权证书。",
                                  "evidence": (io.BytesIO(b"MZ\x90\x00"), "certificate.exe")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "不接受 .exe 文件" in resp.get_data(as_text=True)
    assert session.get(Finding, car_id).status == "open"
    assert session.execute(select(func.count()).select_from(Document).where(Document.kind == "evidence")).scalar_one() == 0
    session.rollback()

    resp = client.post(url, data={"csrf": token, "response": "已上传海域使用权证书。",
                                  "evidence": (io.BytesIO(PDF), "海域使用权证书.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    digest = hashlib.sha256(PDF).hexdigest()
    f = session.get(Finding, car_id)
    doc = session.execute(select(Document).where(Document.kind == "evidence")).scalar_one()
    assert (f.status, f.evidence) == ("answered", f"海域使用权证书.pdf (SHA-256 {digest})")
    assert (doc.subject_type, doc.subject_id, doc.sha256, bytes(doc.content), doc.media_type) == ("finding", car_id, digest, PDF, "application/pdf")
    doc_id = doc.id
    session.rollback()
    download = f"/workspace/evidence/{doc_id}"
    assert download in client.get(f"/workspace/owner/projects/{project_id}").get_data(as_text=True)

    for who in ("owner", "vvb_a", "registry"):
        _login(client, names[who])
        resp = client.get(download)
        assert resp.status_code == 200 and resp.data == PDF and resp.headers["X-SHA256"] == digest, who
        assert resp.headers["Content-Disposition"].startswith("attachment;")
    _login(client, names["vvb_a"])
    assert download in client.get(f"/workspace/vvb/projects/{project_id}").get_data(as_text=True)
    _login(client, names["registry"])
    assert download in client.get(f"/workspace/registry/projects/{project_id}").get_data(as_text=True)
    # another owner, a VVB not engaged: as if there were no such file
    for who in ("other", "vvb_b"):
        _login(client, names[who])
        assert client.get(download).status_code == 404, who
    # not public: the workspace sends the anonymous visitor to log in, the documents API does not serve it
    _fresh(client)
    assert client.get(download).status_code == 302
    assert client.get(f"/api/v1/documents/{doc_id}").status_code == 404

    # an answer to a published public comment: its evidence is public with it (Registry Rules Art. 19)
    token = _login(client, names["owner"])
    resp = client.post(f"/workspace/owner/comments/{comment_id}/respond", content_type="multipart/form-data", data={
        "csrf": token, "response": "海缆路由避开了传统渔场，见环评报告第5章。", "evidence": (io.BytesIO(b"EIA chapter 5"), "环评报告第5章.txt")})
    assert resp.status_code == 302
    comment_doc = session.execute(select(Document).where(Document.kind == "evidence", Document.subject_type == "comment")).scalar_one()
    comment_doc_id = comment_doc.id
    assert (comment_doc.subject_id, comment_doc.sha256) == (comment_id, hashlib.sha256(b"EIA chapter 5").hexdigest())
    session.rollback()
    assert f"/workspace/evidence/{comment_doc_id}" in client.get(f"/workspace/owner/projects/{project_id}").get_data(as_text=True)
    _login(client, names["other"])
    assert client.get(f"/workspace/evidence/{comment_doc_id}").data == b"EIA chapter 5"
    _fresh(client)
    assert client.get(f"/api/v1/documents/{comment_doc_id}").data == b"EIA chapter 5"
    # the chain vouches for both files: the answers' events touch the documents, whose bytes still hash to their SHA-256
    from ccer import ledger

    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]
