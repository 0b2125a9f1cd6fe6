"""Pages of the roster import and the organisation import: upload, preview (nothing written yet),
confirm, and the template.

The plan belongs to the officer who uploaded it: anyone else gets a 404 for its token.
"""
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import org_import as org_import_module
from . import roster_import, selectors
from core.errors import Conflict
from .fields import OrgPickerField
from .forms import form_helper
from .models import Role
from .permissions import OFFICER_ROLES, scope_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_PAGE_SIZE = 50
ERRORS_SHOWN = 200
CONFLICTS_SHOWN = 200
PREVIEW_FILTERS = {"": "全部", "create": "新增", "update": "更新", "same": "无变化", "conflict": "待确认",
                   "namesake": "同名提示", "error": "有错误"}


class RosterUploadForm(forms.Form):
    file = forms.FileField(label="名册文件", help_text="Excel 工作簿（.xlsx），不超过10MB、20000行",
                           widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{XLSX}"}))
    target = OrgPickerField(label="导入到", required=False, empty_label="（我管理的全部党组织）",
                            suggest_scope="officer",
                            help_text="表格中的党支部名称只在所选党组织之下查找（各党委下同名的“第一党支部”不会混淆）；"
                                      "选择党支部时，表格可以没有“所在党支部”列")

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = organisations
        self.helper = form_helper()


def _require_officer(user) -> None:
    if not scope_for(user).has_any(OFFICER_ROLES):
        raise Http404


@require_http_methods(["GET", "POST"])
def member_import(request):
    """Upload a roster; it is checked and planned, then shown on the preview page."""
    _require_officer(request.user)
    organisations = selectors.organisation_list_for(request.user, roles=OFFICER_ROLES)
    initial = {}
    wanted = request.GET.get("org") or request.GET.get("branch") or ""
    if wanted.isdigit() and organisations.filter(pk=wanted).exists():
        initial["target"] = int(wanted)
    elif len(roots := scope_for(request.user).roots(OFFICER_ROLES)) == 1:
        # One organisation in charge (a branch's staff, a committee's secretary): the obvious target.
        top = organisations.filter(path=roots[0]).first()
        initial["target"] = top.pk if top else None
    form = RosterUploadForm(request.POST if request.method == "POST" else None,
                            request.FILES if request.method == "POST" else None,
                            organisations=organisations, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            token = roster_import.member_import_prepare(
                actor=request.user, upload=form.cleaned_data["file"], target=form.cleaned_data["target"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect("orgs:member_import_preview", token=token)
    template_url = reverse("orgs:member_import_template")
    if initial.get("target"):
        template_url += f"?org={initial['target']}"
    return render(request, "orgs/import_upload.html", {
        "form": form, "template_url": template_url, "columns": roster_import.COLUMNS,
        "max_rows": roster_import.max_rows(),
    })


def _stored_plan(request, token):
    try:
        return roster_import.plan_for(actor=request.user, token=token)
    except (FileNotFoundError, ValueError):
        raise Http404 from None


@require_GET
def member_import_preview(request, token):
    """What the upload would do: counts, every error with its row and column, and the rows page by page."""
    _require_officer(request.user)
    try:
        stored = _stored_plan(request, token)
    except roster_import.PlanGone as exc:
        return render(request, "orgs/import_preview.html", {"gone": exc.message})
    # Choices of a confirm that left conflicts open (read only: a GET writes nothing).
    pending = request.session.get(_choices_key(token)) or {}
    context = _preview_context(request, stored, token, PREVIEW_FILTERS,
                               chosen={int(k): v for k, v in pending.get("chosen", {}).items()},
                               for_all=pending.get("for_all", ""))
    context.update(choice_error=pending.get("error", ""), unresolved=pending.get("rows", []))
    return render(request, "orgs/import_preview.html", context)


def _preview_context(request, stored: dict, token: str, filters_def: dict, *, chosen: dict | None = None,
                     for_all: str = "") -> dict:
    """The preview page of a stored plan (members or organisations): counts, errors grouped, the
    conflicts to resolve (with what was chosen so far), one page of rows."""
    show = request.GET.get("show", "")
    if show not in filters_def:
        show = ""
    results = stored["results"]
    if show == "namesake":
        results = [r for r in results if r.get("namesake")]
    elif show:
        results = [r for r in results if r["action"] == show]
    page = Paginator(results, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = stored["counts"]
    filters = [(key, label, counts.get(key, len(stored["results"]) if key == "" else 0))
               for key, label in filters_def.items()]
    chosen = chosen or {}
    conflicts = []
    for r in stored["results"]:
        if r["action"] != "conflict":
            continue
        if len(conflicts) >= CONFLICTS_SHOWN:
            break
        options = [{**o, "checked": chosen.get(r["row"]) == o["value"]} for o in r["conflict"]["options"]]
        conflicts.append({**r, "options": options})
    groups = stored.get("error_groups")
    return {
        "plan": stored, "token": token, "page": page, "show": show, "filters": filters,
        "counts": counts, "errors": stored["errors"][:ERRORS_SHOWN], "error_groups": groups,
        "warning_groups": stored.get("warning_groups") or [],
        # Errors beyond the groups shown (or, for an older plan without groups, beyond the list).
        "more_errors": max(0, len(stored["errors"]) - (ERRORS_SHOWN if groups is None
                                                       else sum(g["count"] for g in groups))),
        "conflicts": conflicts, "more_conflicts": max(0, counts.get("conflict", 0) - len(conflicts)),
        "for_all": for_all, "unresolved": [],
        "can_apply": not stored["errors"] and (counts["create"] or counts["update"] or counts.get("conflict")),
    }


def _choices_key(token: str) -> str:
    return f"roster-import-choices:{token}"


@require_POST
def member_import_confirm(request, token):
    """Write the previewed roster in one transaction; any problem writes nothing. Same-name rows
    to resolve come with one choice each (choice-<row>) or a choice for all of them (for_all);
    without them nothing is written and the preview shows the choices made so far and what is missing."""
    _require_officer(request.user)
    chosen = {int(key[7:]): value for key, value in request.POST.items()
              if key.startswith("choice-") and key[7:].isdigit()}
    for_all = request.POST.get("for_all", "")
    try:
        _stored_plan(request, token)
        counts = roster_import.member_import_apply(actor=request.user, token=token, choices=chosen,
                                                   for_all=for_all)
    except roster_import.ConflictsUnresolved as exc:
        # Nothing written; back to the preview with the choices made so far and what is missing.
        request.session[_choices_key(token)] = {"chosen": {str(k): v for k, v in chosen.items()},
                                                "for_all": for_all, "error": exc.message, "rows": exc.rows}
        return redirect(reverse("orgs:member_import_preview", args=[token]) + "#conflicts")
    except roster_import.PlanGone as exc:
        messages.error(request, exc.message)
        return redirect("orgs:member_import")
    except PermissionDenied:
        raise Http404 from None
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("orgs:member_import")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("orgs:member_import")
    request.session.pop(_choices_key(token), None)
    messages.success(request, f"名册已导入：新增{counts['created']}名、更新{counts['updated']}名党员"
                              f"{'，' + str(counts['unchanged']) + '名无变化' if counts['unchanged'] else ''}。")
    url = reverse("orgs:member_list")
    if len(counts["branch_ids"]) == 1:
        url += f"?org={counts['branch_ids'][0]}"
    return redirect(url)


@require_GET
def member_import_template(request):
    """The .xlsx template, with the chosen branch filled into the example row."""
    _require_officer(request.user)
    branch_name = ""
    wanted = request.GET.get("org") or request.GET.get("branch") or ""
    if wanted.isdigit():
        branch = selectors.branch_choices_for(request.user).filter(pk=wanted).first()
        branch_name = branch.name if branch else ""
    response = HttpResponse(roster_import.template_workbook(branch_name=branch_name), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "党员名册导入模板.xlsx")
    return response


# --- organisations (组织架构导入): system administrators -------------------------------------

class OrgSheetUploadForm(forms.Form):
    file = forms.FileField(label="组织架构表", help_text="Excel 工作簿（.xlsx），不超过10MB",
                           widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{XLSX}"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


def _require_org_admin(user) -> None:
    if not scope_for(user).has_any({Role.ADMIN}):
        raise Http404


@require_http_methods(["GET", "POST"])
def org_import(request):
    """Upload a sheet of organisations; it is checked and planned, then shown on the preview page."""
    _require_org_admin(request.user)
    form = OrgSheetUploadForm(request.POST if request.method == "POST" else None,
                              request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            token = org_import_module.org_import_prepare(actor=request.user, upload=form.cleaned_data["file"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect("orgs:org_import_preview", token=token)
    return render(request, "orgs/org_import_upload.html", {
        "form": form, "columns": org_import_module.COLUMNS, "max_rows": org_import_module.max_rows(),
    })


@require_GET
def org_import_preview(request, token):
    """What the sheet would do to the tree: counts, every error with its row and column, the rows."""
    _require_org_admin(request.user)
    try:
        stored = roster_import.plan_for(actor=request.user, token=token, kind="orgs")
    except roster_import.PlanGone as exc:
        return render(request, "orgs/org_import_preview.html", {"gone": exc.message})
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    # Organisations have no 同名 filter: same names are told apart by parent, never flagged.
    filters_def = {k: v for k, v in PREVIEW_FILTERS.items() if k != "namesake"}
    return render(request, "orgs/org_import_preview.html", _preview_context(request, stored, token, filters_def))


@require_POST
def org_import_confirm(request, token):
    """Write the previewed sheet in one transaction; any problem writes nothing."""
    _require_org_admin(request.user)
    try:
        counts = org_import_module.org_import_apply(actor=request.user, token=token)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    except PermissionDenied:
        raise Http404 from None
    except (roster_import.PlanGone, Conflict) as exc:
        messages.error(request, exc.message)
        return redirect("orgs:org_import")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("orgs:org_import")
    messages.success(request, f"组织架构已导入：新增{counts['created']}个、更新{counts['updated']}个党组织"
                              f"{'，' + str(counts['unchanged']) + '个无变化' if counts['unchanged'] else ''}。")
    if counts["top_id"]:
        return redirect("orgs:detail", pk=counts["top_id"])
    return redirect("orgs:tree")


@require_GET
def org_import_template(request):
    """The .xlsx template for organisations, with the administrator's top organisation as the example parent."""
    _require_org_admin(request.user)
    top = selectors.organisation_list_for(request.user, roles={Role.ADMIN}).first()
    response = HttpResponse(org_import_module.template_workbook(parent_name=top.name if top else ""),
                            content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "组织架构导入模板.xlsx")
    return response
