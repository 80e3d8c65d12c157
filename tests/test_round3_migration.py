"""The round-3 migration, on rows made by the code before it: sign-ups that had made inactive accounts at once,
and prompt templates with format specs that the renderer refuses now."""

from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase
from django.utils import timezone

from gallery.models import Generation
from transform.prompt_template import check_template

MIGRATION = ("gallery", "0009_pending_signups_png_reads_and_plain_templates")


class Round3MigrationTests(TransactionTestCase):
    # Migrating needs real transactions. pytest-django runs TransactionTestCases after every TestCase, so the
    # flush at the end, which also takes the Reviewers group a migration made, meets none that needs it.

    def setUp(self):
        self.executor = MigrationExecutor(connection)
        before = [parent.key for parent in self.executor.loader.graph.node_map[MIGRATION].parents if parent.key[0] == "gallery"]
        self.executor.migrate(before)
        self.old = self.executor.loader.project_state(before).apps

    def migrate(self):
        self.executor.loader.build_graph()
        self.executor.migrate(self.executor.loader.graph.leaf_nodes())

    def test_accounts_waiting_for_activation_are_deleted_and_every_other_account_kept(self):
        OldUser, OldPhoto = self.old.get_model("auth", "User"), self.old.get_model("gallery", "Photo")
        OldUser.objects.create(username="waiting", email="victim@example.com", is_active=False)
        OldUser.objects.create(username="switched-off", is_active=False, last_login=timezone.now())
        OldUser.objects.create(username="staff-to-be", is_active=False, is_staff=True)
        OldUser.objects.create(username="active")
        made_in_the_shell = OldUser.objects.create(username="photos-but-inactive", is_active=False)
        OldPhoto.objects.create(owner=made_in_the_shell, width=8, height=8, landmarks={}, image="a.jpg", thumbnail="a.webp")
        self.migrate()
        kept = set(User.objects.values_list("username", flat=True))
        self.assertEqual(kept, {"switched-off", "staff-to-be", "active", "photos-but-inactive"})

    def test_format_specs_and_conversions_in_stored_templates_become_plain_breed_fields(self):
        OldUser, OldPhoto = self.old.get_model("auth", "User"), self.old.get_model("gallery", "Photo")
        OldGeneration = self.old.get_model("gallery", "Generation")
        owner = OldUser.objects.create(username="mina")
        photo = OldPhoto.objects.create(owner=owner, width=8, height=8, landmarks={}, image="a.jpg", thumbnail="a.webp")
        stored = {
            "{breed:>999999999}": "{breed}",
            "a {breed!r}, {{dynamic}}": "a {breed}, {{dynamic}}",
            "}}{{ {breed:{{}}}": "}}{{ {breed}",
            "plain {breed}": "plain {breed}",
        }
        for template in stored:
            params = {"prompt_template": template, "steps": 20, "seed": 1}
            OldGeneration.objects.create(owner=owner, photo=photo, breed="pug", steps=20, seed=1, params=params)
        self.migrate()
        migrated = {generation.params["prompt_template"] for generation in Generation.objects.all()}
        self.assertEqual(migrated, set(stored.values()))
        for template in migrated:
            check_template(template)
