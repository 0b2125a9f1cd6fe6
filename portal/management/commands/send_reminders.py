"""`manage.py send_reminders [--days N] [--no-email]`: the day's deadline reminders (run daily by cron)."""
from django.core.management.base import BaseCommand, CommandError

from portal.reminders import DEFAULT_DAYS, remind_all


class Command(BaseCommand):
    help = "生成当天的期限提醒（N天内到期和已逾期的事项），写入首页待办并发送邮件；同一天重复运行不会重复提醒。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"提前几天提醒，默认{DEFAULT_DAYS}")
        parser.add_argument("--no-email", action="store_true", help="只写入待办，不发邮件")

    def handle(self, *args, days, no_email, **options):
        if not 0 <= days <= 60:
            raise CommandError("--days 须在0到60之间。")
        result = remind_all(days=days, email=not no_email)
        self.stdout.write(f"已提醒 {result['users']} 人，共 {result['reminders']} 条提醒。")
