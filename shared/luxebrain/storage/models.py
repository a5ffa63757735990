"""Every entity and key helper of the table, re-exported from their aggregate modules in
``luxebrain.storage.items`` for the modules not yet moved behind the repositories."""

from luxebrain.storage.items import ENTITY_CLASSES
from luxebrain.storage.items.base import (  # noqa: F401
    DEFAULT_TABLE_NAME,
    BaseItem,
    configure_models,
    is_condition_failure,
    utc_now,
)
from luxebrain.storage.items.campaigns import (  # noqa: F401
    CampaignItem,
    CampaignStateItem,
    ConsentItem,
    ContactLogItem,
    SendRecordItem,
    SuppressionItem,
    key_campaign,
    key_campaign_state,
    key_consent,
    key_contact_log,
    key_send,
    key_suppression,
)
from luxebrain.storage.items.catalogue import (  # noqa: F401
    CouponItem,
    ProductItem,
    key_coupon,
    key_product,
)
from luxebrain.storage.items.customers import (  # noqa: F401
    CouponLine,
    CustomerItem,
    LineItem,
    OrderItem,
    OrdersByCustomerIndex,
    customer_orders_index_keys,
    key_customer,
    key_order,
)
from luxebrain.storage.items.ingest import (  # noqa: F401
    IngestCheckpointItem,
    RejectedEventItem,
    key_ingest_checkpoint,
    key_rejected_event,
)
from luxebrain.storage.items.members import (  # noqa: F401
    USER_SESSIONS_VALID_AFTER,
    ImpersonationItem,
    MembershipItem,
    MembershipsByUserIndex,
    StorefrontKeyItem,
    UserSessionItem,
    key_impersonation,
    key_membership,
    key_storefront_key,
    key_user_session,
    key_user_sessions_valid_after,
    membership_index_keys,
    user_sessions_partition,
)
from luxebrain.storage.items.pricing import (  # noqa: F401
    PriceDecisionItem,
    key_price_decision,
)
from luxebrain.storage.items.storefront import (  # noqa: F401
    StorefrontEventItem,
    StorefrontExposureItem,
    StorefrontStatsItem,
    key_storefront_event,
    key_storefront_exposure,
    key_storefront_stats,
    visitor_partition,
)
from luxebrain.storage.items.tenants import (  # noqa: F401
    TENANT_DIRECTORY_PARTITION,
    AuditItem,
    StoreConnectionItem,
    StoreItem,
    TenantDirectoryIndex,
    TenantItem,
    UsageCounterItem,
    key_audit,
    key_store,
    key_store_connection,
    key_tenant,
    key_usage,
    tenant_directory_keys,
)
from luxebrain.storage.items.training import (  # noqa: F401
    ModelPointerItem,
    ModelRunItem,
    TrainingStateItem,
    key_model_pointer,
    key_model_run,
    key_training_state,
)

ALL_MODELS = tuple(ENTITY_CLASSES)
