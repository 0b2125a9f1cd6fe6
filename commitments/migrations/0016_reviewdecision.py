"""ReviewDecision moves from the reviews app into the commitment's record. The table stays where it is
(reviews_reviewdecision, created by reviews 0001): only Django's idea of which app owns the model
changes, so no row moves. No dependency on reviews (commitments' migrations do not reach up): this
step touches no table, and reviews 0002 runs after it. A later commitments migration that changes
this model's table needs the table to exist: add it to `run_before` of a reviews migration (declared
in reviews, so commitments still does not depend upward), as reviews 0001 creates the table."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commitments', '0015_campaign_hash_salt'),
        ('orgs', '0007_admin_role_requests'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReviewDecision',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('decision', models.CharField(choices=[('approve', '审定通过'), ('return', '退回修改')], max_length=10, verbose_name='审核结果')),
                        ('advanced', models.BooleanField(default=False, verbose_name='体现先进性要求')),
                        ('central_work', models.BooleanField(default=False, verbose_name='体现中心工作要求')),
                        ('post_duties', models.BooleanField(default=False, verbose_name='体现部门岗位职责特点')),
                        ('public_wishes', models.BooleanField(default=False, verbose_name='符合群众意愿')),
                        ('feasible', models.BooleanField(default=False, verbose_name='切实可行')),
                        ('exception_note', models.TextField(blank=True, verbose_name='未全部符合时的说明')),
                        ('opinion', models.TextField(verbose_name='审定意见')),
                        ('is_bulk', models.BooleanField(default=False, verbose_name='批量审定')),
                        ('decided_at', models.DateTimeField(auto_now_add=True, verbose_name='审核时间')),
                        ('commitment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='decisions', to='commitments.commitment')),
                        ('reviewer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审核人')),
                        ('reviewer_org', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orgs.organisation', verbose_name='审核党组织')),
                        ('version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='commitments.commitmentversion')),
                    ],
                    options={
                        'verbose_name': '审核意见',
                        'verbose_name_plural': '审核意见',
                        'db_table': 'reviews_reviewdecision',
                        'ordering': ['-decided_at', '-id'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
