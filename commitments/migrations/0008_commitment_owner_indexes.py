from django.db import migrations, models


class Migration(migrations.Migration):
    """The indexes of 0007's columns, in their own migration: on PostgreSQL an index cannot be
    built in the transaction that has just updated the table's rows (deferred foreign-key triggers)."""

    dependencies = [
        ('commitments', '0007_owner_path_latest_result'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='commitment',
            index=models.Index(fields=['campaign', 'owner_path'], name='commitment_campaign_owner', opclasses=['int8_ops', 'varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='commitment',
            index=models.Index(fields=['campaign', '-updated_at'], name='commitment_campaign_updated'),
        ),
    ]
