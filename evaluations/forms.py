"""Input shape for 评诺's internal pages. The rules (windows, states, who) are the services'.

Every form on the evaluation page carries its own prefix, so that the many forms drawn on one
page never share an HTML id (two "version" or "deadline" fields, say).
"""
from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import Column, Layout, Row
from django import forms

from commitments.forms import STALE_PAGE, TargetsField
from orgs.fields import OrgPickerField
from orgs.forms import DATE_INPUT_FORMATS, DateInput, form_helper

from .models import Fulfilment, Grade, Rating, RectificationStatus
from .services import MAX_VOTES, TEXT_MAX

DATE_INVALID = "请按“2010-10-31”或“2010年10月31日”的格式填写日期。"


def _date(label: str, **kw) -> forms.DateField:
    return forms.DateField(label=label, widget=DateInput, input_formats=DATE_INPUT_FORMATS,
                           error_messages={"required": f"请填写{label}。", "invalid": DATE_INVALID}, **kw)


def _text(label: str, rows: int = 3, max_length: int = TEXT_MAX, required: bool = True, **kw) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=required,
                           widget=forms.Textarea(attrs={"rows": rows}),
                           error_messages={"required": f"请填写{label}。",
                                           "max_length": f"{label}不能超过{max_length}个字。"}, **kw)


def _version() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, error_messages={"required": STALE_PAGE,
                                                                        "invalid": STALE_PAGE})


def _votes(label: str, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=MAX_VOTES, required=required,
                              error_messages={"required": f"请填写{label}。", "invalid": "请填写整数。",
                                              "min_value": f"请填写0至{MAX_VOTES}之间的整数。",
                                              "max_value": f"请填写0至{MAX_VOTES}之间的整数。"})


class LeaderCommentForm(forms.Form):
    """领导点评: a rating on the 满意/基本满意/不满意 scale and the comment."""

    rating = forms.ChoiceField(label="评价", choices=Rating.choices, widget=forms.RadioSelect,
                               error_messages={"required": "请选择评价。", "invalid_choice": "请选择评价。"})
    comment = _text("点评意见", rows=4)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "comment")
        super().__init__(*args, **kwargs)
        self.fields["comment"].widget.attrs["placeholder"] = "对承诺履行情况的评价和希望"
        self.helper = form_helper(Layout(InlineRadios("rating"), "comment"))


class TallyForm(forms.Form):
    """民主测评: the paper ballots counted at one meeting, with the attendance they came from."""

    held_on = _date("测评日期")
    place = forms.CharField(label="测评地点", max_length=100,
                            error_messages={"required": "请填写测评地点。"})
    expected = _votes("应到人数")
    mass_representatives = _votes("其中群众代表人数", required=False)
    attendees = _votes("到会人数")
    satisfied = _votes("满意", required=False)
    basic = _votes("基本满意", required=False)
    unsatisfied = _votes("不满意", required=False)

    def __init__(self, *args, member_count: int | None = None, **kwargs):
        kwargs.setdefault("prefix", "tally")
        super().__init__(*args, **kwargs)
        self.fields["place"].widget.attrs["placeholder"] = "如 党员大会、社区群众座谈会"
        for name in ("satisfied", "basic", "unsatisfied", "mass_representatives"):
            self.fields[name].widget.attrs["placeholder"] = "0"
        if member_count is not None:
            self.fields["expected"].help_text = (f"该组织现有党员{member_count}人；应到人数不能超过党员人数与"
                                                 f"群众代表人数之和")
        self.fields["mass_representatives"].help_text = "参加测评的党外群众代表，没有填0"
        self.fields["attendees"].help_text = "三项票数之和不能超过到会人数"
        self.helper = form_helper(Layout(
            Row(Column("held_on", css_class="col-sm-6"), Column("place", css_class="col-sm-6")),
            Row(Column("expected", css_class="col-6 col-md-4"),
                Column("mass_representatives", css_class="col-6 col-md-4"),
                Column("attendees", css_class="col-6 col-md-4")),
            Row(Column("satisfied", css_class="col-6 col-md-4"), Column("basic", css_class="col-6 col-md-4"),
                Column("unsatisfied", css_class="col-6 col-md-4")),
        ))


class TallyVoidForm(forms.Form):
    reason = forms.CharField(label="作废原因", max_length=200,
                             error_messages={"required": "请填写作废原因。",
                                             "max_length": "作废原因不能超过200个字。"})


class AssessmentForm(forms.Form):
    """组织考核: finding, grade and reason, against the evaluation's version (compare-and-set)."""

    version = _version()
    result = forms.ChoiceField(label="考核结果", choices=Fulfilment.choices, widget=forms.RadioSelect,
                               error_messages={"required": "请选择考核结果。", "invalid_choice": "请选择考核结果。"})
    grade = forms.ChoiceField(label="等次", choices=[("", "请选择")] + Grade.choices,
                              error_messages={"required": "请选择等次。", "invalid_choice": "请选择等次。"})
    reason = _text("考核意见", rows=3)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "assess")
        super().__init__(*args, **kwargs)
        self.fields["grade"].help_text = "“未兑现”的不能评为优秀或良好，“已兑现”的不能评为较差"
        self.helper = form_helper(Layout(
            Row(Column(InlineRadios("result"), css_class="col-md-7"), Column("grade", css_class="col-md-5")),
            "reason", "version"))


class ReleaseForm(forms.Form):
    version = _version()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "release")
        super().__init__(*args, **kwargs)


class ReleaseTargetsField(TargetsField):
    default_error_messages = {"required": "请先勾选要公布评议结果的承诺。", "invalid": STALE_PAGE}


class BulkReleaseForm(forms.Form):
    """Checked rows of the evaluation list, each "<commitment id>:<evaluation version>"."""

    MAX_TARGETS = 200
    targets = ReleaseTargetsField()

    def clean_targets(self):
        targets = self.cleaned_data["targets"]
        if len(targets) > self.MAX_TARGETS:
            raise forms.ValidationError(f"一次最多公布{self.MAX_TARGETS}条。")
        return targets


class RectificationOrderForm(forms.Form):
    """责令整改: why, what must be done, and by when."""

    grounds = _text("整改原因", rows=2)
    required_actions = _text("整改要求", rows=3)
    deadline = _date("整改期限")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "rectify")
        super().__init__(*args, **kwargs)
        self.fields["required_actions"].widget.attrs["placeholder"] = "需要整改的事项、措施和要求"
        self.helper = form_helper(Layout("grounds", "required_actions",
                                         Row(Column("deadline", css_class="col-md-6"))))


class RespondForm(forms.Form):
    version = _version()
    response = _text("整改情况", rows=3)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "respond")
        super().__init__(*args, **kwargs)
        self.fields["response"].widget.attrs["placeholder"] = "已采取的整改措施和取得的效果"
        self.helper = form_helper(Layout("response", "version"))


class ExtendForm(forms.Form):
    version = _version()
    deadline = _date("新的整改期限")
    opinion = _text("延期说明", rows=2)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "extend")
        super().__init__(*args, **kwargs)
        self.helper = form_helper(Layout(Row(Column("deadline", css_class="col-md-6")), "opinion", "version"))


class CloseForm(forms.Form):
    version = _version()
    opinion = _text("验收意见", rows=2)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)
        self.helper = form_helper(Layout("opinion", "version"))


KIND_CHOICES = [("", "全部"), ("org", "党组织承诺"), ("member", "党员承诺")]


class EvaluationFilterForm(forms.Form):
    """The evaluation list's filters; an organisation outside the user's reach is a 404 (the view's)."""

    # A short select plus a name/code box (orgs/fields.py): a city is 1,000+ organisations.
    org = OrgPickerField(label="党组织", required=False, empty_label="全部",
                         help_text="承诺所属的党组织（党员承诺按所在党支部）及其下级组织")
    kind = forms.ChoiceField(label="类型", choices=KIND_CHOICES, required=False)
    state = forms.ChoiceField(label="评诺状态", required=False)
    q = forms.CharField(label="名称", required=False, max_length=50)
    campaign = forms.TypedChoiceField(label="活动年度", coerce=int, required=False)

    def __init__(self, *args, organisations, states, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = organisations
        self.fields["state"].choices = [("", "全部")] + states
        self.fields["campaign"].choices = [(c.year, c.name) for c in campaigns]
        self.fields["q"].widget.attrs.update(placeholder="党组织或党员姓名", type="search")
        for name in ("kind", "state", "campaign"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["q"].widget.attrs["class"] = "form-control"


ORDER_STATUS_CHOICES = [("", "全部")] + RectificationStatus.choices


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(label="状态", choices=ORDER_STATUS_CHOICES, required=False)
    overdue = forms.BooleanField(label="只看逾期", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].widget.attrs["class"] = "form-select"
        self.fields["overdue"].widget.attrs["class"] = "form-check-input"
