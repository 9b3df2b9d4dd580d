"""Every message some service sends is in that service's publications.

With one broker account per service, an account may publish only the routing keys its
`PUBLICATIONS` entry lists (deploy/rabbitmq/definitions.json is generated from it): a message
added to the catalogue but not to a publisher would be refused by the broker in production,
while the tests, which connect as the broker's guest, would not notice.
"""

from __future__ import annotations

from helpdesk_contracts import topology
from helpdesk_contracts.base import AdminCommand
from helpdesk_contracts.catalog import MESSAGES


def test_every_message_but_admin_commands_has_a_publishing_service() -> None:
    published = {message for messages in topology.PUBLICATIONS.values() for message in messages}
    # Admin commands come from operators (helpdesk-admin), with the operators' account.
    unpublished = [
        message.routing_key
        for message in MESSAGES
        if message not in published and not issubclass(message, AdminCommand)
    ]
    assert unpublished == []
