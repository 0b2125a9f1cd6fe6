"""Commitment.latest_result from each commitment's latest assessment (one UPDATE). This used to be
part of commitments 0007, which made the commitments app's migrations depend on evaluations; on a
database that ran it there, it runs again and writes the same values."""
from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Commitment = apps.get_model("commitments", "Commitment")
    Assessment = apps.get_model("evaluations", "Assessment")
    Commitment.objects.update(latest_result=Subquery(
        Assessment.objects.filter(commitment_id=OuterRef("pk")).order_by("-assessed_at", "-id").values("result")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("evaluations", "0004_rater_salt"),
        ("commitments", "0007_owner_path_latest_result"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
