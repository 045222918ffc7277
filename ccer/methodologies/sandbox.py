"""The conformance suite on a submitted methodology package, in a separate process: a proposal's code never
runs in the server's process before the registry approves it (issue 15, item 6).

The server unpacks the package (sizes and member count read from the zip's central directory first,
`ccer.infra.archives`) into a fresh temporary directory and starts

    python -I -m ccer.methodologies.sandbox <dir>/module

which imports the module, runs `conformance.run` and writes the report as one JSON line on stdout; whatever
the module prints goes to stderr. The process gets:

* rlimits set before it starts (`preexec_fn`): CPU seconds, address space, file size, open files, number of
  processes, no core files — and a wall-clock limit, after which its whole process group is killed;
* an empty environment (HOME and TMPDIR are its own directory) and `-I` (no PYTHON* variables, no user site,
  not the current directory on sys.path);
* with bubblewrap (`bwrap`, Debian's `bubblewrap`, installed by ./dev): no network and new user, PID, IPC,
  UTS and cgroup namespaces; a root file system holding only the system's /usr, the Python installation and
  the ccer and gis sources, all read-only, an empty private /tmp, and its own directory as the only place it
  may write. It cannot read the instance folder (keys, database) nor write anywhere else.

Without bubblewrap (or where the kernel refuses it namespaces), a server running as root falls back to
`unshare --net` as user nobody (no network; it writes only where nobody may), and otherwise to rlimits alone:
then the code can read and write what the server's user can and reach the network, and `isolation` in the
report says so. The kernel does not count processes against RLIMIT_NPROC for root: a server running as root
relies on the PID namespace, torn down with the sandbox at the time limit, to end what the module forked.

The report is what the sandboxed process says: a malicious module can forge it (it runs in the same
process as the suite). The sandbox bounds what the code can do, not what it claims; the registry reviews the
code before approval, the first time it runs in the server.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

MARKER = "CCER-SANDBOX-REPORT "
#: largest report read back (the module's stdout and stderr files are bounded by the file-size rlimit)
MAX_REPORT_BYTES = 1_000_000
NOBODY = 65534


# ---- inside the sandbox --------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """Run the conformance suite on the module folder argv[0]; print the report as one JSON line."""
    out_fd = os.dup(1)
    os.dup2(2, 1)  # the module's prints, even os.write(1, …), go to stderr
    sys.stdout = sys.stderr
    try:
        from . import conformance, registry

        m = registry.from_path(Path(argv[0]))
        report = conformance.run(m)
        result = {"ok": report.ok, "code": str(report.code), "name_zh": str(getattr(m, "name_zh", "") or ""),
                  "checks": [{"name": str(c.name), "ok": bool(c.ok), "detail": str(c.detail)} for c in report.checks]}
    except MemoryError:
        result = {"ok": False, "error": "MemoryError: the module went past the sandbox's memory limit"}
    except BaseException as exc:  # noqa: BLE001 — whatever the module raises (SystemExit included) is its report
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    os.write(out_fd, (MARKER + json.dumps(result, ensure_ascii=False) + "\n").encode())
    return 0


# ---- the server's side ---------------------------------------------------------------------------------


def _source_dirs() -> list[Path]:
    """What the sandbox must read: the Python installation, the virtualenv and the ccer and gis sources."""
    import importlib.util

    ccer_dir = Path(__file__).resolve().parent.parent
    dirs = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.exec_prefix), Path(os.path.realpath(sys.executable)).parent.parent,
            ccer_dir}
    gis = importlib.util.find_spec("gis")
    if gis is not None and gis.submodule_search_locations:
        dirs.update(Path(p) for p in gis.submodule_search_locations)
    dirs = {d.resolve() for d in dirs if d.exists()}
    return sorted(d for d in dirs if d != Path("/") and not any(o != d and o in d.parents for o in dirs))


def _bwrap(work: Path) -> list[str]:
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / top
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--ro-bind-try", "/etc/localtime", "/etc/localtime"]
    # the private /tmp first: a checkout or virtualenv that lives under /tmp is bound on top of it, not hidden by it
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for d in _source_dirs():
        if Path("/usr") not in d.parents:
            args += ["--ro-bind", str(d), str(d)]
    args += ["--bind", str(work), str(work), "--chdir", str(work),
             "--clearenv", "--setenv", "HOME", str(work), "--setenv", "TMPDIR", str(work), "--"]
    return args


def _wrappers(work: Path) -> dict[str, list[str]]:
    out = {}
    if shutil.which("bwrap"):
        out["bubblewrap"] = _bwrap(work)
    if shutil.which("unshare") and os.geteuid() == 0:
        out["unshare --net, user nobody"] = ["unshare", "--net", "--setgid", str(NOBODY), "--setuid", str(NOBODY), "--"]
    out["rlimits only (no bubblewrap: the code can read and write what the server's user can and reach the network)"] = []
    return out


@functools.lru_cache(maxsize=1)
def isolation() -> str:
    """The strongest isolation this machine gives: each is tried on an interpreter importing ccer."""
    for name in _wrappers(Path("/nonexistent")):
        with tempfile.TemporaryDirectory(prefix="ccer-sandbox-probe-") as tmp:
            work = Path(tmp)
            wrapper = _wrappers(work)[name]
            if not wrapper:
                return name
            _own(work, name)
            try:
                probe = subprocess.run([*wrapper, sys.executable, "-I", "-c", "import ccer.methodologies.conformance"],
                                       cwd=work, env=_env(work), capture_output=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if probe.returncode == 0:
                return name
    raise AssertionError("unreachable: rlimits alone always work")


def _own(work: Path, mode: str) -> None:
    """Run as nobody (the unshare fallback), the sandbox must own its directory."""
    if os.geteuid() == 0 and mode.startswith("unshare"):
        for path in [work, *work.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def _env(work: Path) -> dict[str, str]:
    return {"HOME": str(work), "TMPDIR": str(work)}


def _limiter(limits):
    import resource

    def apply() -> None:  # in the child between fork and exec: only setrlimit calls
        resource.setrlimit(resource.RLIMIT_CPU, (limits.sandbox_cpu_seconds, limits.sandbox_cpu_seconds + 1))  # SIGXCPU, then SIGKILL
        for which, value in ((resource.RLIMIT_AS, limits.sandbox_memory_bytes), (resource.RLIMIT_FSIZE, limits.sandbox_file_bytes),
                             (resource.RLIMIT_NOFILE, 256), (resource.RLIMIT_NPROC, 256), (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(which, (value, value))
    return apply


def _why_stopped(returncode: int, limits) -> str:
    sig = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if sig == signal.SIGXCPU:
        return f"went past the CPU-time limit of {limits.sandbox_cpu_seconds} s"
    if sig == signal.SIGKILL:
        return f"was killed (the CPU-time limit of {limits.sandbox_cpu_seconds} s, or out of memory)"
    if sig == signal.SIGXFSZ:
        return f"wrote a file past the size limit of {limits.sandbox_file_bytes:,} bytes"
    if sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
        return f"crashed ({signal.Signals(sig).name}; the memory limit is {limits.sandbox_memory_bytes:,} bytes)"
    return f"ended with exit status {returncode} and no report"


def run(folder: Path, limits) -> dict:
    """The conformance report of the module in `folder` (a directory the sandbox owns and may write in),
    checked in the sandbox: {"ok", "code", "name_zh", "checks", "isolation"} or {"ok": False, "error", …}."""
    folder = folder.resolve()
    work = folder.parent
    mode = isolation()
    wrapper = _wrappers(work)[mode]
    _own(work, mode)
    command = [*wrapper, sys.executable, "-I", "-X", "utf8", "-m", "ccer.methodologies.sandbox", str(folder)]
    base = {"isolation": mode, "limits": {"cpu_seconds": limits.sandbox_cpu_seconds, "memory_bytes": limits.sandbox_memory_bytes,
                                          "wall_seconds": limits.sandbox_wall_seconds, "file_bytes": limits.sandbox_file_bytes}}
    with tempfile.TemporaryDirectory(prefix="ccer-sandbox-out-") as out_dir:
        out_path, err_path = Path(out_dir) / "stdout", Path(out_dir) / "stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(command, cwd=work, env=_env(work), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    preexec_fn=_limiter(limits), start_new_session=True, close_fds=True)
            try:
                proc.wait(timeout=limits.sandbox_wall_seconds)
            except subprocess.TimeoutExpired:
                _kill(proc)
                return {**base, "ok": False, "error": f"stopped at the wall-clock limit of {limits.sandbox_wall_seconds} s"}
            finally:
                _kill(proc)
        report = _last_report(out_path)
        stderr_tail = _tail(err_path, 2000)
    if report is None:
        return {**base, "ok": False, "error": f"the check {_why_stopped(proc.returncode, limits)}", "stderr": stderr_tail}
    if not report.get("ok") and report.get("error"):
        report["stderr"] = stderr_tail
    return {**base, **report}


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the module's own children too (start_new_session made the group)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _tail(path: Path, size: int) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - size))
        return f.read().decode("utf-8", "replace")


def _last_report(path: Path) -> dict | None:
    if path.stat().st_size > MAX_REPORT_BYTES:
        return None
    lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.startswith(MARKER)]
    if len(lines) != 1:
        return None
    try:
        report = json.loads(lines[0][len(MARKER):])
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
