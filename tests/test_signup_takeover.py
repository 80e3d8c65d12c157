"""Round 3, finding 1: account takeover before sign-up (docs/SECURITY.md).

Mallory signed up as `mallory` with victim@example.com and a password of her own; the account waited for
activation. When the real owner signed up later as `victim` with their own password, their mail said
"Welcome, mallory!", and its link activated and logged them into Mallory's account, where they uploaded their
face. Mallory then logged in with her password and saw it. The victim's own name and password never worked.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from gallery.models import PendingSignup

from .factories import make_user

MALLORY = {"username": "mallory", "email": "victim@example.com", "password": "mallory-knows-this-1"}
VICTIM = {"username": "victim", "email": "victim@example.com", "password": "victims-own-secret-2"}


def sign_up(client, person, address="10.0.0.1"):
    data = {"username": person["username"], "email": person["email"]}
    data |= {"password1": person["password"], "password2": person["password"]}
    return client.post(reverse("signup"), data, REMOTE_ADDR=address)


def link_in(message):
    return re.search(r"https?://\S+", message.body).group(0)


def open_link(client, message, password):
    """What the person who opens the mail does: follow its link, type the password, press the button."""
    page = client.get(link_in(message))
    if page.status_code != 200:
        return page
    return client.post(link_in(message), {"password": password})


def logs_in(username, password):
    return Client().post(reverse("login"), {"username": username, "password": password}).status_code == 302


class MallorySignedUpFirstTests(TestCase):
    """Mallory signs up with the victim's address; the victim signs up later with their own name and password."""

    def setUp(self):
        sign_up(Client(), MALLORY, address="10.6.6.6")
        sign_up(self.client, VICTIM)
        self.mallorys_mail, self.victims_mail = mail.outbox

    def test_the_attack_as_reported_ends_with_the_victim_in_their_own_account_and_mallory_shut_out(self):
        response = open_link(self.client, self.victims_mail, VICTIM["password"])
        self.assertRedirects(response, reverse("gallery:index"), fetch_redirect_response=False)
        (account,) = User.objects.all()
        self.assertEqual((account.username, account.email, account.is_active), ("victim", "victim@example.com", True))
        self.assertEqual(int(self.client.session["_auth_user_id"]), account.pk)
        self.assertTrue(logs_in("victim", VICTIM["password"]))
        self.assertFalse(logs_in("victim", MALLORY["password"]))
        self.assertFalse(logs_in("mallory", MALLORY["password"]))

    def test_the_victims_mail_greets_the_victim_and_never_mallory(self):
        self.assertIn("victim", self.victims_mail.body)
        self.assertNotIn("mallory", self.victims_mail.body)

    def test_the_victims_password_does_not_open_mallorys_mail(self):
        response = open_link(self.client, self.mallorys_mail, VICTIM["password"])
        self.assertContains(response, "That is not the password chosen when signing up as mallory.", status_code=400)
        self.assertFalse(User.objects.exists())
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_mallorys_mail_opened_first_asks_for_mallorys_password_and_says_whose_sign_up_it_is(self):
        page = self.client.get(link_in(self.mallorys_mail))
        self.assertContains(page, "mallory")
        self.assertContains(page, "If you did not sign up as mallory")
        self.assertFalse(User.objects.exists())

    def test_mallorys_link_is_dead_once_the_victim_has_opened_theirs(self):
        open_link(self.client, self.victims_mail, VICTIM["password"])
        response = open_link(Client(), self.mallorys_mail, MALLORY["password"])
        self.assertContains(response, "This sign-up link is not valid any more", status_code=400)
        self.assertEqual(list(User.objects.values_list("username", flat=True)), ["victim"])
        self.assertFalse(PendingSignup.objects.exists())

    def test_the_victims_link_still_works_after_mallory_signs_up_again(self):
        sign_up(Client(), MALLORY, address="10.6.6.6")
        response = open_link(self.client, self.victims_mail, VICTIM["password"])
        self.assertRedirects(response, reverse("gallery:index"), fetch_redirect_response=False)
        self.assertEqual(User.objects.get().username, "victim")

    def test_following_the_link_alone_opens_nothing(self):
        # Mail scanners fetch links: a GET shows the page and changes nothing.
        self.assertEqual(self.client.get(link_in(self.victims_mail)).status_code, 200)
        self.assertFalse(User.objects.exists())
        self.assertNotIn("_auth_user_id", self.client.session)


class SignupOrderTests(TestCase):
    def test_one_person_signing_up_twice_opens_either_mail_with_its_own_password(self):
        sign_up(self.client, {**VICTIM, "password": "first-try-password-1"})
        sign_up(self.client, VICTIM)
        first, second = mail.outbox
        self.assertEqual(open_link(self.client, first, VICTIM["password"]).status_code, 400)
        self.assertEqual(open_link(self.client, first, "first-try-password-1").status_code, 302)
        self.assertContains(open_link(Client(), second, VICTIM["password"]), "not valid any more", status_code=400)
        self.assertTrue(logs_in("victim", "first-try-password-1"))

    def test_a_waiting_sign_ups_name_is_not_reserved(self):
        sign_up(Client(), {**MALLORY, "username": "victim", "email": "mallory@example.net"}, address="10.6.6.6")
        self.assertEqual(sign_up(self.client, VICTIM).status_code, 302)
        mallorys_mail, victims_mail = mail.outbox
        self.assertEqual(open_link(self.client, victims_mail, VICTIM["password"]).status_code, 302)
        response = open_link(Client(), mallorys_mail, MALLORY["password"])
        self.assertContains(response, "The name “victim” was taken while this sign-up waited", status_code=400)
        self.assertEqual(User.objects.get().email, "victim@example.com")

    def test_an_activated_address_gets_the_someone_tried_mail_and_no_sign_up(self):
        make_user("victim")
        sign_up(self.client, MALLORY)
        self.assertEqual(mail.outbox[0].to, ["victim@example.com"])
        self.assertIn("Someone tried to sign up", mail.outbox[0].body)
        self.assertFalse(PendingSignup.objects.exists())

    def test_a_switched_off_account_is_not_switched_on_by_signing_up_again(self):
        make_user("victim", is_active=False)
        sign_up(self.client, MALLORY)
        self.assertIn("Someone tried to sign up", mail.outbox[0].body)
        self.assertFalse(PendingSignup.objects.exists())
        self.assertFalse(User.objects.get().is_active)

    def test_sign_up_answers_the_same_for_a_new_a_waiting_and_an_activated_address(self):
        make_user("taken")
        sign_up(Client(), {**VICTIM, "email": "waiting@example.com", "username": "waiter"})
        answers = [
            sign_up(Client(), {**MALLORY, "username": f"probe{i}", "email": email})
            for i, email in enumerate(["new@example.com", "WAITING@example.com", "TAKEN@example.com"])
        ]
        self.assertEqual({(a.status_code, a["Location"]) for a in answers}, {(302, reverse("signup-sent"))})


class WaitingSignupTests(TestCase):
    def setUp(self):
        sign_up(self.client, VICTIM)
        self.message = mail.outbox[0]

    def test_wrong_passwords_cancel_the_sign_up_at_the_login_failure_limit(self):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            self.assertEqual(open_link(self.client, self.message, "not-my-password").status_code, 400)
        response = open_link(self.client, self.message, "not-my-password")
        self.assertContains(response, "Too many wrong passwords: this sign-up is cancelled", status_code=400)
        self.assertFalse(PendingSignup.objects.exists())
        self.assertEqual(open_link(self.client, self.message, VICTIM["password"]).status_code, 400)

    def test_a_link_older_than_a_password_reset_link_is_not_valid(self):
        lifetime = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        PendingSignup.objects.update(created_at=timezone.now() - lifetime - timedelta(minutes=1))
        response = open_link(self.client, self.message, VICTIM["password"])
        self.assertContains(response, "This sign-up link is not valid any more", status_code=400)
        self.assertFalse(User.objects.exists())

    def test_sign_ups_left_waiting_past_their_links_life_are_deleted_by_the_next_sign_up(self):
        lifetime = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        PendingSignup.objects.update(created_at=timezone.now() - lifetime - timedelta(minutes=1))
        sign_up(Client(), {**VICTIM, "username": "later", "email": "later@example.com"})
        self.assertEqual(list(PendingSignup.objects.values_list("username", flat=True)), ["later"])

    def test_a_tampered_link_is_not_valid(self):
        link = link_in(self.message).rstrip("/")
        tampered = link[:-1] + ("A" if link[-1] != "A" else "B") + "/"
        self.assertContains(self.client.get(tampered), "This sign-up link is not valid any more", status_code=400)

    def test_nothing_but_the_hashed_password_is_kept_while_waiting(self):
        stored = PendingSignup.objects.get().password
        self.assertNotIn(VICTIM["password"], stored)
        self.assertTrue(stored.startswith(("md5$", "pbkdf2_sha256$", "argon2$")))


@override_settings(FTA_SIGNUPS_PER_HOUR=100)
class ActivationLogsInTests(TestCase):
    def test_the_account_opens_only_with_the_password_chosen_and_logs_its_owner_in(self):
        sign_up(self.client, VICTIM)
        response = open_link(self.client, mail.outbox[0], VICTIM["password"])
        self.assertRedirects(response, reverse("gallery:index"), fetch_redirect_response=False)
        page = self.client.get(reverse("gallery:index"))
        self.assertContains(page, "Welcome, victim!")
        self.assertContains(page, "Signed in as victim")


class KoreanActivationTests(TestCase):
    def test_the_mail_and_the_page_that_opens_the_account_are_in_korean_for_a_korean_visitor(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
        sign_up(self.client, VICTIM)
        self.assertIn("가입할 때 정한 비밀번호를 입력해서", mail.outbox[0].body)
        self.assertContains(self.client.get(link_in(mail.outbox[0])), "<h1>가입 마치기</h1>", html=True)
        wrong = self.client.post(link_in(mail.outbox[0]), {"password": "not-my-password"})
        self.assertContains(wrong, "victim(으)로 가입할 때 정한 비밀번호가 아니에요.", status_code=400)
