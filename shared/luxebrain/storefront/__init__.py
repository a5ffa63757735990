"""The storefront: what the widget shows on a shop's own pages, what shoppers do with it, and the revenue it
causes, measured against a hold-out of visitors who get the popularity fallback instead."""
