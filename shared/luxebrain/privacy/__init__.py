"""Personal data: a customer's export and erasure, and a leaving tenant's deletion.

Each runs in the privacy worker behind a queue (they read the table whole and can outlast an API request):
``requests`` (the job message and its checks), ``jobs`` (asked for by the API, run by the worker, the job's
status), ``export``, ``erasure`` and ``tenant_deletion`` (the work itself), ``files`` (the bucket's versions).
"""
