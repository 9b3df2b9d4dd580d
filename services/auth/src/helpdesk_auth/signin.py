"""Sign-in use cases: RequestCode, VerifyCode and a failed code email.

Every handler first asks "was this message already handled?" (by its message_id) and then makes
its change and queues its answer in one guarded document update, so a redelivery neither sends
a second code nor counts a second wrong attempt. The code itself exists only in the SendMail
published straight to the mailer; MongoDB holds its HMAC.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    EmployeeProfile,
    RejectReason,
    RequestCode,
    RevokeReason,
    UserAuthorized,
    UserRevoked,
    VerifyCode,
)
from helpdesk_contracts.base import Message
from helpdesk_contracts.mail.v1 import MailFailed, MailTemplate, SendMail
from helpdesk_runtime.optimistic import CHANGED, Changed, optimistic_update

from helpdesk_auth.adapters.store import CODE_RETENTION, AuthStore, Document
from helpdesk_auth.codes import code_hash, new_code, normalise_code_input
from helpdesk_auth.codestate import CodeRecord, CodeStatus, judge
from helpdesk_auth.directory import DirectoryLookup, EntryStatus
from helpdesk_auth.emails import domain_allowed, email_key, mask_email, normalise_email
from helpdesk_auth.errors import DirectoryUnavailableError, StoreConflictError
from helpdesk_auth.limits import (
    DAY,
    WINDOW,
    LimitPolicy,
    LockoutPolicy,
    check_request_limits,
    locked_wait,
)

logger = logging.getLogger("helpdesk.auth.signin")

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime; injected so tests need no sleeping."""

OPTIMISTIC_TRIES = 5


class Directory(Protocol):
    async def lookup(self, email: str, *, tell_disabled: bool) -> DirectoryLookup: ...


class MessagePublisher(Protocol):
    async def publish(self, message: Message) -> None: ...


@dataclass(frozen=True, slots=True)
class CodePolicy:
    pepper: bytes
    ttl: timedelta
    limits: LimitPolicy
    max_attempts: int
    allowed_domains: tuple[str, ...]
    enumeration_protection: bool
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)


def account_lock_key(telegram_user_id: int) -> str:
    return f"account:{telegram_user_id}"


def email_lock_key(email_key: str) -> str:
    return f"email:{email_key}"


def _no_count(rule: str) -> None:
    del rule


@dataclass
class SignIn:
    store: AuthStore
    directory: Directory
    publisher: MessagePublisher
    policy: CodePolicy
    clock: Clock
    notify: Callable[[], None]
    """Wakes the outbox relay after an answer was queued."""
    throttled: Callable[[str], None] = _no_count
    """Counts a request refused by a limit or a lockout, by rule (the /metrics counter)."""

    # -- RequestCode ---------------------------------------------------------------------------

    async def request_code(self, command: RequestCode) -> None:
        if await self._handled_before(command):
            return
        email = await self._acceptable_email(command)
        if email is None:
            return
        key = email_key(email)
        now = self.clock()
        if await self._over_limits(command, key, now):
            return
        await self._answer_for(command, email, key, now)

    async def _handled_before(self, command: RequestCode) -> bool:
        """True if this request was answered before (its answer is left to the relay) or its
        code went out before a crash (only the bookkeeping is done now)."""
        request_id = str(command.message_id)
        if await self.store.attempt(request_id) is not None:
            self.notify()  # answered before: the relay sends whatever is still pending
            return True
        current = await self.store.code(command.telegram_user_id)
        if (
            current is not None
            and current["request_id"] == request_id
            and current["mail_state"] != "pending"
        ):
            # Crashed after the code went out: only the bookkeeping is missing.
            await self._count_issued(command, current["email_key"], current["created_at"])
            return True
        # A "pending" code of this very request means a crash before its email was confirmed:
        # it is issued afresh (that code never left).
        return False

    async def _acceptable_email(self, command: RequestCode) -> str | None:
        """The normalised address, or None once the request was refused for what it names."""
        email = normalise_email(command.email)
        if email is None:
            await self._refuse(command, RejectReason.INVALID_EMAIL)
            return None
        if not domain_allowed(email, self.policy.allowed_domains):
            await self._refuse(command, RejectReason.DOMAIN_NOT_ALLOWED)
            return None
        user = await self.store.user(command.telegram_user_id)
        if user is not None and user.get("blocked"):
            await self._refuse(command, RejectReason.ACCOUNT_DISABLED)
            return None
        return email

    async def _over_limits(self, command: RequestCode, key: str, now: datetime) -> bool:
        """True once the request was refused by a lockout or a request limit (and counted)."""
        locked = await self._locked_wait(command.telegram_user_id, key, now)
        if locked is not None:
            await self._refuse(command, RejectReason.TOO_MANY_ATTEMPTS, retry_after=locked[0])
            self.throttled(locked[1])
            return True
        user_times, pair_times, email_times = await self.store.issued_since(
            telegram_user_id=command.telegram_user_id, email_key=key, since=now - DAY
        )
        limited = check_request_limits(
            now,
            user_issued=user_times,
            pair_issued=pair_times,
            email_issued=email_times,
            policy=self.policy.limits,
        )
        if limited is not None:
            await self._refuse(command, limited.reason, retry_after=limited.retry_after_seconds)
            self.throttled(limited.rule)
            return True
        return False

    async def _answer_for(self, command: RequestCode, email: str, key: str, now: datetime) -> None:
        """A code, a decoy or a refusal, by what the operator and the directory say."""
        protect = self.policy.enumeration_protection
        if await self.store.email_blocked(key):
            # Revoked by an operator: answered like an address disabled in the directory.
            if protect:
                await self._issue_decoy(command, email, key, now)
            else:
                await self._refuse(command, RejectReason.ACCOUNT_DISABLED)
            return
        try:
            found = await self.directory.lookup(email, tell_disabled=not protect)
        except DirectoryUnavailableError:
            await self._refuse(command, RejectReason.DIRECTORY_UNAVAILABLE)
            return

        if found.status is EntryStatus.ACTIVE and found.profile is not None:
            await self._issue(command, email, key, found.profile, now)
        elif protect:
            await self._issue_decoy(command, email, key, now)
        elif found.status is EntryStatus.DISABLED:
            await self._refuse(command, RejectReason.ACCOUNT_DISABLED)
        else:
            await self._refuse(command, RejectReason.NOT_FOUND)

    async def _issue(
        self, command: RequestCode, email: str, key: str, profile: EmployeeProfile, now: datetime
    ) -> None:
        request_id = str(command.message_id)
        code = new_code()
        mail_id = uuid4()
        fields = self._code_fields(command, email, key, now, code=code)
        fields |= {
            "decoy": False,
            "profile": profile.model_dump(mode="json"),
            "mail_state": "pending",
            "mail_message_id": str(mail_id),
        }
        if not await self._claim(command, fields, now):
            return
        mail = SendMail(
            message_id=mail_id,
            correlation_id=command.message_id,
            to=profile.email,
            template=MailTemplate.AUTH_CODE,
            locale=command.locale,
            variables={
                "code": code,
                "display_name": profile.display_name,
                "expires_minutes": str(max(1, int(self.policy.ttl.total_seconds()) // 60)),
            },
        )
        try:
            await self.publisher.publish(mail)
        except Exception:
            # Not confirmed: let this message's retry take the code over at once instead of
            # waiting out the claim (the code may have gone out; a resend is the lesser harm).
            await self.store.release_claim(command.telegram_user_id, request_id)
            raise
        await self.store.mail_published(
            command.telegram_user_id, request_id, self._sent(command, email, now)
        )
        await self._count_issued(command, key, now)
        logger.info("code sent", extra={"email": mask_email(email)})

    async def _issue_decoy(self, command: RequestCode, email: str, key: str, now: datetime) -> None:
        """Look exactly like a sent code to the Telegram user, but send nothing.

        The decoy has a random code nobody knows and can never succeed, so attempts at it are
        answered like attempts at a real code: the address's existence stays hidden.
        """
        fields = self._code_fields(command, email, key, now, code=new_code())
        fields |= {"decoy": True, "profile": None, "mail_state": "none", "mail_message_id": None}
        if await self._claim(command, fields, now, answers=[self._sent(command, email, now)]):
            await self._count_issued(command, key, now)
            logger.info("code request for an unknown or disabled address answered as if sent")

    async def _claim(
        self,
        command: RequestCode,
        fields: Document,
        now: datetime,
        answers: Sequence[Message] = (),
    ) -> bool:
        """Store the new code as the user's current one; False if it must not be sent."""
        request_id = str(command.message_id)
        blocker = await self.store.put_code(
            command.telegram_user_id,
            request_id,
            fields,
            now=now,
            cooldown=self.policy.limits.cooldown,
            answers=answers,
        )
        if blocker is None:
            return True
        if "created_at" not in blocker:
            raise StoreConflictError("the code vanished while it was replaced")
        if blocker.get("request_id") != request_id:
            # Another request won the race for this user's cooldown slot.
            wait = blocker["created_at"] + self.policy.limits.cooldown - now
            await self._refuse(command, RejectReason.COOLDOWN, retry_after=_ceil(wait))
        elif blocker.get("mail_state") == "pending":
            # Another delivery of this very message is sending the code right now: let it
            # finish; this copy comes back later and finds the work done.
            raise StoreConflictError("the same request is being handled elsewhere")
        else:
            await self._count_issued(command, blocker["email_key"], blocker["created_at"])
        return False

    def _code_fields(
        self, command: RequestCode, email: str, key: str, now: datetime, *, code: str
    ) -> Document:
        request_id = str(command.message_id)
        expires_at = now + self.policy.ttl
        return {
            "chat_id": command.chat_id,
            "email_key": key,
            "masked_email": mask_email(email),
            "code_hash": code_hash(
                self.policy.pepper,
                telegram_user_id=command.telegram_user_id,
                email_key=key,
                request_id=request_id,
                code=code,
            ),
            "status": CodeStatus.ACTIVE.value,
            "void_reason": None,
            "attempts": 0,
            "max_attempts": self.policy.max_attempts,
            "attempt_ids": [],
            "used_by": None,
            "created_at": now,
            "expires_at": expires_at,
            "purge_at": max(expires_at, now + WINDOW) + CODE_RETENTION,
        }

    def _sent(self, command: RequestCode, email: str, now: datetime) -> CodeSent:
        return CodeSent(
            correlation_id=command.message_id,
            telegram_user_id=command.telegram_user_id,
            chat_id=command.chat_id,
            masked_email=mask_email(email),
            expires_at=now + self.policy.ttl,
            resend_after_seconds=self.policy.limits.cooldown_seconds,
        )

    async def _count_issued(self, command: RequestCode, key: str, at: datetime) -> None:
        await self.store.record_attempt(
            str(command.message_id),
            kind="request",
            at=at,
            telegram_user_id=command.telegram_user_id,
            email_key=key,
            issued=True,
        )
        self.notify()

    async def _refuse(
        self, command: RequestCode, reason: RejectReason, *, retry_after: int | None = None
    ) -> None:
        answer = CodeRejected(
            correlation_id=command.message_id,
            telegram_user_id=command.telegram_user_id,
            chat_id=command.chat_id,
            reason=reason,
            retry_after_seconds=retry_after,
        )
        await self.store.record_attempt(
            str(command.message_id),
            kind="request",
            at=self.clock(),
            telegram_user_id=command.telegram_user_id,
            answer=answer,
        )
        self.notify()
        logger.info("code request refused", extra={"reason": reason.value})

    # -- VerifyCode ----------------------------------------------------------------------------

    async def verify_code(self, command: VerifyCode) -> None:
        attempt_id = str(command.message_id)
        if await self.store.attempt(attempt_id) is not None:
            self.notify()
            return

        async def step() -> Changed | None:
            code = await self.store.code(command.telegram_user_id)
            if code is None:
                await self._no_code(command)
                return None
            if attempt_id in code.get("attempt_ids", []):
                if code.get("used_by") == attempt_id:
                    await self._authorize(code, command)  # finish after a crash
                self.notify()
                return None
            locked = await self._locked_wait(
                command.telegram_user_id, code["email_key"], self.clock()
            )
            if locked is not None:
                # Locked out: the code is not even compared, so guessing gains nothing.
                await self._refuse_attempt(command, locked[0])
                self.throttled(locked[1])
                return None
            changes, answer = self._judge(code, command)
            if not await self.store.answer_attempt(
                code, attempt_id=attempt_id, changes=changes, answer=answer
            ):
                return CHANGED
            if answer is None:
                await self._authorize({**code, **changes}, command)
                await self.store.clear_failures(
                    [account_lock_key(command.telegram_user_id), email_lock_key(code["email_key"])]
                )
            else:
                logger.info("code refused", extra={"reason": answer.reason.value})
                if "attempts" in changes:
                    await self._count_failure(command.telegram_user_id, code["email_key"])
            self.notify()
            return None

        await optimistic_update(step, what="the code", tries=OPTIMISTIC_TRIES)

    async def _locked_wait(
        self, telegram_user_id: int, key: str, now: datetime
    ) -> tuple[int, str] | None:
        """(seconds, rule) while this account or this address is locked out, else None.

        An address's lockout does not hold the account the address is bound to now: wrong codes
        typed by others must not shut out the employee who holds the address.
        """
        locks = await self.store.lockouts_of(
            [account_lock_key(telegram_user_id), email_lock_key(key)]
        )
        account = locks.get(account_lock_key(telegram_user_id))
        wait = locked_wait(now, account.get("locked_until") if account else None)
        if wait is not None:
            return wait, "account_locked"
        address = locks.get(email_lock_key(key))
        wait = locked_wait(now, address.get("locked_until") if address else None)
        if wait is None:
            return None
        holders = await self.store.users_with_email(key, active_only=True)
        if any(holder["_id"] == telegram_user_id for holder in holders):
            return None
        return wait, "address_locked"

    async def _count_failure(self, telegram_user_id: int, key: str) -> None:
        now = self.clock()
        policy = self.policy.lockout
        account = await self.store.count_failure(
            account_lock_key(telegram_user_id),
            at=now,
            lock_for=lambda n: policy.lock_for(n, threshold=policy.account_threshold),
        )
        address = await self.store.count_failure(
            email_lock_key(key),
            at=now,
            lock_for=lambda n: policy.lock_for(n, threshold=policy.email_threshold),
        )
        for kind, doc, threshold in (
            ("account", account, policy.account_threshold),
            ("address", address, policy.email_threshold),
        ):
            if doc["failures"] >= threshold:
                logger.warning(
                    "sign-in locked out after wrong codes",
                    extra={"lock": kind, "failures": doc["failures"]},
                )

    async def _refuse_attempt(self, command: VerifyCode, retry_after: int) -> None:
        await self.store.record_attempt(
            str(command.message_id),
            kind="verify",
            at=self.clock(),
            telegram_user_id=command.telegram_user_id,
            answer=CodeRejected(
                correlation_id=command.message_id,
                telegram_user_id=command.telegram_user_id,
                chat_id=command.chat_id,
                reason=RejectReason.TOO_MANY_ATTEMPTS,
                retry_after_seconds=retry_after,
            ),
        )
        self.notify()

    def _judge(self, code: Document, command: VerifyCode) -> tuple[Document, CodeRejected | None]:
        """The change an attempt makes to the code and the refusal to send (None: success)."""
        candidate = normalise_code_input(command.code)
        entered = (
            None
            if candidate is None
            else code_hash(
                self.policy.pepper,
                telegram_user_id=command.telegram_user_id,
                email_key=code["email_key"],
                request_id=code["request_id"],
                code=candidate,
            )
        )
        judgement = judge(
            CodeRecord.from_doc(code),
            entered_hash=entered,
            attempt_id=str(command.message_id),
            now=self.clock(),
        )
        if judgement.refusal is None:
            return judgement.changes, None
        retry_after = None
        if judgement.refusal is RejectReason.TOO_MANY_ATTEMPTS:
            # A new code can be asked for only after the resend cooldown: say when, so the
            # employee is not told "write your email again" and then refused.
            ready = code["created_at"] + self.policy.limits.cooldown
            wait = int((ready - self.clock()).total_seconds()) + 1
            retry_after = wait if wait > 0 else None
        refusal = CodeRejected(
            correlation_id=command.message_id,
            telegram_user_id=command.telegram_user_id,
            chat_id=command.chat_id,
            reason=judgement.refusal,
            attempts_left=judgement.attempts_left,
            retry_after_seconds=retry_after,
        )
        return judgement.changes, refusal

    async def _no_code(self, command: VerifyCode) -> None:
        await self.store.record_attempt(
            str(command.message_id),
            kind="verify",
            at=self.clock(),
            telegram_user_id=command.telegram_user_id,
            answer=CodeRejected(
                correlation_id=command.message_id,
                telegram_user_id=command.telegram_user_id,
                chat_id=command.chat_id,
                reason=RejectReason.NO_ACTIVE_CODE,
            ),
        )
        self.notify()

    async def _authorize(self, code: Document, command: VerifyCode) -> None:
        """Bind this account to the employee; the address's previous account loses access."""
        profile = EmployeeProfile.model_validate(code["profile"])
        key = email_key(profile.email)
        now = self.clock()
        # Revoke first: the old account must never outlive the new binding, even on a crash.
        for other in await self.store.users_with_email(key, active_only=True):
            if other["_id"] == command.telegram_user_id:
                continue
            await self.store.revoke(
                other["_id"],
                reason=RevokeReason.REBOUND.value,
                at=now,
                event=UserRevoked(
                    correlation_id=command.message_id,
                    telegram_user_id=other["_id"],
                    email=profile.email,
                    reason=RevokeReason.REBOUND,
                ),
            )
            logger.info("binding moved to another Telegram account", extra=_audit(other["_id"]))
        fields: dict[str, Any] = {
            "email": profile.email,
            "email_key": key,
            "chat_id": command.chat_id,
            "profile": profile.model_dump(mode="json"),
            "authorized_at": now,
            "checked_at": now,
        }
        await self.store.bind(
            command.telegram_user_id,
            authorization_id=code["request_id"],
            fields=fields,
            event=UserAuthorized(
                correlation_id=command.message_id,
                telegram_user_id=command.telegram_user_id,
                chat_id=command.chat_id,
                profile=profile,
                authorized_at=now,
            ),
        )
        logger.info("user authorized", extra={"email": mask_email(profile.email)})

    # -- MailFailed ----------------------------------------------------------------------------

    async def code_mail_failed(self, event: MailFailed) -> None:
        """The mailer gave up on a code email: void the code and tell the user."""
        if event.template is not MailTemplate.AUTH_CODE or event.correlation_id is None:
            return
        code = await self.store.code_for_mail(str(event.correlation_id))
        if code is None or code["status"] != CodeStatus.ACTIVE:
            return  # an older code, already replaced or used: nothing to tell
        wait = code["created_at"] + timedelta(seconds=self.policy.limits.cooldown_seconds)
        retry_after = int((wait - self.clock()).total_seconds())
        answer = CodeRejected(
            correlation_id=UUID(code["request_id"]),
            telegram_user_id=code["_id"],
            chat_id=code["chat_id"],
            reason=RejectReason.MAIL_FAILED,
            retry_after_seconds=retry_after if retry_after > 0 else None,
        )
        if await self.store.mail_failed(code, answer):
            logger.warning(
                "code email failed", extra={"email": code["masked_email"], "smtp": event.smtp_code}
            )
        self.notify()


def _ceil(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def _audit(telegram_user_id: int) -> dict[str, int]:
    return {"telegram_user_id": telegram_user_id}
