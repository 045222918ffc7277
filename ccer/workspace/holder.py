"""Workspace pages of holders and buyers (and, on the exchange, traders) (issue 16)."""
from __future__ import annotations
