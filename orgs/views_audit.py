"""审计日志: the audit administrator's read-only view of the trail (search, one row, export).

Only holders of Role.AUDITOR see it (everyone else gets 404). An auditor reads the rows of the
organisations in the subtrees of their grants; rows with no organisation (logins, failed logins)
only when a grant is on a root of the tree. Nothing here changes data except the audit row that
records an export.
"""
import json

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.pages import paginate
from core.templatetags.cn import cn_datetime
from core.xlsx import Column, write_xlsx, xlsx_response

from . import audit
from .forms_audit import RESULT_LABELS, AuditSearchForm, action_label, object_type_labels
from .models import PATH_SEP, PATH_STEP, AuditEvent, Organisation, Role, path_segment
from .permissions import scope_for
from .selectors import organisation_list_for

ROOT_PATH_LENGTH = len(path_segment(0))
assert ROOT_PATH_LENGTH == PATH_STEP + len(PATH_SEP)


def can_view_audit(user) -> bool:
    return scope_for(user).has_any({Role.AUDITOR})


def visible_events(user) -> QuerySet[AuditEvent]:
    """The audit rows `user` may read as an auditor (none for anyone else)."""
    roots = scope_for(user).roots({Role.AUDITOR})
    if not roots:
        return AuditEvent.objects.none()
    reach = Q()
    for path in roots:
        reach |= Q(organisation__path__startswith=path)
    if any(len(path) == ROOT_PATH_LENGTH for path in roots):
        reach |= Q(organisation__isnull=True)
    return AuditEvent.objects.filter(reach)


def _search(request):
    if not can_view_audit(request.user):
        raise Http404
    form = AuditSearchForm(request.GET or None,
                           organisations=organisation_list_for(request.user, roles={Role.AUDITOR},
                                                               include_inactive=True))
    qs = visible_events(request.user)
    if form.is_bound:
        if not form.is_valid():
            if form.has_error("org", "invalid_choice"):
                raise Http404  # an organisation outside the auditor's reach (a name matching none: field error)
            qs = qs.none()
        else:
            qs = form.filter(qs)
    return form, qs.order_by("-id")


@require_GET
def audit_list(request):
    """Searchable trail, newest first."""
    form, qs = _search(request)
    page = paginate(request, qs.select_related("organisation"))
    for event in page:
        event.action_label = action_label(event.action)
        event.result_label = RESULT_LABELS.get(event.result, event.result)
    return render(request, "orgs/audit_list.html", {"form": form, "page": page})


@require_GET
def audit_detail(request, pk):
    """One row with everything it holds, its hashes, and whether its hash still matches."""
    if not can_view_audit(request.user):
        raise Http404
    event = get_object_or_404(visible_events(request.user).select_related("organisation"), pk=pk)
    roles = []
    if event.role:
        grants = [part.partition("@") for part in event.role.split(",")]
        names = dict(Organisation.objects.filter(pk__in=[int(g[2]) for g in grants if g[2].isdigit()])
                     .values_list("pk", "name"))
        labels = dict(Role.choices)
        roles = [f"{labels.get(role, role)}（{names.get(int(org), org) if org.isdigit() else org}）"
                 for role, _, org in grants]
    return render(request, "orgs/audit_detail.html", {
        "event": event,
        "action_label": action_label(event.action),
        "result_label": RESULT_LABELS.get(event.result, event.result),
        "object_type_label": object_type_labels().get(event.object_type, event.object_type),
        "roles": roles,
        "detail_text": json.dumps(event.detail, ensure_ascii=False, indent=2, sort_keys=True),
        "hash_ok": audit.row_hash(event.prev_hash, audit.content_of(event)) == event.row_hash,
        "trail": [("审计日志", reverse("orgs:audit_list"))],
        "current": f"第{event.pk}号记录",
    })


COLUMNS = [
    Column("编号", 10, "int"), Column("时间", 18, "datetime"), Column("操作人", 20), Column("角色", 24),
    Column("党组织", 24), Column("客户端地址", 16), Column("操作", 16), Column("操作代码", 22),
    Column("对象类型", 14), Column("对象编号", 10), Column("对象", 24), Column("结果", 8),
    Column("详情", 50, wrap=True), Column("前一条校验值", 20), Column("校验值", 20),
]


@require_GET
def audit_export(request):
    """The filtered rows as .xlsx (streamed to a temporary file); the export is itself audited."""
    form, qs = _search(request)
    types = object_type_labels()
    counted = {"rows": 0}

    def rows():
        for e in qs.select_related("organisation").iterator(chunk_size=2000):
            counted["rows"] += 1
            yield [e.pk, e.created_at, e.actor_name, e.role, e.organisation.name if e.organisation else "",
                   e.client_ip or "", action_label(e.action), e.action, types.get(e.object_type, e.object_type),
                   e.object_id, e.object_repr, RESULT_LABELS.get(e.result, e.result),
                   json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else "",
                   e.prev_hash, e.row_hash]

    filters = form.summary() if form.is_bound and form.is_valid() else {}
    now = timezone.now()
    with transaction.atomic():
        handle = write_xlsx(title="审计日志", subtitle=f"导出时间：{cn_datetime(now)}；导出人：{request.user.get_username()}",
                            columns=COLUMNS, rows=rows(), sheet_name="审计日志")
        audit.record(actor=request.user, action="audit.export", organisation=_export_org(request.user, form),
                     detail={"filters": filters, "rows": counted["rows"]})
    return xlsx_response(handle, f"审计日志{timezone.localdate(now):%Y%m%d}.xlsx")


def _export_org(user, form):
    """The export's row belongs to the filtered organisation, else the auditor's top one."""
    if form.is_bound and form.is_valid() and form.cleaned_data.get("org"):
        return form.cleaned_data["org"]
    roots = scope_for(user).roots({Role.AUDITOR})
    return Organisation.objects.filter(path=roots[0]).first() if roots else None
