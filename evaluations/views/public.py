"""群众评议 on the public noticeboard, and the released results (评诺 四（五）).

Anyone rates a published commitment once while the campaign's window is open, without logging
in. A rater is a random token kept in a signed, long-lived cookie (and the network address the
service limits); neither is shown anywhere. While the window is open the page shows no running
tally, not even counts per option, so a tally can neither be read nor steered. Once a secretary
releases the results, the noticeboard shows the combined result, the satisfaction rate, the
leaders' comments (by organisation, never by name) and the assessment.
"""
import datetime
import secrets
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from commitments import selectors as commitment_selectors
from commitments.forms_opinions import HONEYPOT_FIELD, HONEYPOT_MESSAGE
from commitments.views.crumbs import public_commitment_trail
from core.errors import Conflict
from core.pages import attach_errors

from ..models import Evaluation, LeaderComment, Rating
from ..scoring import VOICE_LABELS
from ..selectors import Summary, has_rated, summaries_for
from ..services import AlreadyRated, RatingThrottled, TokenRequired, ballot_cast, window_message

RATER_COOKIE = "rater"
RATER_SALT = "evaluations.rater"
RATER_MAX_AGE = 365 * 24 * 60 * 60
REMARK_MAX = 200
THANKS = "感谢您参与群众评议！您的评价已记录，评议结果将在评议结束、组织考核后公布。"


class RatingForm(forms.Form):
    rating = forms.ChoiceField(label="您对该承诺的履行情况是否满意", choices=Rating.choices, widget=forms.RadioSelect,
                               error_messages={"required": "请选择满意、基本满意或不满意。",
                                               "invalid_choice": "请选择满意、基本满意或不满意。"})
    remark = forms.CharField(label="意见（选填）", max_length=REMARK_MAX, required=False, strip=True,
                             widget=forms.Textarea(attrs={"rows": 3, "maxlength": REMARK_MAX}),
                             error_messages={"max_length": f"意见不能超过{REMARK_MAX}个字（现有%(show_value)d个字）。"})
    # The honeypot: hidden from people (and from screen readers), filled in by form-filling robots.
    website = forms.CharField(required=False)

    def clean(self):
        data = super().clean()
        if self.data.get(HONEYPOT_FIELD):
            raise ValidationError(HONEYPOT_MESSAGE, code="honeypot")
        return data


# --- the rater's cookie --------------------------------------------------------------------------

def rater_token_of(request) -> str | None:
    """The rater token from the signed cookie, or None (missing, tampered with or expired)."""
    return request.get_signed_cookie(RATER_COOKIE, default=None, salt=RATER_SALT, max_age=RATER_MAX_AGE)


def _keep_token(request, response, token: str) -> None:
    response.set_signed_cookie(RATER_COOKIE, token, salt=RATER_SALT, max_age=RATER_MAX_AGE, httponly=True,
                               samesite="Lax", secure=request.is_secure())


def give_rater_token(request, response) -> None:
    """Give a browser that has no rater token one with the page that shows the rating form, so its
    first ballot is told apart from its colleagues' on the same network (services.ballot_cast)."""
    if rater_token_of(request) is None:
        _keep_token(request, response, secrets.token_urlsafe(24))


# --- what the noticeboard shows of 评诺 ----------------------------------------------------------

@dataclass
class PublicEvaluation:
    """The 评诺 part of a public commitment page: the window and form, or the released results."""

    state: str  # "before", "open" or "closed" (the 群众评议 window)
    opens: datetime.date | None
    deadline: datetime.date | None
    notice: str | None = None  # why rating is not possible today
    already_rated: bool = False
    summary: Summary | None = None  # only once released
    comments: list = field(default_factory=list)  # leader comments, only once released

    @property
    def is_released(self) -> bool:
        return self.summary is not None

    @property
    def voices(self) -> list[tuple[str, float, float]]:
        """(label, score, effective weight in per cent) of each voice counted in the verdict."""
        if self.summary is None:
            return []
        parts = self.summary.verdict.parts
        return [(VOICE_LABELS[v], *parts[v]) for v in ("assessment", "public", "leader") if v in parts]


def released_summaries(commitments: list, campaign, *, today: datetime.date | None = None) -> dict[int, Summary]:
    """Summaries of those of `commitments` (all of `campaign`) whose results are released.

    One query when none is released, seven otherwise, whatever their number. The commitments'
    campaign is set from `campaign`, so the verdicts read no more rows.
    """
    commitments = [c for c in commitments if c is not None]
    if not commitments:
        return {}
    released = set(Evaluation.objects.filter(commitment_id__in=[c.pk for c in commitments],
                                             released_at__isnull=False).values_list("commitment_id", flat=True))
    shown = [c for c in commitments if c.pk in released]
    for c in shown:
        c.campaign = campaign
    return summaries_for(shown, today=today) if shown else {}


def attach_public_results(commitments: list, campaign, *, today: datetime.date | None = None) -> None:
    """Set `public_result` (the released Summary, or None) on each commitment, for the org page's badges."""
    summaries = released_summaries(commitments, campaign, today=today)
    for c in commitments:
        if c is not None:
            c.public_result = summaries.get(c.pk)


def public_evaluation(request, commitment, *, today: datetime.date | None = None) -> PublicEvaluation:
    """The 评诺 part of the public page of `commitment` (campaign selected): window, the visitor's
    own ballot, and — once released — the results with the leaders' comments."""
    today = today or timezone.localdate()
    campaign = commitment.campaign
    ev = PublicEvaluation(state=campaign.rating_state(today), opens=campaign.rating_opens,
                          deadline=campaign.evaluation_deadline, notice=window_message(campaign, today))
    summary = released_summaries([commitment], campaign, today=today).get(commitment.pk)
    if summary is not None:
        ev.summary = summary
        # The commenting organisation and the rating only: a leader's name never reaches the page.
        ev.comments = list(LeaderComment.objects.filter(commitment=commitment).select_related("author_org")
                           .order_by("created_at", "id"))
    elif ev.state == "open":
        ev.already_rated = has_rated(commitment_id=commitment.pk, token=rater_token_of(request))
    return ev


# --- the ballot ----------------------------------------------------------------------------------

@login_not_required
@require_POST
def rate(request, pk):
    """群众评议: anyone rates a published commitment once during the window, without logging in."""
    commitment = commitment_selectors.public_commitment(pk)
    token = shown = rater_token_of(request)
    if not token:
        token = secrets.token_urlsafe(24)
    form = RatingForm(request.POST)
    status, notice, level = 200, window_message(commitment.campaign, timezone.localdate()), "warning"
    retry = False
    if notice is None and form.is_valid():
        try:
            ballot_cast(commitment=commitment, rating=form.cleaned_data["rating"], remark=form.cleaned_data["remark"],
                        rater_token=token, client_address=request.META.get("REMOTE_ADDR"), new_token=shown is None)
        except AlreadyRated as exc:
            notice, level = exc.messages[0], "info"
        except TokenRequired as exc:
            # The response keeps the new token: a browser that takes cookies succeeds on resending.
            notice, retry = exc.messages[0], True
        except RatingThrottled as exc:
            notice, status = exc.messages[0], 429
        except Conflict as exc:
            notice = exc.message
        except ValidationError as exc:
            if getattr(exc, "code", None) == "closed":
                notice = exc.messages[0]
            else:
                attach_errors(form, exc)
        else:
            messages.success(request, THANKS)
            response = HttpResponseRedirect(reverse("portal:public_commitment", args=[commitment.pk]))
            _keep_token(request, response, token)
            return response
    elif notice is None and any(e.code == "honeypot" for e in form.non_field_errors().as_data()):
        status = 400
    owner_org = commitment.owner_org
    response = render(request, "evaluations/public/rate.html", {
        "c": commitment, "form": form, "notice": notice, "level": level, "owner_org": owner_org,
        "trail": public_commitment_trail(commitment, owner_org),
        # A refusal for the window, a duplicate or a limit needs no second try; a form error, or a
        # browser that had no cookie yet, does.
        "show_form": notice is None or retry,
    }, status=status)
    _keep_token(request, response, token)
    return response


urlpatterns = [
    path("public/commitments/<int:pk>/rate/", rate, name="rate"),
]
