"""`manage.py verify_audit`: check the audit trail's hash chain end to end (orgs.audit.verify_chain).

Exit status 0 when every row's hash and link and the chain head agree; otherwise the first bad
row is named and the status is 1 (for cron and monitoring). Memory stays flat: rows are streamed.
"""
from django.core.management.base import BaseCommand, CommandError

from orgs.audit import append_only_trigger_present, verify_chain


class Command(BaseCommand):
    help = "校验审计日志的哈希链：逐条重算校验值并核对前后链接和链头，发现篡改或删除时指出第一条异常记录。"

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000, help="每次读取的记录数，默认2000")
        parser.add_argument("--database", default="default", help="数据库别名，默认 default")

    def handle(self, *args, chunk_size, database, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size 须为正整数。")
        result = verify_chain(chunk_size=chunk_size, using=database)
        if not append_only_trigger_present(database):
            self.stderr.write("警告：数据库中没有禁止修改审计记录的触发器（见迁移 orgs/0003_audit_chain）。")
        if not result.ok:
            raise CommandError(f"审计链校验失败：{result.first_bad}（此前{result.count}条完好）", returncode=1)
        self.stdout.write(f"审计链完整：共{result.count}条")
        self.stdout.write(f"链头校验值：{result.head_hash}")
