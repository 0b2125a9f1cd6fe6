"""Input shape for the stamped paper forms scanned back after 亮诺; the file's content checks and
the rules of public display are the service's (services/stamped.py)."""
from crispy_forms.layout import Layout
from django import forms
from django.conf import settings

from orgs.forms import form_helper

from .models import COPY_LABELS, ScanDisplay, StampedCopy

DISPLAY_HELP = ("只有现行公开版本的“公示”联可以在公示栏显示，同一版本显示的各件（如分页拍摄的照片）采用同一种方式。"
                "选择“代替”时，公示页面以盖章件为主，系统生成的文字内容收在其下方。")
MEMBER_DISPLAY_HELP = "党员公示联上有出生年月、入党时间等，与张贴在党务政务公开栏的纸质公示件相同。"


def _display_field(*, member_pledge: bool) -> forms.ChoiceField:
    return forms.ChoiceField(label="公示栏显示", choices=ScanDisplay.choices, initial=ScanDisplay.NONE,
                             widget=forms.RadioSelect,
                             help_text=DISPLAY_HELP + (MEMBER_DISPLAY_HELP if member_pledge else ""),
                             error_messages={"required": "请选择是否在公示栏显示。",
                                             "invalid_choice": "请选择是否在公示栏显示。"})


class StampedScanUploadForm(forms.Form):
    version = forms.TypedChoiceField(label="版本", coerce=int, error_messages={
        "required": "请选择已公开的版本。", "invalid_choice": "请选择已公开的版本。"})
    copy = forms.ChoiceField(label="联次", widget=forms.RadioSelect, error_messages={
        "required": "请选择扫描的是哪一联。", "invalid_choice": "请选择扫描的是哪一联。"})
    file = forms.FileField(label="扫描件或照片", widget=forms.FileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
                           error_messages={"required": "请选择要上传的扫描件或照片。",
                                           "empty": "所选文件是空文件。"})

    def __init__(self, *args, commitment, versions, **kwargs):
        super().__init__(*args, **kwargs)
        member_pledge = commitment.member_id is not None
        self.fields["version"].choices = [
            (v.pk, f"第{v.number}版" + ("（现行公开版本）" if v.pk == commitment.public_version_id else "（已被修订）"))
            for v in versions]
        self.fields["copy"].choices = [(value, COPY_LABELS[member_pledge][value]) for value in StampedCopy.values]
        self.fields["public_display"] = _display_field(member_pledge=member_pledge)
        mb = settings.STAMPED_SCAN_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text = (f"签字盖章后的承诺书，扫描为PDF或用手机拍照（JPEG、PNG），不超过{mb}MB，"
                                         f"PDF不超过{settings.STAMPED_SCAN_MAX_PAGES}页。文件按内容核验。")
        self.helper = form_helper(Layout("version", "copy", "file", "public_display"))


class StampedScanDisplayForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, commitment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["public_display"] = _display_field(member_pledge=commitment.member_id is not None)
        self.helper = form_helper(Layout("revision", "public_display"))


class StampedScanWithdrawForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label="撤回原因", max_length=200, help_text="如：扫描不清晰，已重新上传；误传了其他人的承诺书。",
                             error_messages={"required": "请填写撤回原因。",
                                             "max_length": "撤回原因不超过200字。"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(Layout("revision", "reason"))

