"""Campaigns: e-mail, SMS and WhatsApp that send once, respect consent, and measure their lift.

Modules: ``config`` (tenant settings), ``addresses``, ``consent`` (consent records, STOP / suppression lists),
``tokens`` (signed unsubscribe links, RFC 8058 headers), ``templates`` (sandboxed Jinja2), ``channels`` (SES v2,
SNS, WhatsApp adapters), ``sending`` (exactly-once send), ``flows`` (triggers and the runner), ``oneoff``
(segment campaigns), ``abtest`` (assignment, always-valid decision), ``results``, ``events`` (provider events),
``demo``.
"""
