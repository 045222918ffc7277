"""Words the workspace pages share: statuses of projects, engagements, findings and comments in the page's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .blueprint import bp

STATUS = {
    "draft": _l("草稿"), "publicity": _l("公示中"), "validated": _l("已审定"), "verified": _l("已核查"), "rejected": _l("审定未通过"),
    "applied": _l("已申请登记"), "returned": _l("已退回"), "registered": _l("已登记"), "refused": _l("不予登记"),
    "cancelled": _l("已注销"), "revoked": _l("已撤销"),
    "proposed": _l("待接受"), "accepted": _l("已接受"), "declined": _l("已拒绝"),
    "open": _l("待答复"), "answered": _l("已答复"), "closed": _l("已关闭"),
    "pending": _l("待审核"), "published": _l("已发布"),
}

FINDING_KINDS = {"CAR": _l("整改要求 (CAR)"), "CL": _l("澄清要求 (CL)"), "OBS": _l("观察项 (OBS)")}


#: a reduction batch is verified, not validated: its negative conclusion is a failed verification (Measures Art. 20–21)
BATCH_STATUS = {**STATUS, "rejected": _l("核查未通过")}


@bp.app_template_filter("status")
def status(value: str, batch: bool = False) -> str:
    return str((BATCH_STATUS if batch else STATUS).get(value, value))


@bp.app_template_filter("record_status")
def record_status(record) -> str:
    """The status of a project or a reduction batch (MonitoringPeriod) in the wording of its kind."""
    from ..projects.models import MonitoringPeriod

    return status(record.status, isinstance(record, MonitoringPeriod))


#: registry accounts (Registry Rules Art. 6–11): "open" here is an opened account, not an open finding
ACCOUNT_STATUS = {"pending": _l("待开户审核"), "open": _l("已开立"), "refused": _l("已拒绝"), "restricted": _l("已限制"),
                  "closed": _l("已关闭")}


@bp.app_template_filter("account_status")
def account_status(value: str) -> str:
    return str(ACCOUNT_STATUS.get(value, value))


#: the status of units in an account (Registry Rules Art. 12, 16) and of a judicial freeze
HOLDING_STATUS = {"available": _l("可用"), "trading": _l("交易账户中"), "frozen": _l("已冻结"), "retired": _l("已注销（自愿）"),
                  "cancelled": _l("已注销"), "pending": _l("待确认")}
FREEZE_STATUS = {"active": _l("冻结中"), "released": _l("已解除"), "deducted": _l("已扣划")}


@bp.app_template_filter("holding_status")
def holding_status(value: str) -> str:
    return str(HOLDING_STATUS.get(value, value))


@bp.app_template_filter("freeze_status")
def freeze_status(value: str) -> str:
    return str(FREEZE_STATUS.get(value, value))
