"""Workspace pages of 审定与核查机构 (validation and verification body) (issue 16)."""
from __future__ import annotations
