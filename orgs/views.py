"""Pages for the organisation tree, the member register and accounts.

Each view: request → one selector or service call → response. A GET never writes; every
state change is a POST that ends in a redirect.
"""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict
from core.pages import message_errors, paginate, run_service

from . import accounts, hooks, selectors, services, services_admin, tree
from .fields import SUGGEST_SCOPES, picker_label
from .forms import (ChangeOwnPasswordForm, MemberForm, MemberSearchForm, MemberTransferForm, OrganisationForm,
                    OrganisationMoveForm, RoleGrantForm, SetPasswordForm, UserCreateForm)
from .middleware import password_change_required
from .models import BRANCH_KINDS, SEPARATED_ROLES, AdminRequestKind, Role, RoleGrant
from .permissions import (OFFICER_ROLES, READER_ROLES, TREE_ROLES, can_add_member, can_browse_org,
                          can_cancel_admin_request, can_decide_admin_request, can_edit_member, can_manage_accounts,
                          can_manage_org, can_manage_security, can_manage_user, can_move_org, can_secure_user,
                          can_transfer_member, can_view_admin_requests, can_view_member, can_view_members, scope_for)

User = get_user_model()


@require_GET
def org_tree(request):
    """The tree browser with member counts, or a flat list when searching by name or code.

    Only the top organisations and their children are drawn; deeper levels load on demand
    (org_tree_children, static/js/org-tree.js). Without JavaScript each expand control is a
    link to ?open=<id>, which draws the chain down to that organisation with its children.
    """
    q = request.GET.get("q", "").strip()
    missing_phone = bool(request.GET.get("missing_phone"))
    if not scope_for(request.user).has_any(TREE_ROLES):
        raise Http404
    can_import = scope_for(request.user).has_any({Role.ADMIN})
    if q or missing_phone:
        page = paginate(request, selectors.organisation_list_for(
            request.user, roles=TREE_ROLES, q=q, missing_phone=missing_phone))
        paths = tree.path_names(page.object_list)
        rows = [{"org": org, "path": paths.get(org.pk, [])} for org in page.object_list]
        return render(request, "orgs/org_tree.html", {"q": q, "page": page, "rows": rows,
                                                      "missing_phone": missing_phone, "can_import": can_import})
    open_org = None
    if request.GET.get("open"):
        open_org = selectors.organisation_get_for(request.user, request.GET["open"], predicate=can_browse_org)
    drawn = tree.tree_for(request.user, open_org=open_org, fresh=request.GET.get("fresh") == "1")
    return render(request, "orgs/org_tree.html", {
        "q": q, "tree": drawn.roots, "counted_at": drawn.counted_at, "can_import": can_import,
        "open_org": open_org, "cache_minutes": max(1, settings.COVERAGE_CACHE_SECONDS // 60)})


@require_GET
def org_tree_children(request, pk):
    """One page of an organisation's children: list items for the tree page's script, or,
    on a plain visit (no JavaScript), the tree opened at that organisation (page 1) or a page
    listing those children (the "显示更多" link of an organisation with many)."""
    org = selectors.organisation_get_for(request.user, pk, predicate=can_browse_org)
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    xhr = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    if not xhr and number <= 1:
        return redirect(f"{reverse('orgs:tree')}?open={org.pk}#org-{org.pk}")
    children = tree.children_for(org, page=number)
    if xhr:
        return render(request, "orgs/partials/tree_children.html", {"org": org, "children": children})
    return render(request, "orgs/tree_children_page.html", {
        "org": org, "children": children, "ancestors": selectors.ancestors_of(org) + [org]})


SUGGESTIONS = 20


@require_GET
def org_suggest(request):
    """Organisations in the user's scope whose name or code matches ?q=, for an org picker's
    suggestions (orgs/fields.py): JSON, at most 20, each with its path. ?scope= picks the roles."""
    roles = SUGGEST_SCOPES.get(request.GET.get("scope", "read"))
    if roles is None or not scope_for(request.user).has_any(roles):
        raise Http404
    q = request.GET.get("q", "").strip()[:100]
    orgs = list(selectors.organisation_list_for(request.user, roles=roles, q=q,
                                                include_inactive=roles == SUGGEST_SCOPES["audit"])
                [:SUGGESTIONS]) if q else []
    paths = tree.path_names(orgs)
    return JsonResponse({"results": [
        {"value": picker_label(org), "label": " › ".join(paths.get(org.pk, []) + [org.name])} for org in orgs]})


@require_GET
def org_detail(request, pk):
    detail = selectors.organisation_detail_for(request.user, pk)
    org = detail.org
    members_page = None
    can_read = can_view_members(request.user, org)
    if org.is_branch and can_read:
        members_page = paginate(request, selectors.member_list_for(request.user, org=org), 20)
    return render(request, "orgs/org_detail.html", {
        "d": detail, "org": org, "members_page": members_page, "can_read": can_read,
        "can_manage": can_manage_org(request.user, org),
        "can_move": can_move_org(request.user, org),
        "can_add_member": can_add_member(request.user, org),
        "can_manage_accounts": can_manage_accounts(request.user, org),
        # The apps above orgs add their buttons (commitments: 起草本组织承诺, 群众意见, 参考条目).
        **hooks.org_page_context(request.user, org),
    })


@require_http_methods(["GET", "POST"])
def org_create_child(request, pk):
    parent = selectors.organisation_get_for(request.user, pk, predicate=can_manage_org)
    if parent.is_branch:
        raise Http404
    form = OrganisationForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = {}
        ok = run_service(form, lambda: result.setdefault("org", services.organisation_create(
            actor=request.user, parent=parent, name=data["name"], kind=data["kind"],
            code=data.get("code") or "", short_name=data["short_name"],
            supervision_phone=data["supervision_phone"], sort_order=data["sort_order"])))
        if ok:
            messages.success(request, f"已新建党组织“{result['org'].name}”。")
            return redirect("orgs:detail", pk=result["org"].pk)
    return render(request, "orgs/org_form.html", {"form": form, "parent": parent, "org": None,
                                                  "ancestors": selectors.ancestors_of(parent) + [parent]})


@require_http_methods(["GET", "POST"])
def org_edit(request, pk):
    org = selectors.organisation_get_for(request.user, pk, predicate=can_manage_org)
    form = OrganisationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.organisation_update(
                actor=request.user, org=org, version=form.cleaned_data["version"], data=form.cleaned_data)):
            messages.success(request, "党组织信息已保存。")
            return redirect("orgs:detail", pk=org.pk)
    return render(request, "orgs/org_form.html", {"form": form, "org": org, "parent": org.parent,
                                                  "ancestors": selectors.ancestors_of(org) + [org]})


@require_http_methods(["GET", "POST"])
def org_move(request, pk):
    org = selectors.organisation_get_for(request.user, pk, predicate=can_move_org)
    parents = (selectors.organisation_list_for(request.user, roles={Role.ADMIN})
               .exclude(path__startswith=org.path).exclude(kind__in=BRANCH_KINDS)
               .exclude(pk=org.parent_id))
    form = OrganisationMoveForm(request.POST or None, parents=parents, initial={"version": org.version})
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.organisation_move(
                actor=request.user, org=org, new_parent=form.cleaned_data["new_parent"],
                version=form.cleaned_data["version"])):
            messages.success(request, f"已将“{org.name}”及其下级组织移至“{form.cleaned_data['new_parent'].name}”。")
            return redirect("orgs:detail", pk=org.pk)
    return render(request, "orgs/org_move.html", {"form": form, "org": org,
                                                  "ancestors": selectors.ancestors_of(org) + [org]})


# --- members --------------------------------------------------------------------------------

@require_GET
def member_list(request):
    """The member register: search, filters, sorting, pagination, scoped to the user's subtrees."""
    if not scope_for(request.user).has_any(READER_ROLES):
        raise Http404
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "active"  # the register shows members on the roll unless asked otherwise
    form = MemberSearchForm(data, organisations=selectors.organisation_list_for(request.user))
    if not form.is_valid():
        if form.has_error("org", "invalid_choice"):
            raise Http404  # an organisation outside the user's reach (a name matching none is a field error)
        params = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    else:
        params = form.cleaned_data
    org = params.get("org")
    status = params.get("status", "")
    qs = selectors.member_list_for(
        request.user, org=org, q=params.get("q", ""), category=params.get("category", ""),
        membership=params.get("membership", ""), status=status, gender=params.get("gender", ""), has_account=params.get("has_account", ""),
        incomplete=params.get("incomplete", False), sort=params.get("sort", ""))
    return render(request, "orgs/member_list.html", {
        "form": form, "page": paginate(request, qs), "org": org, "sort": params.get("sort", ""),
        "can_add": scope_for(request.user).has_any(OFFICER_ROLES),
    })


@require_GET
def member_detail(request, pk):
    member = selectors.member_get_for(request.user, pk)
    return render(request, "orgs/member_detail.html", {
        "member": member,
        "transfers": selectors.member_transfers_of(member),
        "ancestors": _member_crumbs(request.user, member),
        "can_edit": can_edit_member(request.user, member),
        "can_transfer": can_transfer_member(request.user, member),
    })


@require_http_methods(["GET", "POST"])
def member_create(request):
    branches = selectors.branch_choices_for(request.user)
    if not scope_for(request.user).has_any(OFFICER_ROLES):
        raise Http404
    initial = {}
    if request.GET.get("branch"):
        initial["branch"] = request.GET["branch"]
    form = MemberForm(request.POST or None, branches=branches, initial=initial)
    if request.method == "POST" and form.is_valid():
        result = {}
        if run_service(form, lambda: result.setdefault("m", services.member_create(
                actor=request.user, branch=form.cleaned_data["branch"], data=form.cleaned_data))):
            messages.success(request, f"已登记党员“{result['m'].name}”。")
            return redirect("orgs:member_detail", pk=result["m"].pk)
    return render(request, "orgs/member_form.html", {"form": form, "member": None})


@require_http_methods(["GET", "POST"])
def member_edit(request, pk):
    member = selectors.member_get_for(request.user, pk, predicate=can_edit_member)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.member_update(
                actor=request.user, member=member, version=form.cleaned_data["version"],
                data=form.cleaned_data)):
            messages.success(request, f"“{member.name}”的信息已保存。")
            return redirect("orgs:member_detail", pk=member.pk)
    return render(request, "orgs/member_form.html", {"form": form, "member": member,
                                                     "ancestors": _member_crumbs(request.user, member)})


def _member_crumbs(user, member) -> list:
    """Breadcrumbs down to the member's branch, where the user may see the tree."""
    if not can_view_members(user, member.branch):
        return []
    return selectors.ancestors_of(member.branch) + [member.branch]


@require_http_methods(["GET", "POST"])
def member_transfer(request, pk):
    member = selectors.member_get_for(request.user, pk, predicate=can_transfer_member)
    branches = selectors.branch_choices_for(request.user).exclude(pk=member.branch_id)
    form = MemberTransferForm(request.POST or None, branches=branches,
                              initial={"version": member.version, "transferred_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if run_service(form, lambda: services.member_transfer(
                actor=request.user, member=member, to_branch=data["to_branch"], version=data["version"],
                transferred_on=data["transferred_on"], reason=data["reason"])):
            messages.success(request, f"“{member.name}”已转入{data['to_branch'].name}。")
            return redirect("orgs:member_detail", pk=member.pk)
    return render(request, "orgs/member_transfer.html", {"form": form, "member": member,
                                                         "ancestors": _member_crumbs(request.user, member)})


# --- accounts -------------------------------------------------------------------------------

def _require_admin(user) -> None:
    if not can_manage_accounts(user):
        raise Http404


@require_GET
def user_list(request):
    _require_admin(request.user)
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if role not in Role.values:
        role = ""
    page = paginate(request, selectors.user_list_for(request.user, q=q, role=role))
    return render(request, "orgs/user_list.html", {"page": page, "q": q, "role": role,
                                                   "roles": Role.choices})


@require_http_methods(["GET", "POST"])
def user_create(request):
    _require_admin(request.user)
    organisations = selectors.organisation_list_for(request.user, roles={Role.ADMIN})
    members = selectors.member_choices_without_account_for(request.user)
    initial = {}
    if request.GET.get("organisation"):
        initial["organisation"] = request.GET["organisation"]
    form = UserCreateForm(request.POST or None, organisations=organisations, members=members,
                          initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        result = {}
        if form.needs_approval:
            if run_service(form, lambda: services_admin.admin_request_propose(
                    actor=request.user, kind=AdminRequestKind.OPEN_ACCOUNT, organisation=d["organisation"],
                    role=d["role"], username=d["username"], full_name=d["full_name"])):
                messages.success(request, f"已提交开通“{d['username']}”（{Role(d['role']).label}）的申请，"
                                          "须由另一类管理员审批后开通。")
                return redirect("orgs:admin_request_list")
            return render(request, "orgs/user_form.html", {"form": form})
        if run_service(form, lambda: result.setdefault("u", services.user_create(
                actor=request.user, username=d["username"], full_name=d["full_name"],
                password=d["password"], organisation=d["organisation"], role=d["role"],
                member=d["member"]))):
            messages.success(request, f"已开通账号“{d['username']}”。请将初始密码当面告知本人，"
                                      "本人首次登录时须修改密码。")
            return redirect("orgs:user_detail", pk=result["u"].pk)
    return render(request, "orgs/user_form.html", {"form": form})


def _user_page(request, target, grant_form=None):
    paths = [g.organisation.path for g in target.role_grants.all()]
    member = getattr(target, "member", None)
    if member is not None:
        paths.append(member.branch.path)
    return render(request, "orgs/user_detail.html", {
        "target": target,
        "member": member,
        "grants": list(target.role_grants.all()),
        "grant_form": grant_form or RoleGrantForm(
            organisations=selectors.organisation_list_for(request.user, roles={Role.ADMIN})),
        "can_manage": can_manage_user(request.user, target, paths),
        # An administrator without an officer role does not read the member's record (三员分立).
        "member_link": member is not None and can_view_member(request.user, member),
        "separated_roles": SEPARATED_ROLES,
    })


@require_GET
def user_detail(request, pk):
    _require_admin(request.user)
    return _user_page(request, selectors.user_get_for(request.user, pk))


@require_POST
def user_grant(request, pk):
    _require_admin(request.user)
    target = selectors.user_get_for(request.user, pk)
    form = RoleGrantForm(request.POST, organisations=selectors.organisation_list_for(
        request.user, roles={Role.ADMIN}))
    if form.is_valid() and form.cleaned_data["role"] in SEPARATED_ROLES:
        if run_service(form, lambda: services_admin.admin_request_propose(
                actor=request.user, kind=AdminRequestKind.GRANT, target=target,
                organisation=form.cleaned_data["organisation"], role=form.cleaned_data["role"])):
            messages.success(request, "已提交授予管理员角色的申请，须由另一类管理员审批后生效。")
            return redirect("orgs:admin_request_list")
    elif form.is_valid() and run_service(form, lambda: services.role_grant(
            actor=request.user, user=target, organisation=form.cleaned_data["organisation"],
            role=form.cleaned_data["role"])):
        messages.success(request, "已授予角色。")
        return redirect("orgs:user_detail", pk=target.pk)
    return _user_page(request, target, grant_form=form)


@require_POST
def grant_revoke(request, pk):
    _require_admin(request.user)
    grant = get_object_or_404(RoleGrant.objects.select_related("organisation", "user"), pk=pk)
    if not can_manage_accounts(request.user, grant.organisation):
        raise Http404
    if grant.role in SEPARATED_ROLES:
        try:
            services_admin.admin_request_propose(actor=request.user, kind=AdminRequestKind.REVOKE, target=grant.user,
                                                 organisation=grant.organisation, role=grant.role)
        except ValidationError as exc:
            message_errors(request, exc)
            return redirect("orgs:user_detail", pk=grant.user_id)
        messages.success(request, "已提交撤销管理员角色的申请，须由另一类管理员审批后生效。")
        return redirect("orgs:admin_request_list")
    try:
        services.role_revoke(actor=request.user, grant=grant)
    except ValidationError as exc:
        message_errors(request, exc)
    else:
        messages.success(request, f"已撤销 {grant.user.get_username()} 在{grant.organisation.name}的“{grant.get_role_display()}”角色。")
    return redirect("orgs:user_detail", pk=grant.user_id)


def _status_target(request, pk):
    """An account whose status the user looks after: a system administrator's ordinary
    accounts, a security administrator's accounts in reach; otherwise 404."""
    target = User.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if target is None or not can_manage_user(request.user, target, services.user_org_paths(target)):
        raise Http404
    return target


def _back_to_account(request, target):
    """Security administrators work from the account-security pages, system administrators from
    the account pages."""
    if can_manage_security(request.user):
        return redirect("orgs:account_detail", pk=target.pk)
    return redirect("orgs:user_detail", pk=target.pk)


@require_POST
def user_set_active(request, pk):
    target = _status_target(request, pk)
    active = request.POST.get("active") == "1"
    services.user_set_active(actor=request.user, target=target, active=active)
    messages.success(request, "账号已启用。" if active else "账号已停用，其登录已结束。")
    return _back_to_account(request, target)


@require_http_methods(["GET", "POST"])
def password_change(request):
    """Any signed-in user changes their own password (and must, after an initial or reset
    password, or when an administrator's password has expired: orgs.middleware)."""
    form = ChangeOwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.user_change_own_password(
                user=request.user, old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["password1"], address=request.META.get("REMOTE_ADDR"))):
            request.user.refresh_from_db()
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改。")
            return redirect(reverse("home"))
    return render(request, "orgs/password_change.html", {
        "form": form, "reason": password_change_required(request.user),
        "max_age_days": settings.PASSWORD_MAX_AGE_DAYS,
        "help_text": " ".join(password_validators_help_texts())})


# --- account security (安全管理员) ------------------------------------------------------------

def _require_security(user) -> None:
    if not can_manage_security(user):
        raise Http404


def _secured_user(request, pk):
    """An account in the security administrator's reach (not their own); otherwise 404."""
    target = (User.objects.filter(pk=pk).select_related("security").first()
              if str(pk).isdigit() else None)
    if target is None or not can_secure_user(request.user, target, services.user_org_paths(target)):
        raise Http404
    return target


@require_GET
def account_list(request):
    """Accounts in the security administrator's subtrees: lock, forced change, status."""
    _require_security(request.user)
    q = request.GET.get("q", "").strip()
    only_locked = bool(request.GET.get("locked"))
    users = selectors.account_list_for(request.user, q=q, only_locked=only_locked)
    page = paginate(request, users)
    locked = accounts.locked_usernames([(u.pk, u.username) for u in page])
    return render(request, "orgs/account_list.html", {"page": page, "q": q, "only_locked": only_locked,
                                                      "locked": locked})


def _account_page(request, target):
    security = getattr(target, "security", None)
    grants = list(target.role_grants.select_related("organisation"))
    return render(request, "orgs/account_detail.html", {
        "target": target,
        "security": security,
        "grants": grants,
        "is_administrator": any(g.role in SEPARATED_ROLES for g in grants),
        "locked": bool(accounts.locked_usernames([(target.pk, target.username)])),
    })


@require_GET
def account_detail(request, pk):
    _require_security(request.user)
    return _account_page(request, _secured_user(request, pk))


@require_POST
def account_unlock(request, pk):
    _require_security(request.user)
    target = _secured_user(request, pk)
    try:
        services.account_unlock(actor=request.user, target=target)
    except ValidationError as exc:
        message_errors(request, exc)
    else:
        messages.success(request, f"已解除“{target.username}”的登录锁定。")
    return redirect("orgs:account_detail", pk=target.pk)


# The page showing a reset link answers the POST itself instead of redirecting: the token is
# shown this once and is not put in a session or a message to be shown later.
def _reset_link_page(request, *, target_name: str, token: str, pending: bool):
    link = request.build_absolute_uri(reverse("password_reset_confirm", args=[token]))
    response = render(request, "orgs/password_reset_link.html", {
        "target_name": target_name, "link": link, "pending": pending,
        "hours": settings.PASSWORD_RESET_TOKEN_HOURS})
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_POST
def account_reset(request, pk):
    """A security administrator resets an account's password: a one-time link, shown once."""
    _require_security(request.user)
    target = _secured_user(request, pk)
    outcome = services_admin.password_reset_issue(actor=request.user, target=target)
    return _reset_link_page(request, target_name=target.username, token=outcome.token,
                            pending=outcome.request is not None)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request, token):
    """The holder of a reset link sets a new password; nothing else opens with the link, and it
    logs no one in (the holder logs in with the new password)."""
    row = selectors.password_reset_token_for(token)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services_admin.password_reset_complete(
                token=row, new_password=form.cleaned_data["password1"])):
            messages.success(request, "新密码已设置，请用新密码登录。")
            return redirect("login")
    response = render(request, "orgs/password_reset_confirm.html", {"form": form, "username": row.user.username})
    # The token is in this page's address: no Referer carries it to the page's own assets.
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- administrator changes (三员分立 with two people) ----------------------------------------

def _require_request_viewer(user) -> None:
    if not can_view_admin_requests(user):
        raise Http404


@require_GET
def admin_request_list(request):
    """Pending and recent changes to the three administrator roles, for all three kinds of administrator."""
    _require_request_viewer(request.user)
    return render(request, "orgs/admin_request_list.html", selectors.admin_request_list_for(request.user))


def _version(request) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1


@never_cache
@require_POST
def admin_request_decide(request, pk):
    _require_request_viewer(request.user)
    admin_request = selectors.admin_request_get_for(request.user, pk)
    if not (can_decide_admin_request(request.user, admin_request) or not admin_request.is_pending):
        raise Http404
    approve = request.POST.get("approve") == "1"
    try:
        outcome = services_admin.admin_request_decide(
            actor=request.user, request=admin_request, version=_version(request), approve=approve,
            note=request.POST.get("note", ""))
    except (Conflict, ValidationError) as exc:
        message_errors(request, exc)
    else:
        if outcome.token:
            return _reset_link_page(request, target_name=outcome.request.username, token=outcome.token,
                                    pending=False)
        messages.success(request, "已批准，变更已生效。" if approve else "已驳回。")
    return redirect("orgs:admin_request_list")


@require_POST
def admin_request_cancel(request, pk):
    _require_request_viewer(request.user)
    admin_request = selectors.admin_request_get_for(request.user, pk)
    if not (can_cancel_admin_request(request.user, admin_request) or not admin_request.is_pending):
        raise Http404
    try:
        services_admin.admin_request_cancel(actor=request.user, request=admin_request, version=_version(request))
    except Conflict as exc:
        message_errors(request, exc)
    else:
        messages.success(request, "已撤回申请。")
    return redirect("orgs:admin_request_list")
