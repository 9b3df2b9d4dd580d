"""Every message of every flow, in one list: the source of the generated docs and topology."""

from __future__ import annotations

from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.auth import v1 as auth_v1
from helpdesk_contracts.base import Message
from helpdesk_contracts.inbox import v1 as inbox_v1
from helpdesk_contracts.janitor import v1 as janitor_v1
from helpdesk_contracts.mail import v1 as mail_v1
from helpdesk_contracts.ticket import v1 as ticket_v1

MESSAGES: tuple[type[Message], ...] = (
    auth_v1.RequestCode,
    auth_v1.VerifyCode,
    auth_v1.CodeSent,
    auth_v1.CodeRejected,
    auth_v1.UserAuthorized,
    auth_v1.UserRevoked,
    ticket_v1.TicketSubmitted,
    ticket_v1.TicketEmailed,
    ticket_v1.TicketEmailFailed,
    ticket_v1.TicketStatusChanged,
    ticket_v1.TicketRated,
    ticket_v1.TicketCommentAdded,
    ticket_v1.SendTicketReply,
    ticket_v1.TicketReplyFailed,
    ticket_v1.TicketReopenRequested,
    ticket_v1.TicketCancelRequested,
    mail_v1.SendMail,
    mail_v1.MailSent,
    mail_v1.MailFailed,
    inbox_v1.InboxMessageUnmatched,
    janitor_v1.AttachmentsPurged,
    janitor_v1.JanitorRunCompleted,
    admin_v1.DeleteUser,
    admin_v1.RevokeUser,
    admin_v1.UnrevokeUser,
    admin_v1.LookupUser,
    admin_v1.ClearLocation,
    admin_v1.RunJanitor,
    admin_v1.Broadcast,
    admin_v1.ReloadCategories,
    admin_v1.BuildReport,
    admin_v1.AdminCommandCompleted,
)

BY_ROUTING_KEY: dict[str, type[Message]] = {m.routing_key: m for m in MESSAGES}


def message_type(routing_key: str) -> type[Message]:
    """The message class for a routing key; KeyError for an unknown one."""
    return BY_ROUTING_KEY[routing_key]
