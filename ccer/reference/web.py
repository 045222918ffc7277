"""What pages need from the reference data: the loaded data sets installed before requests (a server started before
a console load sees it within SYNC_EVERY seconds), and the mark of a provisional deadline."""
from __future__ import annotations

from datetime import date

from flask import Flask, request
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..infra import calendar
from ..requests import db_session
from . import services


def provisional_mark(start: date | None, end: date | None) -> Markup:
    """「暂定」 after a deadline that counts days of a year whose State Council calendar is not loaded yet."""
    if not calendar.provisional_between(start, end):
        return Markup("")
    why = _("该年度节假日安排尚未发布：按法定节假日计算，发布并载入后重新计算")
    return Markup(f' <span class="provisional" title="{escape(why)}">（{escape(_("暂定"))}）</span>')


def _sync() -> None:
    if request.endpoint != "static":
        services.sync(db_session())  # at most one look per SYNC_EVERY seconds (services.sync)


def init_app(app: Flask) -> None:
    app.add_template_global(provisional_mark)
    app.before_request(_sync)
