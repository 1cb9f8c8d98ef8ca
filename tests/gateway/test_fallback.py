"""gateway.fallback.degrade: what a channel cannot carry, as text, or refused."""

from __future__ import annotations

import pytest

from gateway.fallback import answer_number, degrade
from providers.base import Capabilities, UnsupportedContent
from wagate.v1 import message_pb2 as M

QR = Capabilities(reactions=True, typing=True, read_receipts=True)
BARE = Capabilities(media=False, location=False, contacts=False)


def test_list_becomes_a_numbered_menu_with_sections() -> None:
    msg = M.Message(
        interactive=M.InteractiveContent(
            header=M.InteractiveHeader(text="Menu"),
            body="Pick one",
            list=M.ListAction(
                button="Open",
                sections=[
                    M.ListSection(title="Food", rows=[M.ListRow(id="r1", title="Pizza")]),
                    M.ListSection(
                        title="Drinks", rows=[M.ListRow(id="r2", title="Tea", description="hot")]
                    ),
                ],
            ),
        )
    )
    out = degrade(msg, QR)
    assert out.text.body == (
        "*Menu*\nPick one\n\n_Food_\n1. Pizza\n_Drinks_\n2. Tea - hot\n\n"
        "Reply with the number of your choice."
    )
    assert out.fallback_menu.is_list
    assert [(o.id, o.title) for o in out.fallback_menu.options] == [("r1", "Pizza"), ("r2", "Tea")]
    assert msg.WhichOneof("content") == "interactive"  # the input is not changed


def test_channels_with_buttons_keep_them() -> None:
    msg = M.Message(
        interactive=M.InteractiveContent(
            body="b", buttons=M.ButtonsAction(buttons=[M.ReplyButton(id="a", title="A")])
        )
    )
    assert degrade(msg, Capabilities(buttons=True, lists=True)) is msg


def test_location_contacts_and_linked_media_become_text() -> None:
    loc = degrade(
        M.Message(location=M.LocationContent(latitude=1.5, longitude=2, name="Shop")), BARE
    )
    assert loc.text.body == "Shop\nhttps://maps.google.com/?q=1.5,2.0"
    card = M.SharedContact(
        name=M.SharedContactName(formatted_name="Ann"), phones=[M.SharedContactPhone(phone="+1 5")]
    )
    assert (
        degrade(M.Message(contacts=M.ContactsContent(contacts=[card])), BARE).text.body
        == "Ann +1 5"
    )
    img = M.Message(image=M.MediaContent(link="https://x/i.png", caption="Look"))
    assert degrade(img, BARE).text.body == "Look\nhttps://x/i.png"


@pytest.mark.parametrize(
    ("msg", "caps"),
    [
        (M.Message(template=M.TemplateContent(name="t")), QR),
        (M.Message(reaction=M.ReactionContent(message_id="m", emoji="x")), Capabilities()),
        (M.Message(image=M.MediaContent(id="123")), BARE),
    ],
)
def test_no_fallback_is_a_clear_error(msg: M.Message, caps: Capabilities) -> None:
    with pytest.raises(UnsupportedContent):
        degrade(msg, caps)


@pytest.mark.parametrize(
    ("body", "number"), [("2", 2), (" 10. ", 10), ("3)", 3), ("two", None), ("2 please", None)]
)
def test_menu_answers(body: str, number: int | None) -> None:
    assert answer_number(M.Message(text=M.TextContent(body=body))) == number
