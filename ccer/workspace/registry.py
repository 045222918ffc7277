"""Workspace pages of 注册登记机构 (the registry) (issue 16)."""
from __future__ import annotations
