"""manage.py seed_scale --members city|province|N: a benchmark dataset (see portal/scale.py)."""
from django.core.management.base import BaseCommand, CommandError

from portal.scale import PASSWORD, seed_scale, tier_members


class Command(BaseCommand):
    help = "生成规模测试数据：组织树、党员、账号、活动年度及各状态的承诺（--members city=2万、province=100万，或人数）"

    def add_arguments(self, parser):
        parser.add_argument("--members", default="city", help="city（2万）、province（100万）或党员人数")
        parser.add_argument("--year", type=int, default=None, help="活动年度（默认今年；该年度须尚无数据）")
        parser.add_argument("--seed", type=int, default=2010, help="随机种子（相同种子生成相同数据）")

    def handle(self, *args, members, year, seed, **options):
        try:
            n = tier_members(members)
        except ValueError as exc:
            raise CommandError(f"--members 应为 city、province 或不少于20的人数：{exc}") from None
        self.stdout.write(f"生成规模测试数据：党员{n}名 …")
        try:
            stats = seed_scale(members=n, year=year, seed=seed, out=self.stdout.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        total = sum(stats.rows.values())
        for label, count in sorted(stats.rows.items()):
            self.stdout.write(f"  {label:32s} {count:>10,}")
        self.stdout.write(self.style.SUCCESS(
            f"完成：共写入{total:,}行，用时{stats.seconds:.1f}秒（{total / max(stats.seconds, 0.001):,.0f}行/秒）。"
            f"账号 scale_* 的密码为 {PASSWORD}"))
