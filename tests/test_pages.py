"""Page quality: our own error pages, compressed HTML, the result page's images and parameters,
breed search keys and the gallery's eager first row."""

import gzip

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.test import TestCase
from django.urls import reverse
from django.utils import translation

from gallery.forms import GenerateForm
from transform.breeds import get_breed, search_form
from transform.params import GenerationParams

from .factories import make_generation, make_photo, make_user


class ErrorPageTests(TestCase):
    def test_a_missing_page_has_the_site_layout_and_a_viewport(self):
        response = self.client.get("/no-such-page/")
        self.assertContains(response, '<meta name="viewport"', status_code=404)
        self.assertContains(response, "Page not found", status_code=404)
        self.assertContains(response, 'class="site-header"', status_code=404)

    def test_a_missing_page_is_in_korean_for_a_korean_visitor(self):
        response = self.client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ko")
        self.assertContains(response, "페이지를 찾을 수 없어요", status_code=404)

    def test_the_server_error_page_renders_without_a_request(self):
        with translation.override("en"):
            html = render_to_string("500.html")
        self.assertIn('<meta name="viewport"', html)
        self.assertIn("Something went wrong", html)


class CompressionTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)

    def test_pages_are_gzipped_for_browsers_that_accept_it(self):
        response = self.client.get(reverse("gallery:index"), HTTP_ACCEPT_ENCODING="gzip, br")
        self.assertEqual(response["Content-Encoding"], "gzip")
        self.assertIn(b"<html", gzip.decompress(response.content))

    def test_images_are_sent_as_they_are(self):
        generation = make_generation(make_photo(self.user), status="succeeded")
        generation.result.save("dog.png", ContentFile(b"\x89PNG" + b"\0" * 4000))
        response = self.client.get(reverse("gallery:generation-result", args=[generation.pk]), HTTP_ACCEPT_ENCODING="gzip")
        self.assertFalse(response.has_header("Content-Encoding"))


class ResultPageTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)
        params = GenerationParams(seed=3, width=512, height=768).to_dict()
        self.generation = make_generation(
            make_photo(self.user),
            status="succeeded",
            breed="shiba-inu",
            coat="black and tan",
            params=params,
            timings={"inference": 12.5},
        )

    def page(self, language="en"):
        return self.client.get(reverse("gallery:generation", args=[self.generation.pk]), HTTP_ACCEPT_LANGUAGE=language)

    def test_the_dog_is_shown_as_webp_and_downloaded_as_png(self):
        response = self.page()
        self.assertContains(response, reverse("gallery:generation-display", args=[self.generation.pk]))
        self.assertContains(response, reverse("gallery:generation-download", args=[self.generation.pk]))

    def test_a_dog_made_before_the_webp_existed_is_shown_as_its_png(self):
        self.generation.result.save("dog.png", ContentFile(b"\x89PNG-old"))
        response = self.client.get(reverse("gallery:generation-display", args=[self.generation.pk]))
        self.assertEqual(b"".join(response.streaming_content), b"\x89PNG-old")

    def test_the_result_images_have_their_size_so_nothing_shifts(self):
        self.assertEqual(self.page().content.decode().count('width="512" height="768"'), 3)

    def test_the_parameters_show_the_prompt_actually_used(self):
        response = self.page()
        self.assertContains(response, "front face, black and tan shiba inu</td>")
        self.assertNotContains(response, "{breed}")

    def test_coat_and_control_mode_are_in_korean_for_a_korean_reader(self):
        response = self.page("ko")
        self.assertContains(response, "<td>블랙 탄</td>", html=True)
        self.assertContains(response, "<td>ControlNet 우선</td>", html=True)
        self.assertContains(response, "<td>12.50초</td>", html=True)


class BreedSearchTests(TestCase):
    def test_a_breed_answers_to_both_names_and_its_aliases_without_spaces(self):
        key = get_breed("shetland-sheepdog").search_key.split("|")
        self.assertIn(search_form("셸티"), key)
        self.assertIn(search_form("Shetland Sheepdog"), key)
        self.assertIn(search_form("셔틀랜드 쉽독"), get_breed("shetland-sheepdog").search_key)

    def test_search_ignores_spaces_and_case(self):
        self.assertEqual(search_form(" Welsh  Corgi "), "welshcorgi")
        self.assertIn(search_form("웰시 코기"), get_breed("corgi").search_key)
        self.assertIn(search_form("요크셔 테리어"), get_breed("yorkshire-terrier").search_key)

    def test_the_issue_s_aliases_find_their_breeds(self):
        for alias, slug in (("셸티", "shetland-sheepdog"), ("코커 스패니얼", "cocker-spaniel"), ("말라뮤트", "alaskan-malamute")):
            with self.subTest(alias):
                self.assertIn(search_form(alias), get_breed(slug).search_key)

    def test_the_breed_radios_carry_their_search_keys(self):
        with translation.override("ko"):
            html = str(GenerateForm(make_photo(make_user()))["breed"])
        self.assertIn(f'data-search="{get_breed("corgi").search_key}"', html)


class GalleryTests(TestCase):
    def test_the_first_row_of_dogs_loads_at_once_and_the_rest_lazily(self):
        user = make_user()
        photo = make_photo(user)
        for _ in range(8):
            make_generation(photo, status="succeeded", thumbnail="x/t.webp")
        self.client.force_login(user)
        html = self.client.get(reverse("gallery:index")).content.decode()
        dogs = [tag for tag in html.split("<img")[1:] if 'class="dog"' in tag]
        self.assertEqual([('loading="lazy"' in tag) for tag in dogs], [False] * 6 + [True] * 2)
