"""ReviewDecision now belongs to commitments (commitments 0016); its table is kept, so only the
migration state forgets it here."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reviews', '0001_initial'),
        ('commitments', '0016_reviewdecision'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ReviewDecision')],
            database_operations=[],
        ),
    ]
