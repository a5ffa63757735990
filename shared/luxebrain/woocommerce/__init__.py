"""WooCommerce: payload models of its REST v3 / webhook JSON, webhook signatures, and the REST client."""
