"""A newcomer's whole path in a real browser: Debian's Chromium driven by Playwright, against gunicorn
and a real worker on the tiny pipeline, then every page again in Korean. Each page, in both languages
at 1280 and 390 px, is checked with axe-core (WCAG 2.1 A/AA and axe's best practices, such as heading
order and landmarks; tests/vendor/axe-core) and for sideways scrolling. Screenshots of each step go
to test-artifacts/browser/."""

import csv
import io
import re
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from gallery.generations import readiness
from gallery.generations.queue import get_queue
from gallery.models import Generation, PendingSignup
from gallery.signups import activation_path

from . import sample_images
from .factories import make_uploaded_photo
from .processes import ROOT, development_env, gunicorn, start_worker, stop, wait_until

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
        "FTA_TORCH_THREADS": 1,  # beside gunicorn and the browser on two cores, one thread is fastest
    }
    worker = start_worker(tmp_path / "worker.log", **env)
    try:
        # Ready, not only alive: the pages then offer the tiny pipeline's own quick size.
        wait_until(lambda: readiness.fleet().defaults, timeout=180, what="the worker's pipeline being ready")
        with gunicorn(tmp_path / "gunicorn.log", **env) as url:
            yield url
    finally:
        stop(worker)


@pytest.fixture
def fresh_site(tiny_pipeline_dir, tmp_path):
    """A fresh clone's first `./bin/run`, step by step: the real settings in development, a new SQLite
    database and static files under a new var/ folder, mail to the console, then gunicorn and a worker
    on the tiny pipeline (as README says to try the app without weights)."""
    get_queue().connection.flushdb()
    env = development_env(
        tmp_path / "var",
        FTA_SD_MODEL=tiny_pipeline_dir / "sd",
        FTA_CONTROLNET_MODEL=tiny_pipeline_dir / "controlnet",
        FTA_DEVICE="cpu",
        FTA_TORCH_THREADS=1,  # small and fast on a loaded machine: the time of a real first run is in bench/
    )
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    worker = start_worker(tmp_path / "worker.log", environment=env)
    try:
        wait_until(lambda: readiness.fleet().defaults, timeout=240, what="the worker's pipeline being ready")
        with gunicorn(tmp_path / "gunicorn.log", environment=env) as url:
            yield url
    finally:
        stop(worker)


@pytest.fixture
def site_without_weights(tmp_path, tiny_pipeline_dir):
    """gunicorn and a worker whose FTA_SD_MODEL folder does not exist, as on a machine without weights."""
    get_queue().connection.flushdb()
    env = {"FTA_SD_MODEL": tmp_path / "no-weights", "FTA_CONTROLNET_MODEL": tiny_pipeline_dir / "controlnet"}
    worker = start_worker(tmp_path / "worker.log", FTA_DEVICE="cpu", **env)
    try:
        wait_until(lambda: readiness.fleet().without_weights, timeout=240, what="the worker saying it has no weights")
        with gunicorn(tmp_path / "gunicorn.log") as url:
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
        link_path = page.locator("#share-link").inner_text().strip().removeprefix(site)
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


# What a newcomer reads and clicks, in each language.
FIRST_RUN_WORDS = {
    "en": {
        "sign up": "Sign up",
        "check": "Check your email",
        "outbox": "Open the development outbox",
        "password": "Your password",
        "open": "Open my account",
        "upload": "Upload a photo",
        "send": "Upload and find my face",
        "make": "Make my dog",
        "ready": "Your dog is ready.",
    },
    "ko": {
        "sign up": "회원가입",
        "check": "이메일을 확인해 주세요",
        "outbox": "개발용 보낸 메일함 열기",
        "password": "비밀번호",
        "open": "내 계정 열기",
        "upload": "사진 올리기",
        "send": "올리고 얼굴 찾기",
        "make": "내 강아지 만들기",
        "ready": "강아지가 완성됐어요.",
    },
}


def test_a_newcomer_on_a_fresh_clone_reaches_a_finished_tiny_dog_by_pages_alone_in_english_and_korean(
    fresh_site, browser, tmp_path
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "me.jpg"
    photo.write_bytes(sample_images.portrait_jpeg())
    problems, missing_previews = {}, []
    for language, words in FIRST_RUN_WORDS.items():
        page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page.on("response", lambda r: r.status == 404 and "preview.webp" in r.url and missing_previews.append(r.url))

        def check(step):
            page.screenshot(path=SCREENSHOTS / f"first-run-{language}-{step}.png", full_page=True)
            problems[f"{language}-{step}"] = page_problems(page)

        page.goto(fresh_site + "/")
        if language == "ko":
            page.get_by_role("button", name="한국어").click()
        page.goto(fresh_site + "/accounts/signup/")
        page.locator("#id_username").fill(f"first-{language}")
        page.locator("#id_email").fill(f"first-{language}@example.com")
        page.locator("#id_password1").fill("dog-portrait-42")
        page.locator("#id_password2").fill("dog-portrait-42")
        page.get_by_role("button", name=words["sign up"]).click()
        expect(page.get_by_role("heading", name=words["check"])).to_be_visible()
        check("1-check-your-email")
        page.get_by_role("link", name=words["outbox"]).click()
        check("2-outbox")
        page.locator(".mail-body a").click()
        page.get_by_label(words["password"]).fill("dog-portrait-42")
        page.get_by_role("button", name=words["open"]).click()
        page.get_by_role("link", name=words["upload"]).first.click()
        page.locator("#id_image").set_input_files(str(photo))
        page.get_by_role("button", name=words["send"]).click()
        check("3-photo")
        page.get_by_role("button", name=words["make"]).last.click()
        expect(page.locator("[role=status][aria-atomic=true]")).to_have_text(words["ready"], timeout=240_000)
        dog = page.locator("figure.dog-figure img")
        expect(dog).to_be_visible(timeout=60_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=dog.element_handle())
        check("4-dog")
        page.close()
    assert missing_previews == [], "the page asked for a preview that did not exist"
    assert {step: found for step, found in problems.items() if found} == {}


def test_a_queued_dog_shows_no_preview_until_one_exists_and_asks_for_none(browser, tmp_path):
    """No worker runs, so the dog stays queued: no broken-image icon, no request that can only answer 404."""
    with ThreadPoolExecutor(1) as pool:
        photo = pool.submit(make_uploaded_photo, "waiting").result()
        dog = pool.submit(
            lambda: Generation.objects.create(owner=photo.owner, photo=photo, breed="pug", steps=4, params={"steps": 4})
        ).result()
    with gunicorn(tmp_path / "gunicorn.log") as url:
        page = browser.new_page()
        previews = []
        page.on("request", lambda request: "preview.webp" in request.url and previews.append(request.url))
        log_in(page, url, "waiting")
        page.goto(f"{url}/generations/{dog.pk}/")
        # progress.js polls once a second; three polls later it has asked for nothing that does not exist.
        with page.expect_response(lambda r: "status.json" in r.url):
            pass
        page.wait_for_timeout(3000)
        expect(page.locator("img[data-preview]")).to_be_hidden()
        assert previews == []


def log_in(page, site, username):
    page.goto(site + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("dog-portrait-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My gallery")).to_be_visible()


def test_without_weights_the_photo_page_says_so_and_what_to_set_up_and_no_dog_is_made(site_without_weights, browser, tmp_path):
    with ThreadPoolExecutor(1) as pool:
        photo = pool.submit(make_uploaded_photo, "no-weights").result()
    page = browser.new_page(bypass_csp=True)
    log_in(page, site_without_weights, "no-weights")
    page.goto(f"{site_without_weights}/photos/{photo.pk}/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The dog generator has no model weights yet")
    expect(alert).to_contain_text("python manage.py download_models")
    problems = page_problems(page)
    page.get_by_role("button", name="Make my dog").last.click()
    expect(page.get_by_role("alert")).to_contain_text("no dog can be made right now")
    page.screenshot(path=SCREENSHOTS / "no-weights.png", full_page=True)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(lambda: Generation.objects.filter(photo=photo).count()).result() == 0
    assert problems == []


def test_five_breeds_at_once_share_one_lineup_and_a_dog_goes_only_after_confirming(site, browser, tmp_path):
    """Make all five → one page with each dog's progress, star and picture; the share link copies in one
    click; a dog nobody shared shows no review state; deleting asks first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(1) as pool:
        photo = pool.submit(make_uploaded_photo, "five").result()
    context = browser.new_context(bypass_csp=True, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log_in(page, site, "five")
    page.goto(f"{site}/photos/{photo.pk}/")
    page.get_by_role("button", name="Make all 5 at once").click()
    expect(page.get_by_role("heading", name="Your lineup")).to_be_visible()
    expect(page.locator("[data-dog]")).to_have_count(5)
    expect(page.locator("[data-dog] progress")).to_have_count(5)
    # Each picture appears in place, without a reload, as its dog is ready.
    expect(page.locator("[data-dog] img.dog")).to_have_count(5, timeout=240_000)
    expect(page.locator("[data-lineup-announce]")).to_have_text("Your dogs are ready.")
    problems = {"lineup": page_problems(page)}
    page.screenshot(path=SCREENSHOTS / "lineup.png", full_page=True)
    star = page.locator("[data-dog]").nth(2).get_by_role("button", name="Star")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")

    page.locator("[data-dog] a.dog-link").first.click()
    expect(page.get_by_role("link", name="See all 5 dogs asked for together")).to_be_visible()
    expect(page.get_by_text("Pending review")).to_have_count(0)
    page.get_by_role("button", name="Create a link").click()
    link = page.locator("[data-copy-text]")
    expect(link).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/d/[\w-]+/$"))
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link.text_content()
    problems["dog"] = page_problems(page)

    dog_url = page.url
    page.get_by_role("link", name="Delete this dog").click()
    expect(page.get_by_role("heading", name="Delete this dog?")).to_be_visible()
    problems["confirm"] = page_problems(page)
    page.get_by_role("link", name="Keep it").click()
    assert page.url == dog_url
    page.get_by_role("link", name="Delete this dog").click()
    page.get_by_role("button", name="Delete the dog").click()
    expect(page.get_by_role("heading", name="Your lineup")).to_be_visible()
    expect(page.locator("[data-dog]")).to_have_count(4)
    context.close()
    assert {step: found for step, found in problems.items() if found} == {}


def test_without_javascript_the_share_link_is_whole_selectable_text(browser, tmp_path):
    with ThreadPoolExecutor(1) as pool:
        photo = pool.submit(make_uploaded_photo, "no-js").result()
        dog = pool.submit(
            lambda: Generation.objects.create(owner=photo.owner, photo=photo, breed="pug", status="succeeded", steps=4, step=4)
        ).result()
        pool.submit(lambda: dog.share_links.create()).result()
    with gunicorn(tmp_path / "gunicorn.log") as url:
        page = browser.new_context(java_script_enabled=False).new_page()
        log_in(page, url, "no-js")
        page.goto(f"{url}/generations/{dog.pk}/")
        link = page.locator("[data-copy-text]")
        expect(link).to_have_text(re.compile(r"/d/[\w-]+/$"))
        assert link.evaluate("element => getComputedStyle(element).userSelect") == "all"
        expect(page.get_by_role("button", name="Copy")).to_be_hidden()
