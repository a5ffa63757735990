"""WooCommerce webhook signatures, exactly as WooCommerce computes them.

``WC_Webhook::generate_signature``: ``base64_encode(hash_hmac('sha256', $payload, wp_specialchars_decode(
$secret, ENT_QUOTES), true))``. The secret is HTML-entity-decoded first (a secret typed with ``&`` is stored
as ``&amp;``), and the HMAC covers the raw body bytes as sent, so we verify over the bytes received and never
over a re-serialised body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html

SIGNATURE_HEADER = "x-wc-webhook-signature"


def decode_secret(secret: str) -> str:
    """WordPress's ``wp_specialchars_decode(..., ENT_QUOTES)``: &amp; &lt; &gt; &quot; &#039; and friends."""
    return html.unescape(secret)


def compute_signature(raw_body: bytes, secret: str) -> str:
    digest = hmac.new(decode_secret(secret).encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(raw_body: bytes, secret: str, signature: str | None) -> bool:
    """True when ``signature`` is WooCommerce's signature of ``raw_body``; compared in constant time."""
    if not signature:
        return False
    expected = compute_signature(raw_body, secret)
    # compare_digest needs equal types; encode both so non-ASCII junk in the header cannot raise.
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace"))
