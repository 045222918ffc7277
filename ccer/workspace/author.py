"""Workspace pages of methodology authors (issue 16)."""
from __future__ import annotations
