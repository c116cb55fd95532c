"""The migration that made service notes part of service conversations keeps what existing
databases hold: each note an internal note of a solved conversation, with its author and time
(issue 15, item 3)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("customers", "0010_survey_answers")]
AFTER = [("customers", "0011_service_conversations")]
WHEN = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_each_note_becomes_an_internal_note_of_a_solved_conversation():
    old = migrate(BEFORE)
    customer = old.get_model("customers", "Customer").objects.create(email="louis@example.com")
    author = old.get_model("auth", "User").objects.create(username="lea", is_staff=True)
    ServiceNote = old.get_model("customers", "ServiceNote")
    note = ServiceNote.objects.create(
        customer=customer, via="phone", topic="Size exchange", text="42 for 43.", author=author
    )
    ServiceNote.objects.filter(pk=note.pk).update(created_at=WHEN)
    ServiceNote.objects.create(customer=customer, via="note", topic="Prefers", text="Wide fits.")

    new = migrate(AFTER)

    Conversation = new.get_model("customers", "Conversation")
    conversation = Conversation.objects.get(subject="Size exchange")
    message = conversation.messages.get()
    assert (conversation.customer_id, conversation.channel, conversation.status) == (
        customer.pk,
        "phone",
        "solved",
    )
    assert (conversation.created_at, conversation.solved_at, message.created_at) == (
        WHEN,
        WHEN,
        WHEN,
    )
    assert (message.direction, message.channel, message.body, message.author_id) == (
        "note",
        "phone",
        "42 for 43.",
        author.pk,
    )
    assert Conversation.objects.count() == 2


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """The tests after this one need every migration applied again."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
