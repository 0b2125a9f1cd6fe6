"""Input shape and field errors for 审诺: the queue's filters, one review, a bulk approval.

The rules of a decision (all five criteria to approve, guidance on return) live in
reviews.services; these forms only check that the input has the right shape.
"""
from django import forms
from django.core import signing

from commitments.forms import STALE_PAGE, TargetsField
from commitments.models import CRITERIA, Decision
from commitments.selectors import campaign_list
from orgs.fields import OrgPickerField

from .selectors import KIND_CHOICES


class QueueFilterForm(forms.Form):
    # A short select plus a name/code box: a select of every organisation in a city is 1,000+ options.
    org = OrgPickerField(label="党组织", required=False, empty_label="全部", suggest_scope="review",
                         help_text="承诺所属的党组织（党员承诺按所在党支部）及其下级组织")
    kind = forms.ChoiceField(label="类型", choices=[("", "全部")] + KIND_CHOICES, required=False)
    campaign = forms.TypedChoiceField(label="活动年度", coerce=int, required=False)
    subtree = forms.BooleanField(label="包括下级组织", required=False)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = organisations
        self.fields["campaign"].choices = [(c.year, c.name) for c in campaign_list()]
        for name in ("kind", "campaign"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["subtree"].widget.attrs["class"] = "form-check-input"


class ReviewForm(forms.Form):
    """Five criteria (四（二）), the opinion, and which button was pressed."""

    opinion = forms.CharField(label="审定意见", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="审定通过时写明审定意见；退回修改时写明不符合哪项要求、怎样修改完善")
    version = forms.IntegerField(widget=forms.HiddenInput,
                                 error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE})
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.HiddenInput,
                                 error_messages={"required": "请点击“审定通过”或“退回修改”按钮提交。",
                                                 "invalid_choice": "请点击“审定通过”或“退回修改”按钮提交。"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The criteria come first, in the guidance's order.
        criteria = {key: forms.BooleanField(label=label, required=False) for key, label in CRITERIA}
        self.fields = {**criteria, **self.fields}
        for key in criteria:
            self.fields[key].widget.attrs["class"] = "form-check-input"
        self.fields["opinion"].widget.attrs["class"] = "form-control"

    @property
    def criteria_fields(self):
        return [self[key] for key, _ in CRITERIA]

    @property
    def top_errors(self) -> list[str]:
        """Errors with no visible field of their own: the form's, the stale version, the button."""
        errors = list(self.non_field_errors())
        for name in ("version", "decision"):
            errors += [e for e in self.errors.get(name, []) if e not in errors]
        return errors

    def criteria_data(self) -> dict[str, bool]:
        return {key: self.cleaned_data.get(key, False) for key, _ in CRITERIA}


SHOWN_SALT = "reviews.bulk-shown"


def sign_shown(user, rows) -> str:
    """A tamper-proof note of the rows (id and version) the bulk page listed with their items for `user`."""
    return signing.dumps({"u": user.pk, "t": [[r.commitment.pk, r.commitment.version] for r in rows]},
                         salt=SHOWN_SALT)


class BulkApproveForm(forms.Form):
    targets = TargetsField()
    shown = forms.CharField(widget=forms.HiddenInput, error_messages={"required": STALE_PAGE})
    opinion = forms.CharField(label="审定意见（所选承诺共用）", max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
                              error_messages={"required": "请填写审定意见。"})

    # Only routine pledges the reviewer has read on the bulk page; the reviewer affirms all five criteria.
    MAX_TARGETS = 200

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_targets(self):
        targets = self.cleaned_data["targets"]
        if len(targets) > self.MAX_TARGETS:
            raise forms.ValidationError(f"一次最多批量审定{self.MAX_TARGETS}条。")
        return targets

    def clean_shown(self) -> set[tuple[int, int]]:
        try:
            data = signing.loads(self.cleaned_data["shown"], salt=SHOWN_SALT)
            if data["u"] != getattr(self.user, "pk", None):
                raise ValueError
            return {(int(pk), int(version)) for pk, version in data["t"]}
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise forms.ValidationError(STALE_PAGE) from None
