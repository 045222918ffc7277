"""Finding methodology plug-ins: the entry-point group `ccer.methodologies`, module folders activated through
the methodology-proposal workflow (one folder per code under CCER_METHODOLOGY_DIR, default
instance/methodologies), or a module folder on disk (for authors checking a module before it is submitted)."""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from ..infra.errors import NotFound, ValidationError
from .protocol import Methodology

GROUP = "ccer.methodologies"


def activated_dir() -> Path:
    return Path(os.environ.get("CCER_METHODOLOGY_DIR", Path(os.environ.get("CCER_INSTANCE_PATH", "instance")) / "methodologies")).resolve()


@lru_cache(maxsize=1)
def installed() -> dict[str, Methodology]:
    found: dict[str, Methodology] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        found[cls.code] = cls()
    folder = activated_dir()
    if folder.is_dir():
        for sub in sorted(folder.iterdir()):
            if (sub / "__init__.py").exists():
                m = from_path(sub)
                found.setdefault(m.code, m)  # an official plug-in of the same code wins
    return dict(sorted(found.items()))


def refresh() -> None:
    """Forget the cached list (after a proposal is activated)."""
    installed.cache_clear()


def get(code: str) -> Methodology:
    key = code.strip().upper()
    methods = installed()
    if key not in methods:
        raise NotFound(f"no methodology {code!r}; installed: {', '.join(methods)}", field="code")
    return methods[key]


def from_path(path: Path) -> Methodology:
    """Load the Methodology subclass defined in a module folder (with __init__.py) or a .py file."""
    path = path.resolve()
    init = path / "__init__.py" if path.is_dir() else path
    if not init.exists():
        raise ValidationError(f"{path} is neither a methodology package nor a .py file", field="path")
    name = f"_ccer_methodology_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(path)] if path.is_dir() else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, Methodology) and c is not Methodology and c.__module__ == name]
    if len(classes) != 1:
        raise ValidationError(f"{path} must define exactly one Methodology subclass, found {len(classes)}", field="path")
    return classes[0]()


def resolve(code_or_path: str) -> Methodology:
    p = Path(code_or_path)
    if p.exists():
        return from_path(p)
    return get(code_or_path)
