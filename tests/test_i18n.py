"""Korean: pages in Korean for a Korean visitor, and a catalogue with every message translated.

The catalogue checks read locale/ko/LC_MESSAGES/django.po in pure Python (no gettext tools needed),
and also check that the committed django.mo says the same as the .po, so a forgotten
`compilemessages` fails here rather than serving stale Korean.
"""

import gettext as gnu_gettext
import io
import re
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase, TestCase
from django.urls import reverse
from django.utils import translation

from gallery.forms import GenerateForm, SignupForm
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
            if "msgid_plural" in entry:
                for index, text in entry["msgstr"].items():
                    expected[(entry["msgid"], index)] = text
            else:
                expected[entry["msgid"]] = entry["msgstr"][0]
        compiled = {key: value for key, value in catalog.items() if key != ""}
        self.assertEqual(compiled, expected, "django.mo is stale: run manage.py compilemessages --ignore=.venv")


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
        self.assertContains(response, "비밀번호를 재설정할 때만 사용해요.")
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
        self.assertContains(response, "강아지를 만드는 중에 문제가 생겼어요. 다시 시도해 주세요.")
        self.assertContains(response, "실패")


class KoreanMessagesFromCodeTests(TestCase):
    def test_upload_refusals_are_in_korean(self):
        from transform.uploads import UploadRejected, clean_upload, too_big

        with translation.override("ko"):
            with self.assertRaises(UploadRejected) as refused:
                clean_upload(io.BytesIO(b""), "empty.jpg", max_bytes=1000, max_pixels=10**6, min_side=64)
            self.assertEqual(str(refused.exception), "빈 파일이에요.")
            with self.assertRaises(UploadRejected) as refused:
                clean_upload(io.BytesIO(b"plain text, no image"), "a.txt", max_bytes=1000, max_pixels=10**6, min_side=64)
            self.assertIn("지원하지 않는 이미지 파일이에요", str(refused.exception))
            self.assertEqual(str(too_big(12 * 2**20)), "파일이 12MB보다 커요. 더 작은 사진을 올려 주세요.")

    def test_job_failure_sentences_are_stored_in_english_and_translate_to_korean(self):
        from gallery.generations.jobs import user_message

        with translation.override("ko"):
            message = user_message(RuntimeError("boom"))
            self.assertEqual(message, "Something went wrong while making this dog. Please retry.")
            self.assertEqual(translation.gettext(message), "강아지를 만드는 중에 문제가 생겼어요. 다시 시도해 주세요.")

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
