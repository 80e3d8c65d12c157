"""Favourites, the ZIP download, settings from a PNG and share links, through their views."""

import csv
import io
import zipfile

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from PIL import Image

from gallery.models import Generation, ShareLink
from gallery.publication import on_showcase
from transform.infotext import png_bytes

from .factories import make_generation, make_photo, make_user

INFOTEXT = (
    "dog, close up, (face portrait:1.1), front face, beagle\n"
    "Negative prompt: human\n"
    'Steps: 23, Sampler: Euler a, CFG scale: 6.5, Seed: 77, Size: 512x512, Model: x, Lora hashes: "a: 1"'
)


def finished_dog(owner, **fields):
    generation = make_generation(
        make_photo(owner),
        status="succeeded",
        step=20,
        params={"steps": 20, "seed": 1, "sampler": "Euler a", "cfg_scale": 7.0, "controlnet_scale": 1.25},
        **fields,
    )
    generation.result.save("dog.png", ContentFile(png_bytes(Image.new("RGB", (8, 8), "tan"), INFOTEXT)))
    return generation


class StarTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)
        self.generation = finished_dog(self.user)
        self.url = reverse("gallery:generation-star", args=[self.generation.pk])

    def test_a_post_toggles_the_star_and_answers_json_when_asked(self):
        response = self.client.post(self.url, headers={"Accept": "application/json"})
        self.assertEqual(response.json(), {"starred": True})
        response = self.client.post(self.url, headers={"Accept": "application/json"})
        self.assertEqual(response.json(), {"starred": False})

    def test_starred_sets_the_state_instead_of_toggling(self):
        for _ in range(2):
            self.client.post(self.url, {"starred": "1"})
        self.generation.refresh_from_db()
        self.assertTrue(self.generation.starred)

    def test_without_javascript_the_form_goes_back_to_the_page_it_came_from(self):
        response = self.client.post(self.url, {"next": "/gallery/?starred=1"})
        self.assertRedirects(response, "/gallery/?starred=1", fetch_redirect_response=False)

    def test_a_next_on_another_site_is_not_followed(self):
        response = self.client.post(self.url, {"next": "https://evil.example/"})
        self.assertRedirects(response, reverse("gallery:generation", args=[self.generation.pk]))

    def test_another_users_dog_cannot_be_starred(self):
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.post(self.url).status_code, 404)
        self.generation.refresh_from_db()
        self.assertFalse(self.generation.starred)

    def test_the_star_shows_its_state_to_screen_readers(self):
        Generation.objects.filter(pk=self.generation.pk).update(starred=True)
        response = self.client.get(reverse("gallery:generation", args=[self.generation.pk]))
        self.assertContains(response, 'aria-pressed="true"')
        self.assertContains(response, self.url)

    def test_the_gallery_filters_by_starred(self):
        other = finished_dog(self.user)
        Generation.objects.filter(pk=other.pk).update(starred=True)
        response = self.client.get(reverse("gallery:index"), {"starred": "1"})
        self.assertEqual([g.pk for g in response.context["page"].object_list], [other.pk])
        self.assertContains(response, 'name="starred" value="1" checked')


def zip_of(response):
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


class ZipDownloadTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)
        self.dogs = [finished_dog(self.user, seed=seed) for seed in (11, 12)]
        self.url = reverse("gallery:download")

    def test_the_chosen_dogs_come_as_a_streamed_zip_attachment(self):
        response = self.client.post(self.url, {"ids": [str(d.pk) for d in self.dogs]})
        self.assertTrue(response.streaming)
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertIn("attachment", response["Content-Disposition"])
        names = zip_of(response).namelist()
        self.assertEqual(len([n for n in names if n.endswith(".png")]), 2)
        self.assertIn("parameters.csv", names)

    def test_each_png_keeps_its_parameters_chunk(self):
        archive = zip_of(self.client.post(self.url, {"ids": [str(self.dogs[0].pk)]}))
        png = next(n for n in archive.namelist() if n.endswith(".png"))
        self.assertEqual(Image.open(io.BytesIO(archive.read(png))).text["parameters"], INFOTEXT)

    def test_the_csv_lists_breed_seed_sampler_steps_cfg_controlnet_weight_and_created(self):
        archive = zip_of(self.client.post(self.url, {"ids": [str(self.dogs[0].pk)]}))
        rows = list(csv.DictReader(io.StringIO(archive.read("parameters.csv").decode())))
        dog = self.dogs[0]
        self.assertEqual(
            rows,
            [
                {
                    "file": next(n for n in archive.namelist() if n.endswith(".png")),
                    "breed": "pug",
                    "seed": "11",
                    "sampler": "Euler a",
                    "steps": "20",
                    "cfg_scale": "7.0",
                    "controlnet_weight": "1.25",
                    "created": dog.created_at.isoformat(),
                }
            ],
        )

    def test_all_starred_downloads_only_the_starred_dogs(self):
        Generation.objects.filter(pk=self.dogs[1].pk).update(starred=True)
        archive = zip_of(self.client.post(self.url, {"starred": "1"}))
        self.assertEqual(
            [n for n in archive.namelist() if n.endswith(".png")], [f"facetoanimals-pug-12-{self.dogs[1].pk.hex[:8]}.png"]
        )

    def test_one_id_of_another_user_makes_the_whole_request_404(self):
        theirs = finished_dog(make_user("joon"))
        response = self.client.post(self.url, {"ids": [str(self.dogs[0].pk), str(theirs.pk)]})
        self.assertEqual(response.status_code, 404)

    def test_a_malformed_id_answers_404(self):
        self.assertEqual(self.client.post(self.url, {"ids": ["not-a-uuid"]}).status_code, 404)

    def test_nothing_chosen_is_refused_with_a_sentence(self):
        response = self.client.post(self.url, {})
        self.assertContains(response, "Choose at least one finished dog to download.", status_code=400)

    def test_no_starred_dogs_is_refused_with_a_sentence(self):
        response = self.client.post(self.url, {"starred": "1"})
        self.assertContains(response, "Choose at least one finished dog to download.", status_code=400)

    def test_a_dog_whose_file_is_missing_is_left_out_of_the_pngs_and_the_csv(self):
        self.dogs[0].result.storage.delete(self.dogs[0].result.name)
        archive = zip_of(self.client.post(self.url, {"ids": [str(d.pk) for d in self.dogs]}))
        self.assertEqual(len([n for n in archive.namelist() if n.endswith(".png")]), 1)
        self.assertEqual(archive.read("parameters.csv").decode().count("\n"), 2)  # header and one dog


def png_upload(infotext=INFOTEXT, name="found.png"):
    return SimpleUploadedFile(name, png_bytes(Image.new("RGB", (8, 8)), infotext), content_type="image/png")


class ParamsFromPngTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)
        self.url = reverse("gallery:params-from-png")

    def test_an_a1111_png_gives_form_values_the_breed_and_what_was_ignored(self):
        response = self.client.post(self.url, {"png": png_upload()})
        self.assertEqual(
            response.json(),
            {
                "params": {
                    "prompt_template": "dog, close up, (face portrait:1.1), front face, {breed}",
                    "negative_prompt": "human",
                    "steps": 23,
                    "sampler": "Euler a",
                    "cfg_scale": 6.5,
                    "seed": 77,
                    "width": 512,
                    "height": 512,
                    "mode": "txt2img",
                },
                "breed": "beagle",
                "ignored": [
                    {"key": "Model", "reason": "Dogs are always drawn with our own model."},
                    {"key": "Lora hashes", "reason": "LoRA models are not offered here."},
                ],
            },
        )

    def test_the_reasons_are_in_korean_for_korean_users(self):
        response = self.client.post(self.url, {"png": png_upload()}, headers={"Accept-Language": "ko"})
        self.assertEqual(response.json()["ignored"][1]["reason"], "LoRA 모델은 여기서 쓸 수 없어요.")

    def test_nothing_is_stored(self):
        from .factories import stored_names

        self.client.post(self.url, {"png": png_upload()})
        self.assertEqual(stored_names(), [])

    def test_a_file_that_is_not_a_png_is_refused_with_a_sentence(self):
        response = self.client.post(self.url, {"png": SimpleUploadedFile("x.png", b"GIF89a nope")})
        self.assertEqual((response.status_code, response.json()), (400, {"error": "This file is not a PNG image."}))

    def test_a_png_without_settings_is_refused_with_a_sentence(self):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, format="PNG")
        response = self.client.post(self.url, {"png": SimpleUploadedFile("plain.png", buffer.getvalue())})
        self.assertEqual(response.json(), {"error": "This PNG carries no generation settings."})

    @override_settings(FTA_PARAMS_PNG_MAX_BYTES=100)
    def test_a_png_over_its_own_size_limit_answers_413(self):
        response = self.client.post(self.url, {"png": png_upload()})
        self.assertEqual((response.status_code, response.json()), (413, {"error": "This PNG is larger than 100 bytes."}))

    def test_anonymous_visitors_are_sent_to_log_in(self):
        self.client.logout()
        self.assertEqual(self.client.post(self.url, {"png": png_upload()}).status_code, 302)

    def test_without_javascript_the_photo_page_comes_back_with_the_form_filled(self):
        photo = make_photo(self.user)
        response = self.client.post(self.url, {"png": png_upload(), "photo": str(photo.pk)})
        form = response.context["form"]
        self.assertEqual((form["steps"].value(), form["breed"].value(), form["seed"].value()), (23, "beagle", 77))
        self.assertContains(response, "The form is filled with the settings from this PNG.")
        self.assertContains(response, "Left out: Lora hashes. LoRA models are not offered here.")

    def test_without_javascript_a_refusal_is_shown_on_the_photo_page(self):
        photo = make_photo(self.user)
        response = self.client.post(self.url, {"png": SimpleUploadedFile("x.png", b"nope"), "photo": str(photo.pk)})
        self.assertContains(response, "This file is not a PNG image.", status_code=400)

    def test_another_users_photo_answers_404(self):
        theirs = make_photo(make_user("joon"))
        self.assertEqual(self.client.post(self.url, {"png": png_upload(), "photo": str(theirs.pk)}).status_code, 404)

    def test_the_photo_page_offers_the_png_drop(self):
        response = self.client.get(reverse("gallery:photo", args=[make_photo(self.user).pk]))
        self.assertContains(response, f'data-url="{self.url}"')
        self.assertContains(response, 'name="prompt_template"')


class PromptFieldsTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)
        self.url = reverse("gallery:generate", args=[self.photo.pk])

    def test_a_filled_prompt_and_an_empty_negative_prompt_are_used(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                self.url, {"face": 0, "breed": "pug", "prompt_template": "oil painting of a {breed}", "negative_prompt": ""}
            )
        params = Generation.objects.get().params
        self.assertEqual((params["prompt_template"], params["negative_prompt"]), ("oil painting of a {breed}", ""))

    def test_a_prompt_without_breed_is_refused(self):
        response = self.client.post(self.url, {"face": 0, "breed": "pug", "prompt_template": "a cat"})
        self.assertContains(response, "Write {breed} exactly once", status_code=400)


class ShareLinkTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.client.force_login(self.user)
        self.generation = finished_dog(self.user)
        self.url = reverse("gallery:generation-link", args=[self.generation.pk])

    def create_link(self):
        self.client.post(self.url, {"action": "create"})
        return ShareLink.objects.get(generation=self.generation)

    def test_the_owner_creates_a_link_shown_on_the_dog_page(self):
        link = self.create_link()
        response = self.client.get(reverse("gallery:generation", args=[self.generation.pk]))
        self.assertContains(response, reverse("dog-link", args=[link.token]))

    def test_creating_twice_keeps_one_link(self):
        self.create_link()
        self.client.post(self.url, {"action": "create"})
        self.assertEqual(ShareLink.objects.count(), 1)

    def test_anonymous_visitors_see_the_dog_and_its_breed_with_preview_card_tags(self):
        link = self.create_link()
        self.client.logout()
        response = self.client.get(reverse("dog-link", args=[link.token]))
        image = f"http://testserver{reverse('dog-link-image', args=[link.token])}"
        self.assertContains(response, f'<meta property="og:image" content="{image}">', html=False)
        self.assertContains(response, '<meta name="twitter:card" content="summary_large_image">')
        self.assertContains(response, "<h1>Pug</h1>")
        self.assertEqual(self.client.get(reverse("dog-link-image", args=[link.token]))["Content-Type"], "image/png")

    def test_the_link_page_never_shows_the_photo_the_face_or_the_control_image(self):
        link = self.create_link()
        self.client.logout()
        content = self.client.get(reverse("dog-link", args=[link.token])).content.decode()
        for name in ("gallery:generation-face", "gallery:generation-control", "gallery:generation-result"):
            self.assertNotIn(reverse(name, args=[self.generation.pk]), content)
        self.assertNotIn(str(self.generation.photo_id), content)

    def test_a_revoked_link_answers_404(self):
        link = self.create_link()
        self.client.post(self.url, {"action": "revoke"})
        self.assertEqual(self.client.get(reverse("dog-link", args=[link.token])).status_code, 404)
        self.assertEqual(self.client.get(reverse("dog-link-image", args=[link.token])).status_code, 404)

    def test_an_unknown_token_answers_404(self):
        self.assertEqual(self.client.get(reverse("dog-link", args=["nope"])).status_code, 404)

    def test_a_deleted_dogs_link_answers_404(self):
        link = self.create_link()
        self.client.post(reverse("gallery:generation-delete", args=[self.generation.pk]))
        self.assertFalse(ShareLink.objects.exists())
        self.assertEqual(self.client.get(reverse("dog-link", args=[link.token])).status_code, 404)

    def test_a_link_disabled_by_staff_answers_404_and_cannot_be_made_again(self):
        link = self.create_link()
        ShareLink.objects.filter(pk=link.pk).update(disabled=True)
        self.assertEqual(self.client.get(reverse("dog-link", args=[link.token])).status_code, 404)
        response = self.client.post(self.url, {"action": "create"})
        self.assertContains(response, "Our team has turned off links for this dog.", status_code=400)

    def test_staff_disable_links_from_the_admin(self):
        link = self.create_link()
        self.client.force_login(make_user("staff", is_staff=True, is_superuser=True))
        self.client.post(reverse("admin:gallery_sharelink_changelist"), {"action": "disable", "_selected_action": [link.pk]})
        link.refresh_from_db()
        self.assertTrue(link.disabled)

    def test_another_user_cannot_create_or_revoke_a_link(self):
        link = self.create_link()
        self.client.force_login(make_user("joon"))
        self.assertEqual(self.client.post(self.url, {"action": "revoke"}).status_code, 404)
        self.assertTrue(ShareLink.objects.filter(pk=link.pk).exists())

    def test_an_unfinished_dog_gets_no_link(self):
        running = make_generation(make_photo(self.user), status="running")
        response = self.client.post(reverse("gallery:generation-link", args=[running.pk]), {"action": "create"})
        self.assertContains(response, "Only a finished dog can have a link.", status_code=400)
        self.assertFalse(ShareLink.objects.exists())

    def test_the_link_is_independent_of_the_showcase(self):
        link = self.create_link()
        self.assertFalse(on_showcase(self.generation))
        self.client.logout()
        self.assertEqual(self.client.get(reverse("showcase-image", args=[self.generation.pk])).status_code, 404)
        self.assertEqual(self.client.get(reverse("dog-link", args=[link.token])).status_code, 200)
