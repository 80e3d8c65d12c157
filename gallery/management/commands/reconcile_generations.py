from django.core.management.base import BaseCommand

from gallery.generations.reconcile import reconcile


class Command(BaseCommand):
    help = "Re-queues generations lost by dead workers or an emptied Redis; fails those lost twice."

    def handle(self, *args, **options):
        requeued, failed = reconcile()
        self.stdout.write(f"{requeued} re-queued, {failed} failed")
