"""Roles on the platform and the fields VVBs are accredited in."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    PROJECT_OWNER = "project_owner"  # 项目业主 (Measures Art. 4, 11)
    VVB = "vvb"  # 审定与核查机构 (Art. 30–33)
    REGISTRY_OPERATOR = "registry_operator"  # 注册登记机构 (Art. 6)
    EXCHANGE_OPERATOR = "exchange_operator"  # 交易机构 (Art. 7)
    TRADING_PARTICIPANT = "trading_participant"  # 交易主体 (Art. 24)
    KEY_EMITTER = "key_emitter"  # 重点排放单位 of the national/local ETS (Registry Rules Art. 5)
    METHODOLOGY_AUTHOR = "methodology_author"
    PROVINCIAL_AUTHORITY = "provincial_authority"  # 省级生态环境主管部门 (Art. 5, 34)
    PUBLIC = "public"  # anonymous visitors; never stored on a user

    @property
    def label_zh(self) -> str:
        return ROLE_LABELS_ZH[self]


ROLE_LABELS_ZH = {
    Role.PROJECT_OWNER: "项目业主",
    Role.VVB: "审定与核查机构",
    Role.REGISTRY_OPERATOR: "注册登记机构",
    Role.EXCHANGE_OPERATOR: "交易机构",
    Role.TRADING_PARTICIPANT: "交易主体",
    Role.KEY_EMITTER: "重点排放单位",
    Role.METHODOLOGY_AUTHOR: "方法学编制者",
    Role.PROVINCIAL_AUTHORITY: "省级生态环境主管部门",
    Role.PUBLIC: "公众",
}

#: roles that can be held by an organisation (PUBLIC is what nobody logged in has)
ORGANISATION_ROLES = [r for r in Role if r is not Role.PUBLIC]

#: Accreditation fields of VVBs, keyed by the methodology sector number (CDM sectoral scopes, which the
#: CCER codes follow: methodologies.md §0). SAMR approved the first VVBs for 能源产业 and 林业和其他碳汇
#: (ccer-rules.md §11, 2024-06).
SECTORS = {
    "01": ("能源产业（可再生/不可再生）", "Energy industries (renewable/non-renewable)"),
    "03": ("能源需求", "Energy demand"),
    "07": ("交通运输", "Transport"),
    "10": ("燃料逸散排放", "Fugitive emissions from fuels"),
    "13": ("废物处置", "Waste handling and disposal"),
    "14": ("林业和其他碳汇", "Forestry and other carbon sinks"),
    "15": ("农业", "Agriculture"),
}
