"""The chat widget in a real browser: keyboard use, the AI disclosure, hand-off, staff replies by long
poll, text-only rendering and a reload that keeps the conversation."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from safedesk.domain import Role
from safedesk.storage import repository as repo

pytestmark = pytest.mark.browser

QUESTION = "What are your opening hours?"
HOURS = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
# Both ways a message is sent: the streaming endpoint, and the plain POST the widget falls back to.
SEND_URL = re.compile(r"/api/v1/conversations/[^/?]+/messages(/stream)?$")


def conversation_id(page: Any) -> str:
    stored = page.evaluate("() => window.sessionStorage.getItem('safedesk.widget.v1')")
    return json.loads(stored)["id"]


def staff_reply(desk: Any, cid: str, text: str, author: str = "Kari") -> None:
    with desk.db.session() as session:
        repo.add_message(session, cid, Role.STAFF, text, status="delivered", author=author)


def open_with_keyboard(page: Any, base_url: str) -> Any:
    page.goto(base_url + "/")
    launcher = page.get_by_role("button", name="Chat with us")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog", name="Customer service chat")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()
    return launcher


def test_keyboard_chat_answers_hours_with_disclosure_then_hands_off(page: Any, base_url: str, live_desk: Any) -> None:
    disclosure = live_desk.config.disclosure_text()
    launcher = open_with_keyboard(page, base_url)
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.locator(".sd-notice")).to_have_text(disclosure)  # shown before the customer types

    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    expect(log.locator(".sd-from-customer .sd-text")).to_have_text([QUESTION])
    answer = log.locator(".sd-from-assistant").first
    expect(answer).to_contain_text(disclosure, timeout=15_000)
    expect(answer.locator(".sd-text")).to_have_text(HOURS)
    expect(answer.locator(".sd-who")).to_have_text("AI assistant")
    expect(page.get_by_label("Your message")).to_have_value("")
    expect(page.get_by_label("Your message")).to_be_focused()

    page.get_by_role("button", name="Talk to a person").click()
    expect(log.locator(".sd-from-customer .sd-text")).to_have_text([QUESTION, "I'd like to talk to a person"])
    handoff = log.locator(".sd-from-assistant").nth(1)
    expect(handoff).to_contain_text("member of our team", timeout=15_000)

    # A staff reply reaches the open widget through the long poll within two seconds.
    started = time.monotonic()
    staff_reply(live_desk, conversation_id(page), "Hi, this is Kari. How can I help?")
    staff = log.locator(".sd-from-staff")
    expect(staff).to_be_visible(timeout=2_000)
    latency = time.monotonic() - started
    expect(staff.locator(".sd-who")).to_have_text("Kari (staff)")
    expect(staff.locator(".sd-text")).to_have_text("Hi, this is Kari. How can I help?")
    print(f"staff reply shown after {latency * 1000:.0f} ms")

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert page.js_errors == []


def test_messages_render_as_text_and_survive_a_reload(page: Any, base_url: str, live_desk: Any) -> None:
    open_with_keyboard(page, base_url)
    markup = '<img src="x" id="pwned" onerror="window.pwned=1"><b>bold</b>'
    page.get_by_label("Your message").fill(markup)
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".sd-from-assistant")).to_have_count(1, timeout=15_000)
    staff_reply(live_desk, conversation_id(page), markup, author="<i>Ola</i>")
    expect(log.locator(".sd-from-staff .sd-text")).to_have_text(markup, timeout=5_000)
    expect(log.locator(".sd-from-staff .sd-who")).to_have_text("<i>Ola</i> (staff)")
    expect(log.locator(".sd-from-customer .sd-text")).to_have_text([markup])
    assert page.locator("#pwned, .sd-log img, .sd-log b, .sd-log i").count() == 0
    assert page.evaluate("() => window.pwned") is None

    cid = conversation_id(page)
    page.reload()
    assert conversation_id(page) == cid
    page.get_by_role("button", name="Chat with us").click()
    expect(log.locator(".sd-msg")).to_have_count(3)  # customer, assistant, staff: restored for this tab
    assert page.js_errors == []


def test_rate_limited_send_keeps_the_text(page: Any, base_url: str) -> None:
    """When the desk refuses a message (429), the widget says so and gives the text back."""
    open_with_keyboard(page, base_url)
    page.route(
        SEND_URL,
        lambda route: (
            route.fulfill(
                status=429,
                headers={"Retry-After": "7", "Content-Type": "application/json"},
                body='{"detail": "Too many requests"}',
            )
            if route.request.method == "POST"
            else route.fallback()
        ),
    )
    page.get_by_label("Your message").fill("Hello?")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("7 seconds")
    expect(page.get_by_label("Your message")).to_have_value("Hello?")
    expect(page.locator(".sd-from-customer .sd-failed")).to_have_text("Not sent")


def test_network_failure_is_retried_once_with_the_same_key(page: Any, base_url: str) -> None:
    open_with_keyboard(page, base_url)
    keys: list[str] = []

    def flaky(route: Any) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        keys.append(json.loads(route.request.post_data)["idempotency_key"])
        if len(keys) == 1:
            route.abort("connectionreset")  # the first attempt is lost on the way
        else:
            route.fallback()

    page.route(SEND_URL, flaky)
    page.get_by_label("Your message").fill(QUESTION)
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".sd-from-assistant")).to_have_count(1, timeout=15_000)
    assert len(keys) == 2 and keys[0] == keys[1]
    expect(log.locator(".sd-failed")).to_have_count(0)


def test_reply_is_streamed_into_one_bubble(page: Any, base_url: str) -> None:
    """A message goes through the streaming endpoint; its reply ends up in one finished bubble."""
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    open_with_keyboard(page, base_url)
    page.keyboard.type("How long does delivery take?")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Conversation")
    answer = log.locator(".sd-from-assistant")
    expect(answer).to_have_count(1, timeout=15_000)
    expect(answer.locator(".sd-text")).to_contain_text("business days")
    expect(answer.locator(".sd-who")).to_have_text("AI assistant")
    expect(answer.locator(".sd-text")).to_have_attribute("dir", "auto")  # right-to-left text reads right
    expect(answer).not_to_have_attribute("aria-busy", "true")  # finished: screen readers may read it
    expect(log).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_role("status")).to_have_text("")
    cid = conversation_id(page)
    sent = [url for url in posts if "/messages" in url]
    assert sent == [f"{base_url}/api/v1/conversations/{cid}/messages/stream"]  # streamed; no fallback
    stored = json.loads(page.evaluate("() => window.sessionStorage.getItem('safedesk.widget.v1')"))
    assert [item["from"] for item in stored["items"]] == ["customer", "assistant"]
    assert "business days" in stored["items"][1]["text"]
    assert page.js_errors == []


def test_in_a_short_window_send_and_talk_to_a_person_stay_reachable(page: Any, base_url: str) -> None:
    """Found by a bug hunt: on a phone held sideways (667x375) or at 200% zoom, the panel cut off Send and
    "Talk to a person", and the conversation was 24 pixels tall."""
    page.set_viewport_size({"width": 667, "height": 375})
    open_with_keyboard(page, base_url)
    log = page.get_by_role("log", name="Conversation")
    assert log.bounding_box()["height"] >= 80
    page.get_by_label("Your message").fill(QUESTION)
    page.get_by_role("button", name="Send").click(timeout=5_000)  # fails if anything covers or clips it
    expect(log.locator(".sd-from-assistant")).to_have_count(1, timeout=15_000)
    page.get_by_role("button", name="Talk to a person").click(timeout=5_000)
    expect(log.locator(".sd-from-assistant")).to_have_count(2, timeout=15_000)
    assert page.js_errors == []


def test_a_double_click_on_talk_to_a_person_asks_once(page: Any, base_url: str) -> None:
    """Found by a bug hunt: a double click sent the hand-off request twice."""
    open_with_keyboard(page, base_url)
    page.get_by_role("button", name="Talk to a person").dblclick()
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".sd-from-assistant")).to_have_count(1, timeout=15_000)
    page.wait_for_timeout(500)
    expect(log.locator(".sd-from-customer")).to_have_count(1)


def test_every_message_that_failed_offline_can_be_sent_again(page: Any, base_url: str) -> None:
    """Found by a bug hunt: of two messages that failed offline only the first came back into the box."""
    open_with_keyboard(page, base_url)
    page.route(
        SEND_URL,
        lambda route: route.abort("internetdisconnected") if route.request.method == "POST" else route.fallback(),
    )
    for text in ("First question?", "How long does delivery take?"):
        page.get_by_label("Your message").fill(text)
        page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".sd-from-customer .sd-failed")).to_have_count(2, timeout=15_000)
    page.unroute(SEND_URL)
    log.locator(".sd-from-customer").nth(1).get_by_role("button", name="Send again").click()
    expect(log.locator(".sd-from-assistant .sd-text")).to_contain_text(["business days"], timeout=15_000)
    expect(log.locator(".sd-from-customer .sd-failed")).to_have_count(1)
    assert [e for e in page.js_errors if "Failed to load resource" not in e] == []  # the aborted sends


def test_back_online_the_widget_asks_for_staff_replies_at_once(page: Any, base_url: str, live_desk: Any) -> None:
    """Found by a bug hunt: after half a minute offline, a staff reply reached the widget only ~15 s after the
    connection came back (the poll's back-off ran on)."""
    open_with_keyboard(page, base_url)
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".sd-from-assistant")).to_have_count(1, timeout=15_000)
    page.context.set_offline(True)
    page.wait_for_timeout(9_000)  # polls fail and back off: 2, 4, 8 s
    staff_reply(live_desk, conversation_id(page), "Back with you now.")
    page.context.set_offline(False)
    expect(log.locator(".sd-from-staff .sd-text")).to_have_text("Back with you now.", timeout=4_000)


def test_a_message_whose_answer_was_lost_on_the_way_back_is_not_left_as_not_sent(page: Any, base_url: str) -> None:
    """Found by the verification run: the message reached the desk, only the answer was lost; the answer then
    came by the long poll, yet the message stayed "Not sent" with its text back in the box."""
    open_with_keyboard(page, base_url)
    log = page.get_by_role("log", name="Conversation")
    page.get_by_label("Your message").fill("How long does delivery take?")

    def answered_but_lost(route: Any) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        route.fetch()  # the desk gets the message and answers ...
        route.abort("connectionreset")  # ... and the answer never reaches the browser

    page.route(SEND_URL, answered_but_lost)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("could not reach", timeout=30_000)  # the send failed
    expect(log.locator(".sd-from-assistant .sd-text")).to_contain_text(["business days"], timeout=30_000)
    expect(log.locator(".sd-from-customer .sd-failed")).to_have_count(0, timeout=5_000)
    expect(page.get_by_label("Your message")).to_have_value("")


def test_a_message_that_was_not_sent_can_still_be_sent_again_after_a_reload(page: Any, base_url: str) -> None:
    """A customer who reloads the page after a failed send kept the "Not sent" mark but lost the way to send
    it (the button and the message's key were not in the tab's transcript)."""
    open_with_keyboard(page, base_url)
    page.route(
        SEND_URL,
        lambda route: route.abort("internetdisconnected") if route.request.method == "POST" else route.fallback(),
    )
    page.get_by_label("Your message").fill("How long does delivery take?")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".sd-from-customer .sd-failed")).to_have_count(1, timeout=15_000)
    page.unroute(SEND_URL)
    page.reload()
    page.get_by_role("button", name="Chat with us").click()
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".sd-from-customer .sd-failed")).to_have_count(1)
    log.locator(".sd-from-customer").get_by_role("button", name="Send again").click()
    expect(log.locator(".sd-from-assistant .sd-text")).to_contain_text(["business days"], timeout=15_000)
    expect(log.locator(".sd-from-customer .sd-failed")).to_have_count(0)
    expect(log.locator(".sd-from-customer")).to_have_count(1)
