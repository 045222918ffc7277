"""Guards the project lifecycle shares with monitoring periods and methodology proposals: a VVB engaged,
publicity over, every comment handled, every finding closed, the report on time, reasons given. They sit
below `lifecycle.py` so that `monitoring.py` and `ccer.proposals` use them without importing the lifecycle."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from ..infra import clock
from ..validation import services as vv
from ..workflow import Guard
from . import comments

#: validation: 100 days from publicity to report, owner-caused delays excluded (CNCA-CCER-01 §4.3.3)
VALIDATION_DAYS = 100


def _engaged(session: Session, record, ctx: dict) -> str | None:
    return None if vv.engaged_vvb(record) else "no validation/verification body has accepted the engagement"


def _publicity_over(session: Session, record, ctx: dict) -> str | None:
    today = clock.today(session)
    if record.publicity_end is None or today <= record.publicity_end:
        return f"publicity runs until {record.publicity_end}; the report follows it"
    return None


def _comments_handled(session: Session, record, ctx: dict) -> str | None:
    left = comments.unhandled(session, subject_type_of(record), record.id)
    return f"{len(left)} public comment(s) not moderated or not answered (#{', #'.join(str(c.id) for c in left)})" if left else None


def _findings_closed(session: Session, record, ctx: dict) -> str | None:
    if ctx.get("conclusion") == "negative":
        return None
    left = vv.unclosed(session, subject_type_of(record), record.id)
    return f"{len(left)} finding(s) still open (#{', #'.join(str(f.id) for f in left)})" if left else None


def deadline(session: Session, record) -> date | None:
    """The VVB's report deadline: 100 days after publicity starts, plus the owner's response time."""
    if record.publicity_start is None:
        return None
    delay = vv.owner_delay_days(session, subject_type_of(record), record.id, clock.now(session))
    return record.publicity_start + timedelta(days=VALIDATION_DAYS + delay)


def _within_deadline(session: Session, record, ctx: dict) -> str | None:
    due = deadline(session, record)
    if due is not None and clock.today(session) > due:
        return f"the report was due by {due} (100 days from publicity, owner delays excluded)"
    return None


def _reason(session: Session, record, ctx: dict) -> str | None:
    return None if (ctx.get("reason") or "").strip() else "give the reasons"


ENGAGED = Guard("a validation/verification body is engaged", _engaged, "Measures Art. 12, 19", "vvb")
PUBLICITY_OVER = Guard("20 working days of publicity are over", _publicity_over, "Measures Art. 12, 19", "publicity_end")
COMMENTS_HANDLED = Guard("every public comment moderated and answered", _comments_handled, "Measures Art. 12–13, 19–20", "comments")
FINDINGS_CLOSED = Guard("all corrective action requests and clarifications closed", _findings_closed, "CNCA-CCER-01 §4.7, §5.7", "findings")
WITHIN_100_DAYS = Guard("report within 100 days of publicity", _within_deadline, "CNCA-CCER-01 §4.3.3, §5.3.3", "deadline")
REASON = Guard("reasons given", _reason, "Measures Art. 15", "reason")


#: the subject type comments, findings and documents use for each kind of record
SUBJECT_TYPE = {"projects": "project", "monitoring_periods": "monitoring_period", "methodology_proposals": "methodology_proposal"}


def subject_type_of(record) -> str:
    """The subject type of a project, monitoring period or methodology proposal."""
    return SUBJECT_TYPE[record.__tablename__]
