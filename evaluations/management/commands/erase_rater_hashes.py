"""`manage.py erase_rater_hashes YEAR`: erase a closed campaign's rater and suggester hashes."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from commitments.models import Campaign
from evaluations.services import rater_hashes_erase


class Command(BaseCommand):
    help = ("清除某一活动年度群众评议和网上意见箱的评议人标识（浏览器凭证和网络地址的密钥散列），并销毁该年度的散列盐值；"
            "须在群众评议截止后运行，此后该年度不再接受网上评议。")

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="活动年度，如 2026")

    def handle(self, *args, year, **options):
        campaign = Campaign.objects.filter(year=year).first()
        if campaign is None:
            raise CommandError(f"没有{year}年度的活动。")
        try:
            counts = rater_hashes_erase(actor=None, campaign=campaign)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(f"已清除{year}年度 {counts['ballots']} 张评议票、{counts['suggestions']} 条意见建议的评议人标识。")
