"""The methodology catalogue: what each installed plug-in declares about itself (ccer.methodologies: code and
version, names, status, crediting period, additionality, project facts and parameters with units, ranges,
defaults and their sources, monitoring) and the public projects that use it."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..infra.errors import NotFound
from ..methodologies import registry as plugins
from ..projects import visibility
from ..projects.models import Project


def _version(code: str) -> tuple[str, str]:
    """CCER-14-001-V01 → ("CCER-14-001", "V01")."""
    stem, _, version = code.rpartition("-")
    return (stem, version) if version.upper().startswith("V") else (code, "")


def catalogue(session: Session) -> list[dict]:
    """Every methodology, installed or named by a public project, grouped by code with its versions, and how
    many public projects use each version: one statement."""
    used = dict(session.execute(select(Project.methodology_code, func.count()).where(visibility.visible_to(None))
                                .group_by(Project.methodology_code)).all())
    installed = plugins.installed()
    groups: dict[str, dict] = {}
    for code in sorted(set(installed) | set(used)):
        stem, version = _version(code)
        m = installed.get(code)
        group = groups.setdefault(stem, {"stem": stem, "sector": stem.split("-")[1] if stem.count("-") >= 2 else "", "versions": []})
        group["versions"].append({"code": code, "version": version, "installed": m is not None, "projects": int(used.get(code, 0)),
                                  **({"describe": m.describe()} if m is not None else {})})
    return list(groups.values())


def methodology(session: Session, code: str, limit: int = 20) -> dict:
    """One version: its declaration, the other versions of its code, and the newest public projects using it
    (two statements)."""
    key = (code or "").strip().upper()
    installed = plugins.installed()
    m = installed.get(key)
    base = visibility.visible_to(None)
    count = session.execute(select(func.count()).select_from(Project).where(base, Project.methodology_code == key)).scalar_one()
    if m is None and not count:
        raise NotFound(f"no methodology {code!r}", field="code")
    projects = session.execute(select(Project).where(base, Project.methodology_code == key)
                               .order_by(Project.id.desc()).limit(limit)).scalars().all()
    stem, version = _version(key)
    others = [c for c in installed if _version(c)[0] == stem and c != key]
    return {"code": key, "version": version, "describe": m.describe() if m is not None else None, "projects": projects,
            "count": int(count), "other_versions": others,
            "readme": bool(m is not None and m.package_dir and (m.package_dir / "README.md").exists())}
