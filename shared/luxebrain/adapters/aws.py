"""The AWS implementations of :mod:`luxebrain.adapters`, and the factories that create each once per
execution environment (a Lambda container reuses them across invocations; ``runtime.reset_runtime`` drops
them when the environment changes, in tests and the local runtime).

Each method is one boto3 operation (or its paginator), so the IAM actions a function needs are what its
calls here name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from luxebrain.adapters import MissingObject, ObjectVersion, ReceivedMessage, StoredObject
from luxebrain.errors import ConfigurationError
from luxebrain.runtime import aws_client, on_reset
from luxebrain.settings import get_settings

S3_DELETE_BATCH = 1000  # DeleteObjects' limit
SQS_SEND_BATCH = 10  # SendMessageBatch's limit
SQS_RECEIVE_BATCH = 10  # ReceiveMessage's limit
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3ObjectStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def put(self, key: str, body: bytes, *, content_type: str = "application/octet-stream") -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            raise MissingObject(key) from None
        return body

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except self._s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def delete_many(self, keys: Sequence[str]) -> None:
        self._delete([{"Key": key} for key in keys])

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield StoredObject(key=entry["Key"], size=int(entry["Size"]))

    def folders(self, prefix: str) -> list[str]:
        names: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            names.extend(entry["Prefix"][len(prefix) :].rstrip("/") for entry in page.get("CommonPrefixes", []))
        return sorted(names)

    def versions(self, prefix: str) -> Iterator[ObjectVersion]:
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                yield ObjectVersion(key=version["Key"], version_id=version["VersionId"])

    def delete_versions(self, versions: Sequence[ObjectVersion]) -> None:
        self._delete([{"Key": version.key, "VersionId": version.version_id} for version in versions])

    def _delete(self, objects: list[dict[str, str]]) -> None:
        for start in range(0, len(objects), S3_DELETE_BATCH):
            chunk = objects[start : start + S3_DELETE_BATCH]
            self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})


class SqsQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self.queue_url = queue_url

    def send(self, body: str, *, group_id: str | None = None, deduplication_id: str | None = None) -> str:
        fifo = {"MessageGroupId": group_id} if group_id is not None else {}
        if deduplication_id is not None:
            fifo["MessageDeduplicationId"] = deduplication_id
        response = self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=body, **fifo)
        return str(response["MessageId"])

    def send_batch(self, bodies: Sequence[str]) -> int:
        sent = 0
        for start in range(0, len(bodies), SQS_SEND_BATCH):
            chunk = bodies[start : start + SQS_SEND_BATCH]
            response = self._sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)],
            )
            failed = response.get("Failed", [])
            if failed:
                raise RuntimeError(f"{len(failed)} message(s) were not queued: {failed[0].get('Message')}")
            sent += len(response.get("Successful", []))
        return sent

    def receive(self, max_messages: int = SQS_RECEIVE_BATCH) -> list[ReceivedMessage]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(max_messages, SQS_RECEIVE_BATCH),
            MessageSystemAttributeNames=["MessageGroupId"],
            WaitTimeSeconds=0,
        )
        return [
            ReceivedMessage(
                message_id=message["MessageId"],
                body=message["Body"],
                receipt_handle=message["ReceiptHandle"],
                group_id=message.get("Attributes", {}).get("MessageGroupId"),
            )
            for message in response.get("Messages", [])
        ]

    def delete(self, message: ReceivedMessage) -> None:
        self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)


class KmsKeyVault:
    def __init__(self, client: Any, key_id: str | None) -> None:
        self._kms = client
        self.key_id = key_id  # only encrypting needs it: a ciphertext names its key

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        if not self.key_id:
            raise ConfigurationError("LUXEBRAIN_SECRETS_KEY_ID is not set; it is required to encrypt secrets")
        response = self._kms.encrypt(KeyId=self.key_id, Plaintext=plaintext, EncryptionContext=dict(context))
        ciphertext: bytes = response["CiphertextBlob"]
        return ciphertext

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        # The key is named by the ciphertext itself; the context must match the one it was encrypted with.
        plaintext: bytes = self._kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext=dict(context))["Plaintext"]
        return plaintext


# ----------------------------------------------------------------------------- once per execution environment
@cache
def models_bucket() -> S3ObjectStore:
    """The models bucket: artifacts, training snapshots, privacy exports."""
    return S3ObjectStore(aws_client("s3"), get_settings().models_bucket)


@cache
def queue(url_setting: str) -> SqsQueue:
    """The queue whose URL is the setting ``url_setting`` (``"privacy_queue_url"``, ...); a clear
    ConfigurationError when the function's environment does not name it."""
    return SqsQueue(aws_client("sqs"), get_settings().require(url_setting))


@cache
def store_secrets_vault() -> KmsKeyVault:
    """The KMS key that encrypts each store's WooCommerce credentials."""
    return KmsKeyVault(aws_client("kms"), get_settings().secrets_key_id)


for _factory in (models_bucket, queue, store_secrets_vault):
    on_reset(_factory.cache_clear)
