"""The agent desk and the supervisor wallboard in a real headless Chromium (Debian's
chromium and chromium-driver, driven by Selenium) against a real ``callsim serve``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import ROOT, serving

pytestmark = [pytest.mark.slow, pytest.mark.live]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"
PLUMBING = "+47 21 50 10 16"  # Nord Plumbing's number: never a callback number
SHOTS = os.environ.get("CALLSIM_SCREENSHOTS")  # a folder: keep the screenshots there

if CHROMIUM is None or DRIVER is None:
    pytest.skip(
        "Chromium or its driver is not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,800", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: webdriver.Chrome, tmp_path: Path, name: str) -> Path:
    """Save what the user sees (in the test's folder, or CALLSIM_SCREENSHOTS)."""
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def fits(driver: webdriver.Chrome) -> bool:
    """Nothing on the page is wider than the window (no sideways scrolling)."""
    return bool(
        driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    )


def wait_for(driver: webdriver.Chrome, css: str, text: str = "", seconds: float = 15) -> object:
    wait = WebDriverWait(driver, seconds)
    if text:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def take_a_call(browser, s, ani: str, **extra: object) -> dict:  # type: ignore[no-untyped-def]
    """english-desk-1 signs in at the desk, a call to Nord Plumbing rings it, it accepts."""
    browser.get(f"{s.url}/desk")
    browser.find_element(By.ID, "agent-id").send_keys("english-desk-1")
    browser.find_element(By.ID, "agent-key").send_keys(s.key("agent", agent="english-desk-1"))
    browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    wait_for(browser, "#state", "ready")
    call = s.ok("POST", "/v1/calls", json={"ani": ani, "dnis": PLUMBING, **extra})
    wait_for(browser, "#offer", "Nord Plumbing")
    browser.find_element(By.ID, "accept").click()
    return dict(call)


def call_date(s, call: dict) -> str:  # type: ignore[no-untyped-def]
    """The date part of a call's recording reference: the client's local date at the answer."""
    return str(s.ok("GET", f"/v1/calls/{call['call_id']}")["instruction"]["recording_ref"]).split(
        "/"
    )[3]


def test_an_agent_takes_a_call_from_ring_to_wrap_up(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serving(SCENARIO, str(tmp_path / "desk.db")) as s:
        key = s.key("agent", agent="english-desk-1")
        caller = "+4790000042"
        s.ok("POST", "/v1/contacts", json={"numbers": [caller], "name": "<script>x()</script>",
                                           "company": "Leaky & Sons", "category": "vip"})  # fmt: skip
        browser.get(f"{s.url}/desk")
        browser.find_element(By.ID, "agent-id").send_keys("english-desk-1")
        browser.find_element(By.ID, "agent-key").send_keys(key)
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#state", "ready")
        shot(browser, tmp_path, "desk-ready")

        call = s.ok("POST", "/v1/calls", json={"ani": caller, "dnis": PLUMBING})
        assert call["status"] == "ringing"
        wait_for(browser, "#offer", "Nord Plumbing")
        shot(browser, tmp_path, "desk-ringing")
        browser.find_element(By.ID, "accept").click()

        greeting = wait_for(browser, "#greeting", "Nord Plumbing")
        assert greeting.text == "Welcome to Nord Plumbing, how may I help you?"  # type: ignore[attr-defined]
        instruction = browser.find_element(By.ID, "instruction").text
        assert "note" in instruction.lower()
        pop = browser.find_element(By.ID, "pop")
        assert "<script>x()</script>" in pop.text  # shown as text, never run as markup
        assert not pop.find_elements(By.TAG_NAME, "script")
        assert pop.find_element(By.CSS_SELECTOR, ".badge.vip").text == "VIP"
        assert "Emergency" in browser.find_element(By.ID, "faq").text
        recording = browser.find_element(By.ID, "recording").text  # the client records calls
        assert (
            recording
            == f"Recorded as rec://nord-plumbing/{call_date(s, call)}/{call['call_id']}.wav, kept 90 days"
        )
        assert "Say: This call is recorded for quality and training." in instruction

        browser.find_element(By.ID, "note").send_keys("Leak under the kitchen sink")
        WebDriverWait(browser, 10).until(  # the desk sends the note as it is written
            lambda _: (
                s.ok("GET", f"/v1/calls/{call['call_id']}")["draft"]
                == "Leak under the kitchen sink"
            )
        )
        browser.find_element(By.ID, "callback").send_keys(PLUMBING)
        browser.find_element(By.ID, "complete").click()
        error = wait_for(browser, "#callback-error", "own number")
        assert "ask the caller for their number" in error.text  # type: ignore[attr-defined]
        assert browser.find_element(By.ID, "callback").get_attribute("aria-invalid") == "true"
        shot(browser, tmp_path, "desk-call")
        browser.set_window_size(390, 844)  # a phone: one column, nothing wider than it
        assert fits(browser)
        shot(browser, tmp_path, "desk-phone")
        browser.set_window_size(1280, 800)
        field = browser.find_element(By.ID, "callback")
        field.clear()
        field.send_keys(caller)
        Select(browser.find_element(By.ID, "ticket-choice")).select_by_visible_text(
            "Open a new ticket"
        )
        browser.find_element(By.ID, "ticket-subject").send_keys("Kitchen sink leak")
        browser.find_element(By.ID, "complete").click()
        wait_for(browser, "#done", "Ticket #1: open")
        wait_for(browser, "#wrap-text", "Wrap-up ends in")  # the queue's 10 s, counting down
        shot(browser, tmp_path, "desk-wrap-up")

        note = s.ok("GET", f"/v1/calls/{call['call_id']}/notes")[0]
        assert (note["text"], note["callback_number"]) == (
            "Leak under the kitchen sink",
            "+4790000042",
        )
        assert not browser.find_element(By.ID, "alert").text  # no error shown at any point

        # the supervisor's wallboard shows the call, and follows the day live
        supervisor = s.key("supervisor")
        browser.get(f"{s.url}/wallboard")
        browser.execute_script("sessionStorage.clear()")
        browser.get(f"{s.url}/wallboard")
        browser.find_element(By.ID, "board-key").send_keys(supervisor)
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#live", "live")
        english = "#queues tbody tr:nth-child(2)"  # reception, then english
        wait_for(browser, english, "english")

        def cells(d: webdriver.Chrome) -> list[str]:  # read at once: rows are replaced
            script = "return [...document.querySelectorAll(arguments[0])].map(c => c.textContent)"
            return list(d.execute_script(script, f"{english} td"))

        # the call counts once its record is written, after the 10 s wrap-up: the
        # stream's "recorded" event refreshes the board
        WebDriverWait(browser, 20).until(lambda d: cells(d)[8:10] == ["1", "1"])
        assert cells(browser)[11].endswith("%")  # service level today
        assert "english-desk-1" in wait_for(browser, "#agents", "english-desk-1").text  # type: ignore[attr-defined]
        s.ok("POST", "/v1/calls", json={"ani": "+4790000043", "dnis": PLUMBING})
        # english-desk-1 is ready again: the new call rings it, and the board shows it
        # from the event stream, with no reload and no polling
        WebDriverWait(browser, 10).until(lambda d: cells(d)[4] == "1")
        assert browser.find_element(By.CSS_SELECTOR, "#chart svg rect")
        shot(browser, tmp_path, "wallboard")
        browser.set_window_size(390, 844)
        assert fits(browser)  # the wide tables scroll inside their cards
        assert not browser.find_element(By.ID, "alert").text


def test_a_supervisor_monitors_a_live_call(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serving(SCENARIO, str(tmp_path / "monitor.db")) as s:
        agent = s.key("agent", agent="english-desk-1")
        s.ok("POST", "/v1/agents/english-desk-1/login", agent)
        browser.get(f"{s.url}/wallboard")
        browser.find_element(By.ID, "board-key").send_keys(s.key("supervisor"))
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#live", "live")
        call = s.ok("POST", "/v1/calls", json={"ani": "+4790000044", "dnis": PLUMBING})
        offer = s.ok("GET", "/v1/agents/english-desk-1/offers", agent, params={"wait_s": 5})[0]
        s.ok("POST", f"/v1/offers/{offer['offer_id']}/accept", agent)
        wait_for(browser, "#calls", "talking")
        browser.find_element(
            By.CSS_SELECTOR, f"[aria-label='Monitor call {call['call_id']}']"
        ).click()
        assert "Nord Plumbing" in wait_for(browser, "#monitor-greeting", "Nord Plumbing").text  # type: ignore[attr-defined]
        s.ok("PUT", f"/v1/calls/{call['call_id']}/draft", agent, json={"text": "Burst pipe"})
        wait_for(browser, "#monitor-draft", "Burst pipe")  # as the agent writes it
        reference = s.ok("GET", f"/v1/calls/{call['call_id']}")["instruction"]["recording_ref"]
        assert reference.startswith("rec://nord-plumbing/")
        wait_for(browser, "#monitor-recording", f"Recorded as {reference}, kept 90 days")
        assert reference in browser.find_element(By.ID, "calls").text  # the calls table too
        s.ok("POST", f"/v1/calls/{call['call_id']}/complete", agent, json={"note": "Burst pipe"})
        wait_for(browser, "#monitor-events", "ended answered")
        shot(browser, tmp_path, "wallboard-monitor")
        assert not browser.find_element(By.ID, "alert").text


def test_a_known_caller_on_a_new_number_is_attached_and_their_ticket_updated(  # type: ignore[no-untyped-def]
    browser, tmp_path: Path
) -> None:
    with serving(SCENARIO, str(tmp_path / "attach.db")) as s:
        kari = s.ok("POST", "/v1/contacts", json={"numbers": ["+4740000001"],
                                                  "name": "Kari Nordmann", "company": "Rør AS"})  # fmt: skip
        s.ok("POST", "/v1/tickets", json={"contact": kari["contact_id"], "subject": "Dripping tap"})
        call = take_a_call(browser, s, "+4790000077")
        wait_for(browser, "#pop", "New caller")
        browser.find_element(By.ID, "attach-search").send_keys("kari")
        attach = "[aria-label='Attach +4790000077 to Kari Nordmann, Rør AS']"  # says to whom
        WebDriverWait(browser, 10).until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, attach))
        ).click()
        wait_for(browser, "#pop", "Kari Nordmann")
        assert "New caller" not in browser.find_element(By.ID, "pop").text
        choice = Select(browser.find_element(By.ID, "ticket-choice"))
        choice.select_by_visible_text("Update #1 Dripping tap (open)")
        status = Select(browser.find_element(By.ID, "ticket-status"))
        assert [o.text for o in status.options] == ["needs follow-up", "resolved"]
        status.select_by_visible_text("needs follow-up")  # with no due time: refused inline
        browser.find_element(By.ID, "note").send_keys("Tap still drips, plumber to call")
        browser.find_element(By.ID, "complete").click()
        assert "due time" in wait_for(browser, "#ticket-error", "needs_follow_up").text  # type: ignore[attr-defined]
        assert browser.find_element(By.ID, "ticket-choice").get_attribute("aria-invalid") == "true"
        shot(browser, tmp_path, "desk-ticket")
        status.select_by_visible_text("resolved")
        browser.find_element(By.ID, "complete").click()
        wait_for(browser, "#done", "Ticket #1: resolved")
        assert s.ok("GET", "/v1/contacts", params={"number": "+4790000077"})[0]["name"] == (
            "Kari Nordmann"
        )
        assert s.ok("GET", f"/v1/calls/{call['call_id']}/notes")[0]["text"].startswith("Tap")
        assert not browser.find_element(By.ID, "alert").text


def test_an_agent_transfers_a_call_from_the_desk(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serving(SCENARIO, str(tmp_path / "transfer.db")) as s:
        call = take_a_call(browser, s, "+4790000045")
        wait_for(browser, "#greeting", "Nord Plumbing")
        to = browser.find_element(By.ID, "transfer-to")
        to.send_keys("bilingual-2")  # logged out: the service refuses, the desk says why
        browser.find_element(By.ID, "transfer").click()
        assert "not logged in" in wait_for(browser, "#transfer-error", "bilingual-2").text  # type: ignore[attr-defined]
        to.clear()
        to.send_keys("reception")
        browser.find_element(By.ID, "transfer").click()
        wait_for(browser, "#done", "transferred to reception")
        moved = s.ok("GET", f"/v1/calls/{call['call_id']}")
        assert (moved["queue"], moved["status"]) == ("reception", "waiting")
        assert [t["agent"] for t in moved["transfers"]] == ["english-desk-1"]


def test_a_bad_key_is_a_readable_message_not_a_blank_page(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serving(SCENARIO, str(tmp_path / "bad.db")) as s:
        browser.get(f"{s.url}/desk")
        browser.find_element(By.ID, "agent-id").send_keys("english-desk-1")
        browser.find_element(By.ID, "agent-key").send_keys("not-a-key")
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        assert "not valid" in wait_for(browser, "#alert", "401").text  # type: ignore[attr-defined]
        client = s.key("client", client="Fjord Dental Clinic")
        browser.get(f"{s.url}/wallboard")
        browser.execute_script("sessionStorage.clear()")
        browser.get(f"{s.url}/wallboard")
        browser.find_element(By.ID, "board-key").send_keys(client)
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#queues tbody tr")
        assert not browser.find_element(By.ID, "agents-card").is_displayed()  # not a client's
        queues = browser.execute_script(
            "return [...document.querySelectorAll('#queues tbody td:first-child')]"
            ".map(c => c.textContent)"
        )
        assert queues == ["reception", "english"]  # the queues its calls wait in
        shot(browser, tmp_path, "wallboard-client")


def test_a_practice_call_is_marked_on_the_desk_and_scored(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from callsim.practice import practice_set
    from callsim.scenario import load_scenario

    cards = practice_set(load_scenario(SCENARIO), client="Nord Plumbing", seed=1)["cards"]
    card = next(c for c in cards if c["branch"] == "in hours: a message: note")
    with serving(SCENARIO, str(tmp_path / "practice.db")) as s:
        take_a_call(browser, s, card["caller"]["number"],
                    practice={"card": card, "agent": "english-desk-1"})  # fmt: skip
        badge = wait_for(browser, "#practice", f"card {card['id']}")
        assert badge.text.startswith("Practice call")  # type: ignore[attr-defined]
        browser.find_element(By.ID, "note").send_keys("Wants a plumber")  # no callback number
        browser.find_element(By.ID, "complete").click()
        done = wait_for(browser, "#done", "Practice score")
        assert "wrong: callback number" in done.text  # type: ignore[attr-defined]
        assert card["screen_pop"]["caller_number"] in done.text  # type: ignore[attr-defined]
        shot(browser, tmp_path, "desk-practice")
        assert not browser.find_element(By.ID, "alert").text


def test_a_callback_is_marked_and_can_go_unanswered(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serving(SCENARIO, str(tmp_path / "callback.db")) as s:
        key = s.key("agent", agent="english-desk-1")
        browser.get(f"{s.url}/desk")
        browser.find_element(By.ID, "agent-id").send_keys("english-desk-1")
        browser.find_element(By.ID, "agent-key").send_keys(key)
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#state", "ready")
        s.ok("POST", "/v1/agents/english-desk-1/pause", key, json={"reason": "lunch"})
        call = s.ok("POST", "/v1/calls", json={"ani": "+4790000047", "dnis": PLUMBING})
        assert call["status"] == "waiting"
        assert s.ok("POST", f"/v1/calls/{call['call_id']}/callback")["status"] == "callback"
        browser.find_element(By.ID, "ready").click()
        wait_for(browser, "#offer", "callback to dial")
        browser.find_element(By.ID, "accept").click()
        banner = wait_for(browser, "#callback-call", "dial +4790000047")
        shot(browser, tmp_path, "desk-callback")
        assert fits(browser)
        assert banner is not None
        browser.find_element(By.ID, "no-answer").click()
        wait_for(browser, "#done", "nobody answered")
        assert s.ok("GET", f"/v1/calls/{call['call_id']}")["status"] == "callback_failed"
