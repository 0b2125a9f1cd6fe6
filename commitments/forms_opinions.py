"""Input shape and field errors for the suggestion box, recorded opinions and reference items."""
from crispy_forms.layout import Column, Layout, Row
from django import forms

from orgs.forms import DATE_INPUT_FORMATS, DateInput, VersionedForm, form_helper

from .models import Commitment, ReferenceItem, Suggestion
from .services.opinions import (CATEGORIES_BY_AUDIENCE, CONTACT_MAX, CONTENT_MAX, CONTENT_MIN, DATED_CHANNELS,
                                RECORDED_CHANNELS)

HONEYPOT_FIELD = "website"
HONEYPOT_MESSAGE = "提交未被受理。如果您是正常填写，请刷新页面后重新提交。"



class HoneypotFilled(forms.ValidationError):
    """A field no person sees was filled in: the submission came from a robot."""


class PublicSuggestionForm(forms.Form):
    content = forms.CharField(
        label="意见建议", min_length=CONTENT_MIN, max_length=CONTENT_MAX, strip=True,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "请写下您对本组织和党员作出承诺、为群众办实事的意见建议"}),
        error_messages={"required": "请填写意见建议。",
                        "min_length": f"意见建议至少填写{CONTENT_MIN}个字。",
                        "max_length": f"意见建议不能超过{CONTENT_MAX}个字（现有%(show_value)d个字）。"})
    contact = forms.CharField(
        label="联系方式（选填）", max_length=CONTACT_MAX, required=False,
        help_text="如希望我们与您沟通处理情况，请留下电话或电子邮箱；不填写即为匿名。",
        error_messages={"max_length": f"联系方式不能超过{CONTACT_MAX}个字。"})
    # The honeypot: hidden from people (and from screen readers), filled in by form-filling robots.
    website = forms.CharField(label="网址（请勿填写）", required=False)

    def clean(self):
        data = super().clean()
        if self.data.get(HONEYPOT_FIELD):
            raise HoneypotFilled(HONEYPOT_MESSAGE, code="honeypot")
        return data

    @property
    def is_robot(self) -> bool:
        return any(e.code == "honeypot" for e in self.non_field_errors().as_data())


class OpinionRecordForm(forms.Form):
    channel = forms.ChoiceField(label="来源", choices=[(c.value, c.label) for c in RECORDED_CHANNELS])
    held_on = forms.DateField(label="日期", required=False, widget=DateInput, input_formats=DATE_INPUT_FORMATS,
                              help_text="座谈会、调研走访的日期；纸质意见箱填开箱日期",
                              error_messages={"invalid": "请按“2010-03-15”或“2010年3月15日”的格式填写日期。"})
    place = forms.CharField(label="地点", max_length=100, required=False)
    participants = forms.CharField(label="参加人员", max_length=300, required=False,
                                   help_text="如：社区居民代表8人、服务对象代表5人")
    content = forms.CharField(label="意见建议", min_length=CONTENT_MIN, max_length=CONTENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 5}),
                              help_text="一条意见建议登记一次，便于逐条采纳或答复")
    contact = forms.CharField(label="提出人联系方式", max_length=CONTACT_MAX, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(Layout(
            Row(Column("channel", css_class="col-md-4"), Column("held_on", css_class="col-md-4"),
                Column("place", css_class="col-md-4")),
            "participants", "content", "contact",
        ))

    def clean(self):
        data = super().clean()
        # Shown next to the field at once; the service checks the same rule.
        if data.get("channel") in DATED_CHANNELS and not data.get("held_on") and "held_on" not in self.errors:
            self.add_error("held_on", "请填写座谈会或走访的日期。")
        return data


class CommitmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, c: Commitment) -> str:
        if c.member_id:
            return f"{c.member.name}（{c.member.branch.name}）的党员公开承诺 · {c.get_status_display()}"
        return f"{c.organisation.name}的党组织公开承诺 · {c.get_status_display()}"


class AdoptForm(VersionedForm):
    commitment = CommitmentChoiceField(label="采纳到", queryset=Commitment.objects.none(),
                                       empty_label=None)
    content = forms.CharField(label="承诺内容", max_length=CONTENT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label="具体措施", max_length=CONTENT_MAX, required=False,
                               widget=forms.Textarea(attrs={"rows": 3}), help_text="可稍后在承诺书中补充")
    deadline = forms.DateField(label="完成时限", required=False, widget=DateInput, input_formats=DATE_INPUT_FORMATS,
                               help_text="留空则为本年度评诺截止日期",
                               error_messages={"invalid": "请按“2010-10-31”或“2010年10月31日”的格式填写完成时限。"})
    responsible = forms.CharField(label="履行责任人", max_length=100, required=False,
                                  help_text="党员承诺不填")

    def __init__(self, *args, commitments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if commitments is not None:
            self.fields["commitment"].queryset = commitments
        self.helper = form_helper(Layout(
            "commitment", "content", "measures",
            Row(Column("deadline", css_class="col-md-6"), Column("responsible", css_class="col-md-6")),
            "version",
        ))


class DeclineForm(VersionedForm):
    reason = forms.CharField(label="暂不采纳的理由", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "请填写暂不采纳的理由。"},
                             help_text="如：不属于本单位职责范围，已转交有关部门；条件暂不具备，列入明年计划")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class SuggestionFilterForm(forms.Form):
    channel = forms.ChoiceField(label="来源", required=False, choices=[("", "全部来源")] + list(Suggestion.Channel.choices))
    outcome = forms.ChoiceField(label="处理结果", required=False,
                                choices=[("", "全部结果")] + list(Suggestion.Outcome.choices))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"


def _grouped_categories():
    return [(ReferenceItem.Audience(audience).label,
             [(c.value, c.label) for c in categories]) for audience, categories in CATEGORIES_BY_AUDIENCE.items()]


class ReferenceForm(forms.Form):
    audience = forms.ChoiceField(label="适用对象", choices=ReferenceItem.Audience.choices)
    category = forms.ChoiceField(label="类别", choices=_grouped_categories,
                                 help_text="《指导意见》三、承诺内容所列的方面")
    content = forms.CharField(label="承诺内容", max_length=CONTENT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label="措施参考", max_length=CONTENT_MAX, required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(Layout(
            Row(Column("audience", css_class="col-md-4"), Column("category", css_class="col-md-8")),
            "content", "measures", "fingerprint",
        ))

    def clean(self):
        data = super().clean()
        audience, category = data.get("audience"), data.get("category")
        if audience and category and category not in CATEGORIES_BY_AUDIENCE.get(audience, ()):
            self.add_error("category", f"该类别不适用于{ReferenceItem.Audience(audience).label}。")
        return data
