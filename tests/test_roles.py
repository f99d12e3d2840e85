"""Every endpoint x role, on a real server: the table ``callsim.api.roles.TABLE`` (the one
docs/live.md shows) lists every (method, path) of the OpenAPI document, and each cell is
called with a key of its column. Keys are revoked and expire; a changed
``CALLSIM_ADMIN_KEY`` retires the old one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from callsim.api import access
from callsim.api.roles import COLUMNS, TABLE, allowed, markdown
from callsim.practice import practice_set
from callsim.scenario import load_scenario
from tests import live_server
from tests.live_server import ADMIN, ROOT, Clocked, clocked
from tests.test_live_service import DENTAL, PLUMBING, SCENARIO

pytestmark = [pytest.mark.slow, pytest.mark.live]

KARI = "+4790000001"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "live.yaml"
    path.write_text(SCENARIO.replace('    own_numbers_note: ""\n', ""))
    return path


def test_the_docs_show_the_table_the_code_checks() -> None:
    docs = (ROOT / "docs" / "live.md").read_text()
    assert markdown() in docs
    assert all(len(cells) == len(COLUMNS) for cells in TABLE.values())


def answer(s: Clocked, agent: str, key: str) -> dict[str, Any]:
    (offer,) = s.ok("GET", f"/v1/agents/{agent}/offers", key, params={"wait_s": 5})
    return dict(s.ok("POST", f"/v1/offers/{offer['offer_id']}/accept", key))


def practice_card(scenario: Path) -> dict[str, Any]:
    cards = practice_set(load_scenario(scenario), count=1, seed=1, client="Fjord Dental",
                         difficulty="easy")["cards"]  # fmt: skip
    return dict(cards[0])


def bodies(card: dict[str, Any], contact: int) -> dict[tuple[str, ...], dict[str, Any]]:
    """A valid request for each endpoint (json or params): a refusal is then the role's,
    never the body's."""
    return {
        ("POST", "/v1/keys"): {"json": {"role": "trainer"}},
        ("POST", "/v1/calls"): {"json": {"ani": "+4790000009", "dnis": DENTAL}},
        ("POST", "/v1/calls", "practice"): {
            "json": {
                "ani": card["caller"]["number"],
                "dnis": card["dialled"],
                "practice": {"card": card},
            },
        },
        ("PUT", "/v1/calls/{call_id}/draft"): {"json": {"text": "so far"}},
        ("POST", "/v1/calls/{call_id}/complete"): {
            "json": {"note": "Call back", "callback_number": KARI}
        },
        ("POST", "/v1/calls/{call_id}/transfer"): {"json": {"queue": "english"}},
        ("POST", "/v1/agents/{agent}/pause"): {"json": {"reason": "lunch"}},
        ("POST", "/v1/agents/{agent}/dial-result"): {"json": {"reached": False}},
        ("PUT", "/v1/agents/{agent}/skills"): {"json": {"skills": {"norwegian": 2}}},
        ("GET", "/v1/agents/{agent}/offers"): {"params": {"wait_s": 0}},
        ("POST", "/v1/contacts"): {"json": {"name": "Practice caller"}},
        ("GET", "/v1/contacts"): {"params": {"number": KARI}},
        ("PATCH", "/v1/contacts/{contact_id}"): {"json": {"name": "Kari Nordmann"}},
        ("POST", "/v1/contacts/{contact_id}/numbers"): {"json": {"number": "+4792222222"}},
        ("POST", "/v1/tickets"): {"json": {"contact": contact, "subject": "s"}},
        ("POST", "/v1/tickets/{ticket_id}/status"): {"json": {"status": "resolved"}},
        ("GET", "/v1/clients/{name}/employees"): {"params": {"q": "a"}},
        ("GET", "/v1/events"): {"params": {"follow": "false"}},
    }


ENDS = ("/complete", "/transfer", "/hangup", "/callback", "/callback-unanswered")


def ends_the_call(item: tuple[tuple[str, str], tuple[str, ...]]) -> bool:
    """The verbs that end call 2's talk go last: before them its offer is still its own
    (after, an offer of an ended call is a 410 to any key)."""
    return item[0][1].endswith(ENDS)


def test_every_endpoint_and_role_as_the_table_says(scenario: Path, tmp_path: Path) -> None:
    with clocked(scenario, str(tmp_path / "roles.db")) as s:
        spec = s.ok("GET", "/openapi.json")
        paths = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
        assert paths == set(TABLE)  # every endpoint is in the table, and only those
        desk1 = s.key("agent", agent="desk-1")
        keys = {
            "admin": ADMIN,
            "supervisor": s.key("supervisor"),
            "agent: own": desk1,
            "agent: other": s.key("agent", agent="desk-2"),
            "client: own": s.key("client", client="Fjord Dental"),
            "client: other": s.key("client", client="Nord Plumbing"),
            "trainer: practice": s.key("trainer"),
            "trainer: other": s.key("trainer"),
        }
        victim = s.ok("POST", "/v1/keys", json={"role": "supervisor"})
        # Kari's first call leaves a Fjord ticket; her second is desk-1's, talking
        s.ok("POST", "/v1/agents/desk-1/login", desk1)
        kari = s.ok("POST", "/v1/contacts", json={"numbers": [KARI], "name": "Kari"})
        first = s.ok("POST", "/v1/calls", json={"ani": KARI, "dnis": DENTAL})
        answer(s, "desk-1", desk1)
        done = s.ok("POST", f"/v1/calls/{first['call_id']}/complete", desk1,
                    json={"note": "n", "callback_number": KARI, "ticket": {"subject": "Tap"}})  # fmt: skip
        s.advance(10)  # wrap-up
        call = s.ok("POST", "/v1/calls", json={"ani": KARI, "dnis": DENTAL})
        (offer,) = s.ok("GET", "/v1/agents/desk-1/offers", desk1)
        s.ok("POST", f"/v1/offers/{offer['offer_id']}/accept", desk1)
        card = practice_card(scenario)
        requests = bodies(card, kari["contact_id"])
        practice = s.ok("POST", "/v1/calls", keys["trainer: practice"],
                        **requests["POST", "/v1/calls", "practice"])  # fmt: skip
        values = {
            "call_id": call["call_id"],
            "agent": "desk-1",
            "offer_id": offer["offer_id"],
            "contact_id": kari["contact_id"],
            "ticket_id": done["ticket"]["ticket_id"],
            "name": "Fjord Dental",
            "key_id": victim["key_id"],
        }
        checked = 0
        for (method, template), cells in sorted(TABLE.items(), key=ends_the_call):
            url = template.format(**values)
            request = requests.get((method, template), {})
            if template != "/healthz":  # no key, a wrong key: 401 everywhere
                for key in (None, "not-a-key"):
                    r = s.call(method, url, key, **request)
                    assert r.status_code == 401, (method, url, key, r.status_code, r.text)
            # the refusals first: a refused request changes nothing the next cell needs;
            # then the supervisor, whose take-over of desk-1's call must succeed
            order = sorted(
                range(len(COLUMNS)), key=lambda i: (allowed(cells[i]), COLUMNS[i] != "supervisor")
            )
            for i in order:
                column, cell = COLUMNS[i], cells[i]
                kw = request
                if column == "trainer: practice":
                    url = template.format(**{**values, "call_id": practice["call_id"]})
                    kw = requests.get((method, template, "practice"), request)
                else:
                    url = template.format(**values)
                r = s.call(method, url, keys[column], **kw)
                where = (column, method, url, r.status_code, r.text[:300])
                if allowed(cell):
                    assert r.status_code < 500, where
                    assert r.status_code not in (401, 403), where
                else:
                    assert r.status_code == int(cell), where
                    assert r.json()["error"] == "RefusedError", where
                if column == "supervisor" and template.endswith(("/draft", "/complete")):
                    assert r.status_code == 200, where  # barge-in: a supervisor's right
                checked += 1
        assert checked == len(TABLE) * len(COLUMNS)
        # the victim key was revoked by the admin's cell of DELETE /v1/keys/{key_id}
        assert s.call("GET", "/v1/queues", victim["key"]).status_code == 401


def test_a_client_sees_only_its_own_tickets_in_its_calls_view(
    scenario: Path, tmp_path: Path
) -> None:
    with clocked(scenario, str(tmp_path / "tickets.db")) as s:
        desk1 = s.key("agent", agent="desk-1")
        fjord = s.key("client", client="Fjord Dental")
        s.ok("POST", "/v1/agents/desk-1/login", desk1)
        s.ok("POST", "/v1/contacts", json={"numbers": [KARI], "name": "Kari"})
        subjects = {}
        for dnis, subject in ((PLUMBING, "Burst pipe at the office"), (DENTAL, "Tooth")):
            c = s.ok("POST", "/v1/calls", json={"ani": KARI, "dnis": dnis})
            answer(s, "desk-1", desk1)
            done = s.ok("POST", f"/v1/calls/{c['call_id']}/complete", desk1,
                        json={"note": "n", "callback_number": KARI,
                              "ticket": {"subject": subject}})  # fmt: skip
            subjects[done["ticket"]["ticket_id"]] = (done["client"], subject)
            s.advance(10)
        call = s.ok("POST", "/v1/calls", json={"ani": KARI, "dnis": DENTAL})
        answer(s, "desk-1", desk1)
        # the agent on the call sees the caller's open tickets; Fjord's key only Fjord's
        assert len(s.ok("GET", f"/v1/calls/{call['call_id']}", desk1)["tickets"]) == 2
        seen = s.ok("GET", f"/v1/calls/{call['call_id']}", fjord)["tickets"]
        assert [t["subject"] for t in seen] == ["Tooth"]
        nord = next(t for t, (client, _) in subjects.items() if client == "Nord Plumbing")
        assert s.call("GET", f"/v1/tickets/{nord}", fjord).status_code == 403  # as here


def test_a_trainer_sees_practice_calls_only(scenario: Path, tmp_path: Path) -> None:
    with clocked(scenario, str(tmp_path / "trainer.db")) as s:
        trainer = s.key("trainer")
        s.ok("POST", "/v1/contacts", json={"numbers": [KARI], "name": "Kari", "note": "secret"})
        real = s.ok("POST", "/v1/calls", json={"ani": KARI, "dnis": DENTAL})
        card = practice_card(scenario)
        body = {"ani": card["caller"]["number"], "dnis": card["dialled"],
                "practice": {"card": card}}  # fmt: skip
        mine = s.ok("POST", "/v1/calls", trainer, json=body)
        assert s.ok("GET", f"/v1/calls/{mine['call_id']}", trainer)["practice"] is not None
        # a practice card on a real caller's number shows the trainer no card of theirs
        spy = s.ok("POST", "/v1/calls", trainer, json={**body, "ani": KARI})
        assert (spy["screen_pop"], spy["tickets"]) == (None, [])
        view = s.ok("GET", f"/v1/calls/{spy['call_id']}", trainer)
        assert (view["screen_pop"], view["tickets"]) == (None, [])
        assert s.ok("GET", f"/v1/calls/{spy['call_id']}")["screen_pop"]["warning"] == "secret"
        for method, path in (
            ("GET", f"/v1/calls/{real['call_id']}"),
            ("GET", f"/v1/calls/{real['call_id']}/notes"),
            ("GET", f"/v1/calls/{real['call_id']}/decisions"),
            ("POST", f"/v1/calls/{real['call_id']}/hangup"),
            ("GET", "/v1/calls"),
            ("GET", "/v1/records"),
            ("GET", "/v1/events?follow=false"),
            ("GET", "/v1/contacts?q=kari"),
            ("GET", "/v1/contacts/1"),
        ):
            r = s.call(method, path, trainer)
            assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert s.ok("GET", f"/v1/calls/{real['call_id']}")["status"] == "waiting"  # not hung up
        refused = s.call("POST", "/v1/calls", trainer, json={"ani": KARI, "dnis": DENTAL})
        assert refused.status_code == 403
        assert "practice calls only" in refused.json()["message"]
        assert len(s.ok("GET", "/v1/calls")) == 3  # the refused call was never placed
        # whether a practice caller is in the book: its id and numbers, no card or note
        assert s.ok("GET", "/v1/contacts", trainer, params={"number": KARI}) == [
            {"contact_id": 1, "numbers": [KARI]}
        ]


def test_keys_are_listed_revoked_and_expire(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clocked(scenario, str(tmp_path / "keys.db")) as s:
        sup = s.ok("POST", "/v1/keys", json={"role": "supervisor", "label": "Siri"})
        assert s.ok("GET", "/v1/agents", sup["key"])
        listed = s.ok("GET", "/v1/keys")
        assert [k["label"] for k in listed] == ["CALLSIM_ADMIN_KEY", "Siri"]
        assert all("key" not in k and "hash" not in k for k in listed)
        assert listed[1] == {"key_id": sup["key_id"], "role": "supervisor", "agent": None,
                             "client": None, "label": "Siri",
                             "created_unix": listed[1]["created_unix"], "expires_unix": None,
                             "revoked_unix": None}  # fmt: skip
        # revoked: a 401 from the next request on (the cached key too); again: no change
        gone = s.ok("DELETE", f"/v1/keys/{sup['key_id']}")
        assert gone["revoked_unix"] is not None
        r = s.call("GET", "/v1/agents", sup["key"])
        assert (r.status_code, r.json()["error"]) == (401, "RefusedError")
        assert s.ok("DELETE", f"/v1/keys/{sup['key_id']}") == gone
        missing = s.call("DELETE", "/v1/keys/999")
        assert (missing.status_code, missing.json()["field"]) == (404, "key_id")
        # expiry: after expires_in_h (or at expires_at) the key is a 401
        short = s.ok("POST", "/v1/keys", json={"role": "supervisor", "expires_in_h": 1})
        assert short["expires_unix"] is not None
        assert s.call("GET", "/v1/agents", short["key"]).status_code == 200
        at = short["expires_unix"]
        monkeypatch.setattr(access, "now_unix", lambda: at + 1)
        r = s.call("GET", "/v1/agents", short["key"])
        assert (r.status_code, r.json()["message"]) == (401, "this API key has expired")
        monkeypatch.undo()
        dated = s.ok("POST", "/v1/keys", json={"role": "trainer",
                                               "expires_at": "2999-01-01T00:00:00+00:00"})  # fmt: skip
        assert dated["expires_unix"] == datetime(2999, 1, 1, tzinfo=UTC).timestamp()
        for bad, field in (
            ({"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
            ({"expires_in_h": 0}, "expires_in_h"),
            ({"expires_in_h": 1, "expires_at": "2999-01-01T00:00:00Z"}, None),
        ):
            before = len(s.ok("GET", "/v1/keys"))
            r = s.call("POST", "/v1/keys", json={"role": "trainer", **bad})
            assert r.status_code == 422, (bad, r.text)
            assert field is None or r.json()["field"] == field, r.text
            assert len(s.ok("GET", "/v1/keys")) == before  # nothing made
        # a non-admin key cannot list or revoke keys, its own included
        own = s.ok("POST", "/v1/keys", json={"role": "supervisor"})
        assert s.call("GET", "/v1/keys", own["key"]).status_code == 403
        assert s.call("DELETE", f"/v1/keys/{own['key_id']}", own["key"]).status_code == 403
        assert s.call("GET", "/v1/agents", own["key"]).status_code == 200


def test_a_changed_admin_key_retires_the_old_one(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "admin.db")
    with clocked(scenario, db) as s:
        trainer = s.key("trainer")
    monkeypatch.setattr(live_server, "ADMIN", "the-new-admin-key")  # the environment's
    with clocked(scenario, db) as s:
        assert s.call("GET", "/v1/keys", ADMIN).status_code == 401  # the old one
        listed = s.ok("GET", "/v1/keys", "the-new-admin-key")
        env = [k for k in listed if k["label"] == "CALLSIM_ADMIN_KEY"]
        assert [k["revoked_unix"] is None for k in env] == [False, True]
        assert s.call("GET", "/v1/queues", trainer).status_code == 200  # other keys stay
        # an admin revoked the new one: naming it again at a start does not revive it
        s.ok("DELETE", f"/v1/keys/{env[1]['key_id']}", "the-new-admin-key")
    with clocked(scenario, db) as s:
        assert s.call("GET", "/v1/queues", "the-new-admin-key").status_code == 401


def test_a_trainees_desk_gets_no_answer_key_until_the_call_is_scored(
    scenario: Path, tmp_path: Path
) -> None:
    """Before the call is scored the agent's accept, call view and event stream carry of
    the practice card only what a real agent's screen shows (``TRAINEE_SEES``): not what
    the caller tells by talking (name, spelling, callback number, request: the trainee asks
    the practice caller) nor what gives the handling away (the branch, the expected
    handling, the traps, the card's pop); the trainer sees it all along, the trainee once
    the call is scored (before the change the trainee got the caller, the request, the
    callback, what the caller says and the card's pop)."""
    from callsim.core.practice import TRAINEE_SEES

    with clocked(scenario, str(tmp_path / "key.db")) as s:
        trainer, desk = s.key("trainer"), s.key("agent", agent="desk-1")
        s.ok("POST", "/v1/agents/desk-1/login", desk)
        card = practice_card(scenario)
        hidden = set(card) - set(TRAINEE_SEES)
        assert {"caller", "request", "callback", "says", "screen_pop", "branch", "expected",
                "traps", "forward_answers", "difficulty"} <= hidden  # fmt: skip
        # what only the card knows: the caller's name, their words, the handling's reason
        secrets = [card["caller"]["name"], card["says"], card["branch"],
                   card["expected"]["reason"]]  # fmt: skip
        call = s.ok("POST", "/v1/calls", trainer, json={
            "ani": card["caller"]["number"], "dnis": card["dialled"],
            "practice": {"card": card, "agent": "desk-1"}})  # fmt: skip
        (offer,) = s.ok("GET", "/v1/agents/desk-1/offers", desk, params={"wait_s": 5})
        taken = s.ok("POST", f"/v1/offers/{offer['offer_id']}/accept", desk)
        seen = s.ok("GET", f"/v1/calls/{call['call_id']}", desk)
        for view in (taken, seen):
            shown = view["practice"]["card"]
            assert shown == {k: card[k] for k in TRAINEE_SEES}, sorted(shown)
            for field in hidden:
                assert field not in shown, field
            assert view["screen_pop"]["caller_number"] == card["caller"]["number"]
            assert not [x for x in secrets if x in json.dumps(view)]
        stream = s.call("GET", "/v1/events", desk, params={"after": 0, "follow": "false"})
        events = [json.loads(line[6:]) for line in stream.text.splitlines()
                  if line.startswith("data: ")]  # fmt: skip
        assert any(e.get("call_id") == call["call_id"] for e in events), events
        for e in events:  # the agent's events name the card at most, never carry it
            assert not hidden & set(e), e
            assert not isinstance(e.get("card"), dict), e
            assert not [x for x in secrets if x in json.dumps(e)], e
        # the trainer reads the whole card; the trainee hears it from the caller
        assert s.ok("GET", f"/v1/calls/{call['call_id']}", trainer)["practice"]["card"] == card
        said = s.ok("POST", f"/v1/calls/{call['call_id']}/practice/say", desk,
                    json={"text": "May I have your name?"})  # fmt: skip
        assert card["caller"]["name"] in said[-1]["text"]
        done = s.ok("POST", f"/v1/calls/{call['call_id']}/complete", desk,
                    json={"note": "x", "callback_number": card["caller"]["number"]})  # fmt: skip
        assert done["practice"]["score"] is not None
        assert done["practice"]["card"] == card  # scored: the key explains the mistakes
        after = s.ok("GET", f"/v1/calls/{call['call_id']}", desk)["practice"]
        assert after["card"] == card
