"""The DynamoDB data model (one table, see docs/data-model.md), modelled with pynamodb.

Every entity shares the table's keys ``pk`` / ``sk`` and the ``gsi1`` index. Keys are built only by the
``key_*`` helpers below through :func:`luxebrain.tenancy.tenant_partition`, so each partition key starts
with the tenant. The table name and endpoint come from settings through :func:`configure_models`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from luxebrain.tenancy import tenant_partition

DEFAULT_TABLE_NAME = "luxebrain-data"


def utc_now() -> datetime:
    return datetime.now(UTC)


class BaseItem(Model):
    """Keys shared by every entity in the table."""

    class Meta:
        table_name = DEFAULT_TABLE_NAME
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    entity = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(default=utc_now)
    expires_at = NumberAttribute(null=True)  # epoch seconds; the table's TTL attribute

    ENTITY: ClassVar[str] = "item"


# The table's one GSI serves several entities; pynamodb binds an index class to one model, so each
# entity that queries it has its own index class (all named gsi1, same keys).
class TenantDirectoryIndex(GlobalSecondaryIndex["TenantItem"]):
    """gsi1 as the platform's tenant directory (platform admins only)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class OrdersByCustomerIndex(GlobalSecondaryIndex["OrderItem"]):
    """gsi1 as a customer's orders by creation date (exports, erasure, campaigns)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


# ----------------------------------------------------------------------------- tenants and stores
class TenantItem(BaseItem):
    """A LuxeBrain customer (a merchant). The directory entry in gsi1 lets platform admins list tenants."""

    ENTITY = "tenant"
    name = UnicodeAttribute()
    plan = UnicodeAttribute(default="free")
    status = UnicodeAttribute(default="active")  # active | suspended | deleting
    created_at = UTCDateTimeAttribute(default=utc_now)
    settings = JSONAttribute(default=dict)
    directory = TenantDirectoryIndex()


class StoreItem(BaseItem):
    """A tenant's WooCommerce store. Credentials are KMS-encrypted in ``secrets_ciphertext`` and never
    leave the storage layer except to sign / call WooCommerce."""

    ENTITY = "store"
    store_id = UnicodeAttribute()
    url = UnicodeAttribute()
    currency = UnicodeAttribute(default="EUR")
    timezone = UnicodeAttribute(default="UTC")
    secrets_ciphertext = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute(default=utc_now)
    status = UnicodeAttribute(default="active")
    stats = JSONAttribute(default=dict)  # ingest counters and back-fill progress shown on the dashboard
    last_event_at = UnicodeAttribute(null=True)  # when the processor last stored a delivery of this store
    # Our webhooks on the store, per topic (id, status, times found off, re-enables) and the last health run.
    webhooks = JSONAttribute(default=dict)


# ----------------------------------------------------------------------------- store data
class LineItem(MapAttribute[str, Any]):
    line_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    variation_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    sku = UnicodeAttribute(null=True)
    quantity = NumberAttribute()  # as ordered (gross); may be fractional (goods sold by weight or length)
    unit_price = NumberAttribute()
    subtotal = NumberAttribute()
    total = NumberAttribute()  # as ordered, after discounts (gross)
    refunded_quantity = NumberAttribute(default=0)
    refunded_total = NumberAttribute(default=0)
    # What was kept: gross minus refunds. Absent on records stored before refunds were tracked (= gross).
    net_quantity = NumberAttribute(null=True)
    net_total = NumberAttribute(null=True)

    def kept_quantity(self) -> float:
        return float(self.quantity if self.net_quantity is None else self.net_quantity)

    def kept_total(self) -> float:
        return float(self.total if self.net_total is None else self.net_total)


class CouponLine(MapAttribute[str, Any]):
    code = UnicodeAttribute()
    discount = NumberAttribute()


class ProductItem(BaseItem):
    ENTITY = "product"
    product_id = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)  # the store it came from: price writes go there
    parent_id = UnicodeAttribute(null=True)  # set for variations
    product_type = UnicodeAttribute(default="simple")  # simple | variable | variation | ...
    name = UnicodeAttribute(default="")
    sku = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="publish")
    categories = ListAttribute(of=UnicodeAttribute, default=list)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    price = NumberAttribute(null=True)
    regular_price = NumberAttribute(null=True)
    sale_price = NumberAttribute(null=True)
    cost = NumberAttribute(null=True)
    stock_quantity = NumberAttribute(null=True)
    stock_status = UnicodeAttribute(default="instock")
    modified_gmt = UnicodeAttribute(default="")
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)


class CustomerItem(BaseItem):
    """A customer, registered (WooCommerce id) or guest (``guest:<sha256 of e-mail>``).
    E-mail and phone are kept because campaigns need them; they are never logged."""

    ENTITY = "customer"
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    created_gmt = UnicodeAttribute(default="")
    modified_gmt = UnicodeAttribute(default="")
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)


class OrderItem(BaseItem):
    """An order with its line items in the same item, so one order is one write."""

    ENTITY = "order"
    order_id = UnicodeAttribute()
    status = UnicodeAttribute()
    status_class = UnicodeAttribute()  # purchase | refund | cancelled | cart | other
    currency = UnicodeAttribute(default="EUR")
    customer_id = UnicodeAttribute()
    billing_country = UnicodeAttribute(null=True)
    total = NumberAttribute(default=0)  # what the customer was charged (gross), shipping, fees and tax included
    discount_total = NumberAttribute(default=0)
    # Kept apart from product revenue: lines net of refunds (``product_net_total``), shipping, fees, tax.
    product_total = NumberAttribute(null=True)
    product_net_total = NumberAttribute(null=True)
    shipping_total = NumberAttribute(default=0)
    fee_total = NumberAttribute(default=0)
    tax_total = NumberAttribute(default=0)
    refunded_total = NumberAttribute(default=0)
    net_total = NumberAttribute(null=True)  # total minus refunds; absent on records stored before refunds were kept
    refunds = JSONAttribute(default=list)  # [{id, amount, created_gmt, lines_known}]
    # The refunds' line items as WooCommerce's refunds endpoint gave them (ids, quantities, amounts only), so a
    # re-delivery of the same order does not ask the store again.
    refund_details = JSONAttribute(default=list)
    refunds_estimated = BooleanAttribute(default=False)  # a refund's lines were unknown: spread over the lines
    attribution = JSONAttribute(default=dict)  # WooCommerce order attribution: source type, UTM fields
    created_gmt = UnicodeAttribute()
    modified_gmt = UnicodeAttribute(default="")
    paid_gmt = UnicodeAttribute(null=True)
    completed_gmt = UnicodeAttribute(null=True)
    line_items = ListAttribute(of=LineItem, default=list)
    coupon_lines = ListAttribute(of=CouponLine, default=list)
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)
    # The storefront widget's random visitor id and last clicked placement, from the order's meta_data.
    storefront_attribution = JSONAttribute(null=True)
    by_customer = OrdersByCustomerIndex()

    def kept_total(self) -> float:
        """The order's value net of refunds (gross for records stored before refunds were kept)."""
        return float(self.total if self.net_total is None else self.net_total)


# ----------------------------------------------------------------------------- models
class ModelRunItem(BaseItem):
    """One training run of one model kind for one tenant."""

    ENTITY = "model_run"
    run_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    version = UnicodeAttribute()
    status = UnicodeAttribute()  # running | succeeded | rejected | failed
    started_at = UTCDateTimeAttribute(default=utc_now)
    finished_at = UTCDateTimeAttribute(null=True)
    duration_seconds = NumberAttribute(null=True)
    rows_used = NumberAttribute(default=0)
    metrics = JSONAttribute(default=dict)
    reason = UnicodeAttribute(null=True)
    artifact_prefix = UnicodeAttribute(null=True)


ALL_MODELS: tuple[type[BaseItem], ...] = (
    TenantItem,
    StoreItem,
    ProductItem,
    CustomerItem,
    OrderItem,
    ModelRunItem,
)


# ----------------------------------------------------------------------------- keys
def key_tenant(tenant_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), "PROFILE"


TENANT_DIRECTORY_PARTITION = "PLATFORM#TENANTS"


def tenant_directory_keys(tenant_id: str, created_at: datetime) -> tuple[str, str]:
    """The one partition not owned by a tenant: the platform's directory of tenants (gsi1 only)."""
    return TENANT_DIRECTORY_PARTITION, f"{created_at.isoformat()}#{tenant_id}"


def key_store(tenant_id: str, store_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"STORE#{store_id}"


def key_product(tenant_id: str, product_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "PRODUCT"), product_id


def key_customer(tenant_id: str, customer_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CUSTOMER"), customer_id


def key_order(tenant_id: str, order_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "ORDER"), order_id


def customer_orders_index_keys(tenant_id: str, customer_id: str, created_gmt: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CUSTOMER", customer_id), f"ORDER#{created_gmt}"


def key_model_run(tenant_id: str, kind: str, started_at: datetime, run_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "RUN"), f"{kind}#{started_at.isoformat()}#{run_id}"


# ----------------------------------------------------------------------------- conditional writes
def is_condition_failure(exc: Exception) -> bool:
    """True when a pynamodb write failed only because its condition did not hold (the expected outcome of a
    duplicate, a stale version or a lost race), as opposed to an error worth retrying."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


# ----------------------------------------------------------------------------- configuration
def configure_models(table_name: str, region: str) -> None:
    """Point every model at the configured table; the endpoint comes from AWS_ENDPOINT_URL like boto3."""
    for model in (BaseItem, *ALL_MODELS):
        model.Meta.table_name = table_name
        model.Meta.region = region
        model._connection = None  # pynamodb caches the connection with the old table name


# ----------------------------------------------------------------------------- API: members, keys, usage, audit
class MembershipsByUserIndex(GlobalSecondaryIndex["MembershipItem"]):
    """gsi1 as a user's tenant memberships: the API finds a verified user's tenant and role here."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class MembershipItem(BaseItem):
    """A Cognito user's role in a tenant. ``signed_out_at`` (epoch seconds) rejects access tokens issued
    before a global sign-out, which Cognito itself only enforces for refresh tokens."""

    ENTITY = "membership"
    user_sub = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute()  # owner | staff | read-only
    created_at = UTCDateTimeAttribute(default=utc_now)
    signed_out_at = NumberAttribute(null=True)
    by_user = MembershipsByUserIndex()


class StorefrontKeyItem(BaseItem):
    """A tenant's publishable storefront key, stored as a SHA-256 hash; the previous key stays valid for a
    short grace period after a rotation so cached widgets keep working."""

    ENTITY = "storefront_key"
    key_id = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    previous_secret_hash = UnicodeAttribute(null=True)
    previous_valid_until = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utc_now)
    rotated_at = UTCDateTimeAttribute(null=True)


class UsageCounterItem(BaseItem):
    """One usage counter of one tenant in one period (month, day or minute); updated with ADD."""

    ENTITY = "usage"
    metric = UnicodeAttribute()
    period = UnicodeAttribute()
    used = NumberAttribute(default=0)


class AuditItem(BaseItem):
    """An audit record: who did what in a tenant (impersonation, suspension, erasure, key rotation)."""

    ENTITY = "audit"
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    details = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute(default=utc_now)


class ImpersonationItem(BaseItem):
    """A platform admin's time-limited session inside one tenant; every one has an audit record."""

    ENTITY = "impersonation"
    session_id = UnicodeAttribute()
    admin_sub = UnicodeAttribute()
    role = UnicodeAttribute()
    reason = UnicodeAttribute()


class UserSessionItem(BaseItem):
    """One login of a Cognito user (keyed by the ``origin_jti`` its access and refreshed tokens carry) and
    when it started, in epoch milliseconds; or, under ``sk = VALID_AFTER``, the moment before which every
    session of the user has ended (logout, password change or reset, removal). Platform admins included, so
    these live in a per-user partition, not a tenant's."""

    ENTITY = "user_session"
    user_sub = UnicodeAttribute()
    at_ms = NumberAttribute()


ALL_MODELS = (
    *ALL_MODELS,
    MembershipItem,
    StorefrontKeyItem,
    UsageCounterItem,
    AuditItem,
    ImpersonationItem,
    UserSessionItem,
)


def key_membership(tenant_id: str, user_sub: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"MEMBER#{user_sub}"


def membership_index_keys(tenant_id: str, user_sub: str) -> tuple[str, str]:
    # Not a table partition: the index lets a verified user find the tenant they belong to.
    return f"USER#{user_sub}", f"TENANT#{tenant_id}"


USER_SESSIONS_VALID_AFTER = "VALID_AFTER"


def user_sessions_partition(user_sub: str) -> str:
    # Not a tenant's partition: a user's sessions, read only with the sub of a verified token.
    return f"USER#{user_sub}#SESSIONS"


def key_user_session(user_sub: str, origin_jti: str) -> tuple[str, str]:
    return user_sessions_partition(user_sub), f"SESSION#{origin_jti}"


def key_user_sessions_valid_after(user_sub: str) -> tuple[str, str]:
    return user_sessions_partition(user_sub), USER_SESSIONS_VALID_AFTER


def key_storefront_key(tenant_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), "STOREFRONT_KEY"


def key_usage(tenant_id: str, metric: str, period: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "USAGE"), f"{metric}#{period}"


def key_audit(tenant_id: str, created_at: datetime, audit_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "AUDIT"), f"{created_at.isoformat()}#{audit_id}"


def key_impersonation(tenant_id: str, session_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "IMPERSONATION"), session_id


# ----------------------------------------------------------------------------- ingest (issue 3)
class CouponItem(BaseItem):
    """A store coupon (from coupon.* webhooks and the back-fill); campaigns and pricing read it."""

    ENTITY = "coupon"
    coupon_id = UnicodeAttribute()
    code = UnicodeAttribute(default="")
    discount_type = UnicodeAttribute(default="fixed_cart")
    amount = NumberAttribute(default=0)
    expires_gmt = UnicodeAttribute(null=True)
    usage_count = NumberAttribute(default=0)
    modified_gmt = UnicodeAttribute(default="")
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)


class RejectedEventItem(BaseItem):
    """A webhook delivery or back-fill record that could not be stored, with the reason. No body is kept
    (it holds personal data): only its hash and size, enough to match it to WooCommerce's delivery log."""

    ENTITY = "rejected_event"
    store_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    reason = UnicodeAttribute()
    resource_id = UnicodeAttribute(null=True)
    delivery_id = UnicodeAttribute(null=True)
    body_sha256 = UnicodeAttribute()
    body_bytes = NumberAttribute(default=0)
    received_at = UnicodeAttribute()


class IngestCheckpointItem(BaseItem):
    """Back-fill progress of one store and resource: where to resume after a crash or a Lambda timeout."""

    ENTITY = "ingest_checkpoint"
    store_id = UnicodeAttribute()
    resource = UnicodeAttribute()  # products | customers | orders | _run (the whole store's run)
    run_id = UnicodeAttribute(null=True)  # the back-fill run this checkpoint belongs to
    status = UnicodeAttribute(default="running")  # running | done
    watermark_gmt = UnicodeAttribute(null=True)  # modified_after of the next incremental run
    run_modified_after = UnicodeAttribute(null=True)  # fixed for the run in progress, so pages stay stable
    run_high_water_gmt = UnicodeAttribute(null=True)  # newest date_modified_gmt seen in this run
    next_page = NumberAttribute(default=1)
    total_pages = NumberAttribute(null=True)
    items_done = NumberAttribute(default=0)
    total_items = NumberAttribute(null=True)  # X-WP-Total of the run's query (the dashboard's progress bar)
    run_started_at = UnicodeAttribute(null=True)  # when this resource's run began (for the ETA)
    runs_completed = NumberAttribute(default=0)


ALL_MODELS = (*ALL_MODELS, CouponItem, RejectedEventItem, IngestCheckpointItem)


def key_coupon(tenant_id: str, coupon_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "COUPON"), coupon_id


def key_rejected_event(tenant_id: str, received_at: str, event_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "REJECTED"), f"{received_at}#{event_id}"


def key_ingest_checkpoint(tenant_id: str, store_id: str, resource: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CHECKPOINT"), f"{store_id}#{resource}"


# ----------------------------------------------------------------------------- campaigns
class ConsentItem(BaseItem):
    """A customer's current consent for one channel, with where it came from and the history of changes."""

    ENTITY = "consent"
    customer_id = UnicodeAttribute()
    channel = UnicodeAttribute()  # email | sms | whatsapp
    granted = BooleanAttribute()
    source = UnicodeAttribute()  # checkout-checkbox | unsubscribe-link | sms-stop | api | import ...
    recorded_at = UTCDateTimeAttribute(default=utc_now)
    history = JSONAttribute(default=list)  # earlier states, newest last (capped)


class SuppressionItem(BaseItem):
    """An address a tenant must not message on a channel: STOP, unsubscribe, bounce or complaint.
    Keyed by a hash of the normalised address so a lookup needs no customer record."""

    ENTITY = "suppression"
    channel = UnicodeAttribute()
    reason = UnicodeAttribute()  # stop | unsubscribe | bounce | complaint
    source = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute(default=utc_now)


class SendRecordItem(BaseItem):
    """One message of one flow to one customer for one trigger: written (conditionally) before the
    provider is called, so a retried or concurrent run cannot send it twice."""

    ENTITY = "campaign_send"
    flow = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    trigger = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()  # claimed | sent | skipped | held_out | retrying | failed | unknown
    reason = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    test_id = UnicodeAttribute(null=True)
    variant = UnicodeAttribute(null=True)
    assigned_at = UTCDateTimeAttribute(default=utc_now)
    claimed_at = UTCDateTimeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    opened_at = UTCDateTimeAttribute(null=True)
    clicked_at = UTCDateTimeAttribute(null=True)
    bounced = BooleanAttribute(default=False)
    complained = BooleanAttribute(default=False)
    request = JSONAttribute(default=dict)  # what the sender needs to (re)build the message


class ContactLogItem(BaseItem):
    """When a customer was messaged on a channel (epoch seconds, appended atomically): frequency caps read
    one item with a strongly consistent GetItem instead of querying send records."""

    ENTITY = "campaign_contact"
    channel = UnicodeAttribute()
    sent = ListAttribute(of=NumberAttribute, default=list)


class CampaignItem(BaseItem):
    """A one-off campaign to a segment with a scheduled send time."""

    ENTITY = "campaign"
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    segment = UnicodeAttribute()
    channel = UnicodeAttribute(default="email")
    template = JSONAttribute(default=dict)  # subject / html / text / sms overrides (tenant-edited)
    ab_test = JSONAttribute(null=True)
    scheduled_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default="scheduled")  # scheduled | running | sent | cancelled
    stats = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute(default=utc_now)


class CampaignStateItem(BaseItem):
    """Per-tenant campaign state: the encrypted unsubscribe signing key, the product watch snapshot."""

    ENTITY = "campaign_state"
    secret_ciphertext = BinaryAttribute(legacy_encoding=False, null=True)
    state = JSONAttribute(default=dict)


ALL_MODELS = (
    *ALL_MODELS,
    ConsentItem,
    SuppressionItem,
    SendRecordItem,
    ContactLogItem,
    CampaignItem,
    CampaignStateItem,
)


def key_consent(tenant_id: str, customer_id: str, channel: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CONSENT"), f"{customer_id}#{channel}"


def key_suppression(tenant_id: str, channel: str, address_hash: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "SUPPRESS"), f"{channel}#{address_hash}"


def key_send(tenant_id: str, flow: str, customer_id: str, trigger: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "SEND", flow), f"{customer_id}#{trigger}"


def key_contact_log(tenant_id: str, customer_id: str, channel: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CONTACT"), f"{customer_id}#{channel}"


def key_campaign(tenant_id: str, campaign_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CAMPAIGN"), campaign_id


def key_campaign_state(tenant_id: str, name: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"CAMPAIGN_STATE#{name}"


# ----------------------------------------------------------------------------- training (issue 8)
class TrainingStateItem(BaseItem):
    """Per tenant: when its data last changed, when it was last trained, and the training lease.

    The lease (``lease_owner`` / ``lease_expires_at``, epoch seconds) is taken with a conditional write so two
    runs for one tenant never interleave; a crashed run's lease simply expires."""

    ENTITY = "training_state"
    data_changed_at = UTCDateTimeAttribute(null=True)
    last_trained_at = UTCDateTimeAttribute(null=True)  # start of the last run that completed
    last_run_id = UnicodeAttribute(null=True)
    last_run_status = UnicodeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_expires_at = NumberAttribute(null=True)
    last_requested_at = UTCDateTimeAttribute(null=True)  # last on-demand retrain (rate limit)


class ModelPointerItem(BaseItem):
    """The version of one model kind a tenant's API serves; switched only by a conditional write."""

    ENTITY = "model_pointer"
    kind = UnicodeAttribute()
    version = UnicodeAttribute()
    artifact_prefix = UnicodeAttribute()
    run_id = UnicodeAttribute()
    holdout_metric = NumberAttribute(null=True)
    switched_at = UTCDateTimeAttribute(default=utc_now)


ALL_MODELS = (*ALL_MODELS, TrainingStateItem, ModelPointerItem)


def key_training_state(tenant_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "TRAINING"), "STATE"


def key_model_pointer(tenant_id: str, kind: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "TRAINING"), f"CURRENT#{kind}"


# ----------------------------------------------------------------------------- API: price decisions
class PriceDecisionItem(BaseItem):
    """A merchant's decision on a price suggestion: approved (and applied to WooCommerce), rejected, or
    rolled back. ``change_record`` is what luxebrain.ml.pricing_apply returned: enough to undo the change."""

    ENTITY = "price_decision"
    decision_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    variation_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # applied | rejected | rolled_back
    model_version = UnicodeAttribute()
    decided_by = UnicodeAttribute()
    decided_at = UTCDateTimeAttribute(default=utc_now)
    reason = UnicodeAttribute(null=True)
    suggestion = JSONAttribute(default=dict)
    change_record = JSONAttribute(null=True)
    rollback_record = JSONAttribute(null=True)


ALL_MODELS = (*ALL_MODELS, PriceDecisionItem)


def key_price_decision(tenant_id: str, decision_id: str) -> tuple[str, str]:
    # Decision ids start with the decision time, so a query of the partition lists them in time order.
    return tenant_partition(tenant_id, "PRICE_DECISION"), decision_id


class StoreConnectionItem(BaseItem):
    """A pending WooCommerce authorization (``wc-auth``): the one-time state handed to the store as
    ``user_id``. Only a hash of its secret part is stored; it expires (TTL) and is consumed by one callback."""

    ENTITY = "store_connection"
    url = UnicodeAttribute()
    currency = UnicodeAttribute(default="EUR")
    status = UnicodeAttribute(default="pending")  # pending | connected
    store_id = UnicodeAttribute()  # decided when the state is issued, so a repeated callback finds the same store
    key_id = NumberAttribute(null=True)  # WooCommerce's key id of the keys the callback delivered
    created_by = UnicodeAttribute(null=True)
    connected_at = UnicodeAttribute(null=True)


ALL_MODELS = (*ALL_MODELS, StoreConnectionItem)


def key_store_connection(tenant_id: str, state_hash: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"CONNECT#{state_hash}"


# ----------------------------------------------------------------------------- storefront events
# What shoppers saw and clicked on the shop's own pages. No personal data: the visitor is a random id the
# widget keeps in the browser; every item expires (TTL) after STOREFRONT_RETENTION_DAYS.
class StorefrontEventItem(BaseItem):
    """One recorded widget event (impression, click, add-to-cart), keyed by its random event id inside the
    visitor's partition, so a replayed event is a failed conditional put and attribution reads one query."""

    ENTITY = "storefront_event"
    visitor_id = UnicodeAttribute()
    event_type = UnicodeAttribute()  # impression | click | add_to_cart
    placement = UnicodeAttribute()
    arm = UnicodeAttribute()  # treatment | holdout, recomputed from the visitor id, never from the body
    product_ids = ListAttribute(of=UnicodeAttribute, default=list)
    model_version = UnicodeAttribute(default="")
    response_id = UnicodeAttribute(default="")
    occurred_at = NumberAttribute()  # epoch seconds (the server's clock when the widget's is implausible)


class StorefrontExposureItem(BaseItem):
    """A visitor's first exposure to a placement, with the orders attributed to it (each order once)."""

    ENTITY = "storefront_exposure"
    visitor_id = UnicodeAttribute()
    placement = UnicodeAttribute()
    arm = UnicodeAttribute()
    first_seen = NumberAttribute()
    day = UnicodeAttribute()  # UTC day of the first exposure: the stats row the visitor is counted in
    revenue = NumberAttribute(default=0)
    order_ids = ListAttribute(of=UnicodeAttribute, default=list)  # counted as charged, before net was kept
    # order id -> {"revenue": net product revenue, "attributed": net clicked revenue} as counted now: a later
    # delivery of the order (a refund) adds the difference, once.
    counted_orders = MapAttribute(null=True)


class StorefrontStatsItem(BaseItem):
    """Counters of one placement, arm and UTC day, updated with ADD (one update per group in a batch)."""

    ENTITY = "storefront_stats"
    placement = UnicodeAttribute()
    arm = UnicodeAttribute()
    day = UnicodeAttribute()
    impressions = NumberAttribute(default=0)
    clicks = NumberAttribute(default=0)
    add_to_carts = NumberAttribute(default=0)
    visitors = NumberAttribute(default=0)
    converting_visitors = NumberAttribute(default=0)
    orders = NumberAttribute(default=0)
    revenue = NumberAttribute(default=0)  # all orders of the exposed visitors (intent to treat)
    revenue_squares = NumberAttribute(default=0)  # sum over visitors of (their revenue)^2, for the interval
    attributed_orders = NumberAttribute(default=0)
    attributed_revenue = NumberAttribute(default=0)  # order lines of products the visitor clicked here


ALL_MODELS = (*ALL_MODELS, StorefrontEventItem, StorefrontExposureItem, StorefrontStatsItem)


def visitor_partition(tenant_id: str, visitor_id: str) -> str:
    return tenant_partition(tenant_id, "VISITOR", visitor_id)


def key_storefront_event(tenant_id: str, visitor_id: str, event_id: str) -> tuple[str, str]:
    return visitor_partition(tenant_id, visitor_id), f"EVENT#{event_id}"


def key_storefront_exposure(tenant_id: str, visitor_id: str, placement: str) -> tuple[str, str]:
    return visitor_partition(tenant_id, visitor_id), f"EXPOSURE#{placement}"


def key_storefront_stats(tenant_id: str, placement: str, arm: str, day: str) -> tuple[str, str]:
    # Day first in the sort key: the results read one range of days across every placement with one query.
    return tenant_partition(tenant_id, "STOREFRONT_STATS"), f"{day}#{placement}#{arm}"
