from voiceagent.bargein import BargeInPolicy, PlaybackTracker, heard_prefix

RATE = 24000


def streaming_tracker() -> PlaybackTracker:
    t = PlaybackTracker(RATE)
    t.response_created("resp_1")
    t.transcript_delta("item_1", "resp_1", "Hello there, how can I help you today?")
    assert t.audio_received("item_1", "resp_1", RATE * 2)  # 2 s received
    return t


def test_cancel_only_when_active_and_service_does_not() -> None:
    t = streaming_tracker()
    auto = BargeInPolicy()
    plan = t.plan_barge_in(
        {"item_1": RATE}, policy=auto, service_cancels=False, service_truncates=False
    )
    assert plan.cancel_response_id == "resp_1"
    t = streaming_tracker()
    plan = t.plan_barge_in(
        {"item_1": RATE}, policy=auto, service_cancels=True, service_truncates=False
    )
    assert not plan.cancel  # the service interrupts by itself: cancelling would race it
    t = streaming_tracker()
    t.response_done("resp_1")
    plan = t.plan_barge_in(
        {"item_1": RATE},
        policy=BargeInPolicy(cancel_response="always"),
        service_cancels=False,
        service_truncates=False,
    )
    assert not plan.cancel  # nothing in progress: never provoke response_cancel_not_active


def test_truncate_at_played_frames_clamped_and_skipped_at_zero() -> None:
    t = streaming_tracker()
    plan = t.plan_barge_in(
        {"item_1": 12000}, policy=BargeInPolicy(), service_cancels=True, service_truncates=False
    )
    assert [(c.item_id, c.audio_end_ms) for c in plan.truncations] == [("item_1", 500)]
    assert plan.played_ms == 500 and plan.received_ms == 2000

    t = streaming_tracker()  # a backend reporting more than received is clamped
    t.response_done("resp_1")
    plan = t.plan_barge_in(
        {"item_1": RATE * 5}, policy=BargeInPolicy(), service_cancels=True, service_truncates=False
    )
    assert plan.truncations == ()  # fully heard and finished: nothing to cut

    t = streaming_tracker()
    plan = t.plan_barge_in(
        {"item_1": 0}, policy=BargeInPolicy(), service_cancels=True, service_truncates=False
    )
    assert plan.truncations == () and plan.item_id == "item_1"


def test_no_truncate_when_service_truncates() -> None:
    t = streaming_tracker()
    plan = t.plan_barge_in(
        {"item_1": 12000}, policy=BargeInPolicy(), service_cancels=True, service_truncates=True
    )
    assert plan.truncations == ()


def test_audio_of_an_interrupted_item_is_dropped() -> None:
    t = streaming_tracker()
    t.plan_barge_in(
        {"item_1": 100}, policy=BargeInPolicy(), service_cancels=True, service_truncates=False
    )
    assert t.was_interrupted("item_1")
    assert not t.audio_received("item_1", "resp_1", 480)  # in flight: must not be played
    assert t.received_frames("item_1") == RATE * 2


def test_heard_text_is_a_word_boundary_prefix() -> None:
    text = "Hello there, how can I help you today?"
    assert heard_prefix(text, 0, 100) == ""
    assert heard_prefix(text, 100, 100) == text
    half = heard_prefix(text, 50, 100)
    assert text.startswith(half) and len(half) <= len(text) // 2
    assert half == "Hello there, how"


def test_no_plan_when_nothing_plays() -> None:
    t = PlaybackTracker(RATE)
    plan = t.plan_barge_in(
        {}, policy=BargeInPolicy(), service_cancels=True, service_truncates=False
    )
    assert plan.item_id is None and not plan.cancel and plan.truncations == ()
