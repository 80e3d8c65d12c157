"""A newcomer's whole path in a real browser: Debian's Chromium driven by Playwright, against gunicorn
and a real worker on the tiny pipeline, then every page again in Korean. Each page, in both languages
at 1280 and 390 px, is checked with axe-core (WCAG 2.1 A/AA and axe's best practices, such as heading
order and landmarks; tests/vendor/axe-core) and for sideways scrolling. Screenshots of each step go
to test-artifacts/browser/."""

import csv
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from gallery.generations.queue import get_queue
from gallery.models import PendingSignup
from gallery.signups import activation_path

from . import sample_images
from .processes import gunicorn, start_worker, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# The pages a visitor sees logged out, checked in both languages at both sizes.
LOGGED_OUT_PAGES = (
    ("/accounts/login/", "login"),
    ("/accounts/signup/sent/", "signup-sent"),
    ("/accounts/signup/MQ/not-a-token/", "signup-link-invalid"),
    ("/accounts/password/reset/", "password-reset"),
    ("/accounts/password/reset/sent/", "password-reset-sent"),
    ("/accounts/password/reset/MQ/not-a-token/", "password-reset-link-invalid"),
    ("/accounts/password/reset/complete/", "password-reset-complete"),
)


@pytest.fixture
def site(tiny_pipeline_dir, tmp_path):
    get_queue().connection.flushdb()
    env = {
        "FTA_SD_MODEL": tiny_pipeline_dir / "sd",
        "FTA_CONTROLNET_MODEL": tiny_pipeline_dir / "controlnet",
        "FTA_DEVICE": "cpu",
    }
    worker = start_worker(tmp_path / "worker.log", **env)
    try:
        wait_until(lambda: get_queue().connection.keys("fta:worker-alive:*"), timeout=180, what="the worker starting")
        with gunicorn(tmp_path / "gunicorn.log", **env) as url:
            yield url
    finally:
        stop(worker)


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def page_problems(page):
    """axe-core's WCAG 2.1 A/AA and best-practice violations on the page as it is now, and sideways scrolling."""
    page.add_script_tag(path=AXE)
    results = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    problems = [f"{v['id']} ({v['help']}): {node['target']}" for v in results["violations"] for node in v["nodes"]]
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
        problems.append("the page scrolls sideways")
    return problems


def promote_to_staff(username):
    """In a thread of its own: Playwright's sync API runs an event loop here, which Django's ORM refuses."""

    def promote():
        try:
            User.objects.filter(username=username).update(is_staff=True, is_superuser=True)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(promote).result()


def mailed_link(username):
    """The activation link the sign-up mail carries (the ORM runs in a thread: Playwright's loop is running here)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: activation_path(PendingSignup.objects.get(username=username))).result()


def open_mailed_link(page, site, username):
    """What the newcomer does with the sign-up mail: follow its link and type the password chosen."""
    page.goto(site + mailed_link(username))
    page.get_by_label("Your password").fill("dog-portrait-42")
    page.get_by_role("button", name="Open my account").click()


def test_a_newcomer_goes_from_the_landing_page_to_a_dog_in_the_gallery(site, browser, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nBrowser screenshots: {SCREENSHOTS}")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(sample_images.portrait_jpeg())
    problems = {}

    for viewport, label in (({"width": 1280, "height": 900}, "laptop"), ({"width": 390, "height": 844}, "phone")):
        # The site's CSP (rightly) refuses injected scripts; axe is ours, so this page lets it in.
        page = browser.new_page(viewport=viewport, bypass_csp=True)

        def check(step):
            page.screenshot(path=SCREENSHOTS / f"{label}-{step}.png", full_page=True)
            found = page_problems(page)
            if found:
                problems[f"{label}-{step}"] = found

        def visit(path, step):
            page.goto(site + path)
            check(step)

        page.goto(site + "/")
        expect(page.get_by_role("heading", name="See yourself as a dog")).to_be_visible()
        check("1-landing")

        page.get_by_role("link", name="Sign up free").click()
        check("1b-signup")
        page.get_by_label("Username").fill(f"newcomer-{label}")
        page.get_by_label("Email").fill(f"{label}@example.com")
        page.get_by_label("Password", exact=True).fill("dog-portrait-42")
        page.get_by_label("Password confirmation").fill("dog-portrait-42")
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        check("1c-check-your-email")
        page.goto(site + mailed_link(f"newcomer-{label}"))
        check("1c-finish-signing-up")
        page.get_by_label("Your password").fill("dog-portrait-42")
        page.get_by_role("button", name="Open my account").click()
        expect(page.get_by_text("No dogs yet")).to_be_visible()
        check("2-empty-gallery")

        page.get_by_role("link", name="Upload a photo").first.click()
        check("2b-upload")
        page.get_by_label("Your photo").set_input_files(str(photo))
        page.get_by_role("button", name="Upload and find my face").click()
        expect(page.get_by_text("1 face found")).to_be_visible()
        expect(page.get_by_text("You look like a")).to_be_visible()
        photo_path = page.url.removeprefix(site)
        check("3-photo")

        page.get_by_label("Search breeds").fill("pu")
        expect(page.get_by_label("Golden Retriever")).to_be_hidden()
        page.get_by_label("Pug", exact=True).check()
        page.get_by_text("Advanced").click()
        page.get_by_label("Steps").fill("12")
        page.get_by_label("Width").select_option("256")
        page.get_by_label("Height").select_option("256")
        page.get_by_role("button", name="Make my dog").last.click()
        bar = page.locator("progress")
        expect(bar).to_be_visible()
        # The bar moves by itself (no reload) until it is full.
        page.wait_for_function(
            "() => { const b = document.querySelector('progress'); return b && b.value > 0; }", timeout=120_000
        )
        page.screenshot(path=SCREENSHOTS / f"{label}-4-progress.png", full_page=True)
        # One status line for screen readers, which says so when the dog is ready (before the reload).
        expect(page.locator("[role=status][aria-atomic=true]")).to_have_text("Your dog is ready.", timeout=120_000)
        expect(page.get_by_role("img", name="Your dog portrait: a Pug")).to_be_visible(timeout=30_000)
        expect(page.locator("#infotext")).to_have_value(re.compile("Steps: 12"))
        result_path = page.url.removeprefix(site)
        check("5-result")
        star_beside_the_title(page)
        page.get_by_role("button", name="Create a link").click()
        link_path = page.get_by_label(re.compile("Anyone with this link")).input_value().removeprefix(site)
        visit(link_path, "5b-dog-link")

        page.get_by_role("link", name="My gallery").click()
        expect(page.get_by_role("img", name="Dog portrait: Pug")).to_be_visible()
        check("6-gallery")
        for path, step in (
            ("/accounts/", "6b-account"),
            ("/accounts/delete/", "6c-delete-account"),
            ("/accounts/password/", "6d-password"),
            ("/accounts/password/done/", "6d2-password-changed"),
            ("/showcase/", "6e-showcase"),
        ):
            visit(path, step)
        visit("/no-such-page/", "6f-not-found")
        promote_to_staff(f"newcomer-{label}")
        visit("/admin/gallery/generation/review/", "6g-admin-review")

        page.goto(site + "/gallery/")
        star_select_and_download_a_zip(page, tmp_path / f"{label}.zip")
        check("6h-starred-selected")
        drop_the_png_on_the_generate_form(page, zipfile.ZipFile(tmp_path / f"{label}.zip"))
        check("6i-settings-from-png")
        page.goto(site + "/gallery/")
        page.get_by_role("button", name="한국어").click()
        expect(page.get_by_role("heading", name="내 갤러리")).to_be_visible()
        check("7-korean")
        page.goto(site + photo_path)
        search = page.get_by_label("견종 검색")
        for query, found, hidden in (
            ("웰시 코기", "웰시코기", "퍼그"),
            ("셸티", "셰틀랜드 쉽독", "웰시코기"),
            ("corgi", "웰시코기", "퍼그"),
        ):
            search.fill(query)
            expect(page.get_by_label(found, exact=True)).to_be_visible()
            expect(page.get_by_label(hidden, exact=True)).to_be_hidden()
        search.fill("")
        check("7b-korean-photo")
        korean_pages = (
            (result_path, "7c-korean-result"),
            ("/photos/new/", "7d-korean-upload"),
            ("/accounts/", "7e-korean-account"),
            ("/accounts/delete/", "7f-korean-delete-account"),
            ("/accounts/password/", "7g-korean-password"),
            ("/accounts/password/done/", "7g2-korean-password-changed"),
            ("/showcase/", "7h-korean-showcase"),
            (link_path, "7h2-korean-dog-link"),
            ("/no-such-page/", "7i-korean-not-found"),
            ("/admin/gallery/generation/review/", "7j-korean-admin-review"),
        )
        for path, step in korean_pages:
            visit(path, step)

        page.goto(site + "/gallery/")
        page.get_by_role("button", name="로그아웃").click()
        expect(page.get_by_role("link", name="로그인").first).to_be_visible()
        check("8-logged-out")
        visit("/", "8a-korean-landing")
        visit("/accounts/signup/", "8c-korean-signup")
        for path, step in LOGGED_OUT_PAGES:
            visit(path, f"8d-korean-{step}")
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        for path, step in LOGGED_OUT_PAGES:
            visit(path, f"9-{step}")
        page.close()

    assert problems == {}, "\n".join(f"{step}: {found}" for step, found in problems.items())


def star_select_and_download_a_zip(page, zip_path):
    """Star by keyboard (no reload), filter the starred, select all on the page, download the ZIP."""
    star = page.get_by_role("button", name="Star", exact=True).first
    star.focus()
    page.keyboard.press("Enter")
    expect(star).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Starred only").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("img", name="Dog portrait: Pug")).to_be_visible()
    page.get_by_label("Select all on this page").check()
    expect(page.get_by_label("Select for download: Pug")).to_be_checked()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download selected (ZIP)").click()
    download.value.save_as(zip_path)
    archive = zipfile.ZipFile(zip_path)
    assert [n.endswith(".png") for n in archive.namelist()] == [True, False]
    assert "Steps: 12" in archive.read(archive.namelist()[0]).decode("latin-1")
    (row,) = csv.DictReader(io.StringIO(archive.read("parameters.csv").decode()))
    assert (row["breed"], row["sampler"], row["steps"]) == ("pug", "DPM++ 2S a", "12")


def star_beside_the_title(page):
    """The star sits right after the page title, the status badge keeps the far end of the row."""
    title = page.locator(".section-head h1").bounding_box()
    star = page.locator(".section-head .star-button").bounding_box()
    badge = page.locator(".section-head [data-status-label]").bounding_box()
    if abs(star["y"] - title["y"]) < title["height"]:  # on the title's line (a narrow screen may wrap)
        assert star["x"] - (title["x"] + title["width"]) < badge["x"] - (star["x"] + star["width"])


def chosen_breed_in_sight(page):
    """Whether the checked breed lies inside the scrolling breed grid's visible box."""
    return page.evaluate(
        """() => { const grid = document.querySelector("[data-breed-grid]").getBoundingClientRect();
           const chosen = document.querySelector("[data-breed-grid] input:checked").closest("label").getBoundingClientRect();
           return chosen.top >= grid.top - 1 && chosen.bottom <= grid.bottom + 1; }"""
    )


def drop_the_png_on_the_generate_form(page, archive):
    """Drop the downloaded dog on the photo page's generate form: its settings fill the form."""
    page.get_by_role("link", name=re.compile("Your photo")).first.click()
    # Pug is far down the grid: start from the first breed in sight, as a new visitor would.
    page.get_by_label("Golden Retriever", exact=True).check()
    page.evaluate("() => { document.querySelector('[data-breed-grid]').scrollTop = 0; }")
    png = list(archive.read(archive.namelist()[0]))
    files = page.evaluate_handle(
        """bytes => { const t = new DataTransfer();
           t.items.add(new File([new Uint8Array(bytes)], "dog.png", {type: "image/png"})); return t; }""",
        png,
    )
    page.dispatch_event("form.generate-form", "drop", {"dataTransfer": files})
    expect(page.get_by_text("The form is filled with the settings from this PNG.")).to_be_visible()
    expect(page.get_by_label("Steps")).to_have_value("12")
    expect(page.get_by_label("Width")).to_have_value("256")
    expect(page.get_by_label("Pug", exact=True)).to_be_checked()
    assert chosen_breed_in_sight(page)
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(re.compile(r"front face, \{breed\}$"))


def test_everyone_in_a_two_face_photo_becomes_a_dog_and_the_group_shows_in_the_gallery(site, browser, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "us.jpg"
    photo.write_bytes(sample_images.two_faces_jpeg())
    # axe is injected like in the test above, so this page too lets it past the CSP.
    page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    shot = lambda step: page.screenshot(path=SCREENSHOTS / f"group-{step}.png", full_page=True)  # noqa: E731

    page.goto(site + "/accounts/signup/")
    page.get_by_label("Username").fill("two-friends")
    page.get_by_label("Email").fill("two@example.com")
    page.get_by_label("Password", exact=True).fill("dog-portrait-42")
    page.get_by_label("Password confirmation").fill("dog-portrait-42")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    open_mailed_link(page, site, "two-friends")
    page.get_by_role("link", name="Upload a photo").first.click()
    page.get_by_label("Your photo").set_input_files(str(photo))
    page.get_by_role("button", name="Upload and find my face").click()
    expect(page.get_by_text("2 faces found")).to_be_visible()
    page.get_by_label("Breed for face 2").select_option("beagle")
    photo_path = page.url.removeprefix(site)
    shot("1-photo")
    problems = {"1-photo": page_problems(page)}

    page.get_by_role("button", name="Make everyone a dog").click()
    expect(page.get_by_role("heading", name="Everyone as dogs")).to_be_visible()
    shot("2-progress")
    slider = page.get_by_role("slider", name="Before / After")
    expect(slider).to_be_visible(timeout=240_000)
    # Keyboard operable: the arrow keys move the cut between the photo and the dogs.
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect(slider).to_have_value("51")
    shot("3-result")
    problems["3-result"] = page_problems(page)
    result_path = page.url.removeprefix(site)

    page.get_by_role("link", name="My gallery").click()
    expect(page.get_by_text("Everyone as dogs (2)")).to_be_visible()
    shot("4-gallery")
    # The same pages at phone width, then in Korean at both widths.
    for language, width in (("en", 390), ("ko", 1280), ("ko", 390)):
        if language == "ko" and width == 1280:
            page.get_by_role("button", name="한국어").click()
            expect(page.locator("html")).to_have_attribute("lang", "ko")
        page.set_viewport_size({"width": width, "height": 900})
        for path, step in ((photo_path, "1-photo"), (result_path, "3-result"), ("/gallery/", "4-gallery")):
            page.goto(site + path)
            name = f"{step}-{language}-{width}"
            shot(name)
            problems[name] = page_problems(page)
    page.close()
    assert {step: found for step, found in problems.items() if found} == {}
