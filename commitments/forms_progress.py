"""Input shape for 践诺 progress entries; content checks of the files are the service's job."""
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.conf import settings

from orgs.forms import DATE_INPUT_FORMATS, DateInput, form_helper

from .models import ProgressVisibility

VISIBILITY_HELP = ("仅工作人员：本组织和上级党组织的工作人员可见；本组织党员：另有本组织党员在“本支部践诺情况”中可见；"
                   "公开：另在公示栏向群众公开，连同佐证材料。")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class ProgressEntryForm(forms.Form):
    item = forms.TypedChoiceField(label="承诺事项", coerce=int, error_messages={
        "required": "请选择承诺事项。", "invalid_choice": "请选择本承诺已公开的承诺事项。"})
    happened_on = forms.DateField(label="日期", widget=DateInput, input_formats=DATE_INPUT_FORMATS,
                                  error_messages={"required": "请填写日期。",
                                                  "invalid": "请按“2010-10-31”或“2010年10月31日”的格式填写日期。"})
    done = forms.CharField(label="做了什么", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                           error_messages={"required": "请填写做了什么。"})
    effect = forms.CharField(label="实际效果", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000)
    completes_item = forms.BooleanField(label="该事项已全部完成", required=False,
                                        help_text="勾选后该事项状态为“已完成”。")
    # 四（四）: 在一定范围内进行公示. Within the organisation by default: its members supervise it.
    visibility = forms.ChoiceField(label="公示范围", choices=ProgressVisibility.choices,
                                   initial=ProgressVisibility.MEMBERS, widget=forms.RadioSelect,
                                   help_text=VISIBILITY_HELP, error_messages={"required": "请选择公示范围。"})
    files = MultipleFileField(label="佐证材料", required=False)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", "请选择")] + [
            (row.id, f"{row.number}. {row.content[:40]}") for row in items]
        mb = settings.EVIDENCE_MAX_BYTES // (1024 * 1024)
        self.fields["files"].help_text = (f"照片或文档，支持JPEG、PNG、PDF格式，每个不超过{mb}MB，"
                                          f"最多{settings.EVIDENCE_MAX_FILES}个。")
        self.helper = form_helper(Layout(
            "item",
            Row(Column("happened_on", css_class="col-md-4"), Column("visibility", css_class="col-md-8")),
            "done", "effect", "completes_item", Field("files"),
        ))
