"""Methodology code in a sandbox (issue 15, item 6): a submitted package is unpacked with size and count
limits and its conformance suite runs in a separate process — no network, its own temporary directory the
only place it may write, CPU, memory and wall-clock limits — never in the server's process."""
from __future__ import annotations

import builtins
import socket
import zipfile
from pathlib import Path

import pytest

from ccer import proposals
from ccer.infra.config import Limits
from ccer.infra.errors import TooLarge, ValidationError
from ccer.methodologies import sandbox, scaffold
from ccer.proposals.services import conformance_report

ROOT = Path(__file__).resolve().parent.parent
#: tight limits so that the runaway modules below are stopped quickly
TIGHT = Limits(sandbox_cpu_seconds=2, sandbox_wall_seconds=20, sandbox_memory_bytes=2 * 2**30)
ISOLATED = sandbox.isolation() == "bubblewrap"


def _module(tmp_path: Path, code: str, prelude: str = "") -> Path:
    """A conforming module (the scaffold) whose __init__.py ends by running `prelude` as it is imported."""
    folder = scaffold.create(code, tmp_path / "src" / code, "沙箱测试方法学")
    init = folder / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + "\n" + prelude + "\n", encoding="utf-8")
    return folder


def test_an_official_plug_in_passes_conformance_through_the_sandbox():
    report = conformance_report(proposals.zip_folder(ROOT / "methodologies" / "ccer_01_002_v01"))
    assert report["ok"], report
    assert report["code"] == "CCER-01-002-V01" and report["name_zh"] and len(report["checks"]) > 10
    assert report["isolation"] == sandbox.isolation() and report["limits"]["cpu_seconds"] == 30


def test_a_conforming_proposal_is_accepted_and_its_code_never_ran_here(session, parties, tmp_path):
    author = parties.actor(parties.user(parties.org(["methodology_author"])))
    folder = _module(tmp_path, "CCER-14-005-V01", "import builtins\nbuiltins.ccer_sandbox_probe = True")
    p = proposals.submit(session, author, proposals.zip_folder(folder))
    assert p.status == "submitted" and p.code == "CCER-14-005-V01"
    assert not hasattr(builtins, "ccer_sandbox_probe")  # imported in the sandbox only
    assert '"sandbox: ' in p.conformance_json and "cpu_seconds 30" in p.conformance_json


@pytest.mark.skipif(sandbox.isolation().startswith("rlimits"), reason="no bubblewrap nor root: the sandbox cannot confine writes")
def test_a_module_cannot_write_outside_its_sandbox(session, parties, tmp_path):
    author = parties.actor(parties.user(parties.org(["methodology_author"])))
    outside = tmp_path / "escaped.txt"
    folder = _module(tmp_path, "CCER-14-006-V01",
                     f"open('inside.txt', 'w').write('its own directory is writable')\nopen({str(outside)!r}, 'w').write('escaped')")
    with pytest.raises(ValidationError) as err:
        proposals.submit(session, author, proposals.zip_folder(folder))
    assert not outside.exists()
    assert err.value.field == "package" and "escaped.txt" in err.value.message and "sandbox" in err.value.rule


@pytest.mark.skipif(not ISOLATED, reason="only bubblewrap hides the server's files and network")
def test_a_module_cannot_read_the_servers_files_nor_reach_the_network(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("s3cret")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        reader = _module(tmp_path, "CCER-14-007-V01", f"SECRET = open({str(secret)!r}).read()")
        report = conformance_report(proposals.zip_folder(reader), TIGHT)
        assert not report["ok"] and "FileNotFoundError" in report["error"] and "s3cret" not in str(report)
        caller = _module(tmp_path, "CCER-14-008-V01", f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)")
        report = conformance_report(proposals.zip_folder(caller), TIGHT)
        assert not report["ok"] and ("ConnectionRefusedError" in report["error"] or "Network is unreachable" in report["error"])
    finally:
        listener.close()


def test_a_module_that_loops_forever_is_stopped_by_the_cpu_limit(tmp_path):
    folder = _module(tmp_path, "CCER-14-009-V01", "while True:\n    pass")
    report = conformance_report(proposals.zip_folder(folder), TIGHT)
    assert not report["ok"] and "went past the CPU-time limit of 2 s" in report["error"], report


def test_a_module_that_sleeps_forever_is_stopped_by_the_wall_clock(tmp_path):
    folder = _module(tmp_path, "CCER-14-010-V01", "import time\ntime.sleep(3600)")
    report = conformance_report(proposals.zip_folder(folder), Limits(sandbox_wall_seconds=2))
    assert not report["ok"] and "wall-clock limit of 2 s" in report["error"], report


def test_a_module_that_allocates_4_gb_is_stopped_by_the_memory_limit(session, parties, tmp_path):
    author = parties.actor(parties.user(parties.org(["methodology_author"])))
    folder = _module(tmp_path, "CCER-14-011-V01", "BALLAST = bytearray(4 * 2**30)")
    with pytest.raises(ValidationError) as err:
        proposals.submit(session, author, proposals.zip_folder(folder), TIGHT)
    assert err.value.field == "package" and "MemoryError" in err.value.message and "memory limit" in err.value.message


def test_a_zip_bomb_package_is_refused_without_inflating(session, parties, tmp_path, monkeypatch):
    """A 1 MB zip holding a 1 GiB member: refused from the central directory, no member opened."""
    author = parties.actor(parties.user(parties.org(["methodology_author"])))
    folder = _module(tmp_path, "CCER-14-012-V01")
    bomb = tmp_path / "bomb.zip"
    chunk = bytes(2**20)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
        with zf.open("data/ballast.bin", "w", force_zip64=True) as out:
            for _ in range(1024):
                out.write(chunk)
    package = bomb.read_bytes()
    assert len(package) < 1_200_000
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **kw: opened.append(a) or pytest.fail("a member was inflated"))
    with pytest.raises(TooLarge) as err:
        proposals.submit(session, author, package)
    assert err.value.status == 413 and err.value.field == "package" and "CCER_MAX_ARCHIVE_BYTES" in err.value.rule
    assert "ballast.bin" in err.value.message and opened == []


def test_unsafe_member_names_are_refused(session, parties, tmp_path):
    author = parties.actor(parties.user(parties.org(["methodology_author"])))
    folder = _module(tmp_path, "CCER-14-013-V01")
    package = proposals.zip_folder(folder)
    evil = tmp_path / "evil.zip"
    evil.write_bytes(package)
    with zipfile.ZipFile(evil, "a") as zf:
        zf.writestr("../../outside.py", "x = 1")
    with pytest.raises(ValidationError) as err:
        proposals.submit(session, author, evil.read_bytes())
    assert err.value.field == "package" and "unsafe path" in err.value.message


def test_without_bubblewrap_the_rlimits_still_hold(tmp_path, monkeypatch):
    """The last fallback (no namespaces): the limits on CPU, memory and time still stop a runaway module, and the
    report names the weaker isolation."""
    fallback = next(name for name in sandbox._wrappers(tmp_path) if name.startswith("rlimits"))
    monkeypatch.setattr(sandbox, "isolation", lambda: fallback)
    hog = _module(tmp_path, "CCER-14-014-V01", "BALLAST = bytearray(4 * 2**30)")
    report = conformance_report(proposals.zip_folder(hog), TIGHT)
    assert report["isolation"] == fallback and "MemoryError" in report["error"]
    spinner = _module(tmp_path, "CCER-14-015-V01", "while True:\n    pass")
    assert "went past the CPU-time limit" in conformance_report(proposals.zip_folder(spinner), TIGHT)["error"]
    good = conformance_report(proposals.zip_folder(ROOT / "methodologies" / "ccer_07_001_v01"), TIGHT)
    assert good["ok"] and good["isolation"] == fallback
