"""Workspace pages of 项目业主 (project owner) (issue 16)."""
from __future__ import annotations
