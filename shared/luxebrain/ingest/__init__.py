"""Getting store data in: webhook receiver (verify, enqueue), processor (validate, map, store exactly once)
and REST back-fill with checkpoints.

Entry points:
- ``receiver.receive_delivery(Delivery)``: verify a WooCommerce delivery and put it on the ingest queue.
- ``processor.process_message(body, message_id=, refunds=, records=, usage=, storefront=, receive_count=)``: one
  queued delivery into storage (``refunds``: ``processor.store_refund_lines(clients)``, where new refunds get
  their lines; ``records``: ``storage.ingest.ingest_repository()``; ``usage``: ``billing.usage.plan_usage()``;
  ``storefront``: ``storage.storefront.storefront_repository()``, where an order's visitor's placements count
  it); ``processor.process_totals()``, ``processor.redrive_dead_letters``; the rejected deliveries are read with
  ``luxebrain.storage.ingest.list_rejected_events(tenant)``.
- ``backfill.backfill_store(tenant, store, client_factory, progress, files=, records=, usage=, training=,
  storefront=)``: resumable REST back-fill; ``backfill_queue.request_backfill`` queues one for the back-fill
  function; ``backfill.backfill_status(tenant, store, records=)``.
- ``delivery.deliver_sample_store(...)`` / ``delivery.verify_ingested(...)``: the demo's signed webhooks.
"""
