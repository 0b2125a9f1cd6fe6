"""Every write to organisations, members, accounts and roles.

Each service checks permission, validates, writes one audit row and changes state in one
transaction. Edits carry the version the user saw; a stale one raises Conflict.
"""
import datetime
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone

from core.errors import Conflict

from . import accounts, audit, signals
from .models import (BRANCH_KINDS, SEPARATED_ROLES, AccountSecurity, Member, MemberStatus, MemberTransfer, Organisation,
                     OrgKind, Role, RoleGrant, path_segment)
from .permissions import (can_add_member, can_edit_member, can_manage_accounts, can_manage_org, can_manage_user,
                          can_move_org, can_secure_user, can_transfer_member, forget_scope)
from .validators import normalise_phone

User = get_user_model()

ORG_EDITABLE_FIELDS = ("code", "name", "short_name", "kind", "sort_order", "supervision_phone",
                       "is_active")
MEMBER_EDITABLE_FIELDS = ("name", "gender", "birth_month", "post", "joined_party_on", "joined_party_precision",
                          "membership", "full_member_on", "full_member_precision", "phone", "category", "status",
                          "ethnicity", "education", "native_place", "note")


# --- organisations -------------------------------------------------------------------------

def _validate_kind_under(kind: str, parent: Organisation | None) -> None:
    if parent is None:
        return
    if parent.kind in BRANCH_KINDS:
        raise ValidationError({"kind": "党支部下不能再设立党组织。"})
    if kind == OrgKind.WORK_COMMITTEE:
        raise ValidationError({"kind": "工委只能作为组织树的根。"})


@transaction.atomic
def organisation_create(*, actor, parent: Organisation | None, name: str, kind: str, code: str = "",
                        short_name: str = "", supervision_phone: str = "",
                        sort_order: int = 0) -> Organisation:
    """An administrator over `parent` adds a child; a root is created only by set-up commands (actor=None)."""
    if parent is None:
        if actor is not None:
            raise PermissionDenied
    else:
        parent = Organisation.objects.select_for_update().get(pk=parent.pk)
        if actor is not None and not can_manage_org(actor, parent):
            raise PermissionDenied
    _validate_kind_under(kind, parent)
    placeholder = uuid.uuid4().hex
    org = Organisation(parent=parent, name=name.strip(), kind=kind, code=code.strip() or placeholder,
                       short_name=short_name.strip(),
                       supervision_phone=normalise_phone(supervision_phone), sort_order=sort_order,
                       path=placeholder, depth=(parent.depth + 1) if parent else 0)
    org.full_clean(exclude=["path"])
    org.save()
    # The path needs the new id, so it is set in a second write inside the same transaction.
    org.path = (parent.path if parent else "") + path_segment(org.pk)
    if org.code == placeholder:
        org.code = f"Z{org.pk:06d}"
    org.save(update_fields=["path", "code"])
    audit.record(actor=actor, action="org.create", obj=org,
                 detail={"parent": parent.pk if parent else None, "kind": kind})
    signals.public_data_changed.send(sender=__name__)
    return org


@transaction.atomic
def organisation_update(*, actor, org: Organisation, version: int, data: dict) -> Organisation:
    """An administrator over the organisation edits its name, kind, code, phone, order or status."""
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    if not can_manage_org(actor, org):
        raise PermissionDenied
    if org.version != version:
        raise Conflict("该党组织信息已被他人修改，请刷新页面后重试。")
    changes = {}
    for field in ORG_EDITABLE_FIELDS:
        if field in data and data[field] != getattr(org, field):
            changes[field] = [str(getattr(org, field)), str(data[field])]
            setattr(org, field, data[field])
    org.supervision_phone = normalise_phone(org.supervision_phone)
    if "kind" in changes:
        _validate_kind_under(org.kind, org.parent)
        if org.kind in BRANCH_KINDS and org.children.exists():
            raise ValidationError({"kind": "该组织有下级党组织，不能改为党支部。"})
        if org.kind not in BRANCH_KINDS and org.members.exists():
            raise ValidationError({"kind": "该组织编有党员，只能是党支部或临时党支部。"})
    if "is_active" in changes and not org.is_active:
        if org.children.filter(is_active=True).exists():
            raise ValidationError({"is_active": "该组织还有有效的下级党组织，不能撤销。"})
        if org.members.filter(status=MemberStatus.ACTIVE).exists():
            raise ValidationError({"is_active": "该组织还有在册党员，请先办理转接后再撤销。"})
    org.full_clean()
    org.version += 1
    org.save()
    audit.record(actor=actor, action="org.update", obj=org, detail={"changes": changes})
    signals.public_data_changed.send(sender=__name__)
    return org


@transaction.atomic
def organisation_move(*, actor, org: Organisation, new_parent: Organisation, version: int) -> Organisation:
    """An administrator over both parents moves an organisation with its whole subtree."""
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    new_parent = Organisation.objects.select_for_update().get(pk=new_parent.pk)
    if not can_move_org(actor, org, new_parent):
        if new_parent.is_descendant_of(org) and can_move_org(actor, org):
            raise ValidationError({"new_parent": "不能移到本组织或其下级组织之下。"})
        raise PermissionDenied
    if org.version != version:
        raise Conflict("该党组织信息已被他人修改，请刷新页面后重试。")
    if new_parent.pk == org.parent_id:
        raise ValidationError({"new_parent": "新的上级党组织与原上级相同。"})
    _validate_kind_under(org.kind, new_parent)
    old_path, old_parent_id = org.path, org.parent_id
    new_path = new_parent.path + path_segment(org.pk)
    delta = new_parent.depth + 1 - org.depth
    # One UPDATE rewrites the prefix of every path in the subtree, whatever its size.
    Organisation.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
        depth=F("depth") + delta,
    )
    Organisation.objects.filter(pk=org.pk).update(parent=new_parent, version=F("version") + 1)
    org.refresh_from_db()
    audit.record(actor=actor, action="org.move", obj=org,
                 detail={"from_parent": old_parent_id, "to_parent": new_parent.pk})
    # The commitments app rewrites its owners' paths and hands the organisation's pending review
    # to the new parent (commitments.services.moves).
    signals.organisation_moved.send(sender=Organisation, org=org, old_path=old_path, new_path=new_path,
                                    old_parent_id=old_parent_id, new_parent=new_parent, actor=actor)
    signals.public_data_changed.send(sender=__name__)
    return org


# --- members --------------------------------------------------------------------------------

def _clean_member_data(data: dict) -> dict:
    data = {k: v for k, v in data.items() if k in MEMBER_EDITABLE_FIELDS}
    for key in ("name", "post", "note", "ethnicity", "education", "native_place"):
        if key in data and isinstance(data[key], str):
            # Rosters come with full-width spaces in names (张　伟); they are not part of the name.
            data[key] = data[key].replace("\u3000", " ").strip()
            if key == "name":
                data[key] = "".join(data[key].split()) if _is_cjk(data[key]) else " ".join(data[key].split())
    if data.get("phone"):
        data["phone"] = normalise_phone(data["phone"])
    if isinstance(data.get("birth_month"), datetime.date):
        data["birth_month"] = data["birth_month"].replace(day=1)
    return data


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


@transaction.atomic
def member_create(*, actor, branch: Organisation, data: dict) -> Member:
    """Officers of the branch or an ancestor register a member in the branch."""
    branch = Organisation.objects.select_for_update().get(pk=branch.pk)
    if not can_add_member(actor, branch):
        raise PermissionDenied
    member = Member(branch=branch, **_clean_member_data(data))
    member.full_clean(exclude=["user"])
    member.save()
    audit.record(actor=actor, action="member.create", obj=member)
    return member


@transaction.atomic
def member_update(*, actor, member: Member, version: int, data: dict) -> Member:
    """Officers of the member's branch or an ancestor edit the member's record."""
    member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
    if not can_edit_member(actor, member):
        raise PermissionDenied
    if member.version != version:
        raise Conflict("该党员信息已被他人修改，请刷新页面后重试。")
    changes = {}
    for field, value in _clean_member_data(data).items():
        if value != getattr(member, field):
            changes[field] = [_str(getattr(member, field)), _str(value)]
            setattr(member, field, value)
    if not changes:
        return member
    member.full_clean(exclude=["user"])
    member.version += 1
    member.save()
    audit.record(actor=actor, action="member.update", obj=member, detail={"changes": changes})
    signals.public_data_changed.send(sender=__name__)
    return member


def _str(value) -> str:
    return "" if value is None else str(value)


@transaction.atomic
def member_transfer(*, actor, member: Member, to_branch: Organisation, version: int,
                    transferred_on: datetime.date | None = None, reason: str = "") -> Member:
    """Officers over both branches move a member; the move is kept in the member's history."""
    member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
    to_branch = Organisation.objects.get(pk=to_branch.pk)
    if not can_transfer_member(actor, member):
        raise PermissionDenied
    if member.version != version:
        raise Conflict("该党员信息已被他人修改，请刷新页面后重试。")
    if not to_branch.is_branch:
        raise ValidationError({"to_branch": "党员只能转入党支部或临时党支部。"})
    if not can_transfer_member(actor, member, to_branch):
        raise ValidationError({"to_branch": "您无权将党员转入该党支部。"})
    if to_branch.pk == member.branch_id:
        raise ValidationError({"to_branch": "转入党支部与现所在党支部相同。"})
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError({"to_branch": "只有在册党员才能办理转接。"})
    transferred_on = transferred_on or timezone.localdate()
    if transferred_on > timezone.localdate():
        raise ValidationError({"transferred_on": "转接日期不能晚于今天。"})
    from_branch = member.branch
    MemberTransfer.objects.create(member=member, from_branch=from_branch, to_branch=to_branch,
                                  transferred_on=transferred_on, reason=reason.strip(), actor=actor)
    member.branch = to_branch
    member.version += 1
    member.save(update_fields=["branch", "version", "updated_at"])
    audit.record(actor=actor, action="member.transfer", obj=member,
                 detail={"from": from_branch.pk, "to": to_branch.pk, "on": transferred_on.isoformat()})
    # A member's pledges go with them, and the new branch reviews the pending ones
    # (commitments.services.moves).
    signals.member_transferred.send(sender=Member, member=member, from_branch=from_branch, to_branch=to_branch,
                                    actor=actor)
    signals.public_data_changed.send(sender=__name__)
    return member


# --- accounts and roles ---------------------------------------------------------------------

def user_org_paths(user) -> list[str]:
    """Paths of the organisations an account is tied to, through grants or its member record."""
    paths = list(RoleGrant.objects.filter(user=user).values_list("organisation__path", flat=True))
    paths += list(Member.objects.filter(user=user).values_list("branch__path", flat=True))
    return paths


def _check_manage_user(actor, target) -> None:
    if not can_manage_user(actor, target, user_org_paths(target)):
        raise PermissionDenied


def _check_separation(user, role: str) -> None:
    """三员分立: no account holds two of the system, security and audit administrator roles."""
    if role not in SEPARATED_ROLES or user.pk is None:
        return
    held = sorted(set(RoleGrant.objects.filter(user=user, role__in=SEPARATED_ROLES)
                      .exclude(role=role).values_list("role", flat=True)))
    if held:
        labels = "、".join(Role(r).label for r in held)
        raise ValidationError({"role": f"三员分立：系统管理员、安全管理员和审计管理员须由不同账号担任。"
                                       f"该账号已是{labels}，不能再授予{Role(role).label}。"})


def _refuse_administrator_role(role: str) -> None:
    """三员分立 with two people: the three administrator roles change only through an approved
    request (orgs.services_admin) or manage.py on the server, never by one administrator."""
    if role in SEPARATED_ROLES:
        raise ValidationError({"role": f"三员分立：{Role(role).label}角色的授予、撤销须由另一类管理员审批，"
                                       f"请提交申请（管理员变更审批）。"})


def _require_password_change(user) -> None:
    """The account must choose its own password at its next login (orgs.middleware)."""
    AccountSecurity.objects.update_or_create(user=user, defaults={"must_change_password": True})


@transaction.atomic
def user_create(*, actor, username: str, full_name: str, password: str, organisation: Organisation,
                role: str, member: Member | None = None):
    """An administrator over `organisation` opens an account with a first role there; the
    initial password must be changed at the first login."""
    if not can_manage_accounts(actor, organisation):
        raise PermissionDenied
    _refuse_administrator_role(role)
    return _open_account(actor=actor, username=username, full_name=full_name, password=password,
                         organisation=organisation, role=role, member=member)


def _open_account(*, actor, username, full_name, password, organisation, role, member=None):
    """Opens the account (password None: an unusable one, set later through a reset link)."""
    if role not in Role.values:
        raise ValidationError({"role": "未知角色。"})
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "该用户名已被使用。"})
    if member is not None:
        member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
        if not can_manage_accounts(actor, member.branch):
            raise PermissionDenied
        if member.user_id is not None:
            raise ValidationError({"member": "该党员已有登录账号。"})
    user = User(username=username, last_name=full_name.strip())
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    _check_separation(user, role)
    _require_password_change(user)
    grant = RoleGrant.objects.create(user=user, organisation=organisation, role=role, granted_by=actor)
    if member is not None:
        member.user = user
        member.save(update_fields=["user", "updated_at"])
    audit.record(actor=actor, action="user.create", obj=user, organisation=organisation,
                 detail={"role": role, "member": member.pk if member else None})
    audit.record(actor=actor, action="role.grant", obj=grant)
    return user


@transaction.atomic
def role_grant(*, actor, user, organisation: Organisation, role: str) -> RoleGrant:
    """An administrator over `organisation` grants a role there."""
    if not can_manage_accounts(actor, organisation):
        raise PermissionDenied
    if role not in Role.values:
        raise ValidationError({"role": "未知角色。"})
    if user.pk == actor.pk:
        raise ValidationError({"user": "不能给自己授权。"})
    _refuse_administrator_role(role)
    return _grant(actor=actor, user=user, organisation=organisation, role=role)


def _grant(*, actor, user, organisation: Organisation, role: str, detail: dict | None = None) -> RoleGrant:
    """Writes a grant, checked and audited; the caller has checked who may (actor None: manage.py)."""
    # The account row is locked so that two grants at once cannot both pass the separation check.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    _check_separation(user, role)
    grant, created = RoleGrant.objects.get_or_create(
        user=user, organisation=organisation, role=role, defaults={"granted_by": actor})
    if not created:
        raise ValidationError({"role": "该用户在此组织已有这一角色。"})
    forget_scope(user)
    audit.record(actor=actor, action="role.grant", obj=grant,
                 detail={"user": user.pk, "role": role, **(detail or {})})
    return grant


@transaction.atomic
def role_revoke(*, actor, grant: RoleGrant) -> None:
    """An administrator over the grant's organisation revokes it (never their own)."""
    grant = RoleGrant.objects.select_for_update().select_related("organisation", "user").get(pk=grant.pk)
    if not can_manage_accounts(actor, grant.organisation):
        raise PermissionDenied
    if grant.user_id == actor.pk:
        raise ValidationError("不能撤销自己的角色。")
    if grant.role in SEPARATED_ROLES:
        raise ValidationError(f"三员分立：{grant.get_role_display()}角色的授予、撤销须由另一类管理员审批，"
                              f"请提交申请（管理员变更审批）。")
    _revoke(actor=actor, grant=grant)


def _revoke(*, actor, grant: RoleGrant, detail: dict | None = None) -> None:
    """Deletes a locked grant, audited; the caller has checked who may (actor None: manage.py)."""
    audit.record(actor=actor, action="role.revoke", obj=grant,
                 detail={"user": grant.user_id, "role": grant.role, **(detail or {})})
    grant.delete()
    forget_scope(grant.user)


@transaction.atomic
def user_set_active(*, actor, target, active: bool) -> None:
    """An administrator who manages the account disables or re-enables it."""
    target = User.objects.select_for_update().get(pk=target.pk)
    _check_manage_user(actor, target)
    if target.is_active == active:
        return
    target.is_active = active
    target.save(update_fields=["is_active"])
    if not active:
        accounts.end_sessions_of(target.pk)  # any session left ends at its next request anyway
    audit.record(actor=actor, action="user.activate" if active else "user.deactivate", obj=target)


def user_change_own_password(*, user, old_password: str, new_password: str, address: str | None = None) -> None:
    """Any signed-in user changes their own password. A wrong old password counts toward the
    login lockout of the username and the client `address` like a failed login, and a locked
    username or client is refused, so 修改密码 in a stolen session cannot guess the password."""
    refusal = accounts.login_refusal(user.get_username(), address)
    if refusal:
        raise ValidationError({"old_password": refusal})
    # Checked and counted outside the change's transaction: the refusal below must not roll
    # the count back.
    if not User.objects.get(pk=user.pk).check_password(old_password):
        accounts.login_failed(user.get_username(), address)
        if accounts.is_locked(accounts.username_key(user.get_username())):
            raise ValidationError({"old_password": accounts.lockout_message()})
        raise ValidationError({"old_password": "原密码不正确。"})
    _change_password(user=user, old_password=old_password, new_password=new_password)


@transaction.atomic
def _change_password(*, user, old_password: str, new_password: str) -> None:
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password):
        raise ValidationError({"old_password": "原密码不正确。"})
    validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    AccountSecurity.objects.update_or_create(
        user=user, defaults={"must_change_password": False, "password_changed_at": timezone.now()})
    audit.record(actor=user, action="user.change_password", obj=user)


@transaction.atomic
def account_unlock(*, actor, target) -> None:
    """A security administrator over the account lifts its failed-login lockout."""
    target = User.objects.select_for_update().get(pk=target.pk)
    if not can_secure_user(actor, target, user_org_paths(target)):
        raise PermissionDenied
    if not accounts.reset(accounts.username_key(target.get_username())):
        raise ValidationError("该账号未被锁定。")
    audit.record(actor=actor, action="auth.unlock", obj=target)


@transaction.atomic
def bootstrap_admin_accounts(*, organisation: Organisation, accounts: list[dict]) -> list:
    """Set-up (actor=None, from manage.py bootstrap_admins): the three administrators of a fresh
    installation, each with an initial password to be changed at the first login. Each dict
    gives username, full_name, password and role."""
    users = []
    for spec in accounts:
        user = _open_account(actor=None, username=spec["username"], full_name=spec["full_name"],
                             password=spec["password"], organisation=organisation, role=spec["role"])
        users.append(user)
    return users
