"""The agent desk with chats and emails, in a real headless Chromium against a real
``callsim serve``: the agent sees every chat it holds, each with its own complete button,
the chat that waited takes the place of one completed, and the email pushed to it once
its chats are over shows as an email to complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_server import serving
from tests.test_browser import browser, fits, shot, wait_for  # noqa: F401 (a fixture)
from tests.test_channels_live import SCENARIO  # a phone, a chat and an email queue

pytestmark = [pytest.mark.slow, pytest.mark.live]

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _chats(driver: webdriver.Chrome) -> list[str]:
    """The chats listed, read at once (the list is replaced as chats come and go)."""
    return list(
        driver.execute_script("return [...document.querySelectorAll('#chats li')].map(li => li.id)")
    )


def test_the_desk_holds_two_chats_completes_each_then_takes_the_email(  # type: ignore[no-untyped-def]
    browser,  # noqa: F811 (the fixture of tests.test_browser)
    tmp_path: Path,
) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(SCENARIO)
    with serving(path, str(tmp_path / "desk.db")) as s:
        browser.get(f"{s.url}/desk")
        browser.find_element(By.ID, "agent-id").send_keys("desk-1")
        browser.find_element(By.ID, "agent-key").send_keys(s.key("agent", agent="desk-1"))
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#state", "ready")
        assert not browser.find_element(By.ID, "chats-card").is_displayed()

        ids = [
            s.ok("POST", "/v1/calls", json={"ani": f"+479000000{i}", "queue": "chat"})["call_id"]
            for i in (1, 2, 3)
        ]
        email = s.ok("POST", "/v1/calls", json={"ani": "+4790000009", "queue": "email"})
        assert email["status"] == "waiting"  # the agent holds chats: no email for it
        WebDriverWait(browser, 10).until(
            lambda d: _chats(d) == [f"chat-{ids[0]}", f"chat-{ids[1]}"]
        )
        title = browser.find_element(By.ID, "chats-title").get_attribute("textContent")
        assert title == "Chats held: 2"
        assert "+4790000001" in browser.find_element(By.ID, f"chat-{ids[0]}").text
        assert not browser.find_element(By.ID, "note-card").is_displayed()  # no call shown
        assert fits(browser)
        shot(browser, tmp_path, "desk-chats")

        # the first chat completed: the waiting chat takes its place at once
        browser.find_element(By.CSS_SELECTOR, f"#chat-{ids[0]} button").click()
        WebDriverWait(browser, 10).until(
            lambda d: _chats(d) == [f"chat-{ids[1]}", f"chat-{ids[2]}"]
        )
        assert s.ok("GET", f"/v1/calls/{ids[0]}")["outcome"] == "answered"
        for i in ids[1:]:
            browser.find_element(By.CSS_SELECTOR, f"#chat-{i} button").click()
            wait_for(browser, "#state")
        # no chat left: the email is pushed to the agent and shown as one to complete
        wait_for(browser, "#channel", "Email from +4790000009")
        assert not browser.find_element(By.ID, "chats-card").is_displayed()
        assert browser.find_element(By.ID, "complete").text.startswith("Complete email")
        shot(browser, tmp_path, "desk-email")
        browser.find_element(By.ID, "note").send_keys("Answered the customer's question")
        browser.find_element(By.ID, "complete").click()
        wait_for(browser, "#done", f"Call {email['call_id']} completed")
        done = s.ok("GET", f"/v1/calls/{email['call_id']}")
        assert (done["outcome"], done["agent"]) == ("answered", "desk-1")

        # the supervisor's wallboard: the day per channel beside the queues
        browser.execute_script("sessionStorage.clear()")  # the agent's key: signed out
        browser.get(f"{s.url}/wallboard")
        browser.find_element(By.ID, "board-key").send_keys(s.key("supervisor"))
        browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
        wait_for(browser, "#channels", "email")
        rows = {
            tr.find_element(By.TAG_NAME, "td").text: [
                td.text for td in tr.find_elements(By.TAG_NAME, "td")
            ]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#channels tbody tr")
        }
        assert rows["chat"][1:4] == ["3", "3", "100%"]
        assert rows["email"][1:4] == ["1", "1", "100%"]
        assert fits(browser)
        shot(browser, tmp_path, "wallboard-channels")
