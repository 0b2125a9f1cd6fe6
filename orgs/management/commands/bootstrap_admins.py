"""`manage.py bootstrap_admins`: the first accounts of a fresh installation, without a superuser.

Creates the root organisation when there is none (its name and code are arguments) and the
three administrators of 三员分立 — 系统管理员, 安全管理员, 审计管理员 — at the root, each with a
random initial password printed once, which must be changed at the first login. Refuses when
any administrator account already exists, so it cannot be used to take over a running system
(afterwards: the approval path of orgs.services_admin, or `manage.py admin_roles`).
"""
import secrets
import string

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orgs import services
from orgs.models import SEPARATED_ROLES, Organisation, OrgKind, Role, RoleGrant
from orgs.password_validation import character_classes

User = get_user_model()

ADMINS = (
    (Role.ADMIN, "sysadmin", "系统管理员"),
    (Role.SECURITY, "secadmin", "安全管理员"),
    (Role.AUDITOR, "auditadmin", "审计管理员"),
)
# No look-alike characters (0/O, 1/l/I): the password is read off a screen and typed.
ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
SYMBOLS = "@#%+=-_"


def random_password(length: int = 14, *, username: str = "", full_name: str = "") -> str:
    """A random password that passes the password rules: all four character classes, and every
    validator, including the one that refuses passwords too like the account's name (which a
    random draw can hit, rarely)."""
    account = User(username=username, last_name=full_name)
    while True:
        body = [secrets.choice(ALPHABET) for _ in range(length - 2)]
        body.insert(secrets.randbelow(len(body) + 1), secrets.choice(SYMBOLS))
        body.insert(secrets.randbelow(len(body) + 1), secrets.choice(string.digits[2:]))
        password = "".join(body)
        if character_classes(password) < 4:
            continue
        try:
            validate_password(password, user=account)
        except ValidationError:
            continue
        return password


class Command(BaseCommand):
    help = "新安装时创建根党组织（如没有）和系统管理员、安全管理员、审计管理员三个账号"

    def add_arguments(self, parser):
        parser.add_argument("--root-name", default="", help="根党组织名称（没有根组织时必填）")
        parser.add_argument("--root-code", default="ROOT", help="根党组织编码（默认 ROOT）")
        parser.add_argument("--root-kind", default=OrgKind.WORK_COMMITTEE, choices=OrgKind.values,
                            help="根党组织类型（默认 工委）")
        for role, username, label in ADMINS:
            parser.add_argument(f"--{role}-username", default=username, help=f"{label}的用户名（默认 {username}）")

    @transaction.atomic
    def handle(self, *args, **options):
        if RoleGrant.objects.filter(role__in=SEPARATED_ROLES).exists():
            raise CommandError("已有管理员账号，拒绝重复初始化。如需新增或撤销管理员角色，请在系统中提交申请"
                               "并由另一类管理员审批，或在服务器上使用 manage.py admin_roles。")
        roots = list(Organisation.objects.filter(parent__isnull=True).order_by("pk")[:2])
        if len(roots) > 1:
            raise CommandError("存在多个根党组织，无法确定管理员所属组织。")
        if roots:
            root = roots[0]
        else:
            if not options["root_name"].strip():
                raise CommandError("尚无根党组织，请用 --root-name 指定名称（可用 --root-code 指定编码）。")
            try:
                root = services.organisation_create(actor=None, parent=None, name=options["root_name"],
                                                    kind=options["root_kind"], code=options["root_code"])
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from None
        specs = [{"username": options[f"{role}_username"], "full_name": label, "role": role,
                  "password": random_password(username=options[f"{role}_username"], full_name=label)}
                 for role, _username, label in ADMINS]
        if len({s["username"].lower() for s in specs}) < len(specs):
            raise CommandError("三个管理员的用户名不能相同。")
        try:
            services.bootstrap_admin_accounts(organisation=root, accounts=specs)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(f"根党组织：{root.name}（{root.code}）")
        self.stdout.write("已创建以下管理员账号。初始密码只显示这一次，请分别当面交给三位管理员，"
                          "首次登录时须修改：")
        for spec in specs:
            self.stdout.write(f"  {Role(spec['role']).label}  用户名 {spec['username']}  初始密码 {spec['password']}")
