"""Jinja2 templates of every email: packaged defaults, each replaceable by an operator's file.

A file in `MAILER_TEMPLATES_DIR` with the same relative name as a packaged template wins
(e.g. `ticket/body.txt.j2`). `*.html.j2` templates are autoescaped; text templates are not, so
they must never be used to build HTML. Undefined variables are errors, not empty strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpdesk_contracts.base import Locale
from helpdesk_contracts.mail.v1 import MailTemplate
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from helpdesk_mailer.errors import ComposeError

LOCALES: tuple[Locale, ...] = ("ru", "en")

TICKET_SUMMARY = "ticket/summary.txt.j2"
TICKET_SUBJECT = "ticket/subject.txt.j2"
TICKET_TEXT = "ticket/body.txt.j2"
TICKET_HTML = "ticket/body.html.j2"


def mail_template(template: MailTemplate, locale: Locale, part: str) -> str:
    """Name of a SendMail template part: subject.txt, body.txt or body.html."""
    return f"mail/{template.value}/{locale}/{part}.j2"


def required_names(*, html: bool) -> list[str]:
    """Every template the configured mailer may render; checked at start-up."""
    parts = ["subject.txt", "body.txt", *(["body.html"] if html else [])]
    names = [TICKET_SUMMARY, TICKET_SUBJECT, TICKET_TEXT, *([TICKET_HTML] if html else [])]
    names += [mail_template(t, loc, p) for t in MailTemplate for loc in LOCALES for p in parts]
    names += [
        "reply/subject.txt.j2",
        *(f"reply/{p}.txt.j2" for p in ("comment", "reopen", "cancel")),
    ]
    return names


class Templates:
    """Renders named templates; the sandbox keeps a careless template from touching internals."""

    def __init__(self, operator_dir: Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        if operator_dir is not None:
            if not operator_dir.is_dir():
                raise ComposeError(f"templates directory {operator_dir} does not exist")
            loaders.append(FileSystemLoader(operator_dir))
        loaders.append(PackageLoader("helpdesk_mailer", "templates"))
        self.env = ImmutableSandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(
                enabled_extensions=("html", "html.j2"), default_for_string=False
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def check(self, names: list[str]) -> None:
        """Load (and so syntax-check) every template now rather than at the first ticket."""
        for name in names:
            try:
                self.env.get_template(name)
            except TemplateError as exc:
                raise ComposeError(f"template {name}: {type(exc).__name__}: {exc}") from None

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(context)
        except TemplateError as exc:
            # The message names the template and the undefined name only, never values.
            raise ComposeError(f"template {name}: {type(exc).__name__}: {exc.message}") from None
