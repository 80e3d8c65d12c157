"""Round 3, findings 4 and 5: what a group result and a moderated dog may no longer publish (docs/SECURITY.md).

Every refusal here is made by gallery.publication, on the server: the page hiding a button is not enough.
"""

from django.contrib.auth.models import Group
from django.test import TestCase
from django.urls import reverse

from gallery.models import Generation, ShareLink

from .factories import finished, finished_group, make_group_photo, make_photo, make_user


def reviewer(username="rin"):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


class GroupResultTests(TestCase):
    """4. A group result contains real people: no link, no showcase, no Open Graph image."""

    def setUp(self):
        self.owner = make_user("owner")
        self.group = finished_group(make_group_photo(self.owner, 2))
        self.client.force_login(self.owner)

    def test_a_link_posted_for_a_group_result_is_refused_with_a_sentence(self):
        response = self.client.post(reverse("gallery:generation-link", args=[self.group.pk]), {"action": "create"})
        self.assertContains(response, "A group photo shows real people, so it never gets a public link.", status_code=400)
        self.assertFalse(ShareLink.objects.exists())

    def test_a_link_made_on_a_group_result_before_shows_nothing_to_anyone(self):
        link = ShareLink.objects.create(generation=self.group)
        self.client.logout()
        for name in ("dog-link", "dog-link-image"):
            self.assertEqual(self.client.get(reverse(name, args=[link.token])).status_code, 404, name)

    def test_the_link_page_of_a_group_result_carries_no_open_graph_image(self):
        link = ShareLink.objects.create(generation=self.group)
        response = self.client.get(reverse("dog-link", args=[link.token]))
        self.assertNotContains(response, "og:image", status_code=404)

    def test_offering_a_group_result_to_the_showcase_is_refused_with_a_sentence(self):
        response = self.client.post(reverse("gallery:generation-share", args=[self.group.pk]), {"shared": "1"})
        self.assertContains(response, "A group photo shows real people, so it is never shown on the showcase.", status_code=400)
        self.group.refresh_from_db()
        self.assertFalse(self.group.shared)

    def test_a_shared_and_approved_group_result_stays_off_the_showcase(self):
        Generation.objects.filter(pk=self.group.pk).update(shared=True, review_state=Generation.Review.APPROVED)
        self.client.logout()
        self.assertFalse(self.client.get(reverse("showcase")).context["page"].object_list)
        for name in ("showcase-image", "showcase-thumbnail"):
            self.assertEqual(self.client.get(reverse(name, args=[self.group.pk])).status_code, 404, name)

    def test_the_owner_still_downloads_their_group_result(self):
        self.assertEqual(self.client.get(reverse("gallery:generation-download", args=[self.group.pk])).status_code, 200)


class RejectedDogTests(TestCase):
    """5. A dog rejected in review stops being public by its link, and gets no new one."""

    def setUp(self):
        self.owner = make_user("owner")
        self.dog = finished(make_photo(self.owner))
        self.client.force_login(self.owner)
        self.link_url = reverse("gallery:generation-link", args=[self.dog.pk])
        self.client.post(self.link_url, {"action": "create"})
        self.link = ShareLink.objects.get()

    def reject_in_the_admin(self):
        self.client.force_login(reviewer())
        changelist = reverse("admin:gallery_generation_changelist")
        form = {"action": "reject", "_selected_action": [self.dog.pk], "apply": "1", "reason": "Not a dog"}
        self.client.post(changelist, form)
        self.dog.refresh_from_db()
        self.assertEqual(self.dog.review_state, Generation.Review.REJECTED)

    def test_its_link_stops_answering_once_a_reviewer_rejects_it(self):
        self.reject_in_the_admin()
        self.client.logout()
        for name in ("dog-link", "dog-link-image"):
            self.assertEqual(self.client.get(reverse(name, args=[self.link.token])).status_code, 404, name)

    def test_the_owner_cannot_make_a_new_link_on_it(self):
        self.reject_in_the_admin()
        self.client.force_login(self.owner)
        self.client.post(self.link_url, {"action": "revoke"})
        response = self.client.post(self.link_url, {"action": "create"})
        self.assertContains(response, "Our team did not approve this dog, so it cannot have a link.", status_code=400)
        self.assertFalse(ShareLink.objects.exists())

    def test_the_owners_page_says_why_and_no_longer_shows_the_link(self):
        self.reject_in_the_admin()
        self.client.force_login(self.owner)
        response = self.client.get(reverse("gallery:generation", args=[self.dog.pk]))
        self.assertContains(response, "Our team did not approve this dog, so it cannot have a link.")
        self.assertNotContains(response, reverse("dog-link", args=[self.link.token]))


class ReviewersTurnLinksOffTests(TestCase):
    """5. The Reviewers group got 403 on share links: only a superuser could turn one off."""

    def setUp(self):
        self.dog = finished(make_photo(make_user("owner")))
        self.link = ShareLink.objects.create(generation=self.dog)
        self.changelist = reverse("admin:gallery_sharelink_changelist")

    def test_a_reviewer_sees_the_links_and_turns_one_off(self):
        self.client.force_login(reviewer())
        self.assertEqual(self.client.get(self.changelist).status_code, 200)
        self.client.post(self.changelist, {"action": "disable", "_selected_action": [self.link.pk]})
        self.link.refresh_from_db()
        self.assertTrue(self.link.disabled)
        self.client.logout()
        self.assertEqual(self.client.get(reverse("dog-link", args=[self.link.token])).status_code, 404)

    def test_staff_outside_the_group_get_403(self):
        self.client.force_login(make_user("staff", is_staff=True))
        self.assertEqual(self.client.get(self.changelist).status_code, 403)
        self.client.post(self.changelist, {"action": "disable", "_selected_action": [self.link.pk]})
        self.link.refresh_from_db()
        self.assertFalse(self.link.disabled)


class DerivedDogTests(TestCase):
    """5. "Again with a new seed" on a disabled, rejected dog made a dog that could be linked at once.

    The rule (gallery.publication): once a reviewer turns down a dog of a photo (rejects it, or turns
    off its link), no other dog of that photo is public by link until a reviewer approves that dog.
    """

    def setUp(self):
        self.owner = make_user("owner")
        self.photo = make_photo(self.owner)
        self.turned_down = finished(self.photo, review_state=Generation.Review.REJECTED)
        ShareLink.objects.create(generation=self.turned_down, disabled=True)
        self.client.force_login(self.owner)

    def again_with_a_new_seed(self, source):
        self.client.post(reverse("gallery:generation-regenerate", args=[source.pk]))
        derived = Generation.objects.exclude(pk__in=[self.turned_down.pk, source.pk]).get()
        # The worker's part: it finishes.
        Generation.objects.filter(pk=derived.pk).update(status=Generation.Status.SUCCEEDED, step=20)
        derived.refresh_from_db()
        return derived

    def create_link(self, generation):
        return self.client.post(reverse("gallery:generation-link", args=[generation.pk]), {"action": "create"})

    def test_the_new_dog_gets_no_link_until_a_reviewer_approves_it(self):
        derived = self.again_with_a_new_seed(self.turned_down)
        response = self.create_link(derived)
        self.assertContains(response, "this one can have a link once our team has approved it", status_code=400)
        self.assertFalse(derived.share_links.exists())
        Generation.objects.filter(pk=derived.pk).update(review_state=Generation.Review.APPROVED)
        self.assertEqual(self.create_link(derived).status_code, 302)
        self.client.logout()
        self.assertEqual(self.client.get(reverse("dog-link", args=[derived.share_links.get().token])).status_code, 200)

    def test_a_link_turned_off_on_an_unreviewed_dog_blocks_its_new_dogs_too(self):
        Generation.objects.filter(pk=self.turned_down.pk).update(review_state=Generation.Review.PENDING)
        derived = self.again_with_a_new_seed(self.turned_down)
        self.assertEqual(self.create_link(derived).status_code, 400)

    def test_a_link_made_on_another_dog_of_the_photo_stops_answering_until_approved(self):
        sibling = finished(self.photo)
        link = ShareLink.objects.create(generation=sibling)
        self.client.logout()
        self.assertEqual(self.client.get(reverse("dog-link-image", args=[link.token])).status_code, 404)
        Generation.objects.filter(pk=sibling.pk).update(review_state=Generation.Review.APPROVED)
        self.assertEqual(self.client.get(reverse("dog-link-image", args=[link.token])).status_code, 200)

    def test_dogs_of_the_owners_other_photos_keep_their_links(self):
        elsewhere = finished(make_photo(self.owner))
        self.assertEqual(self.create_link(elsewhere).status_code, 302)
