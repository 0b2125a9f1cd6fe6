"""The audit viewer's search form, and the Chinese names of the actions it lists."""
import datetime
import ipaddress

from django import forms
from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from .fields import OrgPickerField
from .forms import DATE_INPUT_FORMATS
from .models import Organisation

# Actions written by the services (orgs.audit.record callers), grouped as the select shows them.
# An action missing here is still shown (by its code) and found by the free-text search.
ACTION_GROUPS = [
    ("登录与账号", [
        ("auth.login", "登录"), ("auth.logout", "退出登录"), ("auth.login_failed", "登录失败"),
        ("user.create", "新建账号"), ("user.set_password", "重置密码"), ("user.change_password", "修改本人密码"),
        ("user.activate", "启用账号"), ("user.deactivate", "停用账号"),
        ("role.grant", "授予角色"), ("role.revoke", "撤销角色"),
        ("user.password_reset", "重置密码（发放一次性链接）"), ("user.password_reset_complete", "通过重置链接设置密码"),
        ("admin_request.propose", "提出管理员变更申请"), ("admin_request.approve", "批准管理员变更"),
        ("admin_request.reject", "驳回管理员变更"), ("admin_request.cancel", "撤回管理员变更申请"),
    ]),
    ("组织与党员", [
        ("org.create", "新建党组织"), ("org.update", "修改党组织"), ("org.move", "移动党组织"),
        ("member.create", "登记党员"), ("member.update", "修改党员信息"), ("member.transfer", "组织关系转接"),
        ("member.import", "导入党员名册"), ("member.exempt", "免于承诺"), ("member.defer", "延期承诺"),
        ("member.make_up", "登记补课"), ("member.exemption_revoke", "撤销免诺或延期"),
    ]),
    ("承诺", [
        ("campaign.create", "新建活动年度"), ("campaign.update", "修改活动年度"),
        ("commitment.create", "起草承诺"), ("commitment.edit", "修改承诺"), ("commitment.add_item", "增加承诺事项"),
        ("commitment.submit", "提交审核"), ("commitment.approve", "审核通过"), ("commitment.return", "退回修改"),
        ("commitment.publish", "公开承诺"), ("commitment.revise", "修订承诺"), ("commitment.print", "打印承诺书"),
        ("progress.record", "记录践诺"), ("attachment.download", "下载践诺附件"),
        ("stamped_scan.upload", "上传盖章承诺书"), ("stamped_scan.display", "设置盖章件公示"),
        ("stamped_scan.withdraw", "撤回盖章件"), ("stamped_scan.download", "查看盖章件"),
        ("suggestion.submit", "群众提交意见"), ("suggestion.record", "登记意见"),
        ("suggestion.adopt", "采纳意见"), ("suggestion.decline", "不予采纳"),
        ("reference.create", "新建承诺参考"), ("reference.update", "修改承诺参考"),
        ("reference.publish", "发布承诺参考"), ("reference.withdraw", "撤回承诺参考"),
        ("reference.import_guidance", "导入承诺指引"),
    ]),
    ("评诺", [
        ("evaluation.comment", "评议意见"), ("evaluation.ballot", "群众网上评议"),
        ("evaluation.tally", "录入测评结果"), ("evaluation.tally_void", "作废测评结果"),
        ("evaluation.assess", "考核评定"), ("evaluation.release", "公布评诺结果"),
        ("rectification.issue", "下达整改"), ("rectification.respond", "整改反馈"),
        ("rectification.extend", "延长整改期限"), ("rectification.close", "整改销号"),
    ]),
    ("导出与其他", [
        ("ledger.export", "导出承诺台账"), ("coverage.export", "导出覆盖情况"),
        ("evaluations.results_export", "导出评诺结果"), ("evaluation.awards_export", "导出表彰名单"),
        ("audit.export", "导出审计日志"), ("demo.seed", "生成演示数据"),
    ]),
]
ACTION_LABELS = {code: label for _, group in ACTION_GROUPS for code, label in group}
# "group:N" in the select means every action of group N, by area prefix (auth., user., ...), so
# actions added later in the same areas are included.
GROUP_PREFIXES = {f"group:{n}": sorted({code.split(".")[0] + "." for code, _ in items})
                  for n, (_, items) in enumerate(ACTION_GROUPS)}
RESULT_LABELS = {"success": "成功", "failure": "失败"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def object_type_labels() -> dict[str, str]:
    """orgs.member → 党员: every model of the project's apps, and accounts."""
    labels = {"auth.user": "账号"}
    for app in ("orgs", "commitments", "reviews", "evaluations"):
        for model in apps.get_app_config(app).get_models():
            labels[model._meta.label_lower] = str(model._meta.verbose_name)
    return labels


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditSearchForm(forms.Form):
    date_from = forms.DateField(label="起始日期", required=False, input_formats=DATE_INPUT_FORMATS,
                                widget=_date_widget())
    date_to = forms.DateField(label="截止日期", required=False, input_formats=DATE_INPUT_FORMATS,
                              widget=_date_widget())
    user = forms.CharField(label="操作人", required=False, max_length=150,
                           widget=forms.TextInput(attrs={"placeholder": "姓名或用户名"}))
    action = forms.ChoiceField(label="操作", required=False)
    org = OrgPickerField(label="党组织（含下级）", required=False, empty_label="全部党组织", suggest_scope="audit")
    result = forms.ChoiceField(label="结果", required=False,
                               choices=[("", "全部")] + list(RESULT_LABELS.items()))
    object_type = forms.ChoiceField(label="对象类型", required=False)
    object_id = forms.CharField(label="对象编号", required=False, max_length=40)
    q = forms.CharField(label="关键词", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": "对象、操作人、操作代码或地址"}))

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "全部操作")] + [
            (group, [(f"group:{n}", f"{group}（全部）")] + items) for n, (group, items) in enumerate(ACTION_GROUPS)]
        self.fields["object_type"].choices = [("", "全部类型")] + sorted(
            object_type_labels().items(), key=lambda kv: kv[0])
        # A short select plus a name/code box (orgs/fields.py), whatever the size of the tree.
        self.org_as_select = True
        if organisations is not None:
            self.fields["org"].queryset = organisations
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return data

    def filter(self, qs):
        """Apply the valid filters to a queryset of AuditEvent."""
        data = self.cleaned_data
        if data.get("date_from"):
            qs = qs.filter(created_at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            qs = qs.filter(created_at__lt=_start_of(data["date_to"] + datetime.timedelta(days=1)))
        if data.get("user"):
            # A failed login has no actor; the username tried is in the detail.
            qs = qs.filter(Q(actor_name__icontains=data["user"]) | Q(detail__username__icontains=data["user"]))
        action = data.get("action")
        if action in GROUP_PREFIXES:
            area = Q()
            for prefix in GROUP_PREFIXES[action]:
                area |= Q(action__startswith=prefix)
            qs = qs.filter(area)
        elif action:
            qs = qs.filter(action=action)
        if data.get("org"):
            qs = qs.filter(organisation__path__startswith=data["org"].path)
        if data.get("result"):
            qs = qs.filter(result=data["result"])
        if data.get("object_type"):
            qs = qs.filter(object_type=data["object_type"])
        if data.get("object_id"):
            qs = qs.filter(object_id=data["object_id"].strip())
        q = (data.get("q") or "").strip()
        if q:
            text = (Q(object_repr__icontains=q) | Q(actor_name__icontains=q) | Q(action__icontains=q)
                    | Q(object_id=q) | Q(detail__icontains=q))
            if _is_ip(q):
                text |= Q(client_ip=q)
            qs = qs.filter(text)
        return qs

    def summary(self) -> dict:
        """The filters in use, as plain values (for the export's audit row and subtitle)."""
        out = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            out[name] = value.isoformat() if isinstance(value, datetime.date) else (
                value.pk if isinstance(value, Organisation) else value)
        return out


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
