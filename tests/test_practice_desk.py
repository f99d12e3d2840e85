"""A trainee alone on the desk with a practice caller, in a real headless Chromium against
a real ``callsim serve``: they hear and read the caller, ask for what the card knows, are
graded by the rubric (compliance failures shown), and keep their scored calls after
wrap-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.live_server import serving
from tests.test_browser import SCENARIO, browser, fits, shot, wait_for  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.live]

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TRAINEE = "english-desk-1"


def _cards() -> list[dict[str, Any]]:
    from callsim.practice import practice_set
    from callsim.scenario import load_scenario

    cards = practice_set(load_scenario(SCENARIO), client="Nord Plumbing", seed=1)["cards"]
    return [c for c in cards if c["expected"].get("note_fields")][:2]


def _say(driver: Any, text: str) -> None:
    field = driver.find_element(By.ID, "say-text")
    field.send_keys(text)
    driver.find_element(By.ID, "say").click()


def test_a_trainee_talks_to_the_caller_is_graded_and_keeps_the_history(  # type: ignore[no-untyped-def]
    browser,  # noqa: F811 (the fixture of tests.test_browser)
    tmp_path: Path,
) -> None:
    first, second = _cards()
    with serving(SCENARIO, str(tmp_path / "desk.db")) as s:
        trainer = s.key("trainer")
        browser.get(f"{s.url}/desk")
        browser.find_element(By.ID, "agent-id").send_keys(TRAINEE)
        browser.find_element(By.ID, "agent-key").send_keys(s.key("agent", agent=TRAINEE))
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#state", "ready")

        def take(card: dict[str, Any]) -> None:
            s.ok("POST", "/v1/calls", trainer, json={
                "ani": card["caller"]["number"], "dnis": card["dialled"],
                "practice": {"card": card, "agent": TRAINEE}})  # fmt: skip
            wait_for(browser, "#offer", "practice call")
            browser.find_element(By.ID, "accept").click()
            wait_for(browser, "#talk-lines li.caller")

        # the first call: heard, asked, handled by the book
        take(first)
        words = browser.find_element(By.CSS_SELECTOR, "#talk-lines li.caller .words")
        assert not words.is_displayed()  # heard first; the words on request
        browser.find_element(By.ID, "caller-words").click()
        assert words.text == first["says"]
        status = browser.execute_script(  # the caller's first words as speech
            "const r = await fetch(`/v1/calls/${arguments[0]}/practice/audio?line=0`, "
            "{headers: {Authorization: 'Bearer ' + callsim.key()}});"
            "const b = new Uint8Array(await r.arrayBuffer());"
            "return [r.status, r.headers.get('content-type'), String.fromCharCode(...b.slice(0, 4))];",
            browser.execute_script("return desk.call.call_id"),
        )
        assert status == [200, "audio/wav", "RIFF"]
        recording = first["expected"]["recording"]["say"]
        _say(browser, f"{first['expected']['greeting']} {recording}")
        browser.find_element(By.CSS_SELECTOR, "[data-ask^='May I have your name']").click()
        wait_for(browser, "#talk-lines", f"It's {first['caller']['name']}")
        browser.find_element(By.CSS_SELECTOR, "[data-ask^='What number']").click()
        wait_for(browser, "#talk-lines", "call me back on")
        shot(browser, tmp_path, "practice-talk")
        browser.set_window_size(390, 844)  # a phone: nothing wider than it
        assert fits(browser)
        shot(browser, tmp_path, "practice-talk-phone")
        browser.set_window_size(1280, 800)
        browser.find_element(By.ID, "note").send_keys(f"{first['caller']['name']} wants a plumber")
        browser.find_element(By.ID, "callback").send_keys(first["screen_pop"]["caller_number"])
        browser.find_element(By.ID, "complete").click()
        done = wait_for(browser, "#done", "Practice score")
        assert "passed" in done.text  # type: ignore[attr-defined]
        assert "right: recording announcement (weight 1, compliance)" in done.text  # type: ignore[attr-defined]
        browser.find_element(By.ID, "ready").click()  # wrap-up over
        wait_for(browser, "#state", "ready")

        # the second: greeted without the recording line: a compliance failure
        take(second)
        _say(browser, second["expected"]["greeting"])
        topic = " > ".join(second["request"].get("faq") or [])
        if topic:  # the caller's FAQ topic, chosen in the client's FAQ
            browser.execute_script("document.querySelectorAll('#faq details')"
                                   ".forEach(d => { d.open = true; })")  # fmt: skip
            browser.find_element(By.CSS_SELECTOR, f"[aria-label='Choose {topic}']").click()
        browser.find_element(By.ID, "note").send_keys(f"{second['caller']['name']} called")
        browser.find_element(By.ID, "callback").send_keys(second["screen_pop"]["caller_number"])
        browser.find_element(By.ID, "complete").click()
        done = wait_for(browser, "#done", "compliance: recording announcement")
        assert "wrong: recording announcement" in done.text  # type: ignore[attr-defined]
        assert "right: treatment" in done.text  # type: ignore[attr-defined]
        score = int(done.text.split("Practice score: ")[1].split("%")[0])  # type: ignore[attr-defined]
        assert score >= 80  # over the pass mark, and failed: a compliance item
        shot(browser, tmp_path, "practice-graded")
        browser.find_element(By.ID, "ready").click()
        wait_for(browser, "#state", "ready")

        # after wrap-up the score and mistakes stay: the history
        history = wait_for(browser, "#history tbody tr:nth-child(2)")
        rows = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
        assert [r.find_elements(By.TAG_NAME, "td")[3].text for r in rows] == ["failed", "passed"]
        assert "recording announcement: Announce the recording" in rows[0].text
        assert history.is_displayed()  # type: ignore[attr-defined]
        browser.refresh()  # and after a reload: it is the service's
        WebDriverWait(browser, 15).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history tbody tr")) == 2
        )
        shot(browser, tmp_path, "practice-history")
        assert not browser.find_element(By.ID, "alert").text
