"""A small message catalogue: Chinese (the default) and English.

    >>> translator("en")("queue"), translator("zh")("queue"), translator("xx")("queue")
    ('Queue', '待处理队列', '待处理队列')

Refusals, conflicts and confirmations come from the code in English (they are also the CLI's
and the log's words); ``localise`` recognises each by its template in ``TEXTS`` and gives it in
the reader's language, the values it names kept as they were:

    >>> localise("voucher 7 is posted, not a draft", "zh")
    '凭证 7 为已记账状态，不是草稿'
"""

from __future__ import annotations

import re
from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

# Refusals, conflicts and confirmations: English exactly as the code words them, and Chinese.
# ``localise`` recognises an English message by its template and renders the reader's language.
TEXTS: dict[str, tuple[str, str]] = {
    # review/actions.py
    "no_exception": ("no exception {item}", "没有编号为 {item} 的异常"),
    "item_terminal": ("exception {item} is {status} already", "异常 {item} 已是{status}状态"),
    "not_candidate": ("link {link} is not a candidate of exception {item}", "匹配 {link} 不是异常 {item} 的候选项"),
    "link_rejected": ("link {link} was rejected for good and cannot be accepted", "匹配 {link} 已被永久拒绝，不能接受"),
    "accepted": ("accepted {from_type} {from_no} → {to_type} {to_no}",
                 "已接受 {from_type} {from_no} → {to_type} {to_no}"),
    "not_linkable": ("{doc_type} {doc_no} is not a stored document, or the item has nothing to link it to",
                     "{doc_type} {doc_no} 不是已存储的单据，或此项没有可与之关联的单据"),
    "same_stage": ("{first} and {second} are the same stage of a chain: nothing links them",
                   "{first} 与 {second} 处于单据链的同一环节，无法关联"),
    "linked": ("linked {from_type} {from_no} → {to_type} {to_no}", "已关联 {from_type} {from_no} → {to_type} {to_no}"),
    "amount_not_number": ("amount {text}: expected a number such as 1234.50", "金额 {text}：应为数字，例如 1234.50"),
    "amount_not_positive": ("amount {text}: expected more than zero", "金额 {text}：应大于零"),
    "allocate_bank_only": ("only an item about a bank transaction can be allocated",
                           "只有涉及银行流水的异常才能分配收付款"),
    "no_invoice": ("{side} {number}: no such invoice", "{side} {number}：没有这张发票"),
    "over_invoice": ("{side} {number}: {amount} is more than its amount {limit}",
                     "{side} {number}：{amount} 超过其金额 {limit}"),
    "allocation_empty": ("an allocation needs at least one invoice and amount", "分配至少需要一张发票及金额"),
    "allocation_over": ("the allocations add up to {total}, more than the transaction's {limit}",
                        "分配合计 {total}，超过该笔流水的 {limit}"),
    "allocated": ("allocated {total} over {count} invoice(s)", "已将 {total} 分配到 {count} 张发票"),
    "write_off_reason": ("a write-off needs a reason", "核销需要填写原因"),
    "write_off_invoice_only": ("only a difference on an invoice can be written off", "只有发票上的差额才能核销"),
    "no_amount": ("{doc_type} {doc_no} has no amount", "{doc_type} {doc_no} 没有金额"),
    "beyond_tolerance": ("{amount} is beyond the write-off tolerance of {limit}: settle it instead",
                         "{amount} 超出核销容差 {limit}：请改为正常结算"),
    "written_off": ("wrote off {amount}; voucher drafted for approval", "已核销 {amount}；凭证草稿待审核"),
    "not_item_document": ("{doc_type} {doc_no} is not a document of exception {item}",
                          "{doc_type} {doc_no} 不是异常 {item} 的单据"),
    "duplicate_posted_done": ("{doc_type} {doc_no} marked as a duplicate; payment blocked; its voucher {voucher} is "
                              "posted already: reverse it (red-letter)",
                              "{doc_type} {doc_no} 已标记为重复，付款已冻结；其凭证 {voucher} 已记账：请红字冲销"),
    "duplicate_cancelled": ("{doc_type} {doc_no} marked as a duplicate; payment blocked; its draft voucher was "
                            "cancelled", "{doc_type} {doc_no} 已标记为重复，付款已冻结；其凭证草稿已作废"),
    "duplicate_marked": ("{doc_type} {doc_no} marked as a duplicate; payment blocked",
                         "{doc_type} {doc_no} 已标记为重复，付款已冻结"),
    "ignore_reason": ("ignoring for good needs a reason", "永久忽略需要填写原因"),
    "ignored_done": ("ignored for good ({count} pair(s) will not be suggested again)",
                     "已永久忽略（{count} 组匹配不会再被推荐）"),
    "snooze_future": ("snooze until {until}: expected a date after today", "推迟至 {until}：应为今天之后的日期"),
    "snoozed_done": ("snoozed until {until}", "已推迟至 {until}"),
    "no_active_user": ("no active user {user}", "没有启用中的用户 {user}"),
    "assigned_done": ("assigned to {user}", "已指派给 {user}"),
    "unassigned_done": ("unassigned", "已取消指派"),
    "comment_empty": ("a comment needs some text", "备注不能为空"),
    "comment_done": ("comment added", "已添加备注"),
    "conflict_by": ("this item was changed by {who} before your action (it is now {status}, version {version}); "
                    "nothing was applied: look at it again and redo your action if it still applies",
                    "此项已被 {who} 抢先处理（现为{status}，版本 {version}），您的操作没有执行。"
                    "请重新查看后再决定是否重做。"),
    "conflict_anonymous": ("this item was changed before your action (it is now {status}, version {version}); "
                           "nothing was applied: look at it again and redo your action if it still applies",
                           "此项已被他人抢先处理（现为{status}，版本 {version}），您的操作没有执行。"
                           "请重新查看后再决定是否重做。"),
    # ledger/posting/book.py and review/approvals.py
    "no_voucher": ("no voucher {voucher}", "没有编号为 {voucher} 的凭证"),
    "not_draft": ("voucher {voucher} is {state}, not a draft", "凭证 {voucher} 为{state}状态，不是草稿"),
    "sod_review": ("voucher {voucher}: {user} prepared it and cannot also review it (segregation of duties)",
                   "凭证 {voucher}：{user} 是制单人，不能再审核（不相容职务分离）"),
    "vouchers_missing": ("vouchers {vouchers} do not exist", "凭证 {vouchers} 不存在"),
    "not_reviewed": ("voucher {voucher} is {state}: only reviewed vouchers are posted",
                     "凭证 {voucher} 为{state}状态：只有已审核的凭证才能记账"),
    "sod_post": ("voucher {voucher}: {user} prepared it and cannot post it (segregation of duties)",
                 "凭证 {voucher}：{user} 是制单人，不能记账（不相容职务分离）"),
    "period_closed": ("period {period} is closed: reopen it (finance admin, with a reason) to post into it",
                      "会计期间 {period} 已结账：需由财务管理员说明原因重新开启后才能记账"),
    "reversal_reason": ("a reversal needs a reason", "红字冲销需要填写原因"),
    "reverse_unposted": ("voucher {voucher} is not posted: only posted vouchers are reversed",
                         "凭证 {voucher} 未记账：只有已记账的凭证才能冲销"),
    "reverse_reversal": ("voucher {voucher} is itself a reversal and cannot be reversed",
                         "凭证 {voucher} 本身是冲销凭证，不能再冲销"),
    "reversed_already": ("voucher {voucher} has been reversed already", "凭证 {voucher} 已被冲销"),
    "period_pending": ("period {period} has {count} voucher(s) not posted: post them first",
                       "会计期间 {period} 有 {count} 张凭证未记账：请先记账"),
    "period_open_items": ("period {period} cannot close: {count} open exception(s) of severity {severity} or above "
                          "({codes}); resolve them first",
                          "会计期间 {period} 不能结账：有 {count} 条{severity}及以上的未结异常（{codes}）；请先处理"),
    "undo_reason": ("undoing vouchers needs a reason", "撤销凭证需要填写原因"),
    "reopen_role": ("reopening period {period} needs the {role} role, which {user} does not have "
                    "(yecai users add/roles)",
                    "重新开启会计期间 {period} 需要 {role} 角色，{user} 没有此角色（yecai users add/roles）"),
    "no_company": ("company {company} is not in the database: run yecai sync first",
                   "数据库中没有公司 {company}：请先运行 yecai sync"),
    "unbalanced": ("voucher(s) {vouchers} do not balance in minor units (in their currency or in the base currency): "
                   "correct the draft first", "凭证 {vouchers} 借贷不平（原币或本位币）：请先更正草稿"),
    "no_rate": ("voucher {voucher} is in {currency} with no conversion into the base currency {base}: add the rate "
                "(yecai fx add) and run yecai sync, which redrafts it",
                "凭证 {voucher} 为 {currency}，没有折算为本位币 {base} 的汇率：请添加汇率（yecai fx add）后"
                "运行 yecai sync 重新生成"),
    "post_race": ("another poster changed these vouchers meanwhile: nothing was posted, try again",
                  "另一记账人同时修改了这些凭证：未记账，请重试"),
    "numbers_off": ("{word}-{period}: {count} numbered vouchers run {low}..{high} but the counter stands at {last}, "
                    "and the numbers must run from 1 up to the counter: nothing was posted; run yecai ledger verify",
                    "{word}-{period}：已编号凭证 {count} 张，编号 {low}..{high}，但计数器为 {last}，编号必须从 1 "
                    "连续到计数器：未记账；请运行 yecai ledger verify"),
    "reopen_reason": ("reopening period {period} needs a reason", "重新开启会计期间 {period} 需要填写原因"),
    # review/auth.py and review/roles.py
    "name_reserved": ("user name {name} is empty or reserved for the agent", "用户名 {name} 为空或为系统保留"),
    "password_short": ("a password needs at least {count} characters", "密码至少需要 {count} 个字符"),
    "user_exists": ("user {user} exists already", "用户 {user} 已存在"),
    "no_user": ("no user {user}", "没有用户 {user}"),
    "login_locked": ("too many failed logins: wait {minutes} minutes and try again",
                     "登录失败次数过多：请等待 {minutes} 分钟后再试"),
    "login_wrong": ("wrong user name or password", "用户名或密码错误"),
    "unknown_roles": ("unknown role(s) {roles}: expected some of {expected}",
                      "未知角色 {roles}：应为 {expected} 中的若干个"),
    # review/web
    "csrf": ("CSRF token missing or wrong: reload the page and try again", "表单令牌缺失或错误：请刷新页面后重试"),
    "csrf_login": ("CSRF token missing or wrong: reload the login page and try again",
                   "表单令牌缺失或错误：请刷新登录页后重试"),
    "no_version": ("the form has no item version: reload the page", "表单缺少版本号：请刷新页面"),
    "bad_date": ("date {text}: expected YYYY-MM-DD", "日期 {text}：格式应为 YYYY-MM-DD"),
    "no_action": ("no action {action}", "没有操作 {action}"),
    "bad_bulk": ("bulk action {action}: expected one of {expected}", "批量操作 {action}：应为 {expected} 之一"),
    "bad_selection": ("selection {text}: expected item:version", "选择 {text}：格式应为 编号:版本"),
    "not_whole": ("{name} {text}: expected a whole number", "{name} {text}：应为整数"),
    "amount_filter": ("amount {text}: expected a number such as 1000", "金额 {text}：应为数字，例如 1000"),
    "bad_code": ("code {text} is not an exception code", "{text} 不是异常类型"),
    "bad_status": ("status {text}: expected active or one of {expected}",
                   "状态 {text}：应为 active 或 {expected} 之一"),
    "bad_state": ("state {text}: expected one of {expected}", "状态 {text}：应为 {expected} 之一"),
    # ledger/posting/audit.py and book.py verify
    "audit_skips": ("the audit chain skips or reorders an event", "审计链跳过或打乱了某条记录"),
    "voucher_chain_skips": ("the chain skips or reorders a voucher", "凭证哈希链跳过或打乱了某张凭证"),
    "number_not_next": ("its number {number} is not the next of {word}-{period} ({expected}): a number repeats or "
                        "is skipped",
                        "其编号 {number} 不是 {word}-{period} 的下一个编号（{expected}）：有编号重复或跳号"),
    "content_changed": ("its content no longer matches its hash", "其内容与哈希值不再一致"),
    "auto_resolved": ("the cause went away: the last run did not raise it again",
                      "原因已消除：最近一次运行未再发现此问题"),
}


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
        "field.account": "账号", "field.value_date": "起息日", "field.counterparty_account": "对方账号",
        "field.remittance": "附言", "field.source": "来源", "field.due_date": "到期日", "field.order_ref": "订单号",
        "field.shipment_ref": "发货单号", "field.project": "项目", "field.department": "部门",
        "seq": "序号", "decision.auto": "自动", "decision.suggested": "建议", "decision.accepted": "已接受",
        "decision.declined": "未选", "decision.rejected": "已拒绝",
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
        "field.account": "Account", "field.value_date": "Value date", "field.counterparty_account": "Payer account",
        "field.remittance": "Remittance", "field.source": "Source", "field.due_date": "Due date",
        "field.order_ref": "Order", "field.shipment_ref": "Shipment", "field.project": "Project",
        "field.department": "Department", "seq": "Seq", "decision.auto": "auto", "decision.suggested": "suggested",
        "decision.accepted": "accepted", "decision.declined": "declined", "decision.rejected": "rejected",
        "duplicate_posted": "This document is marked as a duplicate but its voucher {voucher} is posted and cannot "
                            "be deleted: reverse it red-letter (yecai vouchers reverse {id} --by YOU --reason "
                            "\"duplicate invoice\"); someone else then reviews and posts the reversal.",
        "conflict_detail": "{who} changed this item first (it is now {status}, version {version}); your action "
                           "was not applied. Look at it again and redo it if it still applies.",
    },
}


for _key, (_en, _zh) in TEXTS.items():
    MESSAGES["en"][f"msg.{_key}"], MESSAGES["zh"][f"msg.{_key}"] = _en, _zh

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(template)
    return re.compile("".join(re.escape(part) if n % 2 == 0 else f"(?P<{part}>.+?)" for n, part in enumerate(parts))
                      + r"\Z", re.DOTALL)


# the most literal text first, so "… payment blocked; its draft voucher was cancelled" is not read as less
_PATTERNS = sorted(((key, _pattern(en)) for key, (en, _zh) in TEXTS.items()),
                   key=lambda pair: -len(_PLACEHOLDER.sub("", TEXTS[pair[0]][0])))
_STATE_PARAMS = ("status", "state")   # values that are themselves catalogue words (resolved, posted…)


def localise(message: str, language: str) -> str:
    """``message`` (as the code words it in English) in ``language``; unknown text comes back as it was."""
    if language == "en":      # the code's own words
        return message
    catalogue = MESSAGES.get(language, MESSAGES[DEFAULT])
    for key, pattern in _PATTERNS:
        found = pattern.match(message)
        if found:
            values = {name: catalogue.get(value, value) if name in _STATE_PARAMS else value
                      for name, value in found.groupdict().items()}
            return catalogue[f"msg.{key}"].format(**values)
    return message


def translator(language: str, missing: set[str] | None = None) -> Callable[[str], str]:
    """``missing``, when given, collects the keys this language's catalogue lacks (the tests use it)."""
    catalogue = MESSAGES.get(language, MESSAGES[DEFAULT])

    def t(key: str) -> str:
        if missing is not None and key not in catalogue:
            missing.add(key)
        return catalogue.get(key) or MESSAGES["en"].get(key) or key

    return t
