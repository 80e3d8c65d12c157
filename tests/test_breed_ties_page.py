"""The photo page is honest about near-ties: it names both breeds and offers both first."""

import re

from django.conf import settings
from django.test import TestCase
from django.urls import reverse

from .factories import make_photo, make_user

PICK_BUTTON = re.compile(r'name="breed" value="([a-z-]+)" class="([a-z ]+)"')


def suggestion(slug, score, tied_with_next):
    return {"slug": slug, "score": score, "reasons": ["round_eyes"], "tied_with_next": tied_with_next, "coat": None}


class TiedSuggestionPageTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.face = self.photo.landmarks["faces"][0]
        self.face["suggested_breeds"] = [
            suggestion("beagle", 0.81, True),
            suggestion("shiba-inu", 0.80, False),
            suggestion("pug", 0.7, False),
        ]
        self.photo.save()
        self.client.force_login(self.user)

    def page(self):
        return self.client.get(reverse("gallery:photo", args=[self.photo.pk]))

    def test_a_tie_names_both_breeds(self):
        self.assertContains(self.page(), "You look like a Beagle or a Shiba Inu")

    def test_a_tie_names_both_breeds_in_korean(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
        self.assertContains(self.page(), "비글 또는 시바견상이에요")

    def test_a_tie_offers_both_breeds_as_first_choices(self):
        buttons = dict(PICK_BUTTON.findall(self.page().content.decode()))
        self.assertEqual(buttons, {"beagle": "button small", "shiba-inu": "button small", "pug": "button secondary small"})

    def test_a_clear_lead_names_one_breed(self):
        self.face["suggested_breeds"][0]["tied_with_next"] = False
        self.photo.save()
        page = self.page()
        self.assertContains(page, "You look like a Beagle<")
        self.assertNotContains(page, " or a ")

    def test_a_photo_analysed_before_ties_were_marked_names_one_breed(self):
        for entry in self.face["suggested_breeds"]:
            del entry["tied_with_next"]
        self.photo.save()
        self.assertContains(self.page(), "You look like a Beagle<")

    def test_a_tie_says_which_of_your_features_tip_it(self):
        self.face["suggested_breeds"][0]["deciding"] = ["droopy_eyes", "round_eyes"]
        self.photo.save()
        self.assertContains(self.page(), "It is close: your droopy eyes, big round eyes tip it towards the Beagle.")

    def test_a_hair_reason_names_the_coat_the_dog_gets(self):
        self.face["suggested_breeds"][0].update(slug="pug", reasons=["black_hair", "round_face"], coat="black")
        self.photo.save()
        self.assertContains(self.page(), "Because of your dark hair → black coat, round face.")
