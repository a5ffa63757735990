"""Billing: the plans and what each tenant may do on its plan (``plans``), and its usage counted against them
(``usage``)."""
