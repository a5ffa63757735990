"""In-memory implementations of luxebrain.adapters' protocols for the unit tier: what a test passes where
the product passes the AWS adapters. Each keeps what was done to it, for the test's Then."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import SecretStr

from luxebrain.adapters import (
    DirectoryError,
    DirectoryUser,
    KeyVault,
    MissingObject,
    ObjectVersion,
    ProviderError,
    ReceivedMessage,
    StoredObject,
)
from luxebrain.billing.plans import PlanLimitExceededError, get_plan
from luxebrain.errors import ConflictError, InvalidInputError, NotFoundError
from luxebrain.storage.campaigns import Campaign, CampaignState, ConsentRecord, SendRecord
from luxebrain.storage.catalogue import Product, ProductSupply
from luxebrain.storage.customers import Customer, Order, OrderSummary
from luxebrain.storage.ingest import Checkpoint, PutOutcome, RejectedEvent, StoreRecord
from luxebrain.storage.items.base import BaseItem
from luxebrain.storage.members import Impersonation, Membership, StorefrontKey
from luxebrain.storage.merchandising import NO_MERCHANDISING, MerchandisingRules
from luxebrain.storage.pages import Page
from luxebrain.storage.personal_data import (
    MEMBERSHIP_PREFIX,
    Erasure,
    PersonalRecord,
    TenantItemsDeleted,
    personal_record,
)
from luxebrain.storage.pricing import PriceDecision
from luxebrain.storage.privacy_jobs import DONE as JOB_DONE
from luxebrain.storage.privacy_jobs import FAILED as JOB_FAILED
from luxebrain.storage.privacy_jobs import PENDING as JOB_PENDING
from luxebrain.storage.privacy_jobs import RUNNING as JOB_RUNNING
from luxebrain.storage.privacy_jobs import PrivacyJob, new_job_id
from luxebrain.storage.storefront import (
    DAILY_COUNTERS,
    CountedOrder,
    DailyStats,
    Engagement,
    Exposure,
    NewEvent,
    OrderCountChange,
    VisitorRecords,
)
from luxebrain.storage.tenants import AuditRecord, Store, StoreConnection, StoreExistsError, StoreSecrets, Tenant
from luxebrain.storage.training import (
    ABANDONED,
    FAILED,
    RUNNING,
    LeaseBusyError,
    ModelPointer,
    RunHandle,
    RunRecord,
    TrainingState,
    retrain_rate_limited,
)
from luxebrain.tenancy import new_tenant_id, tenant_partition, validate_entity_id, validate_tenant_id


@dataclass
class _Version:
    version_id: str
    body: bytes | None  # None: a delete marker
    content_type: str = ""


class InMemoryObjectStore:
    """A versioned bucket: a put adds a version, a delete adds a delete marker (as S3 with versioning on)."""

    def __init__(self) -> None:
        self._keys: dict[str, list[_Version]] = {}
        self._ids = itertools.count(1)
        self.calls: list[str] = []

    def _current(self, key: str) -> _Version | None:
        versions = self._keys.get(key)
        return versions[-1] if versions and versions[-1].body is not None else None

    def put(self, key: str, body: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.calls.append(f"put {key}")
        self._keys.setdefault(key, []).append(_Version(f"v{next(self._ids)}", bytes(body), content_type))

    def get(self, key: str) -> bytes:
        self.calls.append(f"get {key}")
        current = self._current(key)
        if current is None or current.body is None:
            raise MissingObject(key)
        return current.body

    def content_type(self, key: str) -> str:
        current = self._current(key)
        if current is None:
            raise MissingObject(key)
        return current.content_type

    def exists(self, key: str) -> bool:
        return self._current(key) is not None

    def delete(self, key: str) -> None:
        self.calls.append(f"delete {key}")
        if key in self._keys:
            self._keys[key].append(_Version(f"v{next(self._ids)}", None))

    def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.delete(key)

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        for key in sorted(self._keys):
            current = self._current(key)
            if key.startswith(prefix) and current is not None and current.body is not None:
                yield StoredObject(key=key, size=len(current.body))

    def folders(self, prefix: str) -> list[str]:
        return sorted(
            {o.key[len(prefix) :].split("/", 1)[0] for o in self.objects(prefix) if "/" in o.key[len(prefix) :]}
        )

    def versions(self, prefix: str) -> Iterator[ObjectVersion]:
        for key in sorted(self._keys):
            if key.startswith(prefix):
                yield from (ObjectVersion(key=key, version_id=v.version_id) for v in self._keys[key])

    def delete_versions(self, versions: Sequence[ObjectVersion]) -> None:
        for doomed in versions:
            self.calls.append(f"delete version {doomed.key} {doomed.version_id}")
            kept = [v for v in self._keys.get(doomed.key, []) if v.version_id != doomed.version_id]
            if kept:
                self._keys[doomed.key] = kept
            else:
                self._keys.pop(doomed.key, None)

    def keys(self) -> list[str]:
        """Every key that has a current object."""
        return [o.key for o in self.objects("")]


@dataclass
class SentMessage:
    body: str
    group_id: str | None = None
    deduplication_id: str | None = None


@dataclass
class RecordingQueue:
    """Keeps every message; ``refuse`` makes the next sends raise (a queue that cannot be reached)."""

    sent: list[SentMessage] = field(default_factory=list)
    refuse: Exception | None = None
    delays: list[tuple[str, int]] = field(default_factory=list)  # (receipt handle, seconds)

    def send(self, body: str, *, group_id: str | None = None, deduplication_id: str | None = None) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append(SentMessage(body, group_id, deduplication_id))
        return f"m-{len(self.sent)}"

    def send_batch(self, bodies: Sequence[str]) -> int:
        for body in bodies:
            self.send(body)
        return len(bodies)

    def delay(self, receipt_handle: str, *, seconds: int) -> None:
        self.delays.append((receipt_handle, seconds))

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(message.body) for message in self.sent]


class InMemoryMessageSource:
    """Messages waiting to be received (a dead-letter queue): ``receive`` hands out at most ten a call, as
    SQS does, and a received message stays out of sight until it is deleted."""

    def __init__(self) -> None:
        self._waiting: list[ReceivedMessage] = []
        self._in_flight: list[ReceivedMessage] = []
        self._ids = itertools.count(1)

    def add(self, body: str, *, group_id: str | None = None) -> ReceivedMessage:
        number = next(self._ids)
        message = ReceivedMessage(f"m-{number}", body, f"receipt-{number}", group_id)
        self._waiting.append(message)
        return message

    def receive(self, max_messages: int = 10) -> list[ReceivedMessage]:
        taken, self._waiting = self._waiting[: min(max_messages, 10)], self._waiting[min(max_messages, 10) :]
        self._in_flight.extend(taken)
        return taken

    def delete(self, message: ReceivedMessage) -> None:
        self._in_flight = [kept for kept in self._in_flight if kept.receipt_handle != message.receipt_handle]

    def remaining(self) -> list[ReceivedMessage]:
        """What is still in the queue, in flight or waiting."""
        return [*self._in_flight, *self._waiting]


class ContextMismatch(ValueError):
    """The fake vault's stand-in for KMS's InvalidCiphertextException."""


class InMemoryKeyVault:
    """Not encryption: a sealed envelope that opens only with the context it was sealed with, which is
    the property the product relies on."""

    def __init__(self) -> None:
        self.decryptions = 0

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        return json.dumps({"context": dict(context), "plaintext": plaintext.hex()}, sort_keys=True).encode()[::-1]

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        self.decryptions += 1
        sealed = json.loads(ciphertext[::-1])
        if sealed["context"] != dict(context):
            raise ContextMismatch("the encryption context differs")
        return bytes.fromhex(sealed["plaintext"])


# ----------------------------------------------------------------------------- outbound messages
@dataclass
class SentMail:
    sender: str
    to: list[str]
    subject: str
    text: str
    tags: dict[str, str] = field(default_factory=dict)
    configuration_set: str | None = None
    mime: bytes = b""


@dataclass
class RecordingMailService:
    """Keeps every e-mail; each entry of ``failures`` fails one send, in order (a refusal or an outage)."""

    sent: list[SentMail] = field(default_factory=list)
    failures: list[ProviderError] = field(default_factory=list)

    def _accept(self, mail: SentMail) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(mail)
        return f"mail-{len(self.sent)}"

    def send_raw(
        self, mime: bytes, *, sender: str, tags: Mapping[str, str], configuration_set: str | None = None
    ) -> str:
        import email

        parsed = email.message_from_bytes(mime)
        text = next(
            (part.get_payload(decode=True) or b"" for part in parsed.walk() if part.get_content_type() == "text/plain"),
            b"",
        )
        return self._accept(
            SentMail(
                sender=sender,
                to=[address.strip() for address in str(parsed["To"]).split(",")],
                subject=str(parsed["Subject"]),
                text=bytes(text).decode(),
                tags=dict(tags),
                configuration_set=configuration_set,
                mime=mime,
            )
        )

    def send_text(self, *, sender: str, to: str, subject: str, text: str) -> str:
        return self._accept(SentMail(sender=sender, to=[to], subject=subject, text=text))


@dataclass
class RecordingSmsService:
    """Keeps every text message; numbers in ``opted_out_numbers`` are on the account's opt-out list."""

    sent: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (number, text, attributes)
    opted_out_numbers: set[str] = field(default_factory=set)
    failures: list[ProviderError] = field(default_factory=list)

    def opted_out(self, phone_number: str) -> bool:
        return phone_number in self.opted_out_numbers

    def publish(self, phone_number: str, text: str, *, attributes: Mapping[str, str]) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((phone_number, text, dict(attributes)))
        return f"sms-{len(self.sent)}"


@dataclass
class RecordingWhatsApp:
    sent: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # (from number, message, api)

    def send(self, phone_number_id: str, message: bytes, *, api_version: str) -> str:
        self.sent.append((phone_number_id, json.loads(message), api_version))
        return f"wamid-{len(self.sent)}"


# ----------------------------------------------------------------------------- user accounts
@dataclass
class _Login:
    username: str
    password: str
    attributes: dict[str, str]
    confirmed: bool = False
    must_change_password: bool = False  # an invited user's temporary password
    groups: set[str] = field(default_factory=set)
    signed_out: int = 0


class InMemoryUserDirectory:
    """A user pool whose users sign in with their e-mail (as the stack's: the e-mail is an alias, the
    username is the user's sub); a sign-up is confirmed with ``CONFIRMATION_CODE``, and refusals are
    DirectoryErrors with Cognito's codes. Tokens are opaque strings (nothing here signs a JWT)."""

    CONFIRMATION_CODE = "123456"

    def __init__(self) -> None:
        self.logins: dict[str, _Login] = {}
        self.groups: dict[str, str] = {}
        self.reset_codes: dict[str, str] = {}
        self._subs = itertools.count(1)
        self.calls: list[str] = []

    def _find(self, username: str) -> _Login | None:
        """By username (the sub) or by the e-mail alias."""
        return self.logins.get(username) or next(
            (entry for entry in self.logins.values() if entry.attributes.get("email") == username), None
        )

    def _login(self, username: str) -> _Login:
        login = self._find(username)
        if login is None:
            raise DirectoryError("UserNotFoundException", "User does not exist.")
        return login

    def _add(self, email: str, password: str, attributes: Mapping[str, str], **state: bool) -> _Login:
        if self._find(email) is not None:
            raise DirectoryError("UsernameExistsException", "User account already exists")
        sub = f"sub-{next(self._subs)}"
        login = _Login(sub, password, {**attributes, "email": email, "sub": sub}, **state)
        self.logins[sub] = login
        return login

    def login_of(self, email: str) -> _Login:
        """The stored login of an e-mail address (for a test's Then)."""
        return self._login(email)

    def sign_up(
        self, client_id: str, username: str, password: str, *, attributes: Mapping[str, str]
    ) -> tuple[str, bool]:
        self.calls.append(f"sign_up {username}")
        return self._add(username, password, attributes).attributes["sub"], False

    def confirm_sign_up(self, client_id: str, username: str, code: str) -> None:
        login = self._login(username)
        if code != self.CONFIRMATION_CODE:
            raise DirectoryError("CodeMismatchException", "Invalid verification code provided")
        login.confirmed = True

    def initiate_auth(self, client_id: str, flow: str, parameters: Mapping[str, str]) -> dict[str, Any]:
        self.calls.append(f"initiate_auth {flow}")
        if flow != "USER_PASSWORD_AUTH":
            raise DirectoryError("NotAuthorizedException", "Invalid Refresh Token")
        login = self._find(parameters["USERNAME"])
        if login is None or login.password != parameters["PASSWORD"]:
            raise DirectoryError("NotAuthorizedException", "Incorrect username or password.")
        if login.must_change_password:
            return {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": f"session-{login.username}"}
        if not login.confirmed:
            raise DirectoryError("UserNotConfirmedException", "User is not confirmed.")
        return {"AuthenticationResult": {"AccessToken": f"access-{login.username}", "IdToken": "id", "ExpiresIn": 3600}}

    def respond_to_auth_challenge(
        self, client_id: str, challenge: str, session: str, responses: Mapping[str, str]
    ) -> dict[str, Any]:
        login = self._login(responses["USERNAME"])
        if session != f"session-{login.username}":
            raise DirectoryError("NotAuthorizedException", "Invalid session for the user.")
        login.password, login.must_change_password, login.confirmed = responses["NEW_PASSWORD"], False, True
        return {"AuthenticationResult": {"AccessToken": f"access-{login.username}", "IdToken": "id", "ExpiresIn": 3600}}

    def forgot_password(self, client_id: str, username: str) -> None:
        self.reset_codes[self._login(username).username] = self.CONFIRMATION_CODE

    def confirm_forgot_password(self, client_id: str, username: str, code: str, password: str) -> None:
        login = self._login(username)
        if self.reset_codes.get(login.username) != code:
            raise DirectoryError("CodeMismatchException", "Invalid verification code provided")
        login.password = password
        del self.reset_codes[login.username]

    def change_password(self, access_token: str, previous: str, proposed: str) -> None:
        login = self._login(access_token.removeprefix("access-"))
        if login.password != previous:
            raise DirectoryError("NotAuthorizedException", "Incorrect username or password.")
        login.password = proposed

    def global_sign_out(self, access_token: str) -> None:
        self._login(access_token.removeprefix("access-")).signed_out += 1

    def admin_create_user(
        self, username: str, temporary_password: str, *, attributes: Mapping[str, str]
    ) -> DirectoryUser:
        login = self._add(username, temporary_password, attributes, must_change_password=True)
        return DirectoryUser(login.username, dict(login.attributes))

    def admin_get_user(self, username: str) -> DirectoryUser:
        login = self._login(username)
        return DirectoryUser(login.username, dict(login.attributes))

    def admin_confirm_sign_up(self, username: str) -> None:
        login = self._login(username)
        if login.confirmed:
            raise DirectoryError("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED")
        login.confirmed = True

    def admin_update_user_attributes(self, username: str, attributes: Mapping[str, str]) -> None:
        self._login(username).attributes.update(attributes)

    def admin_set_user_password(self, username: str, password: str) -> None:
        login = self._login(username)
        login.password, login.must_change_password = password, False

    def admin_delete_user(self, username: str) -> None:
        self.calls.append(f"admin_delete_user {username}")
        del self.logins[self._login(username).username]

    def admin_user_global_sign_out(self, username: str) -> None:
        self._login(username).signed_out += 1

    def create_group(self, group: str, description: str) -> None:
        if group in self.groups:
            raise DirectoryError("GroupExistsException", "A group with the name already exists.")
        self.groups[group] = description

    def admin_add_user_to_group(self, username: str, group: str) -> None:
        if group not in self.groups:
            raise DirectoryError("ResourceNotFoundException", "Group not found.")
        self._login(username).groups.add(group)

    def users(self) -> Iterator[DirectoryUser]:
        for login in list(self.logins.values()):
            yield DirectoryUser(login.username, dict(login.attributes))


# ----------------------------------------------------------------------------- members
class InMemoryMemberRepository:
    """The members repository (``storage.members.MemberRepository``) in dictionaries, ordered as the table
    orders them: a tenant's members by user id, a user's membership the first of their tenants. Saving a
    membership replaces it whole (a new ``created_at``), as the table's put does."""

    def __init__(self) -> None:
        self.memberships: dict[tuple[str, str], Membership] = {}
        self.impersonations: dict[tuple[str, str], Impersonation] = {}
        self.sessions: dict[tuple[str, str], int] = {}  # (user, origin jti) -> started (ms)
        self.valid_after: dict[str, int] = {}
        self.storefront_keys: dict[str, StorefrontKey] = {}
        self.reads = 0  # every read, for tests of what is cached

    def membership_exists(self, tenant_id: str, user_sub: str) -> bool:
        self.reads += 1
        return (tenant_id, user_sub) in self.memberships

    def save_membership(self, tenant_id: str, user_sub: str, *, role: str, email: str | None) -> Membership:
        member = Membership(tenant_id, user_sub, email, role, datetime.now(UTC))
        self.memberships[tenant_id, user_sub] = member
        return member

    def get_membership(self, tenant_id: str, user_sub: str) -> Membership:
        self.reads += 1
        try:
            return self.memberships[tenant_id, user_sub]
        except KeyError:
            raise NotFoundError("member not found") from None

    def delete_membership(self, tenant_id: str, user_sub: str) -> None:
        self.memberships.pop((tenant_id, user_sub), None)

    def list_memberships(self, tenant_id: str) -> list[Membership]:
        self.reads += 1
        return [member for (tenant, _), member in sorted(self.memberships.items()) if tenant == tenant_id]

    def membership_of_user(self, user_sub: str) -> Membership | None:
        self.reads += 1
        return next((m for (_, user), m in sorted(self.memberships.items()) if user == user_sub), None)

    def record_impersonation(
        self, tenant_id: str, session_id: str, *, admin_sub: str, role: str, reason: str, expires_at: int
    ) -> None:
        self.impersonations[tenant_id, session_id] = Impersonation(
            tenant_id, session_id, admin_sub, role, reason, expires_at
        )

    def get_impersonation(self, tenant_id: str, session_id: str) -> Impersonation | None:
        self.reads += 1
        return self.impersonations.get((tenant_id, session_id))

    def record_user_session(self, user_sub: str, origin_jti: str, *, started_ms: int, expires_at: int) -> None:
        self.sessions[user_sub, origin_jti] = started_ms

    def user_session_started(self, user_sub: str, origin_jti: str) -> int | None:
        self.reads += 1
        return self.sessions.get((user_sub, origin_jti))

    def set_sessions_valid_after(self, user_sub: str, at_ms: int) -> None:
        self.valid_after[user_sub] = at_ms

    def sessions_valid_after(self, user_sub: str) -> int | None:
        self.reads += 1
        return self.valid_after.get(user_sub)

    def get_storefront_key(self, tenant_id: str) -> StorefrontKey | None:
        self.reads += 1
        return self.storefront_keys.get(tenant_id)

    def save_storefront_key(
        self, tenant_id: str, *, key_id: str, secret_hash: str, replacing: StorefrontKey | None, grace_until: int | None
    ) -> None:
        now = datetime.now(UTC)
        self.storefront_keys[tenant_id] = StorefrontKey(
            tenant_id=tenant_id,
            key_id=key_id,
            secret_hash=secret_hash,
            previous_secret_hash=None if replacing is None else replacing.secret_hash,
            previous_valid_until=None if replacing is None else grace_until,
            created_at=now if replacing is None else replacing.created_at,
            rotated_at=None if replacing is None else now,
        )


# ----------------------------------------------------------------------------- tenants
_Item = TypeVar("_Item")
_Json = TypeVar("_Json")


class InMemoryTenantRepository:
    """The tenants repository (``storage.tenants.TenantRepository``) in dictionaries, paged as the table pages:
    the directory by status, then oldest first; a tenant's stores by store id. A cursor is the last item's sort
    key (opaque to callers, as the table's). ``add_store`` puts a store as ``create_store`` leaves it, with the
    credentials given (held as they are: the vault passed to ``get_store_secrets`` is not asked). Audit records
    are kept per tenant in the order written."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.stores: dict[tuple[str, str], Store] = {}
        self.store_secrets: dict[tuple[str, str], StoreSecrets] = {}
        self.sign_ups: dict[str, int] = {}  # platform counters: by hashed address per hour, all per minute
        self.usage: dict[tuple[str, str, str], int] = {}  # (tenant, metric, period label) -> used
        self.connections: dict[tuple[str, str], StoreConnection] = {}  # (tenant, state hash) -> pending or connected
        self._usage_lock = threading.Lock()
        self.audit: dict[str, list[AuditRecord]] = {}

    def create_tenant(self, name: str, *, plan: str = "free", tenant_id: str | None = None) -> Tenant:
        tenant_id = validate_tenant_id(tenant_id or new_tenant_id())
        if tenant_id in self.tenants:
            raise ConflictError(f"tenant {tenant_id} already exists")
        tenant = Tenant(tenant_id, name, plan, "active", datetime.now(UTC))
        self.tenants[tenant_id] = tenant
        return tenant

    def get_tenant(self, tenant_id: str) -> Tenant:
        try:
            return self.tenants[tenant_id]
        except KeyError:
            raise NotFoundError(f"tenant {tenant_id} not found") from None

    def delete_tenant(self, tenant_id: str) -> None:
        self.tenants.pop(tenant_id, None)

    def update_tenant_settings(
        self,
        tenant_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        name: str | None = None,
        attempts: int = 5,
    ) -> Tenant:
        tenant = self.get_tenant(tenant_id)
        updated = replace(tenant, settings=_as_json(change(dict(tenant.settings))), name=name or tenant.name)
        self.tenants[tenant_id] = updated
        return updated

    def set_tenant_status(self, tenant_id: str, status: str, *, attempts: int = 5) -> Tenant:
        self.tenants[tenant_id] = replace(self.get_tenant(tenant_id), status=status)
        return self.tenants[tenant_id]

    def set_tenant_plan(self, tenant_id: str, plan: str) -> Tenant:
        self.tenants[tenant_id] = replace(self.get_tenant(tenant_id), plan=plan)
        return self.tenants[tenant_id]

    def list_tenants(self, *, limit: int, cursor: str | None = None, status: str | None = None) -> Page[Tenant]:
        listed = [tenant for tenant in self.tenants.values() if status is None or tenant.status == status]
        return _page(sorted(listed, key=_directory_key), _directory_key, limit, cursor)

    def iter_tenants(self) -> Iterator[Tenant]:
        return iter(sorted(self.tenants.values(), key=_directory_key))

    def add_store(self, store: Store, store_secrets: StoreSecrets | None = None) -> Store:
        self.stores[store.tenant_id, store.store_id] = store
        self.store_secrets[store.tenant_id, store.store_id] = store_secrets or StoreSecrets(
            webhook_secret=SecretStr("webhook-secret"), consumer_key=SecretStr("ck"), consumer_secret=SecretStr("cs")
        )
        return store

    def list_stores(self, tenant_id: str) -> list[Store]:
        return sorted((s for (tenant, _), s in self.stores.items() if tenant == tenant_id), key=lambda s: s.store_id)

    def get_store_secrets(self, tenant_id: str, store_id: str, *, vault: KeyVault) -> StoreSecrets:
        try:
            return self.store_secrets[tenant_id, store_id]
        except KeyError:
            raise NotFoundError(f"store {store_id} not found") from None

    def record_audit(
        self,
        tenant_id: str,
        *,
        action: str,
        actor: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditRecord:
        record = AuditRecord(action, actor, reason, dict(details or {}), datetime.now(UTC))
        # Stored as the table stores it (JSON: a value it cannot hold fails here); returned as given, as the table
        # returns the item it wrote.
        self.audit.setdefault(tenant_id, []).append(replace(record, details=_as_json(record.details)))
        return record

    def audit_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[AuditRecord]:
        # Newest first, as the table reads its sort key (the moment, then a random suffix) backwards
        newest_first = list(enumerate(self.audit.get(tenant_id, [])))[::-1]
        after = [(n, record) for n, record in newest_first if cursor is None or n < int(cursor)]
        page = after[:limit]
        return Page([record for _, record in page], str(page[-1][0]) if len(after) > limit else None)

    def get_store(self, tenant_id: str, store_id: str) -> Store:
        try:
            return self.stores[tenant_id, store_id]
        except KeyError:
            raise NotFoundError(f"store {store_id} not found") from None

    def store_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Store]:
        stores = sorted((s for (tenant, _), s in self.stores.items() if tenant == tenant_id), key=lambda s: s.store_id)
        return _page(stores, lambda store: store.store_id, limit, cursor)

    def create_store(
        self,
        tenant_id: str,
        *,
        vault: KeyVault,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        currency: str = "EUR",
        store_id: str | None = None,
    ) -> tuple[Store, StoreSecrets]:
        store_id = validate_entity_id(store_id or "s-" + secrets.token_hex(6), "store id")
        if (tenant_id, store_id) in self.stores:
            raise StoreExistsError(f"store {store_id} exists already")
        store_secrets = StoreSecrets(
            webhook_secret=SecretStr(secrets.token_urlsafe(32)),
            consumer_key=SecretStr(consumer_key),
            consumer_secret=SecretStr(consumer_secret),
        )
        store = Store(tenant_id, store_id, url, currency, "UTC", "active", datetime.now(UTC))
        return self.add_store(store, store_secrets), store_secrets

    def replace_store_keys(
        self, tenant_id: str, store_id: str, *, vault: KeyVault, consumer_key: str, consumer_secret: str
    ) -> Store:
        store = self.get_store(tenant_id, store_id)
        current = self.store_secrets[tenant_id, store_id]
        self.store_secrets[tenant_id, store_id] = StoreSecrets(
            webhook_secret=current.webhook_secret,  # kept: the webhooks on the store keep verifying
            consumer_key=SecretStr(consumer_key),
            consumer_secret=SecretStr(consumer_secret),
        )
        self.stores[tenant_id, store_id] = replace(store, status="active")
        return self.stores[tenant_id, store_id]

    def store_exists(self, tenant_id: str, store_id: str) -> bool:
        return (tenant_id, store_id) in self.stores

    def delete_store(self, tenant_id: str, store_id: str) -> bool:
        self.store_secrets.pop((tenant_id, store_id), None)
        return self.stores.pop((tenant_id, store_id), None) is not None

    def set_store_webhooks(self, tenant_id: str, store_id: str, state: dict[str, Any]) -> None:
        store = self.get_store(tenant_id, store_id)
        self.stores[tenant_id, store_id] = replace(store, webhooks=_as_json(state))

    def open_store_connection(
        self,
        tenant_id: str,
        state_hash: str,
        *,
        url: str,
        currency: str,
        store_id: str,
        created_by: str | None,
        expires_at: int,
    ) -> None:
        if (tenant_id, state_hash) in self.connections:
            raise ConflictError("connection state exists")
        self.connections[tenant_id, state_hash] = StoreConnection(
            tenant_id, state_hash, url, currency, "pending", store_id, None, expires_at
        )

    def get_store_connection(self, tenant_id: str, state_hash: str) -> StoreConnection:
        try:
            return self.connections[tenant_id, state_hash]
        except KeyError:
            raise NotFoundError("unknown connection state") from None

    def claim_store_connection(self, tenant_id: str, state_hash: str, key_id: int) -> bool:
        connection = self.connections.get((tenant_id, state_hash))
        if connection is None or connection.key_id not in (None, key_id):
            return False
        self.connections[tenant_id, state_hash] = replace(connection, key_id=key_id)
        return True

    def mark_store_connected(self, tenant_id: str, state_hash: str, key_id: int, connected_at: str) -> None:
        connection = self.connections.get((tenant_id, state_hash))
        if connection is None or connection.key_id != key_id:
            raise ConflictError("the connection state is held by another key")
        self.connections[tenant_id, state_hash] = replace(connection, status="connected")

    def stamp_store_last_event(self, tenant_id: str, store_id: str, stamp: str) -> bool:
        store = self.stores.get((tenant_id, store_id))
        if store is None or (store.last_event_at is not None and store.last_event_at >= stamp):
            return False  # the table's condition: the store exists and its stamp is older
        self.stores[tenant_id, store_id] = replace(store, last_event_at=stamp)
        return True

    def add_usage_within(
        self, tenant_id: str, metric: str, period: str, amount: int, allowed: int, *, expires_at: int | None = None
    ) -> int | None:
        with self._usage_lock:  # the table's conditional ADD: within the allowance or not at all
            used = self.usage.get((tenant_id, metric, period), 0)
            if amount > allowed or used > allowed - amount:
                return None
            self.usage[tenant_id, metric, period] = used + amount
            return used + amount

    def subtract_usage(self, tenant_id: str, metric: str, period: str, amount: int) -> None:
        with self._usage_lock:
            used = self.usage.get((tenant_id, metric, period), 0)
            if used >= amount and (tenant_id, metric, period) in self.usage:
                self.usage[tenant_id, metric, period] = used - amount

    def usage_of(self, tenant_id: str, metric: str, period: str) -> int:
        return self.usage.get((tenant_id, metric, period), 0)

    def usage_counts(self, tenant_id: str, counters: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {(metric, period): self.usage_of(tenant_id, metric, period) for metric, period in counters}

    def count_sign_up(self, counter: str, allowed: int, *, expires_at: int) -> bool:
        if self.sign_ups.get(counter, 0) >= allowed:
            return False
        self.sign_ups[counter] = self.sign_ups.get(counter, 0) + 1
        return True


def _as_json(value: _Json) -> _Json:
    """``value`` as the table's JSON attributes hold it: through ``json`` and back (tuples become lists, keys
    strings), and a value JSON cannot hold (a set, a datetime) a TypeError, before anything is written."""
    return json.loads(json.dumps(value))


def _directory_key(tenant: Tenant) -> str:
    return f"{tenant.status}#{tenant.created_at.isoformat()}#{tenant.tenant_id}"


def _page(items: list[_Item], sort_key: Callable[[_Item], str], limit: int, cursor: str | None) -> Page[_Item]:
    after = [item for item in items if cursor is None or sort_key(item) > cursor]
    page = after[:limit]
    return Page(page, sort_key(page[-1]) if len(after) > limit else None)


class InMemoryTrainingRepository:
    """The training repository (``storage.training.TrainingRepository``) in dictionaries, with the table's
    conditions: a lease only when free, expired or already ours; a pointer switched only from the version read;
    a run record finished only while running. Run records are ordered by kind, then start, as their sort keys."""

    def __init__(self) -> None:
        self.states: dict[str, TrainingState] = {}
        self.pointers: dict[tuple[str, str], ModelPointer] = {}
        self.runs: dict[tuple[str, str], RunRecord] = {}  # (tenant, sort key) -> record
        self.calls: list[str] = []

    def get_training_state(self, tenant_id: str) -> TrainingState | None:
        return self.states.get(tenant_id)

    def _state(self, tenant_id: str) -> TrainingState:
        return self.states.get(tenant_id) or TrainingState(tenant_id)

    def batch_get_states(self, tenant_ids: list[str]) -> dict[str, TrainingState]:
        return {tenant_id: self.states[tenant_id] for tenant_id in tenant_ids if tenant_id in self.states}

    def claim_on_demand_slot(self, tenant_id: str, now: datetime, min_interval_seconds: int) -> None:
        state = self._state(tenant_id)
        threshold = datetime.fromtimestamp(now.timestamp() - min_interval_seconds, UTC)
        if state.last_requested_at is not None and state.last_requested_at > threshold:
            raise retrain_rate_limited(state.last_requested_at, now, min_interval_seconds)
        self.states[tenant_id] = replace(state, last_requested_at=now)  # the table's update creates the state

    def mark_tenant_data_changed(self, tenant_id: str, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        state = self._state(tenant_id)
        if state.data_changed_at is None or state.data_changed_at < at:  # only ever forward, as the table's condition
            self.states[tenant_id] = replace(state, data_changed_at=at)

    def acquire_lease(self, tenant_id: str, run_id: str, now: datetime, lease_seconds: int) -> str | None:
        self.calls.append(f"acquire_lease {tenant_id} {run_id}")
        previous = self.states.get(tenant_id)
        state = self._state(tenant_id)
        epoch = now.timestamp()
        if not (state.lease_expires_at is None or state.lease_expires_at <= epoch or state.lease_owner == run_id):
            raise LeaseBusyError(f"a training run for tenant {tenant_id} is already in progress")
        self.states[tenant_id] = replace(state, lease_owner=run_id, lease_expires_at=int(epoch) + lease_seconds)
        if previous is not None and previous.lease_owner and previous.lease_owner != run_id:
            return previous.lease_owner
        return None

    def release_lease(self, tenant_id: str, run_id: str, now: datetime, *, status: str, started_at: datetime) -> bool:
        self.calls.append(f"release_lease {tenant_id} {run_id} {status}")
        state = self.states.get(tenant_id)
        if state is None or state.lease_owner != run_id:
            return False
        trained_at = state.last_trained_at if status == FAILED else started_at
        self.states[tenant_id] = replace(
            state,
            lease_owner=None,
            lease_expires_at=None,
            last_run_id=run_id,
            last_run_status=status,
            last_trained_at=trained_at,
        )
        return True

    def get_pointer(self, tenant_id: str, kind: str) -> ModelPointer | None:
        return self.pointers.get((tenant_id, kind))

    def current_pointers(self, tenant_id: str) -> dict[str, ModelPointer]:
        return {kind: pointer for (owner, kind), pointer in self.pointers.items() if owner == tenant_id}

    def switch_pointer(
        self,
        tenant_id: str,
        kind: str,
        *,
        expected_version: str | None,
        version: str,
        artifact_prefix: str,
        run_id: str,
        holdout_metric: float | None,
        now: datetime,
    ) -> None:
        current = self.pointers.get((tenant_id, kind))
        if (current.version if current else None) != expected_version:
            raise ConflictError(f"the current {kind} model changed during this run; not switched")
        self.calls.append(f"switch_pointer {tenant_id} {kind} {version}")
        self.pointers[(tenant_id, kind)] = ModelPointer(kind, version, artifact_prefix, run_id, holdout_metric, now)

    @staticmethod
    def _sort_key(kind: str, started_at: datetime, run_id: str) -> str:
        return f"{kind}#{started_at.isoformat()}#{run_id}"

    def start_run_record(
        self, tenant_id: str, kind: str, run_id: str, version: str, started_at: datetime, rows_used: int
    ) -> RunHandle:
        key = (tenant_id, self._sort_key(kind, started_at, run_id))
        if key in self.runs:
            raise ConflictError(f"run record {key} exists")
        self.runs[key] = RunRecord(run_id, kind, version, RUNNING, started_at, None, None, rows_used, {}, None, None)
        return RunHandle(tenant_id=tenant_id, kind=kind, run_id=run_id, started_at=started_at)

    def finish_run_record(
        self,
        run: RunHandle,
        *,
        status: str,
        finished_at: datetime,
        metrics: dict[str, Any] | None = None,
        reason: str | None = None,
        artifact_prefix: str | None = None,
    ) -> None:
        key = (run.tenant_id, self._sort_key(run.kind, run.started_at, run.run_id))
        record = self.runs.get(key)
        if record is None or record.status != RUNNING:
            raise ConflictError(f"run record {key} is not running")
        record.status, record.finished_at = status, finished_at
        record.duration_seconds = round((finished_at - record.started_at).total_seconds(), 3)
        record.metrics = _as_json(metrics or {})  # stored as JSON, as the table's attribute
        record.reason = reason[:1000] if reason else record.reason
        record.artifact_prefix = artifact_prefix or record.artifact_prefix

    def _newest(self, tenant_id: str, kind: str, limit: int) -> list[tuple[str, RunRecord]]:
        keys = sorted((key for key in self.runs if key[0] == tenant_id and key[1].startswith(f"{kind}#")), reverse=True)
        return [(key[1], self.runs[key]) for key in keys[:limit]]

    def list_run_records(self, tenant_id: str, kinds: Iterable[str], *, limit: int = 50) -> list[RunRecord]:
        records = [record for kind in kinds for _, record in self._newest(tenant_id, kind, limit)]
        records.sort(key=lambda record: record.started_at, reverse=True)
        return records[:limit]

    def abandon_runs(self, tenant_id: str, dead_run_id: str, now: datetime, kinds: Iterable[str]) -> int:
        abandoned = 0
        for kind in kinds:
            for _, record in self._newest(tenant_id, kind, 3):
                if record.run_id == dead_run_id and record.status == RUNNING:
                    handle = RunHandle(tenant_id, record.kind, record.run_id, record.started_at)
                    self.finish_run_record(
                        handle,
                        status=ABANDONED,
                        finished_at=now,
                        reason="the worker stopped (crash or timeout) before finishing; the previous version kept "
                        "serving",
                    )
                    abandoned += 1
        return abandoned


class StoreRefunds:
    """A store's ``/orders/{id}/refunds`` as the ingest processor asks it (its ``refunds`` parameter): answers
    ``refunds``, or raises it when it is an error, and counts the calls."""

    def __init__(self, refunds: list[dict[str, Any]] | Exception | None = None) -> None:
        self.refunds: list[dict[str, Any]] | Exception = [] if refunds is None else refunds
        self.calls = 0

    def __call__(self, tenant_id: str, store_id: str, order_id: int) -> list[dict[str, Any]]:
        self.calls += 1
        if isinstance(self.refunds, Exception):
            raise self.refunds
        return self.refunds


def no_refund_lookups(tenant_id: str, store_id: str, order_id: int) -> list[dict[str, Any]]:
    """The refunds parameter of a test whose orders carry no new refund: a lookup fails the test."""
    raise AssertionError(f"order {order_id} of {tenant_id}/{store_id}: no refund lookup was expected")


# ----------------------------------------------------------------------------- catalogue, orders, price decisions
class InMemoryCatalogueRepository:
    """The catalogue repository (``storage.catalogue.CatalogueRepository``): products as ingest stored them,
    read back in the table's order (by product id), and the merchant's supply terms of each."""

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self.products: dict[tuple[str, str], Product] = {}
        self.supplies: dict[tuple[str, str], ProductSupply] = {}
        for product in products:
            self.put(product)

    def put(self, product: Product) -> None:
        self.products[(product.tenant_id, product.product_id)] = product

    def iter_products(self, tenant_id: str) -> Iterator[Product]:
        return iter([product for (tenant, _), product in sorted(self.products.items()) if tenant == tenant_id])

    def get_product(self, tenant_id: str, product_id: str) -> Product:
        try:
            return self.products[(tenant_id, product_id)]
        except KeyError:
            raise NotFoundError(f"product {product_id} not found") from None

    def count_products(self, tenant_id: str) -> int:
        return sum(1 for tenant, _ in self.products if tenant == tenant_id)  # tombstones too, as the table's count

    def get_product_supply(self, tenant_id: str, product_id: str) -> ProductSupply:
        return self.supplies.get((tenant_id, product_id)) or ProductSupply(tenant_id=tenant_id, product_id=product_id)

    def product_supplies(self, tenant_id: str) -> dict[str, ProductSupply]:
        return {product_id: supply for (tenant, product_id), supply in self.supplies.items() if tenant == tenant_id}

    def save_product_supply(
        self, tenant_id: str, product_id: str, *, lead_time_days: int | None, supplier: str | None, actor: str
    ) -> ProductSupply:
        supply = ProductSupply(tenant_id, product_id, lead_time_days, supplier, datetime.now(UTC), actor)
        self.supplies[(tenant_id, product_id)] = supply
        return supply


class InMemoryCustomerRepository:
    """The customers repository (``storage.customers.CustomerRepository``): orders as ingest stored them,
    summarised as the table's projection reads them (lines net of refunds where the order has them), in the
    table's order (by order id)."""

    def __init__(self, orders: Iterable[Order] = (), customers: Iterable[Customer] = ()) -> None:
        self.orders: dict[tuple[str, str], Order] = {}
        self.customers: dict[tuple[str, str], Customer] = {}
        for record in (*orders, *customers):
            self.put(record)

    def put(self, record: Order | Customer) -> None:
        if isinstance(record, Customer):
            self.customers[(record.tenant_id, record.customer_id)] = record
        else:
            self.orders[(record.tenant_id, record.order_id)] = record

    def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        try:
            return self.customers[(tenant_id, customer_id)]
        except KeyError:
            raise NotFoundError(f"customer {customer_id} not found") from None

    def iter_customers(self, tenant_id: str) -> Iterator[Customer]:
        return iter([customer for (tenant, _), customer in sorted(self.customers.items()) if tenant == tenant_id])

    # Tombstones are counted, as the table's count of the partition counts them.
    def count_customers(self, tenant_id: str) -> int:
        return sum(1 for tenant, _ in self.customers if tenant == tenant_id)

    def count_orders(self, tenant_id: str) -> int:
        return sum(1 for tenant, _ in self.orders if tenant == tenant_id)

    def _live_orders(self, tenant_id: str) -> list[Order]:
        return [order for (tenant, _), order in self.orders.items() if tenant == tenant_id and not order.deleted]

    def orders_created_since(self, tenant_id: str, since_gmt: str) -> Iterator[Order]:
        # The by-date index: live orders only, by creation date then order id.
        window = [order for order in self._live_orders(tenant_id) if order.created_gmt >= since_gmt]
        return iter(sorted(window, key=lambda order: f"{order.created_gmt}#{order.order_id}"))

    def orders_of_customer(self, tenant_id: str, customer_id: str, *, since_gmt: str | None = None) -> Iterator[Order]:
        # The by-customer index: live orders only, by creation date (an order of the same second in any order).
        theirs = [
            order
            for order in self._live_orders(tenant_id)
            if order.customer_id == customer_id and order.created_gmt >= (since_gmt or "")
        ]
        return iter(sorted(theirs, key=lambda order: order.created_gmt))

    def iter_order_summaries(self, tenant_id: str) -> Iterator[OrderSummary]:
        for (tenant, _), order in sorted(self.orders.items()):
            if tenant == tenant_id:
                yield OrderSummary(
                    order_id=order.order_id,
                    customer_id=order.customer_id,
                    created_gmt=order.created_gmt,
                    modified_gmt=order.modified_gmt,
                    status_class=order.status_class,
                    deleted=order.deleted,
                    lines=tuple(
                        (line.product_id, line.kept_quantity(), float(line.unit_price), line.kept_total())
                        for line in order.line_items
                    ),
                )


class InMemoryPriceDecisionRepository:
    """The price decision repository (``storage.pricing.PriceDecisionRepository``): decisions in the order of
    their ids (which start with the decision time), as the table lists them."""

    def __init__(self, decisions: Iterable[PriceDecision] = ()) -> None:
        self.decisions: dict[tuple[str, str], PriceDecision] = {}
        for decision in decisions:
            self.record(decision)

    def record(self, decision: PriceDecision) -> None:
        self.decisions[(decision.tenant_id, decision.decision_id)] = decision

    def iter_decisions(self, tenant_id: str) -> Iterator[PriceDecision]:
        return iter([decision for (tenant, _), decision in sorted(self.decisions.items()) if tenant == tenant_id])

    def record_decision(
        self,
        tenant_id: str,
        decision_id: str,
        *,
        product_id: str,
        variation_id: str | None,
        status: str,
        model_version: str,
        decided_by: str,
        decided_at: datetime,
        reason: str | None,
        suggestion: dict[str, Any],
        change_record: dict[str, Any] | None,
    ) -> PriceDecision:
        if (tenant_id, decision_id) in self.decisions:  # the table's put is conditional on a new key too
            raise ConflictError(f"price decision {decision_id} exists")
        decision = PriceDecision(
            tenant_id,
            decision_id,
            product_id,
            variation_id,
            status,
            model_version,
            decided_by,
            decided_at,
            reason,
            _as_json(suggestion),  # stored as JSON, as the table's attributes
            _as_json(change_record) if change_record is not None else None,
        )
        self.record(decision)
        return decision

    def get_decision(self, tenant_id: str, decision_id: str) -> PriceDecision:
        try:
            return self.decisions[(tenant_id, decision_id)]
        except KeyError:
            raise NotFoundError(f"price decision {decision_id} not found") from None

    def mark_rolled_back(self, tenant_id: str, decision_id: str, rollback_record: dict[str, Any]) -> PriceDecision:
        decision = self.decisions.get((tenant_id, decision_id))
        if decision is None or decision.status != "applied":
            raise ConflictError("this price change is no longer applied (rolled back meanwhile)")
        rolled_back = replace(decision, status="rolled_back", rollback_record=_as_json(rollback_record))
        self.record(rolled_back)
        return rolled_back

    def decision_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[PriceDecision]:
        newest_first = sorted(
            (decision for (tenant, _), decision in self.decisions.items() if tenant == tenant_id),
            key=lambda decision: decision.decision_id,
            reverse=True,
        )
        after = [decision for decision in newest_first if cursor is None or decision.decision_id < cursor]
        page = after[:limit]
        return Page(page, page[-1].decision_id if len(after) > limit else None)


class InMemoryMerchandisingRepository:
    """The merchandising repository (``storage.merchandising.MerchandisingRepository``): each tenant's
    recommendation rules, replaced whole; none set reads as the empty rule set."""

    def __init__(self) -> None:
        self.rules: dict[str, MerchandisingRules] = {}

    def get_rules(self, tenant_id: str) -> MerchandisingRules:
        return self.rules.get(tenant_id, NO_MERCHANDISING)

    def save_rules(
        self,
        tenant_id: str,
        *,
        pinned: Sequence[str],
        boosts: Mapping[str, float],
        blocked: Sequence[str],
        actor: str,
    ) -> MerchandisingRules:
        self.rules[tenant_id] = MerchandisingRules(
            pinned=tuple(pinned),
            boosts={str(product): float(amount) for product, amount in boosts.items()},
            blocked=frozenset(blocked),
            updated_at=datetime.now(UTC),
            updated_by=actor,
        )
        return self.rules[tenant_id]


# ----------------------------------------------------------------------------- storefront
@dataclass
class _StoredExposure:
    arm: str
    first_seen: int
    day: str
    revenue: float = 0.0
    order_ids: tuple[str, ...] = ()  # counted as charged, before net revenue was kept
    counted_orders: dict[str, CountedOrder] | None = None  # None until an order is counted, as on the table


class InMemoryStorefrontRepository:
    """The storefront repository (``storage.storefront.StorefrontRepository``): each visitor's events and first
    exposures, and the daily counters, with the table's conditional writes (an event and an exposure stored
    once, an order counted once per version of its amounts, the counters only ADD). Thread-safe: events and
    placements are written from several threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: dict[tuple[str, str, str], tuple[NewEvent, int]] = {}  # (tenant, visitor, event id)
        self.exposures: dict[tuple[str, str, str], _StoredExposure] = {}  # (tenant, visitor, placement)
        self.stats: dict[tuple[str, str, str, str], dict[str, float]] = {}  # (tenant, day, placement, arm)

    def put_new_events(
        self,
        tenant_id: str,
        visitor_id: str,
        arm: str,
        events: Iterable[NewEvent],
        *,
        occurred_at: int,
        expires_at: int,
    ) -> set[str]:
        stored: set[str] = set()
        with self._lock:
            for event in events:
                key = (tenant_id, visitor_id, event.event_id)
                if key not in self.events:
                    self.events[key] = (event, occurred_at)
                    stored.add(event.event_id)
        return stored

    def visitor_records(
        self, tenant_id: str, visitor_id: str, event_ids: Iterable[str], placements: Iterable[str]
    ) -> VisitorRecords:
        with self._lock:
            return VisitorRecords(
                event_ids={e for e in event_ids if (tenant_id, visitor_id, e) in self.events},
                exposed_placements={p for p in placements if (tenant_id, visitor_id, p) in self.exposures},
            )

    def visitor_engagements(self, tenant_id: str, visitor_id: str) -> list[Engagement]:
        with self._lock:  # in the table's order: by event id
            return [
                Engagement(event.placement, tuple(event.product_ids), float(occurred_at))
                for (tenant, visitor, _), (event, occurred_at) in sorted(self.events.items())
                if (tenant, visitor) == (tenant_id, visitor_id) and event.event_type in ("click", "add_to_cart")
            ]

    def record_first_exposure(
        self, tenant_id: str, visitor_id: str, placement: str, arm: str, *, first_seen: int, day: str, expires_at: int
    ) -> bool:
        with self._lock:
            key = (tenant_id, visitor_id, placement)
            if key in self.exposures:
                return False
            self.exposures[key] = _StoredExposure(arm, first_seen, day)
            return True

    def visitor_exposures(self, tenant_id: str, visitor_id: str) -> list[Exposure]:
        with self._lock:  # in the table's order: by placement
            return [
                self._exposure(key, stored)
                for key, stored in sorted(self.exposures.items())
                if key[:2] == (tenant_id, visitor_id)
            ]

    def count_order_on_exposure(
        self, exposure: Exposure, order_id: str, revenue: float, clicked: float, *, first_count: bool
    ) -> OrderCountChange | None:
        if order_id in exposure.charged_order_ids:
            return None
        with self._lock:
            stored = self.exposures[(exposure.tenant_id, exposure.visitor_id, exposure.placement)]
            counted = exposure.counted_orders
            if counted is None:
                if not first_count:
                    return None
                if stored.counted_orders is None:
                    stored.counted_orders = {}
                counted = dict(stored.counted_orders)  # read again, as the table's refresh does
            previous = counted.get(order_id)
            now = stored.counted_orders or {}
            if previous is None:
                if not first_count or order_id in now or order_id in stored.order_ids:
                    return None
                added, attributed_before = revenue, None
            else:
                if (previous.revenue, previous.attributed) == (revenue, clicked) or now.get(order_id) != previous:
                    return None
                added, attributed_before = revenue - previous.revenue, previous.attributed
            stored.counted_orders = {**now, order_id: CountedOrder(float(revenue), float(clicked))}
            stored.revenue += added
            orders_now = len(stored.counted_orders) + len(stored.order_ids)
            return OrderCountChange(stored.revenue - added, added, attributed_before, orders_now)

    def add_to_daily_stats(
        self, tenant_id: str, placement: str, arm: str, day: str, amounts: dict[str, float], *, expires_at: int
    ) -> None:
        unknown = set(amounts) - set(DAILY_COUNTERS)
        if unknown:
            raise ValueError(f"not a daily counter: {', '.join(sorted(unknown))}")
        if not amounts:
            return
        with self._lock:
            row = self.stats.setdefault((tenant_id, day, placement, arm), {})
            for name, amount in amounts.items():
                row[name] = row.get(name, 0.0) + amount

    def daily_stats_since(self, tenant_id: str, first_day: str) -> list[DailyStats]:
        with self._lock:  # in the table's order: by day, placement and arm
            return [
                DailyStats(placement, arm, day, {name: float(row.get(name, 0.0)) for name in DAILY_COUNTERS})
                for (tenant, day, placement, arm), row in sorted(self.stats.items())
                if tenant == tenant_id and day >= first_day
            ]

    @staticmethod
    def _exposure(key: tuple[str, str, str], stored: _StoredExposure) -> Exposure:
        counted = None if stored.counted_orders is None else dict(stored.counted_orders)
        return Exposure(
            *key,
            arm=stored.arm,
            first_seen=float(stored.first_seen),
            day=stored.day,
            revenue=float(stored.revenue),
            charged_order_ids=stored.order_ids,
            counted_orders=counted,
        )


# ----------------------------------------------------------------------------- campaigns
@dataclass
class _Suppression:
    reason: str
    source: str
    customer_id: str | None
    recorded_at: datetime


class InMemoryCampaignRepository:
    """The campaigns repository (``storage.campaigns.CampaignRepository``) in dictionaries, with the table's
    conditions: a send record created only when there is none, a ``retrying`` one taken back only at the attempt
    count read, a stale claim marked ``unknown`` only while it is that claim, a suppression lifted only for the
    reasons given, a campaign id or campaign secret taken once. A flow's records and a tenant's campaigns come
    back in their sort keys' order (customer id and trigger; campaign id)."""

    def __init__(self) -> None:
        self.consents: dict[tuple[str, str, str], ConsentRecord] = {}
        self.suppressions: dict[tuple[str, str, str], _Suppression] = {}
        self.sends: dict[tuple[str, str, str, str], SendRecord] = {}
        self.contacts: dict[tuple[str, str, str], list[int]] = {}
        self.campaigns: dict[tuple[str, str], Campaign] = {}
        self.states: dict[tuple[str, str], CampaignState] = {}

    # consent and suppressions
    def get_consent(self, tenant_id: str, customer_id: str, channel: str) -> ConsentRecord | None:
        return self.consents.get((tenant_id, customer_id, channel))

    def put_consent(self, tenant_id: str, consent: ConsentRecord) -> None:
        self.consents[tenant_id, consent.customer_id, consent.channel] = consent

    def put_consents(self, tenant_id: str, consents: Iterable[ConsentRecord]) -> None:
        for consent in consents:
            self.put_consent(tenant_id, consent)

    def consent_grants(self, tenant_id: str, customer_ids: Iterable[str], channel: str) -> dict[str, bool]:
        found = (self.consents.get((tenant_id, customer_id, channel)) for customer_id in set(customer_ids))
        return {consent.customer_id: consent.granted for consent in found if consent is not None}

    def put_suppression(
        self,
        tenant_id: str,
        channel: str,
        address_hash: str,
        *,
        reason: str,
        source: str,
        customer_id: str | None,
        recorded_at: datetime,
    ) -> None:
        self.suppressions[tenant_id, channel, address_hash] = _Suppression(reason, source, customer_id, recorded_at)

    def suppression_reason(self, tenant_id: str, channel: str, address_hash: str) -> str | None:
        suppression = self.suppressions.get((tenant_id, channel, address_hash))
        return None if suppression is None else suppression.reason

    def delete_suppression(self, tenant_id: str, channel: str, address_hash: str, *, reasons: tuple[str, ...]) -> bool:
        if self.suppression_reason(tenant_id, channel, address_hash) not in reasons:
            return False
        del self.suppressions[tenant_id, channel, address_hash]
        return True

    # send records
    @staticmethod
    def _key(record: SendRecord) -> tuple[str, str, str, str]:
        return record.tenant_id, record.flow, record.customer_id, record.trigger

    def _update(self, record: SendRecord, **changes: Any) -> None:
        key = self._key(record)
        if key in self.sends:
            self.sends[key] = replace(self.sends[key], **changes)

    def create_send_record(self, record: SendRecord) -> bool:
        if self._key(record) in self.sends:
            return False
        self.sends[self._key(record)] = record
        return True

    def get_send_record(
        self, tenant_id: str, flow: str, customer_id: str, trigger: str, *, consistent: bool = True
    ) -> SendRecord:
        try:
            return self.sends[tenant_id, flow, customer_id, trigger]
        except KeyError:
            raise NotFoundError("send record not found") from None

    def reclaim_retrying_send(self, record: SendRecord, now: datetime) -> tuple[SendRecord, bool]:
        current = self.sends[self._key(record)]
        if current.status != "retrying" or current.attempts != record.attempts:
            return current, False
        self.sends[self._key(record)] = replace(
            current, status="claimed", attempts=current.attempts + 1, claimed_at=now
        )
        return self.sends[self._key(record)], True

    def mark_stale_claim_unknown(self, record: SendRecord, reason: str) -> None:
        current = self.sends.get(self._key(record))
        if current is not None and current.status == "claimed" and current.claimed_at == record.claimed_at:
            self._update(record, status="unknown", reason=reason)

    def settle_send(self, record: SendRecord, status: str, reason: str) -> None:
        self._update(record, status=status, reason=reason)

    def mark_sent(self, record: SendRecord, *, sent_at: datetime, provider_message_id: str) -> None:
        self._update(record, status="sent", sent_at=sent_at, provider_message_id=provider_message_id, reason=None)

    def record_delivery_events(
        self,
        record: SendRecord,
        *,
        delivered_at: datetime | None = None,
        opened_at: datetime | None = None,
        clicked_at: datetime | None = None,
        bounced: bool = False,
        complained: bool = False,
    ) -> None:
        given = {"delivered_at": delivered_at, "opened_at": opened_at, "clicked_at": clicked_at}
        changes: dict[str, Any] = {name: moment for name, moment in given.items() if moment is not None}
        if bounced:
            changes["bounced"] = True
        if complained:
            changes["complained"] = True
        if changes:
            self._update(record, **changes)

    def recorded_sends(self, tenant_id: str, flow: str, sends: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        return {
            (customer, trigger) for customer, trigger in sends if (tenant_id, flow, customer, trigger) in self.sends
        }

    def iter_send_records(self, tenant_id: str, flow: str) -> Iterator[SendRecord]:
        ours = [r for r in self.sends.values() if (r.tenant_id, r.flow) == (tenant_id, flow)]
        return iter(sorted(ours, key=lambda r: f"{r.customer_id}#{r.trigger}"))

    def append_contact(self, tenant_id: str, customer_id: str, channel: str, *, sent_at: int, expires_at: int) -> None:
        self.contacts.setdefault((tenant_id, customer_id, channel), []).append(sent_at)

    def contact_times(self, tenant_id: str, customer_id: str, channel: str) -> list[float]:
        return [float(moment) for moment in self.contacts.get((tenant_id, customer_id, channel), [])]

    # one-off campaigns and campaign state
    def create_campaign(self, tenant_id: str, campaign: Campaign) -> Campaign:
        stored = replace(
            campaign,
            template=_as_json(campaign.template),
            ab_test=None if campaign.ab_test is None else _as_json(campaign.ab_test),
            stats=_as_json(campaign.stats),
        )
        if (tenant_id, campaign.campaign_id) in self.campaigns:
            raise ConflictError(f"campaign {campaign.campaign_id} already exists")
        self.campaigns[tenant_id, campaign.campaign_id] = stored
        return campaign

    def get_campaign(self, tenant_id: str, campaign_id: str) -> Campaign:
        try:
            return self.campaigns[tenant_id, campaign_id]
        except KeyError:
            raise NotFoundError(f"campaign {campaign_id} not found") from None

    def list_campaigns(self, tenant_id: str) -> list[Campaign]:
        return [campaign for (tenant, _), campaign in sorted(self.campaigns.items()) if tenant == tenant_id]

    def record_campaign_run(self, tenant_id: str, campaign_id: str, *, status: str, stats: dict[str, Any]) -> None:
        stored = _as_json(stats)
        campaign = self.get_campaign(tenant_id, campaign_id)
        self.campaigns[tenant_id, campaign_id] = replace(campaign, status=status, stats=stored)

    def get_campaign_state(self, tenant_id: str, name: str) -> CampaignState | None:
        return self.states.get((tenant_id, name))

    def create_campaign_secret(self, tenant_id: str, name: str, ciphertext: bytes) -> bool:
        if (tenant_id, name) in self.states:
            return False
        self.states[tenant_id, name] = CampaignState(ciphertext, {})
        return True

    def put_campaign_state(self, tenant_id: str, name: str, state: dict[str, Any]) -> None:
        # The table's put replaces the whole item: a secret of the same name would be gone.
        self.states[tenant_id, name] = CampaignState(None, _as_json(state))


class InMemoryServingModels:
    """Trained models ready to serve (``campaigns.sources.ServingModels``, what ``serving.loader.ModelCache``
    answers): the serving objects a test puts per tenant and kind; none put is the cache's NotFoundError."""

    def __init__(self) -> None:
        self.models: dict[tuple[str, str], tuple[Any, str]] = {}
        self.reads: list[tuple[str, str]] = []

    def put(self, tenant_id: str, kind: str, serving: Any, version: str = "v1") -> None:
        self.models[tenant_id, kind] = (serving, version)

    def current_serving(self, tenant_id: str, kind: str) -> tuple[Any, str]:
        self.reads.append((tenant_id, kind))
        try:
            return self.models[tenant_id, kind]
        except KeyError:
            raise NotFoundError(f"no {kind} model has been trained for this tenant yet") from None


# ----------------------------------------------------------------------------- ingest
def _resource_and_id(record: StoreRecord) -> tuple[str, str]:
    if isinstance(record, Order):
        return "order", record.order_id
    if isinstance(record, Product):
        return "product", record.product_id
    if isinstance(record, Customer):
        return "customer", record.customer_id
    return "coupon", record.coupon_id


class InMemoryIngestRepository:
    """The ingest repository (``storage.ingest.IngestRepository``): store records by tenant, resource and id
    under the table's newer-wins condition (written when none is stored, when the stored one is older, or the
    same version with other content; a restore also over a tombstone), rejected deliveries newest first, the
    last delivery seen per store and topic, never moving back in time, and the back-fill checkpoints (each
    saved whole, read back as a copy). ``written`` lists every record written, in order."""

    def __init__(self, records: Iterable[StoreRecord] = ()) -> None:
        self.records: dict[tuple[str, str, str], StoreRecord] = {}
        self.rejected: dict[tuple[str, str], RejectedEvent] = {}  # (tenant, received_at#event_id) -> event
        self.topics: dict[tuple[str, str, str], str] = {}  # (tenant, store, topic) -> last delivery seen
        self.checkpoints: dict[tuple[str, str, str], Checkpoint] = {}  # (tenant, store, resource) -> checkpoint
        self.written: list[StoreRecord] = []
        self._lock = threading.Lock()  # the back-fill writes a page from several threads
        for record in records:
            self.put(record)

    def put(self, record: StoreRecord) -> None:
        """Store a record unconditionally (a test's Given)."""
        self.records[(record.tenant_id, *_resource_and_id(record))] = record

    def _conditional_put(self, record: StoreRecord, lift_tombstone: bool) -> PutOutcome:
        key = (record.tenant_id, *_resource_and_id(record))
        with self._lock:
            stored = self.records.get(key)
            if stored is not None and not (lift_tombstone and stored.deleted):
                older = record.modified_gmt < stored.modified_gmt
                same = record.modified_gmt == stored.modified_gmt and record.content_hash == stored.content_hash
                if older or same:
                    return PutOutcome(written=False, added=False)
            self.records[key] = record
            self.written.append(record)
            return PutOutcome(written=True, added=stored is None or stored.deleted)

    def put_if_newer(self, record: StoreRecord, *, lift_tombstone: bool = False) -> bool:
        return self._conditional_put(record, lift_tombstone).written

    def put_if_newer_reporting(self, record: StoreRecord, *, lift_tombstone: bool = False) -> PutOutcome:
        return self._conditional_put(record, lift_tombstone)

    def stored_record(self, tenant_id: str, resource: str, resource_id: str) -> StoreRecord | None:
        return self.records.get((tenant_id, resource, resource_id))

    def is_stored_live(self, record: StoreRecord) -> bool:
        stored = self.records.get((record.tenant_id, *_resource_and_id(record)))
        return stored is not None and not stored.deleted

    def iter_variations(self, tenant_id: str, parent_id: str) -> Iterator[Product]:
        products = [
            record
            for (tenant, resource, _), record in sorted(self.records.items(), key=lambda entry: entry[0])
            if tenant == tenant_id and resource == "product"
        ]
        return iter([p for p in products if isinstance(p, Product) and p.parent_id == parent_id])

    def get_order(self, tenant_id: str, order_id: str, *, consistent: bool = False) -> Order:
        order = self.records.get((tenant_id, "order", order_id))
        if not isinstance(order, Order):
            raise NotFoundError(f"order {order_id} not found")
        return order

    def record_rejected_event(self, tenant_id: str, event_id: str, event: RejectedEvent, *, expires_at: int) -> None:
        self.rejected[(tenant_id, f"{event.received_at}#{event_id}")] = event

    def list_rejected_events(self, tenant_id: str, limit: int = 100) -> list[RejectedEvent]:
        newest_first = sorted(((sk, event) for (tenant, sk), event in self.rejected.items() if tenant == tenant_id))
        return [event for _, event in reversed(newest_first)][:limit]

    def rejected_events_since(self, tenant_id: str, store_id: str, since: str) -> list[RejectedEvent]:
        # The table's range starts at ``since`` on the sort key (receipt time, then the event id)
        return [
            event
            for (tenant, sk), event in sorted(self.rejected.items(), reverse=True)
            if tenant == tenant_id and sk >= since and event.store_id == store_id
        ]

    def get_checkpoint(self, tenant_id: str, store_id: str, resource: str) -> Checkpoint | None:
        checkpoint = self.checkpoints.get((tenant_id, store_id, resource))
        return None if checkpoint is None else checkpoint.model_copy(deep=True)

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        key = (checkpoint.tenant_id, checkpoint.store_id, checkpoint.resource)
        self.checkpoints[key] = checkpoint.model_copy(deep=True)

    def store_checkpoints(self, tenant_id: str, store_id: str) -> list[Checkpoint]:
        return [
            checkpoint.model_copy(deep=True)
            for (tenant, store, _), checkpoint in sorted(self.checkpoints.items(), key=lambda entry: entry[0])
            if (tenant, store) == (tenant_id, store_id)
        ]

    def stamp_topic_delivery(self, tenant_id: str, store_id: str, topic: str, stamp: str) -> bool:
        key = (tenant_id, store_id, topic)
        with self._lock:
            if key in self.topics and self.topics[key] >= stamp:
                return False
            self.topics[key] = stamp
            return True

    def topic_deliveries(self, tenant_id: str, store_id: str) -> dict[str, str]:
        return {
            topic: stamp
            for (tenant, store, topic), stamp in self.topics.items()
            if (tenant, store) == (tenant_id, store_id)
        }

    def forget_store_ingest(self, tenant_id: str, store_id: str) -> None:
        # The store's checkpoints and topic stamps; its records and rejections stay, as on the table.
        for mapping in (self.checkpoints, self.topics):
            for key in [key for key in mapping if key[:2] == (tenant_id, store_id)]:
                del mapping[key]


class InMemoryUsageCounter:
    """The plan's usage counters (``billing.usage.UsageCounter``) against the allowances of each tenant's plan
    (``plan`` unless :meth:`set_plan` says otherwise), as the table counts them: one counter per tenant and
    metric (a test runs within one period), added to only while the total stays within the allowance (a counter
    not yet started holds 0), given back never below zero (nothing when
    it holds less). Only quotas and sizes: a channel the plan lacks and the storefront allowance are the
    product's concern."""

    def __init__(self, plan: str = "free") -> None:
        self.plan = plan
        self.plans: dict[str, str] = {}
        self.used: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def set_plan(self, tenant_id: str, plan: str) -> None:
        self.plans[tenant_id] = plan

    def consume(self, tenant_id: str, metric: str, amount: int = 1) -> int:
        if amount < 1:
            raise InvalidInputError("amount must be at least 1")
        plan = get_plan(self.plans.get(tenant_id, self.plan))
        allowed, period = plan.allowance(metric)
        with self._lock:
            used = self.used.get((tenant_id, metric), 0)
            if used > allowed - amount:
                raise PlanLimitExceededError(
                    metric if period == "held" else f"{metric}_per_{period}", allowed, plan.name
                )
            self.used[(tenant_id, metric)] = used + amount
            return self.used[(tenant_id, metric)]

    def release(self, tenant_id: str, metric: str, amount: int = 1) -> None:
        if amount < 1:
            return
        with self._lock:
            used = self.used.get((tenant_id, metric), 0)
            if used >= amount:
                self.used[(tenant_id, metric)] = used - amount


# ----------------------------------------------------------------------------- privacy jobs
class InMemoryPrivacyJobRepository:
    """The privacy jobs repository (``storage.privacy_jobs.PrivacyJobRepository``) with the table's conditions:
    claimed when pending or running past its lease (epoch seconds by the same clock as the table's), finished
    only while running (ConflictError otherwise), put back to pending only while running; a result stored as
    JSON, as the table's attribute. ``leases`` holds each running job's lease."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], PrivacyJob] = {}
        self.leases: dict[tuple[str, str], int] = {}

    def create_job(self, tenant_id: str, *, kind: str, requested_by: str, subject_sha256: str | None) -> PrivacyJob:
        job_id = new_job_id()
        if (tenant_id, job_id) in self.jobs:
            raise ConflictError("a privacy job with this id exists already; ask again")
        job = PrivacyJob(
            tenant_id=tenant_id,
            job_id=job_id,
            kind=kind,
            status=JOB_PENDING,
            requested_by=requested_by,
            subject_sha256=subject_sha256,
            created_at=datetime.now(UTC),
            started_at=None,
            finished_at=None,
            attempts=0,
            result=None,
            failure_reason=None,
            export_key=None,
        )
        self.jobs[(tenant_id, job_id)] = job
        return job

    def get_job(self, tenant_id: str, job_id: str) -> PrivacyJob | None:
        return self.jobs.get((tenant_id, job_id))

    def claim_job(self, tenant_id: str, job_id: str, *, lease_seconds: int) -> PrivacyJob | None:
        key, now = (tenant_id, job_id), time.time()
        job = self.jobs.get(key)
        lapsed = job is not None and job.status == JOB_RUNNING and key in self.leases and self.leases[key] < int(now)
        if job is None or not (job.status == JOB_PENDING or lapsed):
            return None
        self.leases[key] = int(now + lease_seconds)
        self.jobs[key] = replace(job, status=JOB_RUNNING, started_at=datetime.now(UTC), attempts=job.attempts + 1)
        return self.jobs[key]

    def _finish(self, tenant_id: str, job_id: str, status: str, **changes: Any) -> None:
        key = (tenant_id, job_id)
        job = self.jobs.get(key)
        if job is None or job.status != JOB_RUNNING:
            raise ConflictError(f"privacy job {job_id} is not running; not finished again")
        self.leases.pop(key, None)
        self.jobs[key] = replace(job, status=status, finished_at=datetime.now(UTC), **changes)

    def finish_job(
        self,
        tenant_id: str,
        job_id: str,
        *,
        result: dict[str, Any],
        export_key: str | None = None,
        expires_at: int | None = None,
    ) -> None:
        changes: dict[str, Any] = {"result": _as_json(result)}
        if export_key:
            changes["export_key"] = export_key
        self._finish(tenant_id, job_id, JOB_DONE, **changes)

    def fail_job(self, tenant_id: str, job_id: str, *, reason: str) -> None:
        self._finish(tenant_id, job_id, JOB_FAILED, failure_reason=reason)

    def release_job(self, tenant_id: str, job_id: str, *, reason: str) -> None:
        key = (tenant_id, job_id)
        job = self.jobs.get(key)
        if job is not None and job.status == JOB_RUNNING:
            self.leases.pop(key, None)
            self.jobs[key] = replace(job, status=JOB_PENDING, failure_reason=reason)

    def export_keys_of_subject(self, tenant_id: str, subject_sha256: str) -> list[str]:
        # The table's order: by job id.
        return [
            job.export_key
            for (tenant, _), job in sorted(self.jobs.items(), key=lambda entry: entry[0])
            if tenant == tenant_id and job.subject_sha256 == subject_sha256 and job.export_key
        ]


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    """A string attribute of an item in DynamoDB JSON (a filter's ``#name = :value`` matches strings only)."""
    value = raw.get(name)
    return value.get("S") if isinstance(value, dict) else None


class InMemoryPersonalDataRepository:
    """The personal data repository (``storage.personal_data.PersonalDataRepository``) over an in-memory table:
    ``items`` by (pk, sk) in DynamoDB JSON, as a scan returns them, seeded from the entities themselves with
    :meth:`put`. A customer's items are matched as the scan's filters match them (the tenant, and the customer
    id, the customer's own keys or the customer's e-mail or its hash); erasure deletes them or, for the
    anonymised entities, sets the pseudonym and removes the index keys and contact details, as the table's
    UpdateItem does."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, *entities: BaseItem) -> None:
        for entity in entities:
            raw = copy.deepcopy(entity.serialize())  # later changes to the entity are not stored
            self.items[(raw["pk"]["S"], raw["sk"]["S"])] = raw

    def _tenant_items(self, tenant_id: str) -> list[dict[str, Any]]:
        validate_tenant_id(tenant_id)
        return [raw for raw in self.items.values() if _text(raw, "tenant_id") == tenant_id]

    def _customer_items(self, tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
        validate_tenant_id(tenant_id)
        validate_entity_id(customer_id, "customer id")
        customers = tenant_partition(tenant_id, "CUSTOMER")
        own = tenant_partition(tenant_id, "CUSTOMER", customer_id)
        tenant_items = self._tenant_items(tenant_id)
        found = [
            raw
            for raw in tenant_items
            if _text(raw, "customer_id") == customer_id
            or (_text(raw, "pk") == customers and _text(raw, "sk") == customer_id)
            or str(_text(raw, "pk")).startswith(own)
        ]
        emails = {_text(raw, "email") for raw in found if _text(raw, "entity") == "customer"} - {None}
        for email in sorted(str(e) for e in emails):
            digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
            found.extend(
                raw
                for raw in tenant_items
                if (_text(raw, "email") == email or _text(raw, "email_sha256") == digest)
                and all(raw is not seen for seen in found)
            )
        return found

    def customer_records(self, tenant_id: str, customer_id: str) -> list[PersonalRecord]:
        return [personal_record(raw) for raw in self._customer_items(tenant_id, customer_id)]

    def erase_customer_records(
        self, tenant_id: str, customer_id: str, *, pseudonym: str, anonymised_entities: Collection[str]
    ) -> Erasure:
        deleted: dict[str, int] = {}
        anonymised: dict[str, int] = {}
        for raw in self._customer_items(tenant_id, customer_id):
            entity, key = str(_text(raw, "entity") or "unknown"), (raw["pk"]["S"], raw["sk"]["S"])
            if entity in anonymised_entities:
                for name in ("gsi1pk", "gsi1sk", "billing_country", "email", "phone"):
                    raw.pop(name, None)
                raw["customer_id"] = {"S": pseudonym}
                anonymised[entity] = anonymised.get(entity, 0) + 1
            else:
                del self.items[key]
                deleted[entity] = deleted.get(entity, 0) + 1
        return Erasure(deleted=deleted, anonymised=anonymised)

    def count_customer_items(self, tenant_id: str, customer_id: str) -> int:
        return len(self._customer_items(tenant_id, customer_id))

    def _doomed(self, tenant_id: str, keep: Collection[tuple[str, str]]) -> list[tuple[str, str]]:
        keys = [(raw["pk"]["S"], raw["sk"]["S"]) for raw in self._tenant_items(tenant_id)]
        return [key for key in keys if key not in keep]

    def count_tenant_items(self, tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> int:
        return len(self._doomed(tenant_id, keep))

    def delete_tenant_items(self, tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> TenantItemsDeleted:
        doomed = self._doomed(tenant_id, keep)
        for key in doomed:
            del self.items[key]
        members = [sk.removeprefix(MEMBERSHIP_PREFIX) for _, sk in doomed if sk.startswith(MEMBERSHIP_PREFIX)]
        return TenantItemsDeleted(items=len(doomed), member_user_ids=members)
