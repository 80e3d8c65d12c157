"""A newcomer's whole path in a real browser: Debian's Chromium driven by Playwright, against gunicorn
and a real worker on the tiny pipeline. Screenshots of each step go to test-artifacts/browser/."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from gallery.generations.queue import get_queue

from . import sample_images
from .processes import gunicorn, start_worker, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"


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


def test_a_newcomer_goes_from_the_landing_page_to_a_dog_in_the_gallery(site, browser, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nBrowser screenshots: {SCREENSHOTS}")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(sample_images.portrait_jpeg())

    for viewport, label in (({"width": 1280, "height": 900}, "laptop"), ({"width": 390, "height": 844}, "phone")):
        page = browser.new_page(viewport=viewport)
        shot = lambda step: page.screenshot(path=SCREENSHOTS / f"{label}-{step}.png", full_page=True)  # noqa: E731

        page.goto(site + "/")
        expect(page.get_by_role("heading", name="See yourself as a dog")).to_be_visible()
        shot("1-landing")

        page.get_by_role("link", name="Sign up free").click()
        page.get_by_label("Username").fill(f"newcomer-{label}")
        page.get_by_label("Email").fill(f"{label}@example.com")
        page.get_by_label("Password", exact=True).fill("dog-portrait-42")
        page.get_by_label("Password confirmation").fill("dog-portrait-42")
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_text("No dogs yet")).to_be_visible()
        shot("2-empty-gallery")

        page.get_by_role("link", name="Upload a photo").first.click()
        page.get_by_label("Your photo").set_input_files(str(photo))
        page.get_by_role("button", name="Upload and find my face").click()
        expect(page.get_by_text("1 face found")).to_be_visible()
        expect(page.get_by_text("You look like a")).to_be_visible()
        shot("3-photo")

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
        shot("4-progress")
        page.wait_for_function(
            "() => { const b = document.querySelector('progress'); return !b || b.value >= b.max; }", timeout=120_000
        )
        expect(page.get_by_role("img", name="Your dog portrait: a Pug")).to_be_visible(timeout=30_000)
        expect(page.locator("#infotext")).to_have_value(re.compile("Steps: 12"))
        shot("5-result")

        page.get_by_role("link", name="My gallery").click()
        expect(page.get_by_role("img", name="Dog portrait: Pug")).to_be_visible()
        shot("6-gallery")

        page.get_by_role("button", name="한국어").click()
        expect(page.get_by_role("heading", name="내 갤러리")).to_be_visible()
        shot("7-korean")

        page.get_by_role("button", name="로그아웃").click()
        expect(page.get_by_role("link", name="로그인").first).to_be_visible()
        shot("8-logged-out")
        page.close()


def test_everyone_in_a_two_face_photo_becomes_a_dog_and_the_group_shows_in_the_gallery(site, browser, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "us.jpg"
    photo.write_bytes(sample_images.two_faces_jpeg())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    shot = lambda step: page.screenshot(path=SCREENSHOTS / f"group-{step}.png", full_page=True)  # noqa: E731

    page.goto(site + "/accounts/signup/")
    page.get_by_label("Username").fill("two-friends")
    page.get_by_label("Email").fill("two@example.com")
    page.get_by_label("Password", exact=True).fill("dog-portrait-42")
    page.get_by_label("Password confirmation").fill("dog-portrait-42")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("link", name="Upload a photo").first.click()
    page.get_by_label("Your photo").set_input_files(str(photo))
    page.get_by_role("button", name="Upload and find my face").click()
    expect(page.get_by_text("2 faces found")).to_be_visible()
    page.get_by_label("Breed for face 2").select_option("beagle")
    shot("1-photo")

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

    page.get_by_role("link", name="My gallery").click()
    expect(page.get_by_text("Everyone as dogs (2)")).to_be_visible()
    shot("4-gallery")
    page.close()
