"""The two forms validation (a project) and verification (a batch of reductions) share: the owner engaging a VVB and
the VVB's report with its signed commitment. Only the subject and the move it fires differ."""
from __future__ import annotations

from collections.abc import Callable

from flask import request
from flask_babel import gettext as _

from ..requests import current_actor
from ..validation import services as vv
from .forms import Errors, attempt


def engage_vvb(session, kind: str, subject_id: int, errors: Errors) -> None:
    """The owner offers the `kind` engagement ("validation" | "verification") to the VVB chosen in the form."""
    vvb_id = request.form.get("vvb_id", "")
    if not vvb_id.isdecimal():
        errors["vvb_id"] = _("请选择审定与核查机构")
    else:
        attempt(lambda: vv.engage(session, current_actor(), kind, subject_id, int(vvb_id)), errors, {"vvb_id"})


def signed_report(errors: Errors, positive_move: str, fire: Callable[..., object]) -> None:
    """The VVB's report: no report without its commitment (Measures Art. 13 for validation, Art. 20 for
    verification); a positive conclusion fires `positive_move`, a negative one `reject`, with the form's comment
    handling and reasons."""
    conclusion = request.form.get("conclusion", "")
    if request.form.get("commitment") != "yes":
        errors["commitment"] = _("出具报告须签署承诺")
    elif conclusion not in ("positive", "negative"):
        errors["conclusion"] = _("请选择结论")
    else:
        move = positive_move if conclusion == "positive" else "reject"
        attempt(lambda: fire(move, comment_handling=request.form.get("comment_handling", ""),
                             reason=request.form.get("reason", "")), errors, {"reason", "status"})
