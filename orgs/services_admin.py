"""三员分立 with two people, and password reset links.

A change to one of the three administrator roles (system, security, audit administrator) —
granting or revoking it, opening an account that holds it, resetting the password of an account
that holds it — is proposed by one administrator and applied only when an administrator of
another of the three kinds approves (in the approval's transaction), or directly by the server's
operator through manage.py (admin_roles, bootstrap_admins), audited with no actor.

A password reset (security administrators only) sets an unusable password, ends the account's
sessions and hands out a one-time link whose random token is stored only hashed: it lets its
holder set a new password and nothing else, expires after PASSWORD_RESET_TOKEN_HOURS, and is
voided by a newer reset. The owner is told by e-mail where an address is known.
"""
import datetime
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict

from . import accounts, audit
from .models import (SEPARATED_ROLES, AccountSecurity, AdminRequestKind, AdminRequestStatus, AdminRoleRequest,
                     Organisation, PasswordHistory, PasswordResetToken, Role, RoleGrant)
from .permissions import (administrator_role_of, can_cancel_admin_request, can_decide_admin_request,
                          can_manage_accounts, can_secure_user)
from .services import _check_separation, _grant, _open_account, _revoke, user_org_paths

User = get_user_model()
log = logging.getLogger(__name__)

HANDLED = "该申请已被他人处理，请刷新页面。"


@dataclass
class Outcome:
    """What a request or reset hands back: the request (if one was needed) and, once, the raw
    token of a reset link (to be shown to the person who hands it on, never stored)."""
    request: AdminRoleRequest | None = None
    token: str = ""


# --- requests ---------------------------------------------------------------------------------

@transaction.atomic
def admin_request_propose(*, actor, kind: str, organisation: Organisation, role: str, target=None,
                          username: str = "", full_name: str = "", reason: str = "") -> AdminRoleRequest:
    """A system administrator over `organisation` proposes granting or revoking one of the three
    administrator roles there, or opening an account that holds it; nothing changes until an
    administrator of another kind approves. (Password resets are proposed by password_reset_issue.)"""
    if not can_manage_accounts(actor, organisation):
        raise PermissionDenied
    if kind not in (AdminRequestKind.GRANT, AdminRequestKind.REVOKE, AdminRequestKind.OPEN_ACCOUNT):
        raise ValidationError("未知事项。")
    if role not in SEPARATED_ROLES:
        raise ValidationError({"role": "只有系统管理员、安全管理员和审计管理员角色需要审批。"})
    username, full_name = username.strip(), full_name.strip()
    if kind == AdminRequestKind.OPEN_ACCOUNT:
        target = None
        if not username or not full_name:
            raise ValidationError("请填写用户名和姓名。")
        if User.objects.filter(username__iexact=username).exists() or _pending(username__iexact=username).exists():
            raise ValidationError({"username": "该用户名已被使用或已在申请中。"})
    else:
        if target is None:
            raise ValidationError("请指定账号。")
        if target.pk == actor.pk:
            raise ValidationError({"role": "不能为自己申请管理员角色变更。"})
        list(User.objects.select_for_update().filter(pk=target.pk).values_list("pk", flat=True))
        held = RoleGrant.objects.filter(user=target, organisation=organisation, role=role).exists()
        if kind == AdminRequestKind.GRANT:
            if held:
                raise ValidationError({"role": "该用户在此组织已有这一角色。"})
            _check_separation(target, role)
        elif not held:
            raise ValidationError({"role": "该用户在此组织没有这一角色。"})
        username, full_name = target.get_username(), target.last_name
        if _pending(target=target, kind=kind, organisation=organisation, role=role).exists():
            raise ValidationError({"role": "已有相同的申请待审批。"})
    request = AdminRoleRequest.objects.create(
        kind=kind, target=target, username=username, full_name=full_name, organisation=organisation,
        role=role, proposed_by=actor, proposer_role=Role.ADMIN, reason=reason.strip()[:200])
    audit.record(actor=actor, action="admin_request.propose", obj=request, organisation=organisation,
                 detail=_detail(request))
    return request


def _pending(**filters):
    return AdminRoleRequest.objects.filter(status=AdminRequestStatus.PENDING, **filters)


def _detail(request: AdminRoleRequest) -> dict:
    return {"request": request.pk, "kind": request.kind, "role": request.role, "user": request.target_id,
            "username": request.username, "proposed_by": request.proposed_by_id}


def _locked(request: AdminRoleRequest, version: int) -> AdminRoleRequest:
    request = (AdminRoleRequest.objects.select_for_update(of=("self",)).select_related("organisation", "target")
               .get(pk=request.pk))
    if request.version != version or not request.is_pending:
        raise Conflict(HANDLED)
    return request


def _close(request: AdminRoleRequest, *, status: str, actor, note: str = "") -> None:
    # Compare-and-set on the version as well as the row lock: on SQLite (no SELECT ... FOR
    # UPDATE) the second of two simultaneous deciders loses here.
    changed = AdminRoleRequest.objects.filter(pk=request.pk, version=request.version).update(
        status=status, decided_by=actor, decided_at=timezone.now(), decision_note=note.strip()[:200],
        version=request.version + 1)
    if changed != 1:
        raise Conflict(HANDLED)
    request.refresh_from_db()


@transaction.atomic
def admin_request_decide(*, actor, request: AdminRoleRequest, version: int, approve: bool,
                         note: str = "") -> Outcome:
    """An administrator of another of the three kinds than the proposer, reaching the
    organisation, approves (the change is applied in this transaction) or rejects a request;
    never the proposer nor the account concerned. Approving an account opening hands back the
    new account's set-password link, shown once to the approver."""
    request = _locked(request, version)
    if not can_decide_admin_request(actor, request):
        raise PermissionDenied
    if not approve:
        _close(request, status=AdminRequestStatus.REJECTED, actor=actor, note=note)
        _void_tokens(request.tokens.all())
        audit.record(actor=actor, action="admin_request.reject", obj=request, organisation=request.organisation,
                     detail=_detail(request))
        return Outcome(request=request)
    _close(request, status=AdminRequestStatus.APPROVED, actor=actor, note=note)
    audit.record(actor=actor, action="admin_request.approve", obj=request, organisation=request.organisation,
                 detail=_detail(request))
    via = {"request": request.pk, "proposed_by": request.proposed_by_id, "approved_by": actor.pk}
    token = ""
    if request.kind == AdminRequestKind.GRANT:
        _grant(actor=actor, user=request.target, organisation=request.organisation, role=request.role, detail=via)
    elif request.kind == AdminRequestKind.REVOKE:
        grant = (RoleGrant.objects.select_for_update().select_related("organisation", "user")
                 .filter(user=request.target, organisation=request.organisation, role=request.role).first())
        if grant is None:
            raise ValidationError("该角色已不存在。")
        _revoke(actor=actor, grant=grant, detail=via)
    elif request.kind == AdminRequestKind.OPEN_ACCOUNT:
        user = _open_account(actor=actor, username=request.username, full_name=request.full_name, password=None,
                             organisation=request.organisation, role=request.role)
        AdminRoleRequest.objects.filter(pk=request.pk).update(target=user)
        request.target = user
        # The proposer never learns a credential of the account they asked for: the approver
        # receives its first set-password link.
        token = _issue(actor=actor, target=user, request=request, active=True)
    elif request.kind == AdminRequestKind.PASSWORD_RESET:
        for row in request.tokens.select_for_update().filter(used_at__isnull=True, voided_at__isnull=True):
            row.expires_at = _expiry()
            row.save(update_fields=["expires_at"])
        _lock_out_old_password(actor=actor, target=request.target, request=request)
    return Outcome(request=request, token=token)


@transaction.atomic
def admin_request_cancel(*, actor, request: AdminRoleRequest, version: int) -> AdminRoleRequest:
    """The proposer withdraws their own pending request (a reset link waiting for it dies too)."""
    request = _locked(request, version)
    if not can_cancel_admin_request(actor, request):
        raise PermissionDenied
    _close(request, status=AdminRequestStatus.CANCELLED, actor=actor)
    _void_tokens(request.tokens.all())
    audit.record(actor=actor, action="admin_request.cancel", obj=request, organisation=request.organisation,
                 detail=_detail(request))
    return request


# --- manage.py --------------------------------------------------------------------------------

OPERATOR = {"via": "manage.py admin_roles"}


@transaction.atomic
def admin_role_grant_by_operator(*, user, organisation: Organisation, role: str) -> RoleGrant:
    """The server's operator (manage.py admin_roles, actor None) grants one of the three
    administrator roles directly: the way back when no approval is possible."""
    if role not in SEPARATED_ROLES:
        raise ValidationError({"role": "只能授予系统管理员、安全管理员或审计管理员角色。"})
    if RoleGrant.objects.filter(user=user, organisation=organisation, role=role).exists():
        raise ValidationError({"role": "该用户在此组织已有这一角色。"})
    return _grant(actor=None, user=user, organisation=organisation, role=role, detail=OPERATOR)


@transaction.atomic
def admin_role_revoke_by_operator(*, user, organisation: Organisation, role: str) -> None:
    """The server's operator (manage.py admin_roles, actor None) revokes one of the three
    administrator roles directly."""
    if role not in SEPARATED_ROLES:
        raise ValidationError({"role": "只能撤销系统管理员、安全管理员或审计管理员角色。"})
    grant = (RoleGrant.objects.select_for_update().select_related("organisation", "user")
             .filter(user=user, organisation=organisation, role=role).first())
    if grant is None:
        raise ValidationError({"role": "该用户在此组织没有这一角色。"})
    _revoke(actor=None, grant=grant, detail=OPERATOR)


# --- password reset links ---------------------------------------------------------------------

def _expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=settings.PASSWORD_RESET_TOKEN_HOURS)


def _void_tokens(tokens) -> None:
    tokens.filter(used_at__isnull=True, voided_at__isnull=True).update(voided_at=timezone.now())


def _issue(*, actor, target, request: AdminRoleRequest | None, active: bool) -> str:
    """A new random token for `target` (older ones voided); only its hash is stored."""
    _void_tokens(PasswordResetToken.objects.filter(user=target))
    raw = secrets.token_urlsafe(32)
    PasswordResetToken.objects.create(user=target, token_hash=accounts.reset_token_hash(raw), issued_by=actor,
                                      request=request, expires_at=_expiry() if active else None)
    return raw


def _lock_out_old_password(*, actor, target, request: AdminRoleRequest | None) -> None:
    """The reset takes effect: the old password stops working, sessions end, a lockout is lifted
    (the reset answers it), the owner is told."""
    target = User.objects.select_for_update().get(pk=target.pk)
    if target.has_usable_password() and not PasswordHistory.objects.filter(user=target,
                                                                           password=target.password).exists():
        # The password being voided may not come back through the link (orgs.password_validation
        # compares with the current one, which is about to be unusable, and with the history).
        PasswordHistory.objects.create(user=target, password=target.password)
    target.set_unusable_password()
    target.save(update_fields=["password"])
    unlocked = accounts.reset(accounts.username_key(target.get_username()))
    ended = accounts.end_sessions_of(target.pk)
    audit.record(actor=actor, action="user.password_reset", obj=target,
                 detail={"unlocked": unlocked, "sessions_ended": ended,
                         "request": request.pk if request else None,
                         "hours": settings.PASSWORD_RESET_TOKEN_HOURS})
    pk = target.pk
    transaction.on_commit(lambda: notify_reset(pk))


@transaction.atomic
def password_reset_issue(*, actor, target) -> Outcome:
    """A security administrator over the account resets its password: a one-time link is handed
    back (shown once). For an account holding one of the three administrator roles the reset
    is a request: the link works, and the old password stops, only once an administrator of
    another kind approves."""
    target = User.objects.select_for_update().get(pk=target.pk)
    if not can_secure_user(actor, target, user_org_paths(target)):
        raise PermissionDenied
    # A newer reset replaces a pending one.
    for old in _pending(target=target, kind=AdminRequestKind.PASSWORD_RESET):
        _close(old, status=AdminRequestStatus.CANCELLED, actor=actor, note="已被新的重置取代")
    held = (RoleGrant.objects.filter(user=target, role__in=SEPARATED_ROLES).select_related("organisation")
            .order_by("organisation__path").first())
    if held is None:
        token = _issue(actor=actor, target=target, request=None, active=True)
        _lock_out_old_password(actor=actor, target=target, request=None)
        return Outcome(token=token)
    request = AdminRoleRequest.objects.create(
        kind=AdminRequestKind.PASSWORD_RESET, target=target, username=target.get_username(),
        full_name=target.last_name, organisation=held.organisation, role=held.role, proposed_by=actor,
        proposer_role=administrator_role_of(actor) or Role.SECURITY)
    token = _issue(actor=actor, target=target, request=request, active=False)
    audit.record(actor=actor, action="admin_request.propose", obj=request, organisation=held.organisation,
                 detail=_detail(request))
    return Outcome(request=request, token=token)


@transaction.atomic
def password_reset_complete(*, token: PasswordResetToken, new_password: str) -> None:
    """The holder of a usable reset link sets the account's new password; the link is spent.
    It logs no one in: the holder logs in with the new password."""
    token = PasswordResetToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if not token.usable():
        raise Conflict("该链接已失效，请联系安全管理员重新重置密码。")
    user = User.objects.select_for_update().get(pk=token.user_id)
    validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    token.used_at = timezone.now()
    token.save(update_fields=["used_at"])
    AccountSecurity.objects.update_or_create(
        user=user, defaults={"must_change_password": False, "password_changed_at": timezone.now()})
    accounts.reset(accounts.username_key(user.get_username()))
    accounts.end_sessions_of(user.pk)
    audit.record(actor=None, action="user.password_reset_complete", obj=user,
                 detail={"token": token.pk, "issued_by": token.issued_by_id})


def notify_reset(user_pk: int) -> None:
    """Tells the account's owner (after commit) that its password was reset, where an address is known."""
    try:
        user = User.objects.filter(pk=user_pk).first()
        if user is None or not user.email:
            return
        send_mail("【公开承诺管理系统】您的登录密码已被重置",
                  f"您的账号“{user.get_username()}”的登录密码已于{timezone.localtime():%Y-%m-%d %H:%M}被安全管理员重置，"
                  f"原密码已失效。请使用安全管理员交给您的一次性链接设置新密码"
                  f"（{settings.PASSWORD_RESET_TOKEN_HOURS}小时内有效）。\n"
                  "如您没有申请重置密码，请立即联系安全管理员。",
                  None, [user.email])
    except Exception:  # noqa: BLE001 - a notice must never break the action that committed
        log.exception("password reset notice for user %s failed", user_pk)
