"""The explorer's labels for codes the records carry (statuses, ledger actions, document kinds): the Chinese
msgids, translated once per use in the templates (`_(STATUS[s])`) — building a translated dict per call cost a
gettext per entry per row (7,590 calls for one list page)."""
from __future__ import annotations

STATUS = {
    'draft': '草稿',
    'publicity': '公示中',
    'validated': '已审定',
    'rejected': '审定未通过',
    'applied': '已申请登记',
    'returned': '已退回',
    'registered': '已登记',
    'refused': '不予登记',
    'cancelled': '已注销登记',
    'revoked': '已撤销',
    'listed': '公示名录项目',
    'verified': '已核查',
}

ACTIONS = {
    'project.created': '项目创建',
    'project.imported': '从公示名录导入',
    'project.publicise': '项目设计文件公示',
    'project.validate': '审定通过',
    'project.reject': '审定未通过',
    'project.apply': '申请登记',
    'project.reapply': '重新申请登记',
    'project.return': '登记申请退回',
    'project.register': '项目登记',
    'project.refuse': '不予登记',
    'project.cancel': '注销登记',
    'project.revoke': '撤销登记',
    'project.withdraw': '撤回',
    'monitoring_period.created': '减排量核算期创建',
    'monitoring_period.imported': '减排量登记（名录）',
    'monitoring_period.publicise': '减排量核算报告公示',
    'monitoring_period.verify': '核查通过',
    'monitoring_period.reject': '核查未通过',
    'monitoring_period.apply': '申请减排量登记',
    'monitoring_period.reapply': '重新申请减排量登记',
    'monitoring_period.return': '减排量申请退回',
    'monitoring_period.register': '减排量登记',
    'monitoring_period.refuse': '减排量不予登记',
    'document.published': '文件发布',
    'comment.submitted': '公众意见提交',
    'comment.published': '公众意见公开',
    'comment.answered': '业主答复意见',
    'finding.raised': '审定与核查发现',
    'finding.answered': '发现项答复',
    'finding.closed': '发现项关闭',
    'finding.reopened': '发现项重开',
    'engagement.proposed': '委托审定与核查机构',
    'engagement.accepted': '机构接受委托',
    'engagement.declined': '机构拒绝委托',
    'ccer.issued': '签发 CCER',
    'ccer.retired': '注销（使用）CCER',
    'ccer.force_cancelled': '强制注销',
    'boundary.checked': '项目边界检查',
    'commitment.signed': '签署承诺',
}

DOCUMENTS = {
    'pdd': '项目设计文件',
    'validation_report': '审定报告',
    'accounting_report': '减排量核算报告',
    'verification_report': '核查报告',
    'commitment': '承诺书',
}
