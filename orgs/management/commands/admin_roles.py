"""`manage.py admin_roles list|grant|revoke`: the server operator's way to the three
administrator roles (系统管理员, 安全管理员, 审计管理员) without a second administrator's approval,
e.g. when every holder of one of them is gone. Each change is audited with no actor and
"via": "manage.py admin_roles" in its detail.

    manage.py admin_roles list
    manage.py admin_roles grant  --user USERNAME --org ORG_CODE --role admin|security|auditor
    manage.py admin_roles revoke --user USERNAME --org ORG_CODE --role admin|security|auditor
"""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from orgs import services_admin
from orgs.models import SEPARATED_ROLES, AdminRequestStatus, AdminRoleRequest, Organisation, Role, RoleGrant

User = get_user_model()
CHOICES = sorted(SEPARATED_ROLES)


class Command(BaseCommand):
    help = "查看、授予或撤销系统管理员、安全管理员、审计管理员角色（服务器操作，记入审计日志）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "grant", "revoke"])
        parser.add_argument("--user", default="", help="用户名")
        parser.add_argument("--org", default="", help="党组织编码（默认根党组织）")
        parser.add_argument("--role", default="", choices=[""] + CHOICES, help="admin、security 或 auditor")

    def handle(self, *args, **options):
        if options["action"] == "list":
            return self._list()
        if not options["user"] or not options["role"]:
            raise CommandError("请用 --user 指定用户名、用 --role 指定角色（admin、security、auditor）。")
        user = User.objects.filter(username__iexact=options["user"].strip()).first()
        if user is None:
            raise CommandError(f"没有用户名为“{options['user']}”的账号。")
        org = self._organisation(options["org"].strip())
        try:
            if options["action"] == "grant":
                services_admin.admin_role_grant_by_operator(user=user, organisation=org, role=options["role"])
            else:
                services_admin.admin_role_revoke_by_operator(user=user, organisation=org, role=options["role"])
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        done = "已授予" if options["action"] == "grant" else "已撤销"
        self.stdout.write(f"{done} {user.username} 在{org.name}的“{Role(options['role']).label}”角色（已记入审计日志）。")

    def _organisation(self, code: str) -> Organisation:
        if code:
            org = Organisation.objects.filter(code=code).first()
            if org is None:
                raise CommandError(f"没有编码为“{code}”的党组织。")
            return org
        roots = list(Organisation.objects.filter(parent__isnull=True).order_by("pk")[:2])
        if len(roots) != 1:
            raise CommandError("请用 --org 指定党组织编码。")
        return roots[0]

    def _list(self):
        grants = (RoleGrant.objects.filter(role__in=SEPARATED_ROLES)
                  .select_related("user", "organisation").order_by("role", "organisation__path", "user__username"))
        for g in grants:
            state = "" if g.user.is_active else "（已停用）"
            self.stdout.write(f"{g.get_role_display()}  {g.user.username}{state}  {g.organisation.name}（{g.organisation.code}）")
        pending = (AdminRoleRequest.objects.filter(status=AdminRequestStatus.PENDING)
                   .select_related("organisation", "proposed_by").order_by("created_at"))
        for r in pending:
            self.stdout.write(f"待审批：{r.get_kind_display()} {r.username} {r.organisation.name} "
                              f"{r.get_role_display()}（申请人 {r.proposed_by.username}）")
