"""Input shape and field errors for campaigns, drafting and exemptions."""
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms

from orgs.forms import DATE_INPUT_FORMATS, DateInput, form_helper
from orgs.models import OrgKind

from .models import Campaign, Exemption, PublishChannel

# A hidden field that no longer matches what the server holds (a version, a signed list).
STALE_PAGE = "页面已过期，请刷新页面后重试。"


class TargetsField(forms.Field):
    """Checked queue rows, each "<commitment id>:<version>" (the version for compare-and-set)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "请先勾选要审定通过的承诺。",
        "invalid": STALE_PAGE,
    }

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        targets, seen = [], set()
        for raw in value:
            pk, sep, version = str(raw).partition(":")
            if not sep or not pk.isdigit() or not version.isdigit():
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            if int(pk) not in seen:
                seen.add(int(pk))
                targets.append((int(pk), int(version)))
        return targets



def _date_field(label: str, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput, input_formats=DATE_INPUT_FORMATS,
                           help_text=help_text,
                           error_messages={"invalid": f"请按“2010-10-31”或“2010年10月31日”的格式填写{label}。"})


class CampaignForm(forms.ModelForm):
    pledge_deadline = _date_field("定诺截止日期")
    publish_deadline = _date_field("亮诺截止日期", help_text="指导意见要求10月底前完成公开承诺")
    evaluation_deadline = _date_field("评诺截止日期", help_text="也是群众评议的结束日期")
    evaluation_opens = _date_field("群众评议开始日期", required=False,
                                   help_text="留空则为亮诺截止日期的次日")
    committing_kinds = forms.MultipleChoiceField(
        label="应作出承诺的党组织类型", choices=OrgKind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="六（三）：公开承诺要在基层党组织和党员中全面覆盖。党组不是基层党组织，默认不选；临时党支部默认需要承诺。"
                  "一项都不选则保持原设置。")
    EVALUATION_NUMBERS = ("weight_assessment", "weight_public", "weight_leader", "satisfaction_threshold")

    class Meta:
        model = Campaign
        fields = ["name", "year", "pledge_deadline", "publish_deadline", "evaluation_deadline",
                  "leader_min_items", "is_current", "evaluation_opens", "weight_assessment", "weight_public",
                  "weight_leader", "satisfaction_threshold", "committing_kinds", "exemption_approver_depth"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = "如 2010年创先争优公开承诺"
        for name in self.EVALUATION_NUMBERS:
            # Left empty, a setting keeps its current value (the model's default for a new year).
            self.fields[name].required = False
            self.fields[name].widget.attrs.update(min=0, max=100)
        self.fields["weight_leader"].help_text = "组织考核、群众评议、领导点评三项权重之和须为100%"
        self.helper = form_helper(Layout(
            Row(Column("name", css_class="col-md-8"), Column("year", css_class="col-md-4")),
            Row(Column("pledge_deadline", css_class="col-md-4"), Column("publish_deadline", css_class="col-md-4"),
                Column("evaluation_deadline", css_class="col-md-4")),
            Row(Column("leader_min_items", css_class="col-md-6"), Column("is_current", css_class="col-md-6")),
            Fieldset("评诺设置",
                     Row(Column("evaluation_opens", css_class="col-md-6"),
                         Column("satisfaction_threshold", css_class="col-md-6")),
                     Row(Column("weight_assessment", css_class="col-md-4"),
                         Column("weight_public", css_class="col-md-4"),
                         Column("weight_leader", css_class="col-md-4")),
                     css_class="border-top pt-3 mt-2"),
            Fieldset("覆盖范围（六（三）确保全面覆盖）",
                     Row(Column("committing_kinds", css_class="col-md-6"),
                         Column("exemption_approver_depth", css_class="col-md-6")),
                     css_class="border-top pt-3 mt-2"),
        ))

    def clean(self):
        cleaned = super().clean()
        for name in self.EVALUATION_NUMBERS:
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = getattr(self.instance, name)
        if not cleaned.get("committing_kinds"):
            cleaned["committing_kinds"] = self.instance.committing_kinds
        else:
            cleaned["committing_kinds"] = [k for k in OrgKind.values if k in cleaned["committing_kinds"]]
        return cleaned

    def validate_constraints(self):
        # "Only one current campaign" is kept by the service, which unmarks the previous one
        # in the same transaction; the form would refuse every new current year.
        return


class DraftForm(forms.Form):
    """The goal of a commitment; the items come in ItemFormSet."""

    goal = forms.CharField(label="目标", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, goal_label: str = "目标", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].label = goal_label
        self.fields["goal"].widget.attrs["placeholder"] = (
            "如：争当学习实践科学发展观的排头兵" if goal_label == "争当目标" else "如：创建“五个好”先进党支部")
        self.helper = form_helper()


class ItemForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    content = forms.CharField(label="承诺内容", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    measures = forms.CharField(label="措施", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    deadline = _date_field("完成时限")
    responsible = forms.CharField(label="履行责任人", max_length=100, required=False)

    def __init__(self, *args, member_pledge: bool = False, measures_label: str = "措施", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measures"].label = measures_label
        if member_pledge:
            del self.fields["responsible"]
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs["class"] = "form-control"
                # Beside the field, the message names what to fill in (the label is per kind).
                field.error_messages["required"] = f"请填写{field.label}。"


class BaseItemFormSet(forms.BaseFormSet):
    def __init__(self, *args, member_pledge: bool = False, measures_label: str = "措施", **kwargs):
        self.member_pledge, self.measures_label = member_pledge, measures_label
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def get_form_kwargs(self, index):
        return {"member_pledge": self.member_pledge, "measures_label": self.measures_label}

    @property
    def empty_form(self):
        form = self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), empty_permitted=True,
                         use_required_attribute=False, member_pledge=self.member_pledge,
                         measures_label=self.measures_label, renderer=self.renderer)
        self.add_fields(form, None)
        return form

    def items(self) -> list[dict]:
        """The kept rows in order, as the draft service takes them."""
        rows = []
        for form in self.forms:
            if not form.has_changed() and not form.cleaned_data.get("id"):
                continue
            if self.can_delete and form.cleaned_data.get("DELETE"):
                continue
            rows.append({k: form.cleaned_data.get(k) for k in ("id", "content", "measures", "deadline",
                                                               "responsible")})
        return rows


ItemFormSet = forms.formset_factory(ItemForm, formset=BaseItemFormSet, extra=1, can_delete=True,
                                    max_num=30, validate_max=True)


class StartPledgeForm(forms.Form):
    is_oral = forms.BooleanField(required=False)


class SendBackForm(forms.Form):
    """The member sends a pledge drafted for them back, saying what to change (四（一）自愿)."""

    version = forms.IntegerField(widget=forms.HiddenInput,
                                 error_messages={"required": "页面已过期，请刷新后重试。",
                                                 "invalid": "页面已过期，请刷新后重试。"})
    note = forms.CharField(label="需要修改的地方", max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
                           error_messages={"required": "请写明需要修改的地方。"})


class ExemptionForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=Exemption.Kind.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="如：长期外出学习、因病住院、援藏援疆等")
    makeup_due = _date_field("补课期限", required=False, help_text="延期承诺必填：回来后补作承诺的期限")
    # 特殊情况免于承诺 is proposed here and takes effect once the 机关党组织 above approves it.
    KIND_LABELS = {Exemption.Kind.EXEMPT: "特殊情况免于承诺（报上级党组织审核认同）",
                   Exemption.Kind.DEFER: "延期承诺（做好记录，及时补课）"}

    def __init__(self, *args, kinds=tuple(Exemption.Kind.values), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, self.KIND_LABELS[k]) for k in Exemption.Kind.values if k in kinds]
        self.helper = form_helper()

    def clean(self):
        data = super().clean()
        if data.get("kind") == Exemption.Kind.DEFER and not data.get("makeup_due"):
            self.add_error("makeup_due", "延期承诺须填写补课期限。")
        return data


class ExemptionDecisionForm(forms.Form):
    """审核认同 of a proposed exemption: approve, or reject with a reason."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label="审核意见", choices=[("approve", "认同"), ("reject", "不予认同")])
    note = forms.CharField(label="说明", max_length=300, required=False)


class OrgExemptionForm(forms.Form):
    """The level above exempts an organisation (e.g. a 临时党支部 dissolved mid-year)."""

    reason = forms.CharField(label="原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="如：临时党支部已于年中撤销、党组织正在组建等")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()


class AddChannelsForm(forms.Form):
    """亮诺 after the fact: channels added to the current publication, e.g. 网络 after a 会议 (四（三）)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    published_on = _date_field("公开日期")
    channels = forms.MultipleChoiceField(label="增加的公开方式", widget=forms.CheckboxSelectMultiple,
                                         error_messages={"required": "请选择要增加的公开方式。"})

    def __init__(self, *args, used=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [c for c in PublishChannel.choices if c[0] not in used]
        self.fields["published_on"].help_text = "按该方式公开之日；增加“网络”的，即公示栏显示的公开日期。"
        self.helper = form_helper()


class PublishForm(forms.Form):
    """亮诺: when and through which channels the approved commitment is made public (四（三）)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    published_on = _date_field("公开日期")
    channels = forms.MultipleChoiceField(label="公开方式", choices=PublishChannel.choices,
                                         widget=forms.CheckboxSelectMultiple,
                                         error_messages={"required": "请至少选择一种公开方式。"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
