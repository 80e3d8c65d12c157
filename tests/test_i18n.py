"""Korean: pages in Korean for a Korean visitor, and a catalogue with every message translated.

The catalogue checks read locale/ko/LC_MESSAGES/django.po in pure Python, compare its entries with
what makemessages (GNU gettext, which bin/test installs) finds in the sources, and check that the
committed django.mo says the same as the .po, so a forgotten `compilemessages` fails here rather
than serving stale Korean.
"""

import gettext as gnu_gettext
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.test import SimpleTestCase, TestCase
from django.urls import reverse
from django.utils import translation

from gallery.django_messages import DJANGO_MESSAGES, DJANGO_PLURAL_MESSAGES
from gallery.forms import GenerateForm, SignupForm
from gallery.models import Generation, ShareLink
from tests.factories import make_generation, make_photo, make_user

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|\{\{\s*\w+\s*\}\}")


def parse_po(path):
    """[{"msgid", "msgid_plural", "msgstr": {index: text}, "flags", "line"}] for each entry, header included."""
    entries, entry, field = [], None, None

    def unquote(token):
        token = token.strip()
        assert token.startswith('"') and token.endswith('"'), f"not a quoted string: {token!r}"
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), token[1:-1])

    def start(number):
        nonlocal entry
        if entry is None:  # entries are separated by blank lines
            entry = {"msgstr": {}, "flags": set(), "line": number}
            entries.append(entry)

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            entry, field = None, None
            continue
        if line.startswith("#~"):
            raise AssertionError(f"{path.name}:{number}: obsolete entry (run makemessages with --no-obsolete)")
        if line.startswith("#,"):
            start(number)
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            start(number)
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (\".*\")$", line)
        if match:
            start(number)
            keyword, index, token = match.groups()
            field = keyword if keyword != "msgstr" else f"msgstr[{index or 0}]"
            if keyword == "msgstr":
                entry["msgstr"][int(index or 0)] = unquote(token)
            else:
                entry[keyword] = unquote(token)
        else:
            assert field, f"{path.name}:{number}: text outside an entry"
            if field.startswith("msgstr"):
                entry["msgstr"][int(field[7:-1])] += unquote(line)
            else:
                entry[field] += unquote(line)
    return entries


class KoreanCatalogueTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        entries = parse_po(PO_PATH)
        cls.header = next(e for e in entries if e["msgid"] == "")
        cls.entries = [e for e in entries if e["msgid"] != ""]

    def test_the_header_says_korean_with_one_plural_form(self):
        header = self.header["msgstr"][0]
        self.assertIn("Language: ko\n", header)
        self.assertIn("Plural-Forms: nplurals=1; plural=0;", header)
        self.assertIn("charset=UTF-8", header)
        self.assertNotIn("fuzzy", self.header["flags"])

    def test_every_message_is_translated_and_none_is_fuzzy(self):
        self.assertGreater(len(self.entries), 200)
        untranslated = [e["msgid"] for e in self.entries if not all(e["msgstr"].values()) or not e["msgstr"]]
        fuzzy = [e["msgid"] for e in self.entries if "fuzzy" in e["flags"]]
        self.assertEqual(untranslated, [], "untranslated messages")
        self.assertEqual(fuzzy, [], "fuzzy messages")

    def test_plural_messages_have_exactly_one_korean_form(self):
        plurals = [e for e in self.entries if "msgid_plural" in e]
        self.assertTrue(plurals)
        for entry in plurals:
            self.assertEqual(list(entry["msgstr"]), [0], entry["msgid"])

    def test_translations_keep_every_placeholder(self):
        for entry in self.entries:
            wanted = sorted(PLACEHOLDER.findall(entry["msgid"]))
            for text in entry["msgstr"].values():
                self.assertEqual(sorted(PLACEHOLDER.findall(text)), wanted, entry["msgid"])

    def test_translations_keep_html_tags(self):
        tag = re.compile(r"</?[a-zA-Z][^>]*>|&\w+;")
        for entry in self.entries:
            for text in entry["msgstr"].values():
                self.assertEqual(sorted(tag.findall(text)), sorted(tag.findall(entry["msgid"])), entry["msgid"])

    def test_the_committed_mo_matches_the_po(self):
        with MO_PATH.open("rb") as handle:
            catalog = gnu_gettext.GNUTranslations(io.BytesIO(handle.read()))._catalog
        expected = {}
        for entry in self.entries:
            # gettext stores a pgettext message under "context\x04msgid".
            msgid = f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]
            if "msgid_plural" in entry:
                for index, text in entry["msgstr"].items():
                    expected[(msgid, index)] = text
            else:
                expected[msgid] = entry["msgstr"][0]
        compiled = {key: value for key, value in catalog.items() if key != ""}
        self.assertEqual(compiled, expected, "django.mo is stale: run manage.py compilemessages --ignore=.venv")


# What makemessages reads: the rest (.venv, bench, tests) is ignored by the documented command too.
SOURCE_FOLDERS = ("facetoanimals", "gallery", "transform", "templates", "static", "locale")


def message_keys(path):
    return {(e.get("msgctxt"), e["msgid"], e.get("msgid_plural")) for e in parse_po(path) if e["msgid"]}


class CatalogueUpToDateTests(SimpleTestCase):
    def test_makemessages_would_neither_add_nor_change_an_entry(self):
        """A new or changed `_()` string must come with its Korean entry in the committed catalogue."""
        root = Path(settings.BASE_DIR)
        with tempfile.TemporaryDirectory(prefix="fta-makemessages-") as folder:
            copy = Path(folder)
            for name in SOURCE_FOLDERS:
                shutil.copytree(root / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(root / "manage.py", copy)
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "facetoanimals.settings", "FTA_VAR_DIR": str(copy / "var")}
            result = subprocess.run(
                [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-obsolete"],
                cwd=copy,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            self.assertEqual(result.returncode, 0, result.stderr)
            fresh = message_keys(copy / "locale" / "ko" / "LC_MESSAGES" / "django.po")
        committed = message_keys(PO_PATH)
        self.assertEqual(sorted(fresh - committed, key=str), [], "run makemessages and translate the new entries")
        self.assertEqual(sorted(committed - fresh, key=str), [], "run makemessages --no-obsolete: these are gone")


class KoreanPagesTests(TestCase):
    def setUp(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"

    def test_the_landing_page_is_in_korean(self):
        response = self.client.get(reverse("home"))
        self.assertContains(response, '<html lang="ko">')
        self.assertContains(response, "강아지가 된 나를 만나 보세요")
        self.assertContains(response, "무료로 가입하기")
        self.assertContains(response, "나와 닮은 견종")
        self.assertContains(response, "쇼케이스")
        self.assertContains(response, "내 사진은 비공개예요. 나만 볼 수 있어요.")
        self.assertNotContains(response, "See yourself as a dog")

    def test_the_language_switch_names_each_language_in_itself(self):
        # Someone who cannot read the current language must still recognise their own.
        self.assertContains(self.client.get(reverse("home")), 'lang="en">English</button>')
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        self.assertContains(self.client.get(reverse("home")), 'lang="ko">한국어</button>')

    def test_the_login_page_is_in_korean(self):
        response = self.client.get(reverse("login"))
        self.assertContains(response, "<h1>로그인</h1>", html=True)
        self.assertContains(response, "비밀번호를 잊으셨나요?")
        self.assertContains(response, "처음 오셨나요?")
        self.assertContains(response, "계정 만들기")
        self.assertNotContains(response, "Forgot your password?")

    def test_the_signup_page_is_in_korean(self):
        response = self.client.get(reverse("signup"))
        self.assertContains(response, "<h1>계정 만들기</h1>", html=True)
        self.assertContains(response, "이미 계정이 있으신가요?")
        self.assertContains(response, "이메일")
        self.assertContains(response, "가입 확인과 비밀번호 재설정에만 사용해요.")
        self.assertContains(response, "회원가입")
        self.assertNotContains(response, "Create your account")

    def test_choosing_korean_with_the_language_switch_sticks(self):
        del self.client.cookies[settings.LANGUAGE_COOKIE_NAME]
        self.assertContains(self.client.get(reverse("home")), "See yourself as a dog")
        response = self.client.post(reverse("set_language"), {"language": "ko", "next": reverse("home")}, follow=True)
        self.assertContains(response, "강아지가 된 나를 만나 보세요")
        self.assertContains(self.client.get(reverse("login")), "비밀번호를 잊으셨나요?")

    def test_signing_up_says_check_your_mail_in_korean(self):
        response = self.client.post(
            reverse("signup"),
            {"username": "jisu", "email": "jisu@example.com", "password1": "dog-portrait-42", "password2": "dog-portrait-42"},
            follow=True,
        )
        self.assertContains(response, "입력하신 주소로 메일을 보냈어요.")

    def test_a_failure_stored_in_english_is_shown_in_korean(self):
        user = make_user("mina")
        self.client.force_login(user)
        generation = make_generation(
            make_photo(user), status="failed", error="Something went wrong while making this dog. Please retry."
        )
        response = self.client.get(reverse("gallery:generation", args=[generation.pk]))
        self.assertContains(response, "죄송해요. 강아지를 만드는 중에 문제가 생겼어요. 다시 시도해 주세요.")
        self.assertContains(response, "실패")


class KoreanMessagesFromCodeTests(TestCase):
    def test_upload_refusals_are_in_korean(self):
        from gallery.forms import upload_refusal_message
        from transform.uploads import UploadRejected, clean_upload, too_big

        with translation.override("ko"):
            with self.assertRaises(UploadRejected) as refused:
                clean_upload(io.BytesIO(b""), "empty.jpg", max_bytes=1000, max_pixels=10**6, min_side=64)
            self.assertEqual(upload_refusal_message(refused.exception), "파일이 비어 있어요. 다른 사진을 선택해 주세요.")
            with self.assertRaises(UploadRejected) as refused:
                clean_upload(io.BytesIO(b"plain text, no image"), "a.txt", max_bytes=1000, max_pixels=10**6, min_side=64)
            self.assertIn("지원하지 않는 이미지 파일이에요", upload_refusal_message(refused.exception))
            self.assertEqual(upload_refusal_message(too_big(12 * 2**20)), "파일이 12MB보다 커요. 더 작은 사진을 올려 주세요.")

    def test_parameter_problems_are_in_korean(self):
        user = make_user("mina")
        with translation.override("ko"):
            form = GenerateForm(make_photo(user), {"face": 0, "breed": "pug", "steps": "500", "cfg_scale": "50"})
            self.assertFalse(form.is_valid())
            self.assertEqual(form.errors["steps"], ["1에서 100 사이여야 해요."])
            self.assertEqual(form.errors["cfg_scale"], ["1에서 20 사이여야 해요."])

    def test_job_failure_sentences_are_stored_in_english_and_translate_to_korean(self):
        from gallery.generations.job_steps import user_message

        with translation.override("ko"):
            message = user_message(RuntimeError("boom"))
            self.assertEqual(message, "Something went wrong while making this dog. Please retry.")
            self.assertEqual(translation.gettext(message), "죄송해요. 강아지를 만드는 중에 문제가 생겼어요. 다시 시도해 주세요.")

    def test_form_labels_and_control_modes_are_in_korean(self):
        user = make_user("mina")
        with translation.override("ko"):
            form = GenerateForm(make_photo(user))
            self.assertEqual(str(form.fields["breed"].label), "견종")
            self.assertIn("골든 리트리버", [str(label) for _, label in form.fields["breed"].choices])
            self.assertEqual(
                [str(label) for _, label in form.fields["control_mode"].choices],
                ["균형", "프롬프트 우선", "ControlNet 우선"],
            )
            self.assertEqual(str(SignupForm().fields["email"].label), "이메일")
        with translation.override("en"):
            self.assertEqual(str(GenerateForm(make_photo(user)).fields["control_mode"].choices[0][1]), "Balanced")


# Terms docs/I18N.md's glossary retired (the message shows the one to use) and its spelling rules.
RETIRED = {
    "생성기": "만들기",
    "생성 결과": "강아지",
    "파라미터": "설정",
    "컨트롤 ": "ControlNet",
    "가이드 ": "가이던스",
    "너비": "가로",
    "높이": "세로",
    "거절": "반려",
    "되었": "됐",
    "TOP 5": "닮은 견종 다섯 가지",
    "어울리는 견종": "닮은 견종",
    "대기열에서 기다림": "대기열 대기",
    "모두 강아지로(": "단체 사진(얼굴 2개)",
    "전체 %(steps)s스텝": "%(steps)s스텝 중 %(step)s스텝째",
}
STATUS_MSGIDS = ("Queued", "Running", "Finished", "Failed", "Cancelled", "Pending review", "Approved", "Rejected")


class KoreanGlossaryTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.entries = [e for e in parse_po(PO_PATH) if e["msgid"]]

    def translations(self):
        return [(e["msgid"], text) for e in self.entries for text in e["msgstr"].values()]

    def test_no_translation_uses_a_retired_term(self):
        for retired, wanted in RETIRED.items():
            found = [msgid for msgid, text in self.translations() if retired in text]
            self.assertEqual(found, [], f"{retired!r} is retired: write {wanted!r} (docs/I18N.md)")

    def test_no_translation_puts_a_space_before_a_bracket(self):
        found = [text for _, text in self.translations() if re.search(r"[^\s(] \(", text)]
        self.assertEqual(found, [], "a bracket attaches to the word it explains: 털 색(내 머리색에 맞춤)")

    def test_status_labels_are_bare_nouns(self):
        labels = {e["msgid"]: e["msgstr"][0] for e in self.entries if e["msgid"] in STATUS_MSGIDS and "msgctxt" not in e}
        self.assertEqual(len(labels), len(STATUS_MSGIDS))
        self.assertEqual([label for label in labels.values() if label.endswith("됨")], [])


# Django's own Korean is 합쇼체 ("…가능합니다", "…입력하십시오"); the site speaks 해요체.
FORMAL_ENDINGS = re.compile(r"(니다|십시오)[.!?]?$")


class DjangoOwnMessagesTests(TestCase):
    def test_django_own_account_messages_are_ours_in_haeyo_style(self):
        django_korean = gnu_gettext.translation(
            "django", Path(__import__("django").__file__).parent / "contrib/auth/locale", ["ko"]
        )
        with translation.override("ko"):
            for message in DJANGO_MESSAGES:
                with self.subTest(message):
                    korean = translation.gettext(message)
                    self.assertNotRegex(korean, FORMAL_ENDINGS)
                    self.assertNotEqual(korean, message)
                    self.assertNotEqual(korean, django_korean.gettext(message))
            for number, (message, count) in enumerate(DJANGO_PLURAL_MESSAGES):
                with self.subTest(plural=number):
                    self.assertNotRegex(message % count, FORMAL_ENDINGS)

    def test_the_sign_up_and_password_pages_speak_haeyo_style_throughout(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
        signup = self.client.get(reverse("signup")).content.decode()
        self.assertIn("확인을 위해 비밀번호를 한 번 더 입력해 주세요.", signup)
        refused = self.client.post(reverse("signup"), {"username": "a b", "email": "x", "password1": "1", "password2": "2"})
        self.client.force_login(make_user("mina"))
        change = self.client.post(reverse("password_change"), {"old_password": "x", "new_password1": "1", "new_password2": "1"})
        for page in (signup, refused.content.decode(), change.content.decode()):
            parser = PageText()
            parser.feed(page)
            self.assertEqual([text for text in parser.texts if FORMAL_ENDINGS.search(text)], [])


class KoreanNamesAndDatesTests(TestCase):
    def test_every_terrier_is_spaced_the_same_way(self):
        from transform.breeds import all_breeds

        terriers = [breed.name_ko for breed in all_breeds() if "테리어" in breed.name_ko]
        self.assertGreaterEqual(len(terriers), 5)
        self.assertEqual([name for name in terriers if " 테리어" not in name], [])

    def test_a_date_reads_the_same_on_every_page_one_format_per_language(self):
        from datetime import datetime

        user = make_user("mina")
        user.date_joined = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
        user.save()
        photo = make_photo(user)
        type(photo).objects.filter(pk=photo.pk).update(created_at=user.date_joined)
        self.client.force_login(user)
        for language, written in (("ko", "2026. 12. 2."), ("en", "Dec. 2, 2026")):
            self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for url in (reverse("account"), reverse("gallery:index")):
                with self.subTest(language=language, url=url):
                    self.assertContains(self.client.get(url), written)


class PageText(HTMLParser):
    """What a reader sees or hears of a page: text and alt/title/label attributes, without scripts,
    styles and anything marked translate="no" or lang="en" (model input, A1111 text, "English")."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    SPOKEN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")

    def __init__(self):
        super().__init__()
        self.open, self.skipping, self.texts = [], 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = tag in ("script", "style") or attrs.get("translate") == "no" or (attrs.get("lang") or "").startswith("en")
        if not skip and not self.skipping:
            self.texts += [attrs[name] for name in self.SPOKEN_ATTRIBUTES if attrs.get(name)]
            if tag == "input" and attrs.get("type") == "submit":
                self.texts.append(attrs.get("value") or "")
        if tag not in self.VOID:
            self.open.append(skip)
            self.skipping += skip

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.open:
            self.skipping -= self.open.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(data.strip())


def english_words(html):
    """The English words a Korean reader would meet on a page, outside ALLOWED_ENGLISH."""
    parser = PageText()
    parser.feed(html)
    # {breed} in the prompt's help is syntax the reader types, not English to translate.
    text = re.sub(r"\{\w+\}", "", " ".join(parser.texts))
    words = re.findall(r"[A-Za-z][A-Za-z0-9+]+", text)
    return sorted({word for word in words if word.lower() not in allowed_english()})


def allowed_english():
    """The brand, A1111 and model terms, sampler names, file formats and units kept in English in Korean."""
    from transform.params import SAMPLER_NAMES

    words = {"facetoanimals", "django", "controlnet", "cfg", "img2img", "txt2img", "automatic1111", "forge", "top", "ip"}
    words |= {"jpeg", "jpg", "png", "webp", "heic", "zip", "json", "mb"}
    return words | {word.lower() for name in SAMPLER_NAMES for word in re.findall(r"[A-Za-z][A-Za-z0-9+]+", name)}


class KoreanPagesHaveNoEnglishTests(TestCase):
    """Every page, rendered for a Korean reader with real-looking data: a missed _() shows up here."""

    @classmethod
    def setUpTestData(cls):
        from django.contrib.auth.models import User

        from transform.params import GenerationParams

        cls.user = User.objects.create_user("미나", "", "dog-portrait-42", is_staff=True, is_superuser=True)
        cls.photo = make_photo(cls.user)
        cls.photo.original_name = "셀카.jpg"
        cls.photo.landmarks["faces"][0]["suggested_breeds"] = [
            {"slug": "pug", "score": 0.8, "reasons": ["round_face", "short_nose", "droopy_eyes"]},
            {"slug": "shiba-inu", "score": 0.7, "reasons": ["almond_eyes", "white_hair"]},
        ]
        cls.photo.save()
        params = GenerationParams(seed=7).to_dict()
        cls.done = make_generation(
            cls.photo,
            status="succeeded",
            breed="shiba-inu",
            coat="black and tan",
            params=params,
            timings={"queue_wait": 0.5, "model_load": 3.2, "inference": 12.0, "saving": 0.1},
            infotext="dog, close up, (face portrait:1.1), front face, black and tan shiba inu\nSteps: 20, Sampler: DPM++ 2S a",
            thumbnail="x/thumb.webp",
            face_crop="x/face.webp",
        )
        cls.queued = make_generation(cls.photo, params=params)
        cls.failed = make_generation(
            cls.photo, status="failed", error="The generator ran out of memory for this size. Retry with a smaller size."
        )
        cls.link = ShareLink.objects.create(generation=cls.done)
        cls.group_photo = make_photo(cls.user, faces=2)
        cls.group_photo.original_name = "단체.jpg"
        for face, slug in zip(cls.group_photo.landmarks["faces"], ("pug", "beagle")):
            face["suggested_breeds"] = [
                {
                    "slug": slug,
                    "score": 0.8,
                    "reasons": ["round_face", "black_hair"],
                    "deciding": ["round_face"],
                    "tied_with_next": True,
                },
                {
                    "slug": "shiba-inu",
                    "score": 0.79,
                    "reasons": ["upturned_eyes", "arched_brows"],
                    "deciding": [],
                    "tied_with_next": False,
                },
            ]
        cls.group_photo.save()
        faces = [{"index": 0, "breed": "pug", "coat": "fawn"}, {"index": 1, "breed": "beagle", "coat": ""}]
        cls.group_done = make_generation(cls.group_photo, group_faces=faces, faces=2, status="succeeded", params=params)
        cls.group_running = make_generation(
            cls.group_photo, group_faces=faces, faces=2, status="running", face=2, step=3, steps=20
        )

    def setUp(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"

    def assertKorean(self, url, status=200):
        response = self.client.get(url)
        self.assertEqual(response.status_code, status, url)
        self.assertEqual(english_words(response.content.decode()), [], url)

    def test_the_pages_for_visitors_are_all_korean(self):
        for name in ("home", "login", "signup", "signup-sent", "password_reset", "password_reset_done", "showcase"):
            with self.subTest(name):
                self.assertKorean(reverse(name))
        self.assertKorean(reverse("dog-link", args=[self.link.token]))

    def test_sign_up_and_log_in_refusals_are_all_korean(self):
        taken = {"username": self.user.username, "email": "x", "password1": "1234", "password2": "12345"}
        for url, data in (
            (reverse("signup"), taken),
            (reverse("signup"), {"username": "a b!", "email": "", "password1": "password", "password2": "password"}),
            (reverse("login"), {"username": "nobody", "password": "wrong"}),
        ):
            with self.subTest(url=url, data=data):
                response = self.client.post(url, data)
                self.assertEqual(english_words(response.content.decode()), [])

    def test_the_pages_for_a_signed_in_user_are_all_korean(self):
        self.client.force_login(self.user)
        urls = [reverse(name) for name in ("gallery:index", "gallery:upload", "account", "account-delete", "password_change")]
        urls += [reverse("gallery:photo", args=[photo.pk]) for photo in (self.photo, self.group_photo)]
        urls += [
            reverse("gallery:generation", args=[g.pk])
            for g in (self.done, self.queued, self.failed, self.group_done, self.group_running)
        ]
        urls += [reverse("admin:gallery_generation_review")]
        for url in urls:
            with self.subTest(url):
                self.assertKorean(url)

    def test_the_first_hour_pages_are_all_korean(self):
        """The lineup, the delete confirmations, the development outbox and the no-weights refusal."""
        from gallery.dev_outbox import BACKEND
        from gallery.generations import readiness
        from gallery.generations.queue import get_queue

        self.client.force_login(self.user)
        Generation.objects.filter(pk__in=[self.done.pk, self.queued.pk]).update(lineup=self.photo.pk)
        urls = [reverse("gallery:lineup", args=[self.photo.pk])]
        urls += [reverse("gallery:generation-delete", args=[g.pk]) for g in (self.done, self.queued)]
        urls += [reverse("gallery:photo-delete", args=[self.photo.pk])]
        connection = get_queue().connection
        readiness.announce(connection, "ko-test:1", readiness.MISSING, "no weights")
        try:
            urls += [reverse("gallery:photo", args=[self.photo.pk])]
            for url in urls:
                with self.subTest(url):
                    self.assertKorean(url)
            self.assertContains(self.client.get(urls[-1]), "download_models")
        finally:
            readiness.withdraw(connection, "ko-test:1")
        with self.settings(FTA_ENV="development", EMAIL_BACKEND=BACKEND):
            self.client.logout()
            self.client.post(
                reverse("signup"),
                {"username": "jisu", "email": "jisu@example.com", "password1": "dog-portrait-42", "password2": "dog-portrait-42"},
            )
            self.assertKorean(reverse("signup-sent"))
            self.assertKorean(reverse("dev-outbox"))

    def test_the_form_errors_on_the_photo_page_are_korean(self):
        self.client.force_login(self.user)
        response = self.client.post(reverse("gallery:generate", args=[self.photo.pk]), {"face": "0", "breed": "없는견종"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(english_words(response.content.decode()), [])

    def test_the_error_pages_are_korean(self):
        self.assertKorean("/no-such-page/", status=404)
        with translation.override("ko"):
            self.assertEqual(english_words(render_to_string("500.html")), [])

    def test_the_status_json_carries_korean_labels(self):
        self.client.force_login(self.user)
        status = self.client.get(reverse("gallery:generation-status", args=[self.queued.pk])).json()
        self.assertEqual(status["label"], "대기 중")
        self.assertEqual(status["step_text"], "시작을 기다리고 있어요.")
        self.assertEqual(status["queue_text"], "")  # never enqueued, so no place in the queue

    def test_english_words_are_found_in_text_and_spoken_attributes_but_not_in_literal_text(self):
        page = '<p>강아지 Running</p><img alt="Your dog"><td translate="no">dog, close up</td><button lang="en">English</button>'
        self.assertEqual(english_words(page), ["Running", "Your", "dog"])
