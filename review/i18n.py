"""A small message catalogue: Chinese (the default) and English.

    >>> translator("en")("queue"), translator("zh")("queue"), translator("xx")("queue")
    ('Queue', '待处理队列', '待处理队列')
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "app": "业财 复核", "queue": "待处理队列", "dashboard": "仪表盘", "autonomy": "自主匹配", "audit": "审计日志",
        "connectors": "数据源", "login": "登录", "logout": "退出", "username": "用户名", "password": "密码",
        "code": "类型", "severity": "严重程度", "status": "状态", "age": "已开时长(小时)≥", "counterparty": "往来单位",
        "amount": "金额≥", "amount_at_risk": "涉及金额", "assignee": "处理人", "filter": "筛选", "next_page": "下一页",
        "all": "全部", "active": "待处理", "open": "未处理", "in_review": "处理中", "resolved": "已解决",
        "ignored": "已忽略", "snoozed": "已推迟", "low": "低", "medium": "中", "high": "高", "critical": "严重",
        "due": "时限", "overdue": "已超时", "message": "说明", "total": "共", "items": "条", "documents": "单据",
        "candidates": "候选匹配", "evidence": "依据", "score": "得分", "rule": "规则", "decision": "决定",
        "accept": "接受", "choose": "改选此项", "chain": "单据链", "actions": "操作", "link_manually": "手工关联",
        "search": "搜索单据", "link": "关联", "allocate": "分配收付款", "invoice_no": "发票号", "write_off": "尾差核销",
        "mark_duplicate": "标记为重复(冻结付款)", "ignore": "永久忽略", "snooze": "推迟至", "assign": "指派",
        "comment": "备注", "add_comment": "添加备注", "reason": "原因", "history": "处理记录", "vouchers": "凭证",
        "voucher": "凭证", "approve": "审核并记账", "bulk": "批量操作", "apply": "执行", "not_found": "未找到",
        "forbidden": "无权执行此操作", "conflict": "冲突：已被他人处理", "refused": "操作被拒绝",
        "auto_rate": "每晚自动匹配率", "open_by_code": "未结异常(按类型)", "open_by_age": "未结异常(按时长)",
        "unapplied": "未核销收款", "dso": "应收账款周转天数(DSO)", "confirmations": "确认次数", "declines": "拒绝次数",
        "accept_ratio": "接受率", "autonomous": "自动接受", "yes": "是", "no": "否", "chain_ok": "哈希链完整",
        "chain_broken": "哈希链断裂", "actor": "操作人", "role": "角色", "time": "时间", "before": "之前",
        "after": "之后", "source": "来源", "cursor": "游标", "updated": "更新时间", "lines": "明细", "account": "科目",
        "debit": "借方", "credit": "贷方", "summary": "摘要", "state": "状态", "prepared_by": "制单人",
        "blocked": "已冻结付款", "back": "返回", "language": "English", "login_failed": "登录失败",
        "nothing": "无", "apply_to_selected": "对选中项执行", "date": "日期", "times_seen": "出现次数",
        "detail": "明细", "me": "我", "unassigned": "未指派",
        "from": "从", "to": "到", "tax_id": "税号", "word": "凭证字", "event": "业务事件", "runs": "运行记录",
        "read": "读取", "inserted": "新增", "unchanged": "未变", "changed": "已变更", "rejected": "被拒",
        "subject": "对象", "version": "版本", "sku": "物料", "qty": "数量", "price": "单价", "net": "金额",
        "tax": "税额", "dims": "辅助核算", "reviewed_posted": "审核 / 记账", "draft": "草稿",
        "reviewed": "已审核", "posted": "已记账",
        "duplicate_posted": "此单据已标记为重复，但其凭证 {voucher} 已记账，不能删除：请由会计人员红字冲销"
                            "（yecai vouchers reverse {id} --by 您的用户名 --reason 重复发票），"
                            "冲销凭证再经他人审核记账。",
        "conflict_detail": "此项已被 {who} 抢先处理（现为{status}，版本 {version}），您的操作没有执行。"
                           "请重新查看后再决定是否重做。",
    },
    "en": {
        "app": "yecai review", "queue": "Queue", "dashboard": "Dashboard", "autonomy": "Autonomy", "audit": "Audit log",
        "connectors": "Connectors", "login": "Log in", "logout": "Log out", "username": "User name",
        "password": "Password", "code": "Code", "severity": "Severity", "status": "Status", "age": "Open hours ≥",
        "counterparty": "Counterparty", "amount": "Amount ≥", "amount_at_risk": "Amount at risk",
        "assignee": "Assignee", "filter": "Filter", "next_page": "Next page", "all": "All", "active": "Active",
        "open": "Open", "in_review": "In review", "resolved": "Resolved", "ignored": "Ignored", "snoozed": "Snoozed",
        "low": "Low", "medium": "Medium", "high": "High", "critical": "Critical", "due": "Due", "overdue": "Overdue",
        "message": "Message", "total": "Total", "items": "items", "documents": "Documents",
        "candidates": "Candidates", "evidence": "Evidence", "score": "Score", "rule": "Rule",
        "decision": "Decision", "accept": "Accept", "choose": "Choose this one", "chain": "Chain",
        "actions": "Actions", "link_manually": "Link manually", "search": "Search documents", "link": "Link",
        "allocate": "Allocate payment", "invoice_no": "Invoice no.", "write_off": "Write off difference",
        "mark_duplicate": "Mark duplicate (block payment)", "ignore": "Ignore for good", "snooze": "Snooze until",
        "assign": "Assign", "comment": "Comment", "add_comment": "Add comment", "reason": "Reason",
        "history": "History", "vouchers": "Vouchers", "voucher": "Voucher", "approve": "Review and post",
        "bulk": "Bulk action", "apply": "Apply", "not_found": "Not found", "forbidden": "You may not do this",
        "conflict": "Conflict: someone else acted first", "refused": "Action refused",
        "auto_rate": "Auto-match rate by night", "open_by_code": "Open exceptions by code",
        "open_by_age": "Open exceptions by age", "unapplied": "Unapplied cash", "dso": "Days sales outstanding",
        "confirmations": "Confirmations", "declines": "Declines", "accept_ratio": "Accepted",
        "autonomous": "Auto-accept", "yes": "yes", "no": "no", "chain_ok": "hash chain intact",
        "chain_broken": "hash chain broken", "actor": "Actor", "role": "Role", "time": "Time", "before": "Before",
        "after": "After", "source": "Source", "cursor": "Cursor", "updated": "Updated", "lines": "Lines",
        "account": "Account", "debit": "Debit", "credit": "Credit", "summary": "Summary", "state": "State",
        "prepared_by": "Prepared by", "blocked": "payment blocked", "back": "Back", "language": "中文",
        "login_failed": "Login failed", "nothing": "none", "apply_to_selected": "Apply to selected",
        "date": "Date", "times_seen": "Times seen", "detail": "Detail", "me": "me", "unassigned": "unassigned",
        "from": "From", "to": "To", "tax_id": "Tax id", "word": "Word", "event": "Event", "runs": "Runs",
        "read": "Read", "inserted": "Inserted", "unchanged": "Unchanged", "changed": "Changed",
        "rejected": "Rejected", "subject": "Subject", "version": "Version", "sku": "SKU", "qty": "Qty",
        "price": "Price", "net": "Net", "tax": "Tax", "dims": "Dimensions", "reviewed_posted": "Reviewed / posted",
        "draft": "Draft", "reviewed": "Reviewed", "posted": "Posted",
        "duplicate_posted": "This document is marked as a duplicate but its voucher {voucher} is posted and cannot "
                            "be deleted: reverse it red-letter (yecai vouchers reverse {id} --by YOU --reason "
                            "\"duplicate invoice\"); someone else then reviews and posts the reversal.",
        "conflict_detail": "{who} changed this item first (it is now {status}, version {version}); your action "
                           "was not applied. Look at it again and redo it if it still applies.",
    },
}


def translator(language: str) -> Callable[[str], str]:
    catalogue = MESSAGES.get(language, MESSAGES[DEFAULT])

    def t(key: str) -> str:
        return catalogue.get(key) or MESSAGES["en"].get(key) or key

    return t
