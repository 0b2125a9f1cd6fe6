"""Count the coverage dashboards of the top levels ahead of their readers (cron, every few minutes).

The figures of a big subtree are kept COVERAGE_CACHE_SECONDS in the cache (portal/coverage.py
figures_of); counting them again before they expire means no secretary waits for a province's
count. Only subtrees that take COVERAGE_CACHE_MIN_SECONDS or more are stored; small ones are
always counted live anyway.
"""
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from commitments.selectors import current_campaign
from orgs.models import Organisation
from portal import coverage


class Command(BaseCommand):
    help = "预先统计上层党组织的覆盖情况（供定时任务调用）"

    def add_arguments(self, parser):
        parser.add_argument("--depth", type=int, default=1,
                            help="统计到第几层（0 为最上层党组织，默认 1：最上层及其下一级）")

    def handle(self, *args, depth, **options):
        if not settings.COVERAGE_CACHE_SECONDS:
            self.stdout.write("COVERAGE_CACHE_SECONDS 为 0，未启用缓存，无需预先统计。")
            return
        campaign = current_campaign()
        if campaign is None:
            self.stdout.write("尚未设置活动年度。")
            return
        today = timezone.localdate()
        closed = campaign.rating_state(today) == "closed"
        started, n = time.monotonic(), 0
        for org in Organisation.objects.filter(is_active=True, depth__lte=depth).order_by("path"):
            coverage.figures_of(org, campaign, today, closed, fresh=True)
            coverage.member_state_counts(org, campaign, today, fresh=True)  # the member lists' counts
            n += 1
        self.stdout.write(f"已统计 {n} 个党组织的覆盖情况，用时 {time.monotonic() - started:.1f} 秒。")
