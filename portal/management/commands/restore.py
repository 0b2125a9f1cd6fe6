"""`manage.py restore ARCHIVE [--force]`: put back what `manage.py backup` saved.

Verifies ARCHIVE.sha256 and every member of the archive before writing anything; refuses a
database that already has data unless --force (which empties the backed-up tables first); runs
`migrate` itself on a database that was never migrated. See portal/backup.py.
"""
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "从备份文件恢复数据库和上传的文件：先校验全部内容，目标数据库须为空（或加 --force）。"

    def add_arguments(self, parser):
        parser.add_argument("archive", help="backup 命令生成的 .tar.gz 文件（旁边须有 .sha256 校验文件）")
        parser.add_argument("--force", action="store_true", help="目标数据库已有数据时先清空再恢复（慎用）")
        parser.add_argument("--database", default="default", help="数据库别名，默认 default")

    def handle(self, *args, archive, force, database, **options):
        verbose = options["verbosity"] > 1

        def migrate():
            self.stdout.write("目标数据库尚未建表，先运行 migrate。")
            call_command("migrate", database=database, interactive=False, verbosity=0)

        def log(line):
            # The verification line always; one line per table with -v 2.
            if verbose or line.startswith("校验"):
                self.stdout.write(line)

        try:
            result = restore_backup(archive, force=force, using=database, migrate=migrate, log=log)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        total = sum(result.rows.values())
        self.stdout.write(f"已恢复 {len(result.rows)} 张表共 {total} 行、{result.files} 个文件，行数与备份一致。")
        if result.audit is None:
            self.stdout.write("（本系统未提供审计链校验，已跳过。）")
        else:
            ok, count, first_bad = result.audit
            if ok:
                self.stdout.write(f"审计记录哈希链校验通过：{count} 条。")
            else:
                raise CommandError(f"数据已恢复，但审计记录哈希链校验失败（{count} 条完好之后）：{first_bad}")
