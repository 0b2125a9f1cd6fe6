"""Input shape and field errors for organisations, members and accounts."""
import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from core.dates import DateError, PartialDate, parse_partial_date
from orgs import accounts

from .fields import OrgPickerField
from .models import (SEPARATED_ROLES, DatePrecision, Gender, Member, MemberCategory, MembershipType, MemberStatus,
                     Organisation, OrgKind, Role)
from .selectors import MEMBER_SORTS
from .validators import PHONE_MESSAGE, is_phone, normalise_phone

User = get_user_model()

MONTH_INPUT_FORMATS = ["%Y-%m", "%Y-%m-%d", "%Y年%m月", "%Y.%m", "%Y/%m"]
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y/%m/%d"]


class MonthInput(forms.DateInput):
    """A text box for 年月: browsers' month pickers are missing (Firefox) or follow the browser's
    own language; rosters are typed as 1975-03, 1975.03 or 1975年3月, all accepted."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"placeholder": "如 1975-03 或 1975年3月", "autocomplete": "off",
                                **(attrs or {})}, format="%Y-%m")


class DateInput(forms.DateInput):
    """A text box for dates, accepting 2010-10-31, 2010.10.31, 2010/10/31 and 2010年10月31日."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"placeholder": "如 2010-10-31 或 2010年10月31日", "autocomplete": "off",
                                **(attrs or {})}, format="%Y-%m-%d")


class PartialDateField(forms.CharField):
    """A date to the day or to the month, as written (1998-07-01, 1998年7月1日, 1998.07, 1998年7月):
    read by the same function as the roster import; cleans to a PartialDate."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "placeholder": "如 1998-07-01，或只写到月 1998-07", "autocomplete": "off", "maxlength": "30"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # Shown as the register shows it (1998年7月, 1998年7月1日), which is read back as typed.
        if isinstance(value, datetime.date):
            value = PartialDate(value)
        if isinstance(value, PartialDate):
            return str(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        try:
            return parse_partial_date(text)
        except DateError as exc:
            raise ValidationError(f"{exc}。", code="invalid") from None


class PhoneField(forms.CharField):
    """One phone number written any usual way (138-2345-6789, +86 13823456789, (0756)2234567,
    0756-2234567转801); cleans to its stored form (orgs.validators.normalise_phone)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "如 13800138000 或 0756-2121234",
                                                           "inputmode": "tel", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = normalise_phone(super().to_python(value))
        if text and not is_phone(text):
            raise ValidationError(PHONE_MESSAGE, code="invalid_phone")
        return text


def form_helper(layout: Layout | None = None) -> FormHelper:
    """A crispy helper for a form drawn inside a page's own <form> tag (which carries the CSRF token)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout is not None:
        helper.layout = layout
    return helper


class OrgChoiceField(forms.ModelChoiceField):
    """An organisation select that shows the tree by indenting with the node's depth."""

    def label_from_instance(self, obj: Organisation) -> str:
        return f"{'　' * obj.depth}{obj.name}"


class VersionedForm(forms.Form):
    """Carries the version of the record the user is looking at, for compare-and-set."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class OrganisationForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Organisation
        fields = ["name", "short_name", "kind", "code", "supervision_phone", "sort_order", "is_active"]
        widgets = {"supervision_phone": forms.TextInput(attrs={"placeholder": "如 0756-2121234"})}

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [c for c in OrgKind.choices if c[0] != OrgKind.WORK_COMMITTEE] \
            if creating or (self.instance.parent_id is not None) else OrgKind.choices
        self.fields["code"].required = not creating
        if creating:
            self.fields["code"].help_text = "留空则自动生成"
            del self.fields["is_active"]
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)
        self.helper = form_helper(Layout(
            Row(Column("name", css_class="col-md-8"), Column("short_name", css_class="col-md-4")),
            Row(Column("kind", css_class="col-md-4"), Column("code", css_class="col-md-4"),
                Column("sort_order", css_class="col-md-4")),
            "supervision_phone", *(["is_active"] if "is_active" in self.fields else []), "version",
        ))

    def validate_unique(self):
        # Uniqueness of code is checked here for a field error; the service re-checks in the DB.
        if self.instance.pk is None and not self.cleaned_data.get("code"):
            return
        super().validate_unique()

    def _post_clean(self):
        # The service runs the model's full_clean with the path it computes; skip the form's copy
        # of it for new nodes (they have no path yet), keep it for edits.
        if self.instance.pk is None:
            return
        super()._post_clean()


class OrganisationMoveForm(VersionedForm):
    new_parent = OrgChoiceField(label="新的上级党组织", queryset=Organisation.objects.none())

    def __init__(self, *args, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        if parents is not None:
            self.fields["new_parent"].queryset = parents
        self.helper = form_helper()


class MemberForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    birth_month = forms.DateField(label="出生年月", required=False, widget=MonthInput,
                                  input_formats=MONTH_INPUT_FORMATS,
                                  error_messages={"invalid": "请按“1975-03”或“1975年3月”的格式填写出生年月。"})
    joined_party_on = PartialDateField(label="入党时间", required=False,
                                       help_text="只知道年月的，写到月即可，如 1998-07")
    full_member_on = PartialDateField(label="转正时间", required=False, help_text="预备党员不填")
    phone = PhoneField(label="联系电话", required=False)

    # 入党时间 and 转正时间 arrive as PartialDate; each is stored as a date plus its precision.
    PRECISIONS = {"joined_party_on": "joined_party_precision", "full_member_on": "full_member_precision"}

    class Meta:
        model = Member
        fields = ["name", "gender", "birth_month", "post", "joined_party_on", "membership", "full_member_on",
                  "phone", "category", "status", "ethnicity", "education", "native_place", "note"]

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        if creating:
            self.fields["branch"] = OrgChoiceField(label="所在党支部", queryset=branches)
            self.fields["status"].choices = [(MemberStatus.ACTIVE, MemberStatus.ACTIVE.label)]
        else:
            self.initial.setdefault("version", self.instance.version)
            for name, precision in self.PRECISIONS.items():
                if getattr(self.instance, name):
                    self.initial[name] = PartialDate(getattr(self.instance, name), getattr(self.instance, precision))
        self.fields["gender"].choices = [("", "请选择")] + list(Gender.choices)
        # Not posted (an older page, a script): the record keeps its type, a new one is 正式党员.
        self.fields["membership"].required = False
        self.fields["category"].help_text = "年老体弱、文化程度低和离退休党员可以口头承诺"
        self.fields["education"].widget.attrs["placeholder"] = "如 大学本科"
        self.fields["ethnicity"].widget.attrs["placeholder"] = "如 汉族"
        self.fields["native_place"].widget.attrs["placeholder"] = "如 广东珠海"
        self.helper = form_helper(Layout(
            *(["branch"] if creating else []),
            Row(Column("name", css_class="col-md-4"), Column("gender", css_class="col-md-4"),
                Column("birth_month", css_class="col-md-4")),
            Row(Column("post", css_class="col-md-8"), Column("joined_party_on", css_class="col-md-4")),
            Row(Column("membership", css_class="col-md-4"), Column("full_member_on", css_class="col-md-4"),
                Column("phone", css_class="col-md-4")),
            Row(Column("category", css_class="col-md-8"), Column("status", css_class="col-md-4")),
            Row(Column("ethnicity", css_class="col-md-4"), Column("education", css_class="col-md-4"),
                Column("native_place", css_class="col-md-4")),
            Field("note"),
            "version",
        ))

    def clean(self):
        data = super().clean()
        if not data.get("membership"):
            data["membership"] = self.instance.membership or MembershipType.FULL
        for name, precision in self.PRECISIONS.items():
            value = data.get(name)
            if isinstance(value, PartialDate):
                data[name], data[precision] = value.date, value.precision
            elif name in data:
                data[precision] = DatePrecision.DAY
        return data

    def _post_clean(self):
        # Model-level checks (dates, branch kind) run in the service with the real branch; run
        # them here too so that the error sits next to the field.
        if self.instance.pk is None and "branch" in self.cleaned_data:
            self.instance.branch = self.cleaned_data["branch"]
        for precision in self.PRECISIONS.values():
            if precision in self.cleaned_data:
                setattr(self.instance, precision, self.cleaned_data[precision])
        super()._post_clean()


class MemberSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "姓名、电话或职务"}))
    org = OrgPickerField(label="党组织", required=False, empty_label="全部党组织")
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in MEMBER_SORTS], widget=forms.HiddenInput)
    category = forms.ChoiceField(label="党员类别", required=False,
                                 choices=[("", "全部类别")] + list(MemberCategory.choices))
    membership = forms.ChoiceField(label="党员类型", required=False,
                                   choices=[("", "全部")] + list(MembershipType.choices))
    status = forms.ChoiceField(label="状态", required=False,
                               choices=[("", "全部状态")] + list(MemberStatus.choices))
    gender = forms.ChoiceField(label="性别", required=False, choices=[("", "全部")] + list(Gender.choices))
    has_account = forms.ChoiceField(label="登录账号", required=False,
                                    choices=[("", "全部"), ("yes", "已开通"), ("no", "未开通")])
    incomplete = forms.BooleanField(label="只看信息待补全", required=False)

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A short select plus a name/code box (orgs/fields.py), whatever the size of the tree.
        self.org_as_select = True
        if organisations is not None:
            self.fields["org"].queryset = organisations
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            elif isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs["class"] = "form-control"


class MemberTransferForm(VersionedForm):
    to_branch = OrgChoiceField(label="转入党支部", queryset=Organisation.objects.none())
    transferred_on = forms.DateField(label="转接日期", widget=DateInput, input_formats=DATE_INPUT_FORMATS,
                                     error_messages={"invalid": "请按“2010-10-31”的格式填写转接日期。"})
    reason = forms.CharField(label="转接原因", max_length=200, required=False)

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branches is not None:
            self.fields["to_branch"].queryset = branches
        self.helper = form_helper()


class UserCreateForm(forms.Form):
    username = forms.RegexField(label="用户名", max_length=150, regex=r"^[A-Za-z0-9_.@+-]+$",
                                error_messages={"invalid": "用户名只能包含字母、数字和 _ . @ + - 符号。"})
    full_name = forms.CharField(label="姓名", max_length=150)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput(render_value=False), required=False,
                               help_text="至少8位，包含大写字母、小写字母、数字和符号中的至少3类；"
                                         "本人首次登录时须修改。开通系统管理员、安全管理员、审计管理员账号"
                                         "不填：须经另一类管理员审批，由审批人交付一次性设置密码链接")
    organisation = OrgChoiceField(label="所在党组织", queryset=Organisation.objects.none())
    # No role by default: opening an account as 系统管理员 must be a choice, not what was left.
    role = forms.ChoiceField(label="角色", choices=[("", "请选择角色")] + Role.choices,
                             error_messages={"required": "请选择角色。"})
    member = forms.ModelChoiceField(label="关联党员档案", queryset=Member.objects.none(), required=False,
                                    empty_label="不关联党员档案",
                                    help_text="党员本人登录填写承诺时需要关联")

    def __init__(self, *args, organisations=None, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["organisation"].queryset = organisations
        if members is not None:
            self.fields["member"].queryset = members
            self.fields["member"].label_from_instance = lambda m: f"{m.name}（{m.branch.name}）"
        self.helper = form_helper()

    @property
    def needs_approval(self) -> bool:
        """An account with one of the three administrator roles is opened through a request."""
        return self.cleaned_data.get("role") in SEPARATED_ROLES

    def clean(self):
        data = super().clean()
        if self.needs_approval:
            if data.get("member"):
                self.add_error("member", "管理员账号不关联党员档案。")
        elif not data.get("password"):
            self.add_error("password", "请填写初始密码。")
        return data


class RoleGrantForm(forms.Form):
    organisation = OrgChoiceField(label="党组织", queryset=Organisation.objects.none())
    role = forms.ChoiceField(label="角色", choices=[("", "请选择角色")] + Role.choices,
                             error_messages={"required": "请选择角色。"})

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["organisation"].queryset = organisations
        self.helper = form_helper()


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(label="新密码", widget=forms.PasswordInput)
    password2 = forms.CharField(label="再次输入新密码", widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "两次输入的密码不一致。")
        return data


class ChangeOwnPasswordForm(SetPasswordForm):
    old_password = forms.CharField(label="原密码", widget=forms.PasswordInput)
    field_order = ["old_password", "password1", "password2"]


class LoginForm(AuthenticationForm):
    """The login form with the failed-login lockout (orgs.accounts): a locked username or client
    is refused before the password is checked, even a right one."""

    error_messages = {
        "invalid_login": "用户名或密码不正确，请重新输入。",
        "inactive": "用户名或密码不正确，请重新输入。",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        address = self.request.META.get("REMOTE_ADDR") if self.request is not None else None
        if username and password:
            refusal = accounts.login_refusal(username, address)
            if refusal:
                raise ValidationError(refusal, code="locked")
            try:
                super().clean()
            except ValidationError:
                accounts.login_failed(username, address)
                if accounts.is_locked(accounts.username_key(username)):
                    raise ValidationError(accounts.lockout_message(), code="locked") from None
                raise
            accounts.login_succeeded(username)
        return self.cleaned_data
