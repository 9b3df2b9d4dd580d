"""The auth service as a FastStream app: `faststream run helpdesk_auth.app:create_app --factory`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from faststream import FastStream
from helpdesk_contracts.base import utc_now
from helpdesk_runtime.config import load_settings
from helpdesk_runtime.outbox import OutboxRelay
from helpdesk_runtime.service import (
    ServiceRuntime,
    create_runtime,
    create_service_app,
    run,
)

from helpdesk_auth.adapters.ldap import LdapDirectory
from helpdesk_auth.adapters.store import AuthStore
from helpdesk_auth.admin import UserAdmin
from helpdesk_auth.consumers import TRANSIENT, build_router
from helpdesk_auth.limits import LimitPolicy
from helpdesk_auth.recheck import DirectoryRecheck
from helpdesk_auth.settings import AuthSettings
from helpdesk_auth.signin import Clock, CodePolicy, SignIn

SERVICE = "auth"


@dataclass
class AuthService:
    """The app and its parts, so in-process tests can drive a re-check or read the store."""

    app: FastStream
    runtime: ServiceRuntime
    store: AuthStore
    signin: SignIn
    admin: UserAdmin
    recheck: DirectoryRecheck
    relay: OutboxRelay


def build(settings: AuthSettings, *, clock: Clock = utc_now) -> AuthService:
    """Wire the service. Nothing connects here: the directory is first asked on demand, so
    auth starts (and answers "directory unavailable") while LDAP is down."""
    runtime = create_runtime(SERVICE, settings.infra)
    store = AuthStore(runtime.db)
    relay = OutboxRelay(runtime.publisher, store.outbox_collections)
    directory = LdapDirectory(settings)
    policy = CodePolicy(
        pepper=settings.code_pepper.get_secret_value().encode(),
        ttl=timedelta(seconds=settings.code_ttl_seconds),
        limits=LimitPolicy(
            cooldown_seconds=settings.resend_cooldown_seconds,
            per_user_per_hour=settings.max_codes_per_user_per_hour,
            per_email_per_hour=settings.max_codes_per_email_per_hour,
        ),
        max_attempts=settings.max_attempts_per_code,
        allowed_domains=settings.allowed_email_domains,
        enumeration_protection=settings.enumeration_protection,
    )
    signin = SignIn(
        store=store,
        directory=directory,
        publisher=runtime.publisher,
        policy=policy,
        clock=clock,
        notify=relay.notify,
    )
    admin = UserAdmin(store=store, clock=clock, notify=relay.notify)
    recheck = DirectoryRecheck(
        store=store,
        directory=directory,
        clock=clock,
        notify=relay.notify,
        interval=timedelta(seconds=settings.recheck_interval_seconds),
        batch_size=settings.recheck_batch_size,
    )
    runtime.jobs += [relay.run, recheck.run_forever]
    runtime.stoppers.append(relay.stop)
    app = create_service_app(
        runtime,
        routers=[build_router(signin, admin, runtime.retry(TRANSIENT))],
        setup=store.create_indexes,
    )
    return AuthService(app, runtime, store, signin, admin, recheck, relay)


def create_app(settings: AuthSettings | None = None) -> FastStream:
    """Build the app; settings come from the environment unless given (tests pass them)."""
    return build(settings or load_settings(AuthSettings, program="helpdesk-auth")).app


def main() -> None:
    run(lambda: create_app(load_settings(AuthSettings, program="helpdesk-auth")))
