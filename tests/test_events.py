from azure.ai.voicelive.models import ServerEventType

from voiceagent.events import LIBRARY_EVENT_TYPES, SERVER_EVENT_TYPES, check_event_name


def test_every_sdk_server_event_type_is_accepted() -> None:
    # An SDK upgrade that adds event types must not orphan handlers: every enum value that is
    # an event type (not the tool-choice values the enum also carries) is registrable.
    values = {str(m.value) for m in ServerEventType} - {"auto", "none", "required"}
    assert values == SERVER_EVENT_TYPES
    for name in values:
        assert check_event_name(name) == name


def test_library_events_cannot_collide_with_server_events() -> None:
    assert LIBRARY_EVENT_TYPES.isdisjoint(SERVER_EVENT_TYPES)
    assert all(t.startswith("voiceagent.") for t in LIBRARY_EVENT_TYPES)
    assert not any(t.startswith("voiceagent.") for t in SERVER_EVENT_TYPES)
