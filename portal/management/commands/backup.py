"""`manage.py backup [--output PATH] [--keep N]`: the database and the uploaded files in one archive.

Writes backup-YYYYmmdd-HHMMSS.tar.gz (into --output when it is a directory, BACKUP_DIR or
./backups otherwise) and its SHA-256 next to it (<archive>.sha256). Run daily by cron
(config/deploy/crontab); restore with `manage.py restore ARCHIVE`. See portal/backup.py.
"""
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, create_backup, default_archive_name, prune


class Command(BaseCommand):
    help = "备份数据库和上传的文件到一个归档文件（.tar.gz），并在旁边写入其SHA-256校验文件（.sha256）。"

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="",
                            help="备份文件路径或目录，默认 $BACKUP_DIR 或 ./backups 下的 backup-时间.tar.gz")
        parser.add_argument("--keep", type=int, default=0,
                            help="只保留该目录中最新的N份备份（0：不删除旧备份）")
        parser.add_argument("--database", default="default", help="数据库别名，默认 default")

    def handle(self, *args, output, keep, database, **options):
        if keep < 0:
            raise CommandError("--keep 不能为负数。")
        target = Path(output or os.environ.get("BACKUP_DIR") or Path(settings.BASE_DIR) / "backups")
        if not output or target.is_dir() or output.endswith(os.sep):
            target = target / default_archive_name()
        if target.exists():
            raise CommandError(f"备份文件已存在：{target}")
        verbose = options["verbosity"] > 1
        try:
            result = create_backup(target, using=database,
                                   log=(lambda line: self.stdout.write("  " + line)) if verbose else None)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        total = sum(result.rows.values())
        self.stdout.write(f"已备份 {len(result.rows)} 张表共 {total} 行、{result.files} 个文件：{result.path}")
        self.stdout.write(f"SHA-256 {result.sha256}  {result.path.name}")
        if keep:
            for old in prune(result.path.parent, keep):
                self.stdout.write(f"已删除旧备份：{old.name}")
