"""An organisation picker for filter forms that scales to a province (57,000 organisations).

A select of every organisation in scope costs ~0.1 ms of template time per option and is
unusable past a few hundred entries. The picker instead offers a short select — the user's top
organisations and their direct children (and the current choice, wherever it is) — plus a text
box matched against names and codes on the server, within the same scope:

* ``?org=<id>`` works as before (links from other pages, the select); an id outside the scope
  is an ``invalid_choice`` error, which the views answer with a 404 as they always have;
* ``?org_q=<text>`` picks the one organisation whose code or name is the text, else the one
  whose name contains it; none or several give a Chinese error next to the box (code
  ``not_found`` / ``ambiguous``), the filter then being left out;
* with JavaScript (static/js/org-picker.js) the box suggests matches as one types, from
  ``orgs:org_suggest``; the suggestions are "名称（编码）", which the server resolves by code.
"""
import re

from django import forms
from django.db.models import Q, Subquery
from django.forms.utils import flatatt
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .models import Organisation, Role
from .permissions import OFFICER_ROLES, READER_ROLES, SECRETARY_ROLES

# The role sets a picker's suggestions may be drawn from (?scope= of orgs:org_suggest).
SUGGEST_SCOPES = {"read": READER_ROLES, "review": SECRETARY_ROLES, "audit": frozenset({Role.AUDITOR}),
                  "officer": OFFICER_ROLES}
# The select never lists more than this (a top organisation with more children is searched).
SHORTLIST_LIMIT = 300
AMBIGUOUS_SHOWN = 3
QUERY_SUFFIX = "_q"
_NAME_AND_CODE = re.compile(r"^(?P<name>.*)（(?P<code>[^（）]+)）$")


def picker_label(org: Organisation) -> str:
    """How a suggestion is written into the box: resolved back by its code."""
    return f"{org.name}（{org.code}）"


class OrgPickerWidget(forms.Widget):
    """A short select named `name` and a search box named `name_q` (see the module docstring)."""

    def __init__(self, attrs=None, *, empty_label="全部", suggest_scope="read"):
        super().__init__(attrs)
        self.empty_label = empty_label
        self.suggest_scope = suggest_scope
        self.queryset = None
        self.resolved = None   # set by the field's clean(): the organisation chosen
        self.error = ""        # set by the field's clean(): why the text matched nothing or several

    def value_from_datadict(self, data, files, name):
        return (data.get(name) or "", (data.get(name + QUERY_SUFFIX) or "").strip())

    def value_omitted_from_data(self, data, files, name):
        return name not in data and name + QUERY_SUFFIX not in data

    def _shortlist(self, selected_pk) -> list[Organisation]:
        """The shallowest level of the scope and the level below it (a user's top organisations
        and their children; with tops at different depths, a deeper top is found by name), plus
        the current choice. One query."""
        if self.queryset is None:
            return []
        qs = self.queryset
        top_depth = qs.order_by("depth").values("depth")[:1]
        shortlist = qs.filter(depth__lte=Subquery(top_depth) + 1)
        if selected_pk:
            shortlist = qs.filter(Q(pk__in=shortlist.values("pk")) | Q(pk=selected_pk))
        return list(shortlist.order_by("path")[:SHORTLIST_LIMIT])

    def render(self, name, value, attrs=None, renderer=None):
        pk, text = value if isinstance(value, tuple) else (value, "")
        if isinstance(pk, Organisation):
            pk = pk.pk
        if self.resolved is not None:
            pk, text = self.resolved.pk, ""
        try:
            selected_pk = int(pk) if pk not in (None, "") else None
        except (TypeError, ValueError):
            selected_pk = None
        attrs = self.build_attrs(self.attrs, attrs)
        select_id = attrs.get("id") or f"id_{name}"
        text_id = f"{select_id}{QUERY_SUFFIX}"
        shortlist = self._shortlist(selected_pk)
        top_depth = min((o.depth for o in shortlist), default=0)
        select_attrs = {k: v for k, v in attrs.items() if k not in ("id", "class")}
        options = format_html_join("", '<option value="{}"{}>{}{}</option>', (
            (o.pk, mark_safe(" selected") if o.pk == selected_pk else "", "　" * (o.depth - top_depth), o.name)
            for o in shortlist))
        described = f"{text_id}-error" if self.error else f"{text_id}-hint"
        suggest_url = f"{reverse('orgs:org_suggest')}?scope={self.suggest_scope}"
        return format_html(
            '<div class="org-picker">'
            '<select name="{name}" id="{select_id}" class="{select_class}"{select_attrs} data-org-picker-select>'
            '<option value="">{empty}</option>{options}</select>'
            '<label class="visually-hidden" for="{text_id}">按名称或编码查找党组织</label>'
            '<input type="search" name="{text_name}" id="{text_id}" value="{text}" maxlength="100"'
            ' class="form-control mt-1{invalid}" placeholder="或输入名称、编码查找" autocomplete="off"'
            ' list="{text_id}-list" data-org-suggest="{suggest_url}" aria-describedby="{described}"{aria_invalid}>'
            '<datalist id="{text_id}-list"></datalist>'
            '{feedback}'
            '<script src="{script}" defer></script>'
            '</div>',
            name=name, select_id=select_id, select_class="form-select",
            select_attrs=flatatt(select_attrs), empty=self.empty_label, options=options,
            text_id=text_id, text_name=name + QUERY_SUFFIX, text=text,
            invalid=" is-invalid" if self.error else "", suggest_url=suggest_url, described=described,
            aria_invalid=mark_safe(' aria-invalid="true"') if self.error else "",
            feedback=(format_html('<div class="invalid-feedback" id="{}-error">{}</div>', text_id, self.error)
                      if self.error else
                      format_html('<div class="form-text visually-hidden" id="{}-hint">上方的列表只列出上级党组织，'
                                  '其他党组织请在此输入名称的一部分或组织编码</div>', text_id)),
            script=static("js/org-picker.js"),
        )


class OrgPickerField(forms.Field):
    """One organisation of `queryset` (the user's scope), picked by id or by name/code text."""

    widget = OrgPickerWidget
    default_error_messages = {
        "invalid_choice": "请选择有效的党组织。",
        "not_found": "您可查看的党组织中没有名称含“%(text)s”或编码为“%(text)s”的，请检查后重新输入。",
        "ambiguous": "有多个党组织符合“%(text)s”：%(names)s，请输入更完整的名称或组织编码。",
    }

    def __init__(self, *, queryset=None, empty_label="全部", suggest_scope="read", **kwargs):
        kwargs.setdefault("widget", OrgPickerWidget(empty_label=empty_label, suggest_scope=suggest_scope))
        super().__init__(**kwargs)
        self.queryset = queryset

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.queryset = self._queryset.all() if self._queryset is not None else None
        return result

    @property
    def queryset(self):
        return self._queryset

    @queryset.setter
    def queryset(self, queryset):
        self._queryset = queryset
        self.widget.queryset = queryset

    def clean(self, value):
        pk, text = value if isinstance(value, tuple) else (value, "")
        self.widget.resolved, self.widget.error = None, ""
        try:
            if text:
                org = self.resolve(text)
            elif pk in (None, ""):
                org = None
            else:
                org = self._by_id(pk)
        except forms.ValidationError as exc:
            if exc.code != "invalid_choice":
                self.widget.error = exc.messages[0]
            raise
        if org is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        self.widget.resolved = org
        return org

    def _scope(self):
        return self.queryset if self.queryset is not None else Organisation.objects.none()

    def _by_id(self, pk) -> Organisation:
        try:
            return self._scope().get(pk=int(pk))
        except (ValueError, TypeError, Organisation.DoesNotExist):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None

    def resolve(self, text: str) -> Organisation:
        """The one organisation in scope the text names (code, "名称（编码）", exact or partial name)."""
        exact = Q(code__iexact=text) | Q(name=text)
        match = _NAME_AND_CODE.match(text)
        if match:
            exact |= Q(code__iexact=match["code"])
        found = list(self._scope().filter(exact)[:AMBIGUOUS_SHOWN + 1])
        if not found:
            found = list(self._scope().filter(Q(name__icontains=text) | Q(short_name__icontains=text))
                         [:AMBIGUOUS_SHOWN + 1])
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(self.error_messages["not_found"], code="not_found",
                                        params={"text": text})
        names = "、".join(picker_label(o) for o in found[:AMBIGUOUS_SHOWN])
        if len(found) > AMBIGUOUS_SHOWN:
            names += "等"
        raise forms.ValidationError(self.error_messages["ambiguous"], code="ambiguous",
                                    params={"text": text, "names": names})
