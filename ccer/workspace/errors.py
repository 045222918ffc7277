"""Service refusals in the page's language (issue 16, item 7: errors in both languages).

The services raise DomainErrors in English (the API and the CLI show them as they are). The pages translate the
messages a person meets on the workspace forms through one table: a pattern of the English message → the Chinese
text (the msgid, with the pattern's named parts as %(name)s), translated back to English by the catalogue
ccer/translations/en/errors.po like any page string. A message the table does not know is shown as the service wrote
it — the rule it cites (`err.rule`, an article of the Measures or the Registry Rules) is appended either way.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from ..infra.errors import DomainError

#: (English message of the services, the Chinese text). First match wins: the specific before the general.
TABLE = [(re.compile(pattern + r"\Z", re.DOTALL), text) for pattern, text in (
    # required fields (validation, comments, projects, registry acts)
    (r"is required", _l("必填")),
    (r"the crediting period \(计入期\) is required: give crediting_start and crediting_end", _l("必须填写计入期的起止日期")),
    (r"is required \((?P<what>.+)\)", _l("必填（%(what)s）")),
    (r"the court and its document number are required", _l("必须填写法院及其文书编号")),
    (r"the release order is required", _l("必须填写解除冻结的依据")),
    (r"the department's notice is required", _l("必须填写主管部门的通知")),
    (r"the department's order is required", _l("必须填写主管部门的决定")),
    (r"the effective judgment is required", _l("必须填写生效裁判文书")),
    (r"the document the change rests on is required", _l("必须填写过户所依据的文件")),
    (r"give a quantity or a serial range", _l("请填写数量或序列号区间")),
    (r"a reason is required to refuse a change", _l("拒绝变更须说明理由")),
    (r"say what must be corrected or clarified", _l("请说明须整改或澄清的内容")),
    (r"give a name \(it is published with the comment\)", _l("请填写姓名（将随意见一并公开）")),
    # numbers, ranges, dates, choices
    (r"must be a whole number", _l("须为整数")),
    (r"must be ≥ (?P<min>\S+)", _l("须不小于 %(min)s")),
    (r"must be a number(, got .*)?", _l("须为数值")),
    (r"(?P<x>\S+) is below the allowed range \(min (?P<lo>.+)\)", _l("%(x)s 低于允许范围（最小 %(lo)s）")),
    (r"(?P<x>\S+) is above the allowed range \(max (?P<hi>.+)\)", _l("%(x)s 超出允许范围（最大 %(hi)s）")),
    (r"must be a date YYYY-MM-DD, got .*", _l("须为日期（YYYY-MM-DD）")),
    (r"must be one of (?P<choices>.+), got .*", _l("须为以下之一：%(choices)s")),
    (r"must be 1–(?P<max>\d+) characters", _l("须为 1–%(max)s 个字符")),
    # evidence files (validation/evidence.py)
    (r"(?P<ext>.+) is not accepted; accepted: (?P<ok>.+)", _l("不接受 %(ext)s 文件；可接受：%(ok)s")),
    (r"the file is empty", _l("文件为空")),
    (r"(?P<n>\d+) bytes; at most (?P<max>\d+)", _l("文件 %(n)s 字节，超过上限 %(max)s 字节")),
    # working-day and publicity rules, states
    (r"(?P<name>\S+) refused: (?P<guard>.+?): (?P<why>.+)", _l("%(name)s 未通过：%(guard)s：%(why)s")),
    (r"(?P<what>.+) is (?P<state>\w+); (?P<name>\w+) applies to (?P<sources>.+)", _l("当前状态为 %(state)s，此操作仅适用于 %(sources)s")),
    (r"the (?P<what>\w+) is not open for comments; they are taken while it is in (?P<state>\w+)",
     _l("当前不接受公众意见：仅在 %(state)s 期间接受")),
    (r"the owner has until (?P<day>\S+) to cancel (?P<q>\d+) tCO2e", _l("业主可在 %(day)s 前注销 %(q)s 吨，期限届满后方可强制注销")),
    # maker–checker and permission
    (r"the initiator cannot confirm their own request; a second user must \(maker–checker\)", _l("发起人不能确认自己发起的操作，须由另一位人员确认")),
    (r"request (?P<id>\d+) is already (?P<status>\w+)", _l("请求 %(id)s 已处理（%(status)s）")),
    (r"only (?P<who>.+) can (?P<verb>\w+)", _l("仅 %(who)s 可执行此操作")),
    (r"(?P<action>\S+) is reserved to (?P<who>.+)", _l("无权限：%(action)s 仅限 %(who)s")),
    # registry accounts and holdings
    (r"no registry account (?P<ref>.+)", _l("无此登记账户：%(ref)s")),
    (r"no registered project number (?P<no>\d+)", _l("无此登记项目编号：%(no)s")),
    (r"account (?P<number>\S+) is (?P<status>restricted|closed|pending|refused)", _l("账户 %(number)s 当前不可用（%(status)s）")),
)]


def message(err: DomainError) -> str:
    """The refusal in the page's language: the table's text for a known message, else the service's own words."""
    for pattern, text in TABLE:
        m = pattern.match(err.message)
        if m:
            return str(text) % m.groupdict() if m.groupdict() else str(text)
    return err.message


def text(err: DomainError) -> str:
    """The message with the rule it cites, as shown beside a field or in a flash."""
    return message(err) + (f" [{err.rule}]" if err.rule else "")
