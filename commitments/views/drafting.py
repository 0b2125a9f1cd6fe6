"""定诺 pages: the commitments list, a branch's pledges, drafting, submitting, version history."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict
from core.pages import message_errors, paginate, run_service
from orgs.models import Member
from orgs.permissions import OFFICER_ROLES, READER_ROLES, can_view_org, scope_for
from orgs.selectors import ancestors_of, member_get_for, organisation_get_for

from .. import hooks, selectors, selectors_stamped, services
from ..diff import version_diff
from ..forms import AddChannelsForm, DraftForm, ItemFormSet, PublishForm, SendBackForm, StartPledgeForm
from ..lifecycle import available_actions, is_in_force
from ..models import LIVE_EXEMPTION_STATUSES, RECORDED_CONSENTS, CommitmentStatus, Consent, PublishChannel
from ..permissions import (can_confirm_pledge, can_defer, can_edit_commitment, can_manage_stamped_scans, can_publish,
                           can_revoke_exemption, can_start_org_commitment, can_start_pledge, can_view_stamped_scans)
from ..services.lifecycle import ROUTE_CONFIRM, ROUTE_RECORD


def _owner_crumbs(user, commitment) -> list:
    owner = commitment.owner_org
    if not can_view_org(user, owner):
        return []
    return ancestors_of(owner) + [owner]


def _submit_context(user, commitment) -> dict:
    """Which way submitting goes and whether it asks how the member agreed (四（一）自愿); the
    button itself is the lifecycle's (available_actions)."""
    route = services.submit_route(user, commitment)
    return {"submit_route": route, "consent_choices": [(c, Consent(c).label) for c in RECORDED_CONSENTS]
            if route == ROUTE_RECORD else []}


def _actions(user, commitment, submit: dict, *, current_publication=None) -> dict:
    """The lifecycle's buttons for this user, by key, for the templates."""
    return {a.key: a for a in available_actions(user, commitment,
                                                submit_to_member=submit["submit_route"] == ROUTE_CONFIRM,
                                                current_publication=current_publication)}


@require_GET
def commitment_list(request):
    """Officers' overview of commitments in their subtree for one campaign, filtered and paginated."""
    if not scope_for(request.user).has_any(READER_ROLES):
        raise Http404
    campaign = selectors.campaign_from_request(request)
    if campaign is None:
        return render(request, "commitments/commitment_list.html", {"campaign": None})
    status = request.GET.get("status", "")
    status = status if status in CommitmentStatus.values else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in ("org", "member") else ""
    q = request.GET.get("q", "").strip()
    # ?org=<pk>: one organisation in reach (404 otherwise) and, with own=1, its own rows only (the
    # links of the home page's to-do list).
    org = organisation_get_for(request.user, request.GET["org"]) if request.GET.get("org") else None
    own = org is not None and request.GET.get("own") == "1"
    page = paginate(request, selectors.commitment_list_for(request.user, campaign=campaign, status=status,
                                                            kind=kind, org=org, own=own, q=q))
    return render(request, "commitments/commitment_list.html", {
        "campaign": campaign, "campaigns": selectors.campaign_list(), "page": page, "status": status,
        "kind": kind, "q": q, "statuses": CommitmentStatus.choices, "org": org, "own": own,
        "startable": selectors.org_choices_for_commitments(request.user)[:1].exists(),
    })


@require_POST
def org_commitment_start(request, pk):
    """Open (or start) the organisation's commitment for the current campaign."""
    org = organisation_get_for(request.user, pk, predicate=can_start_org_commitment)
    campaign = selectors.current_campaign()
    if campaign is None:
        raise Http404
    try:
        commitment = services.commitment_start(actor=request.user, campaign=campaign, organisation=org)
    except ValidationError as exc:
        message_errors(request, exc)
        return redirect("orgs:detail", pk=org.pk)
    return redirect("commitments:detail" if not commitment.is_editable else "commitments:edit", pk=commitment.pk)


@require_GET
def branch_pledges(request, pk):
    """A branch's roll with each member's pledge, exemption or deferral, and the branch's own commitment."""
    branch = organisation_get_for(request.user, pk, predicate=lambda u, o: o.is_branch and
                                  scope_for(u).reaches(o.path, OFFICER_ROLES))
    campaign = selectors.current_campaign()
    rows = selectors.branch_pledges_for(request.user, branch, campaign) if campaign else []
    # Counted as the coverage dashboard counts (六（三）): a pledge counts once submitted; an
    # exemption once approved above; a deferral is on record but not covered.
    counts = {"total": len(rows), "pledged": sum(1 for r in rows if r["pledge"] and r["pledge"].is_submitted),
              "drafts": sum(1 for r in rows if r["pledge"] and not r["pledge"].is_submitted),
              "approved": sum(1 for r in rows if r["pledge"] and r["pledge"].status == CommitmentStatus.APPROVED),
              "exempt": sum(1 for r in rows if r["exemption"] and r["exemption"].kind == "exempt"
                            and r["exemption"].status == "approved" and not r["pledge"]),
              "deferred": sum(1 for r in rows if r["exemption"] and r["exemption"].kind == "defer"
                              and not (r["pledge"] and r["pledge"].is_submitted))}
    counts["blank"] = counts["total"] - counts["pledged"] - counts["exempt"]
    for r in rows:
        r["can_revoke"] = r["exemption"] is not None and can_revoke_exemption(request.user, r["exemption"])
        # Never for oneself: the officer's own row shows no 免于/延期 link that would answer 404.
        r["can_defer"] = can_defer(request.user, r["member"])
    return render(request, "commitments/branch_pledges.html", {
        "branch": branch, "campaign": campaign, "rows": rows, "counts": counts,
        "org_commitment": selectors.org_commitment_of(branch, campaign) if campaign else None,
        "ancestors": ancestors_of(branch),
        "can_start_org": can_start_org_commitment(request.user, branch),
    })


@require_POST
def pledge_start(request, pk):
    """Start a member's pledge: by the member, or by branch officers (optionally as an oral pledge)."""
    member = member_get_for(request.user, pk, predicate=can_start_pledge)
    campaign = selectors.current_campaign()
    if campaign is None:
        raise Http404
    form = StartPledgeForm(request.POST)
    is_oral = form.is_valid() and form.cleaned_data["is_oral"]
    try:
        commitment = services.commitment_start(actor=request.user, campaign=campaign, member=member, is_oral=is_oral)
    except ValidationError as exc:
        message_errors(request, exc)
        if member.user_id == request.user.pk:
            return redirect("commitments:my_pledge")
        return redirect("commitments:branch_pledges", pk=member.branch_id)
    if is_oral and not commitment.is_oral:
        messages.info(request, "该党员已有书面承诺草稿，已为您打开。")
    return redirect("commitments:edit" if commitment.is_editable and can_edit_commitment(request.user, commitment)
                    else "commitments:detail", pk=commitment.pk)


@require_GET
def my_pledge(request):
    """A member's own pledge for the current campaign, or the button to start it."""
    member = Member.objects.filter(user=request.user).select_related("branch").first()
    if member is None:
        raise Http404
    campaign = selectors.current_campaign()
    pledge = selectors.my_pledges(request.user, campaign)
    if pledge:
        return redirect("commitments:detail", pk=pledge[0].pk)
    exemption = (member.exemptions.filter(campaign=campaign, status__in=LIVE_EXEMPTION_STATUSES).first()
                 if campaign else None)
    return render(request, "commitments/my_pledge.html", {"member": member, "campaign": campaign,
                                                          "exemption": exemption})


@require_GET
def commitment_detail(request, pk):
    """The commitment as it stands, its items, its versions and the reviewers' opinions."""
    commitment = selectors.commitment_get_for(request.user, pk)
    versions = selectors.versions_of(commitment)
    decisions = [d for v in versions for d in v.decisions.all()]
    decisions.sort(key=lambda d: d.decided_at, reverse=True)
    publications = selectors.publications_of(commitment)
    # The current publication: the latest record of the public version (publications are newest first).
    current = next((p for p in publications if p.version_id == commitment.public_version_id), None)
    submit = _submit_context(request.user, commitment)
    actions = _actions(request.user, commitment, submit, current_publication=current)
    in_force = is_in_force(commitment)
    return render(request, "commitments/commitment_detail.html", {
        "current_publication": current,
        "channels_form": AddChannelsForm(used=current.channels, initial={
            "version": commitment.version, "published_on": timezone.localdate(),
            "channels": [PublishChannel.INTERNET] if not current.is_online else []})
        if "add_channels" in actions else None,
        "c": commitment, "items": selectors.live_items(commitment), "versions": versions,
        "publications": publications,
        # 亮诺's archive: the stamped paper forms scanned back, for those who may see them.
        "scans": (selectors_stamped.stamped_scans_of(commitment)
                  if publications and can_view_stamped_scans(request.user, commitment) else None),
        "can_manage_scans": can_manage_stamped_scans(request.user, commitment),
        "progress": selectors.progress_items_for(commitment) if in_force else None,
        # The apps above commitments add their part (evaluations: the 评诺 summary).
        **hooks.detail_context(commitment),
        "actions": actions,
        "publish_form": PublishForm(initial={"version": commitment.version, "published_on": timezone.localdate(),
                                             "channels": ["noticeboard", "internet"]}) if "publish" in actions else None,
        "decisions": decisions, "latest_decision": decisions[0] if decisions else None,
        "ancestors": _owner_crumbs(request.user, commitment),
        **submit,
    })


@require_http_methods(["GET", "POST"])
def commitment_edit(request, pk):
    """Draft the goal and the items; saving keeps each item's identity."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_edit_commitment)
    if not commitment.is_editable:
        messages.info(request, f"该承诺当前为“{commitment.get_status_display()}”，不能修改。")
        return redirect("commitments:detail", pk=commitment.pk)
    items = selectors.live_items(commitment)
    submit = _submit_context(request.user, commitment)
    formset_kwargs = {"member_pledge": commitment.is_member_pledge, "measures_label": commitment.measures_label,
                      "prefix": "items"}
    if request.method == "POST":
        form = DraftForm(request.POST, goal_label=commitment.goal_label)
        formset = ItemFormSet(request.POST, **formset_kwargs)
        if form.is_valid() and formset.is_valid():
            ok = run_service(form, lambda: services.commitment_save_draft(
                actor=request.user, commitment=commitment, version=form.cleaned_data["version"],
                goal=form.cleaned_data["goal"], items=formset.items()))
            if ok:
                if "submit" in request.POST:
                    commitment.refresh_from_db()
                    return _submit(request, commitment, commitment.version, request.POST.get("consent", ""))
                messages.success(request, "草稿已保存。")
                target = "commitments:edit" if "add_row" in request.POST else "commitments:detail"
                return redirect(target, pk=commitment.pk)
    else:
        form = DraftForm(initial={"goal": commitment.goal, "version": commitment.version},
                         goal_label=commitment.goal_label)
        formset = ItemFormSet(initial=[{"id": i.pk, "content": i.content, "measures": i.measures,
                                        "deadline": i.deadline, "responsible": i.responsible} for i in items],
                              **formset_kwargs)
    return render(request, "commitments/commitment_edit.html", {
        "c": commitment, "form": form, "formset": formset,
        "references": selectors.references_for(commitment),
        "actions": _actions(request.user, commitment, submit),
        "ancestors": _owner_crumbs(request.user, commitment),
        "latest_decision": commitment.decisions.select_related("reviewer").order_by("-decided_at").first()
        if commitment.status == CommitmentStatus.RETURNED else None,
        **submit,
    })


def _submit(request, commitment, version, consent=""):
    try:
        frozen = services.commitment_submit(actor=request.user, commitment=commitment, version=version,
                                            consent=consent)
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
        return redirect("commitments:edit" if commitment.is_editable else "commitments:detail", pk=commitment.pk)
    if frozen is None:
        messages.success(request, f"已提交{commitment.member.name}本人确认：本人登录后在首页“确认我的承诺”中确认，"
                                  f"确认后交{commitment.reviewer_org.name}审核。")
    else:
        messages.success(request, f"已提交第{frozen.number}版，等待{commitment.reviewer_org.name}审核。")
    return redirect("commitments:detail", pk=commitment.pk)


def _confirm_page(request, commitment, send_back_form=None, status=200):
    return render(request, "commitments/pledge_confirm.html", {
        "c": commitment, "items": selectors.live_items(commitment),
        "send_back_form": send_back_form or SendBackForm(initial={"version": commitment.version}),
        "ancestors": _owner_crumbs(request.user, commitment),
    }, status=status)


@require_http_methods(["GET", "POST"])
def pledge_confirm(request, pk):
    """The member reads the pledge staff drafted for them and confirms it (确认), sending it to review."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_confirm_pledge)
    if commitment.status != CommitmentStatus.CONFIRMING:
        if request.method == "GET":
            return redirect("commitments:detail", pk=commitment.pk)
        messages.info(request, f"该承诺当前为“{commitment.get_status_display()}”，无需确认。")
        return redirect("commitments:detail", pk=commitment.pk)
    if request.method == "GET":
        return _confirm_page(request, commitment)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "页面已过期，请刷新后重试。")
        return redirect("commitments:confirm", pk=commitment.pk)
    try:
        frozen = services.commitment_confirm(actor=request.user, commitment=commitment, version=version)
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
        return redirect("commitments:detail", pk=commitment.pk)
    messages.success(request, f"您已确认承诺，第{frozen.number}版已提交{commitment.reviewer_org.name}审核。")
    return redirect("commitments:detail", pk=commitment.pk)


@require_POST
def pledge_send_back(request, pk):
    """The member sends the pledge back to the drafters with what to change."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_confirm_pledge)
    form = SendBackForm(request.POST)
    if form.is_valid() and run_service(form, lambda: services.commitment_send_back(
            actor=request.user, commitment=commitment, version=form.cleaned_data["version"],
            note=form.cleaned_data["note"])):
        messages.success(request, "已退回代为填写的同志修改，修改后会再请您确认。")
        return redirect("commitments:detail", pk=commitment.pk)
    if commitment.status != CommitmentStatus.CONFIRMING:
        return redirect("commitments:detail", pk=commitment.pk)
    return _confirm_page(request, commitment, form)


@require_POST
def commitment_submit(request, pk):
    """Freeze the draft as a new version and send it to the reviewing organisation."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_edit_commitment)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "页面已过期，请刷新后重试。")
        return redirect("commitments:detail", pk=commitment.pk)
    return _submit(request, commitment, version, request.POST.get("consent", ""))


@require_POST
def commitment_add_reference(request, pk):
    """Add an item taken from a reference item (承诺事项参考) to the draft."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_edit_commitment)
    allowed = {r.pk: r for r in selectors.references_for(commitment)}
    raw = request.POST.get("reference", "")
    if not raw.isdigit():
        messages.error(request, "请选择要添加的参考事项。")
        return redirect("commitments:edit", pk=commitment.pk)
    reference = allowed.get(int(raw))
    if reference is None:
        raise Http404
    try:
        services.commitment_add_item_from_reference(actor=request.user, commitment=commitment, reference=reference)
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
    else:
        messages.success(request, "已从参考事项添加一条承诺事项，请根据实际修改措施和完成时限。")
    return redirect("commitments:edit", pk=commitment.pk)


@require_GET
def version_detail(request, pk, number):
    """One frozen version, and what changed since the one before it."""
    commitment = selectors.commitment_get_for(request.user, pk)
    versions = {v.number: v for v in selectors.versions_of(commitment)}
    version = versions.get(number)
    if version is None:
        raise Http404
    previous = versions.get(number - 1)
    published = version.publications.exists()
    return render(request, "commitments/version_detail.html", {
        "c": commitment, "version": version, "previous": previous, "published": published,
        "scans": (selectors_stamped.stamped_scans_of(commitment, version=version)
                  if published and can_view_stamped_scans(request.user, commitment) else None),
        "can_manage_scans": can_manage_stamped_scans(request.user, commitment),
        "diff": version_diff(previous.snapshot if previous else None, version.snapshot,
                             goal_label=commitment.goal_label, measures_label=commitment.measures_label,
                             with_responsible=not commitment.is_member_pledge),
        "ancestors": _owner_crumbs(request.user, commitment),
    })




@require_POST
def commitment_publish(request, pk):
    """亮诺: record the date and channels and put the approved version on the noticeboard."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_publish)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("commitments:detail", pk=commitment.pk)
    try:
        services.commitment_publish(actor=request.user, commitment=commitment, version=form.cleaned_data["version"],
                                    published_on=form.cleaned_data["published_on"],
                                    channels=form.cleaned_data["channels"])
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
    else:
        messages.success(request, "已公开亮诺，群众可在公示栏查看。")
    return redirect("commitments:detail", pk=commitment.pk)


@require_POST
def commitment_discard(request, pk):
    """Discard a draft never submitted (kept as 已作废; a new one may be started)."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_edit_commitment)
    try:
        services.commitment_discard(actor=request.user, commitment=commitment,
                                    version=int(request.POST.get("version") or 0))
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
        return redirect("commitments:detail", pk=commitment.pk)
    messages.success(request, f"已作废{commitment.owner_name}的{commitment.kind_label}草稿（记录保留备查），可重新填写。")
    if commitment.member_id:
        return redirect("commitments:branch_pledges", pk=commitment.member.branch_id)
    return redirect("commitments:detail", pk=commitment.pk)


@require_POST
def commitment_add_channels(request, pk):
    """四（三）: add channels (e.g. 网络, which puts it on the noticeboard) to the current publication."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_publish)
    form = AddChannelsForm(request.POST, used=())
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("commitments:detail", pk=commitment.pk)
    try:
        publication = services.publication_add_channels(
            actor=request.user, commitment=commitment, version=form.cleaned_data["version"],
            channels=form.cleaned_data["channels"], published_on=form.cleaned_data["published_on"])
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
    else:
        online = "，群众可在公示栏查看" if publication.is_online else ""
        messages.success(request, f"已增加公开方式：{'、'.join(publication.added_channel_labels)}{online}。")
    return redirect("commitments:detail", pk=commitment.pk)


@require_POST
def commitment_revise(request, pk):
    """Reopen a published commitment for a revision that goes through review again."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_edit_commitment)
    try:
        services.commitment_revise(actor=request.user, commitment=commitment,
                                   version=int(request.POST.get("version") or 0))
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
        return redirect("commitments:detail", pk=commitment.pk)
    messages.info(request, "已开始修订。公示栏继续显示已公开的版本，修订稿审定并再次公开后替换。")
    return redirect("commitments:edit", pk=commitment.pk)
