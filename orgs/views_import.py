"""Pages of the spreadsheet imports (党员名册, 组织架构): upload, preview (nothing written yet),
confirm, and the template. One view of each, told by its URL which importer it serves
(core.importing.Importer: orgs.roster_import.MEMBER_IMPORTER, orgs.org_import.ORG_IMPORTER).

The plan belongs to the user who uploaded it: anyone else gets a 404 for its token.
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

from core.errors import Conflict
from core.importing import ConflictsUnresolved, Importer, PlanGone
from core.pages import message_errors

from .fields import OrgPickerField
from .forms import form_helper

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_PAGE_SIZE = 50
ERRORS_SHOWN = 200
CONFLICTS_SHOWN = 200


class ImportUploadForm(forms.Form):
    file = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{XLSX}"}))
    target = OrgPickerField(label="导入到", required=False, empty_label="（我管理的全部党组织）",
                            suggest_scope="officer",
                            help_text="表格中的党支部名称只在所选党组织之下查找（各党委下同名的“第一党支部”不会混淆）；"
                                      "选择党支部时，表格可以没有“所在党支部”列")

    def __init__(self, *args, importer: Importer, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label, self.fields["file"].help_text = importer.file_label, importer.file_help
        if importer.targeted:
            self.fields["target"].queryset = organisations
        else:
            del self.fields["target"]
        self.helper = form_helper()


def _require(importer: Importer, user) -> None:
    if not importer.allowed(user):
        raise Http404


def _url(importer: Importer, step: str = "") -> str:
    return f"{importer.url_name}_{step}" if step else importer.url_name


@require_http_methods(["GET", "POST"])
def import_upload(request, *, importer: Importer):
    """Upload a sheet; it is checked and planned, then shown on the preview page."""
    _require(importer, request.user)
    organisations = importer.targets_for(request.user)
    initial = {}
    if importer.targeted:
        wanted = request.GET.get("org") or request.GET.get("branch") or ""
        initial["target"] = importer.initial_target(request.user, wanted, organisations)
    posted = request.method == "POST"
    form = ImportUploadForm(request.POST if posted else None, request.FILES if posted else None,
                            importer=importer, organisations=organisations, initial=initial)
    if posted and form.is_valid():
        try:
            token = importer.prepare(actor=request.user, upload=form.cleaned_data["file"],
                                     target=form.cleaned_data.get("target"))
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect(_url(importer, "preview"), token=token)
    template_url = reverse(_url(importer, "template"))
    if initial.get("target"):
        template_url += f"?org={initial['target']}"
    return render(request, "orgs/import_upload.html", {
        "importer": importer, "form": form, "template_url": template_url, "columns": importer.columns,
        "also_slice": f":{importer.also_shown}", "max_rows": importer.max_rows(),
    })


def _choices_key(token: str) -> str:
    return f"roster-import-choices:{token}"


@require_GET
def import_preview(request, token, *, importer: Importer):
    """What the upload would do: counts, every error with its row and column, and the rows page by page."""
    _require(importer, request.user)
    try:
        stored = importer.plan_for(actor=request.user, token=token)
    except PlanGone as exc:
        return render(request, "orgs/import_preview.html", {"importer": importer, "gone": exc.message})
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    # Choices of a confirm that left conflicts open (read only: a GET writes nothing).
    pending = request.session.get(_choices_key(token)) or {}
    context = _preview_context(request, importer, stored, token,
                               chosen={int(k): v for k, v in pending.get("chosen", {}).items()},
                               for_all=pending.get("for_all", ""))
    context.update(choice_error=pending.get("error", ""), unresolved=pending.get("rows", []))
    return render(request, "orgs/import_preview.html", context)


def _preview_context(request, importer: Importer, stored: dict, token: str, *, chosen: dict, for_all: str) -> dict:
    """The preview page of a stored plan: counts, errors grouped, the conflicts to resolve (with
    what was chosen so far), one page of rows."""
    show = request.GET.get("show", "")
    if show not in importer.filters:
        show = ""
    results = stored["results"]
    if show == "namesake":
        results = [r for r in results if r.get("namesake")]
    elif show:
        results = [r for r in results if r["action"] == show]
    page = Paginator(results, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = stored["counts"]
    filters = [(key, label, n) for key, label in importer.filters.items()
               if (n := counts.get(key, len(stored["results"]) if key == "" else 0))
               or key not in importer.hide_when_empty or key == show]
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
        "importer": importer, "plan": stored, "token": token, "page": page, "show": show, "filters": filters,
        "counts": counts, "errors": stored["errors"][:ERRORS_SHOWN], "error_groups": groups,
        "warning_groups": stored.get("warning_groups") or [],
        # Errors beyond the groups shown (or, for an older plan without groups, beyond the list).
        "more_errors": max(0, len(stored["errors"]) - (ERRORS_SHOWN if groups is None
                                                       else sum(g["count"] for g in groups))),
        "conflicts": conflicts, "more_conflicts": max(0, counts.get("conflict", 0) - len(conflicts)),
        "for_all": for_all, "unresolved": [],
        "can_apply": not stored["errors"] and (counts["create"] or counts["update"] or counts.get("conflict")),
    }


@require_POST
def import_confirm(request, token, *, importer: Importer):
    """Write the previewed sheet in one transaction; any problem writes nothing. Same-name rows
    of a roster to resolve come with one choice each (choice-<row>) or a choice for all of them
    (for_all); without them nothing is written and the preview shows the choices made so far
    and what is missing."""
    _require(importer, request.user)
    chosen = {int(key[7:]): value for key, value in request.POST.items()
              if key.startswith("choice-") and key[7:].isdigit()}
    for_all = request.POST.get("for_all", "")
    try:
        importer.plan_for(actor=request.user, token=token)
        counts = importer.apply(actor=request.user, token=token, choices=chosen, for_all=for_all)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    except ConflictsUnresolved as exc:
        # Nothing written; back to the preview with the choices made so far and what is missing.
        request.session[_choices_key(token)] = {"chosen": {str(k): v for k, v in chosen.items()},
                                                "for_all": for_all, "error": exc.message, "rows": exc.rows}
        return redirect(reverse(_url(importer, "preview"), args=[token]) + "#conflicts")
    except PermissionDenied:
        raise Http404 from None
    except (PlanGone, Conflict) as exc:
        messages.error(request, exc.message)
        return redirect(_url(importer))
    except ValidationError as exc:
        message_errors(request, exc)
        return redirect(_url(importer))
    request.session.pop(_choices_key(token), None)
    messages.success(request, importer.success_message(counts))
    return redirect(importer.success_url(counts))


@require_GET
def import_template(request, *, importer: Importer):
    """The .xlsx template, with the chosen organisation filled into the example."""
    _require(importer, request.user)
    wanted = request.GET.get("org") or request.GET.get("branch") or ""
    response = HttpResponse(importer.template_workbook(actor=request.user, wanted=wanted), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, importer.template_filename)
    return response
