"""The ingest dead-letter redrive, over in-memory queues."""

from __future__ import annotations

import pytest
from fakes import InMemoryMessageSource, RecordingQueue

from luxebrain.ingest.processor import redrive_dead_letters


def test_every_dead_letter_goes_back_to_the_ingest_queue_in_its_group_with_a_fresh_deduplication_id() -> None:
    # Given 23 dead-lettered deliveries of two stores' records (more than one receive's ten) and one without a group
    dead_letters, ingest_queue = InMemoryMessageSource(), RecordingQueue()
    for number in range(22):
        dead_letters.add(f'{{"n": {number}}}', group_id=f"t-aaaa:s-1:order:{number % 2}")
    dead_letters.add('{"n": 22}')
    # When they are re-driven
    moved = redrive_dead_letters(dead_letters, ingest_queue)
    # Then each is queued again with its body and group, in order, and none is left dead-lettered
    assert moved == 23 and dead_letters.remaining() == []
    assert [message.body for message in ingest_queue.sent] == [f'{{"n": {number}}}' for number in range(23)]
    assert [message.group_id for message in ingest_queue.sent] == [
        *(f"t-aaaa:s-1:order:{number % 2}" for number in range(22)),
        "redrive",
    ]
    deduplication_ids = {message.deduplication_id for message in ingest_queue.sent}
    assert len(deduplication_ids) == 23 and None not in deduplication_ids


def test_the_redrive_stops_after_its_limit_and_keeps_what_it_could_not_queue() -> None:
    # Given 25 dead letters, when at most 12 are re-driven, then it stops after the receive that passed 12
    dead_letters, ingest_queue = InMemoryMessageSource(), RecordingQueue()
    for number in range(25):
        dead_letters.add(str(number), group_id="g")
    assert redrive_dead_letters(dead_letters, ingest_queue, max_messages=12) == 20
    assert [message.body for message in dead_letters.remaining()] == ["20", "21", "22", "23", "24"]
    # When the ingest queue cannot be reached, then the message stays dead-lettered and the error is raised
    ingest_queue.refuse = ConnectionError("SQS unavailable")
    with pytest.raises(ConnectionError):
        redrive_dead_letters(dead_letters, ingest_queue)
    assert [message.body for message in dead_letters.remaining()] == ["20", "21", "22", "23", "24"]
