"""The demo employees of the sandbox: the directory's people, each with a Telegram user of its own.

The directory (slapd) is seeded with `helpdesk_harness.ldap_server.DEMO_EMPLOYEES`; here every one
of them also gets a stable fake Telegram account, so the web chat and scripted tests can act as
that person. Telegram ids are fixed so a restarted sandbox recognises nobody twice by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk_harness.fake_telegram.models import User
from helpdesk_harness.ldap_server import DEMO_EMPLOYEES, Employee

FIRST_TELEGRAM_ID = 5_100_000_001


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A demo employee as a sandbox user sees them: who they are and how to sign in."""

    uid: str
    name: str
    email: str
    title: str
    department: str
    disabled: bool
    telegram: User

    @property
    def language(self) -> str:
        """The language of this person's Telegram client, which the bot answers in."""
        return self.telegram.language_code or "ru"

    @property
    def contractor(self) -> bool:
        return self.title.casefold() == "подрядчик"

    def notes(self) -> list[str]:
        """What a sandbox user should know before playing this person (shown in the banner)."""
        notes = []
        if self.language == "en":
            notes.append("speaks English: the bot answers in English")
        if self.disabled:
            notes.append(
                "disabled in the directory: the bot still says a code was sent (it never "
                "tells which addresses exist), but no email comes and no code works"
            )
        if self.contractor:
            notes.append(
                "a contractor; the ( ) * in the directory name are there on purpose, to show "
                "that directory look-ups escape them"
            )
        return notes

    def to_json(self) -> dict[str, object]:
        return {
            "uid": self.uid,
            "name": self.name,
            "email": self.email,
            "title": self.title,
            "department": self.department,
            "disabled": self.disabled,
            "contractor": self.contractor,
            "language": self.language,
            "telegram_id": self.telegram.id,
        }


def _person(index: int, employee: Employee) -> DemoPerson:
    # Latin names sign in with an English Telegram client, so the bot answers them in English.
    language = "en" if employee.given_name.isascii() else "ru"
    user = User(
        id=FIRST_TELEGRAM_ID + index,
        first_name=employee.given_name,
        last_name=employee.surname,
        username=employee.uid.replace(".", "_"),
        language_code=language,
    )
    return DemoPerson(
        uid=employee.uid,
        name=employee.display_name,
        email=employee.mail,
        title=employee.title,
        department=employee.department,
        disabled=employee.disabled,
        telegram=user,
    )


DEMO_PEOPLE: tuple[DemoPerson, ...] = tuple(
    _person(index, employee) for index, employee in enumerate(DEMO_EMPLOYEES)
)


def person(uid: str) -> DemoPerson:
    """The demo person with this directory uid (KeyError if there is none)."""
    for candidate in DEMO_PEOPLE:
        if candidate.uid == uid:
            return candidate
    raise KeyError(uid)


def person_by_telegram_id(telegram_id: int) -> DemoPerson | None:
    return next((p for p in DEMO_PEOPLE if p.telegram.id == telegram_id), None)
