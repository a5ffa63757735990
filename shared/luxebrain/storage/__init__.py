"""The storage boundary: the one place that knows DynamoDB's table, its entities (``items``) and pynamodb.

Everything else goes through the repositories here.
"""


def bind_table(table_name: str, region: str) -> None:
    """Point every entity at the configured table (the endpoint comes from AWS_ENDPOINT_URL, as for boto3)."""
    from luxebrain.storage.items import configure_models

    configure_models(table_name, region)
