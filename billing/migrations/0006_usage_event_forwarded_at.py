from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def mark_platform_usage_forwarded(apps, schema_editor):
    """On the platform every event recorded so far is on its bill already. On a dedicated stack the events
    recorded so far are what it has still to hand to the platform: they stay unforwarded."""
    if settings.TENANCY_MODE == "dedicated":
        return
    UsageEvent = apps.get_model("billing", "UsageEvent")
    UsageEvent.objects.filter(forwarded_at__isnull=True).update(forwarded_at=F("recorded_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_plan_card_fee"),
    ]

    operations = [
        migrations.AddField(
            model_name="usageevent",
            name="forwarded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Before the index, so the platform's is built empty.
        migrations.RunPython(mark_platform_usage_forwarded, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="usageevent",
            index=models.Index(
                condition=models.Q(("forwarded_at__isnull", True)), fields=["id"], name="usage_event_unforwarded_idx"
            ),
        ),
    ]
