"""TurnTracker: what the user heard, what to send on a barge-in, what to log and when."""

from __future__ import annotations

import pytest

from voiceagent import BargeInPolicy, ConfigError
from voiceagent.session.bargein import heard_prefix
from voiceagent.session.turns import TurnTracker

RATE = 24000
TEXT = "Hello there, how can I help you today?"


def played(frames: dict[str, int]):  # type: ignore[no-untyped-def]
    return lambda item_id: frames.get(item_id, 0)


def streaming_tracker() -> TurnTracker:
    t = TurnTracker(RATE)
    t.response_created("resp_1")
    t.item_added("item_1", "resp_1")
    t.transcript_delta("item_1", "resp_1", TEXT)
    assert t.audio_received("item_1", "resp_1", RATE * 2)  # 2 s received
    return t


def plan(t: TurnTracker, frames: dict[str, int], **kw: bool):  # type: ignore[no-untyped-def]
    policy = kw.pop("policy", None) or BargeInPolicy()
    return t.plan_barge_in(
        played(frames),
        policy=policy,
        service_cancels=kw.get("service_cancels", True),
        service_truncates=kw.get("service_truncates", False),
    )


def test_cancel_only_when_active_and_the_service_does_not() -> None:
    assert plan(
        streaming_tracker(), {"item_1": RATE}, service_cancels=False
    ).cancel_response_id == ("resp_1")
    assert not plan(streaming_tracker(), {"item_1": RATE}).cancel  # the service interrupts itself
    t = streaming_tracker()
    t.response_done("resp_1", ["item_1"])
    p = plan(t, {"item_1": RATE}, policy=BargeInPolicy(cancel_response="always"))
    assert not p.cancel  # nothing in progress: never provoke response_cancel_not_active


def test_truncate_at_the_played_frames_clamped_to_what_was_received() -> None:
    p = plan(streaming_tracker(), {"item_1": 12000})
    assert [(c.item_id, c.audio_end_ms) for c in p.truncations] == [("item_1", 500)]
    assert p.played_ms == 500 and p.received_ms == 2000 and p.deletions == ()
    t = streaming_tracker()
    t.response_done("resp_1", ["item_1"])
    assert plan(t, {"item_1": RATE * 5}).item_id is None  # fully heard and finished: no cut


def test_an_item_heard_not_at_all_is_deleted_once_its_response_is_done() -> None:
    t = streaming_tracker()
    p = plan(t, {"item_1": 0})
    assert p.item_id == "item_1" and p.truncations == () and p.deletions == ()  # still streaming
    outcome = t.response_done("resp_1", ["item_1"])
    assert outcome.delete == ["item_1"]
    [turn] = outcome.turns
    assert turn.interrupted and turn.text == "" and turn.full_text == TEXT


def test_closing_deletes_an_unheard_item_still_streaming_and_logs_it_unheard() -> None:
    t = streaming_tracker()
    p = t.plan_barge_in(
        played({"item_1": 0}),
        policy=BargeInPolicy(cancel_response="always"),
        service_cancels=False,
        service_truncates=False,
        closing=True,  # no response.done will come: delete now, after the cancel
    )
    assert p.cancel_response_id == "resp_1" and p.deletions == ("item_1",)
    [turn] = t.finish_all(played({"item_1": 0}))
    assert turn.interrupted and turn.text == "" and turn.full_text == TEXT


def test_closing_before_a_barge_ins_response_is_done_sends_the_pending_delete() -> None:
    t = streaming_tracker()
    assert plan(t, {"item_1": 0}).deletions == ()  # a barge-in: delete once the response ends
    p = t.plan_barge_in(
        played({"item_1": 0}),
        policy=BargeInPolicy(cancel_response="always"),
        service_cancels=False,
        service_truncates=False,
        closing=True,  # ...but the session closes first
    )
    assert p.deletions == ("item_1",)
    [turn] = t.finish_all(played({"item_1": 0}))
    assert turn.interrupted and turn.text == ""


def test_an_unheard_finished_item_is_deleted_at_once() -> None:
    t = streaming_tracker()
    t.response_done("resp_1", ["item_1"])
    p = plan(t, {"item_1": 0})
    assert p.deletions == ("item_1",) and p.truncations == ()
    assert [turn.interrupted for turn in p.turns] == [True]


def test_no_history_edit_when_the_service_truncates() -> None:
    p = plan(streaming_tracker(), {"item_1": 12000}, service_truncates=True)
    assert p.truncations == () and p.deletions == ()
    p = plan(streaming_tracker(), {"item_1": 0}, service_truncates=True)
    assert p.deletions == ()


def test_audio_of_an_interrupted_item_is_dropped() -> None:
    t = streaming_tracker()
    plan(t, {"item_1": 100})
    assert not t.audio_received("item_1", "resp_1", 480)  # in flight: must not be played
    assert t.received_frames("item_1") == RATE * 2


def test_a_finished_item_is_logged_whole_when_playback_ends() -> None:
    t = streaming_tracker()
    outcome = t.response_done("resp_1", ["item_1"])
    assert outcome.turns == [] and outcome.awaiting_playback
    [turn] = t.playback_idle()
    assert (turn.text, turn.interrupted, turn.full_text) == (TEXT, False, None)
    assert t.open_items == [] and t.playback_idle() == []  # logged once


def test_a_text_only_item_is_logged_at_response_done() -> None:
    t = TurnTracker(RATE)
    t.response_created("resp_1")
    t.item_added("item_1", "resp_1")
    t.transcript_done("item_1", "resp_1", "Typed answer.")
    [turn] = t.response_done("resp_1", ["item_1"]).turns
    assert turn.text == "Typed answer." and not turn.interrupted


def test_finish_all_logs_a_partly_heard_reply_as_interrupted() -> None:
    t = streaming_tracker()
    [turn] = t.finish_all(played({"item_1": RATE}))  # heard 1 of 2 s
    assert turn.interrupted and turn.full_text == TEXT
    assert turn.text == heard_prefix(TEXT, RATE, RATE * 2) and turn.text
    assert t.open_items == [] and not t.response_active


def test_finish_all_logs_a_fully_heard_finished_reply_whole() -> None:
    t = streaming_tracker()
    t.response_done("resp_1", ["item_1"])
    [turn] = t.finish_all(played({"item_1": RATE * 2}))
    assert not turn.interrupted and turn.text == TEXT


def test_an_item_that_said_nothing_is_not_logged() -> None:
    t = TurnTracker(RATE)
    t.response_created("resp_1")
    t.item_added("item_1", "resp_1")
    assert t.finish_all(played({})) == []


def test_heard_text_is_a_word_boundary_prefix() -> None:
    assert heard_prefix(TEXT, 0, 100) == ""
    assert heard_prefix(TEXT, 100, 100) == TEXT
    assert heard_prefix(TEXT, 50, 100) == "Hello there, how"


def test_no_plan_when_nothing_plays() -> None:
    p = plan(TurnTracker(RATE), {})
    assert p.item_id is None and not p.cancel and p.truncations == ()


@pytest.mark.parametrize(
    "kwargs",
    [{"cancel_response": "sometimes"}, {"enabled": "yes"}, {"truncate": 1}],
)
def test_barge_in_policy_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="BargeInPolicy"):
        BargeInPolicy(**kwargs)  # type: ignore[arg-type]
