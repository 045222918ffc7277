"""The one blueprint of the workspaces; role modules add their routes to it."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workspace", __name__, url_prefix="/workspace")
