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

from luxebrain.adapters import (
    DirectoryError,
    DirectoryUser,
    MissingObject,
    ObjectVersion,
    ProviderError,
    ReceivedMessage,
    StoredObject,
)
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

    def delay(self, receipt_handle: str, *, seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


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
def secrets_vault() -> KmsKeyVault:
    """The KMS key that encrypts small secrets: each store's WooCommerce credentials, each tenant's
    unsubscribe-link signing key."""
    return KmsKeyVault(aws_client("kms"), get_settings().secrets_key_id)


for _factory in (models_bucket, queue, secrets_vault):
    on_reset(_factory.cache_clear)


# ----------------------------------------------------------------------------- outbound messages
# Provider error codes worth another attempt; every other refusal is about the message and is final.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceErrorException",
        "InternalServerException",
        "KMSThrottlingException",
        "SendingPausedException",
        "RequestTimeout",
    }
)


def provider_error(exc: Exception, channel: str) -> ProviderError:
    """A botocore failure as a ProviderError; anything else is raised as it is."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        retryable = code in RETRYABLE_CODES or status >= 500  # a 5xx is the provider's problem, not ours
        return ProviderError(f"{channel} provider: {code}: {message[:200]}", retryable=retryable, code=code)
    if isinstance(exc, BotoCoreError):  # connection and read timeouts: the provider may be back soon
        return ProviderError(f"{channel} provider unreachable: {exc}", retryable=True, code=type(exc).__name__)
    raise exc


def _provider_call(channel: str, call: Any, **params: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call(**params)
    except (ClientError, BotoCoreError) as exc:
        raise provider_error(exc, channel) from None


class SesMailService:
    def __init__(self, client: Any) -> None:
        self._ses = client

    def send_raw(
        self, mime: bytes, *, sender: str, tags: Mapping[str, str], configuration_set: str | None = None
    ) -> str:
        params: dict[str, Any] = {
            "FromEmailAddress": sender,
            # No Destination: with raw content SES takes the recipients from the To header, and moto would
            # otherwise record the address twice.
            "Content": {"Raw": {"Data": mime}},
            "EmailTags": [{"Name": name, "Value": value} for name, value in tags.items()],
        }
        if configuration_set:
            params["ConfigurationSetName"] = configuration_set
        return str(_provider_call("email", self._ses.send_email, **params)["MessageId"])

    def send_text(self, *, sender: str, to: str, subject: str, text: str) -> str:
        response = _provider_call(
            "email",
            self._ses.send_email,
            FromEmailAddress=sender,
            Destination={"ToAddresses": [to]},
            Content={"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}}},
        )
        return str(response["MessageId"])


class SnsSmsService:
    def __init__(self, client: Any) -> None:
        self._sns = client

    def opted_out(self, phone_number: str) -> bool:
        response = _provider_call("sms", self._sns.check_if_phone_number_is_opted_out, phoneNumber=phone_number)
        return bool(response.get("isOptedOut"))

    def publish(self, phone_number: str, text: str, *, attributes: Mapping[str, str]) -> str:
        response = _provider_call(
            "sms",
            self._sns.publish,
            PhoneNumber=phone_number,
            Message=text,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
        return str(response["MessageId"])


class SocialMessagingWhatsApp:
    def __init__(self, client: Any) -> None:
        self._social = client

    def send(self, phone_number_id: str, message: bytes, *, api_version: str) -> str:
        response = _provider_call(
            "whatsapp",
            self._social.send_whatsapp_message,
            originationPhoneNumberId=phone_number_id,
            message=message,
            metaApiVersion=api_version,
        )
        return str(response["messageId"])


@cache
def mail_service() -> SesMailService:
    """SES: campaign e-mail and the alerts to a tenant's owners."""
    return SesMailService(aws_client("sesv2"))


@cache
def sms_service() -> SnsSmsService:
    return SnsSmsService(aws_client("sns"))


@cache
def whatsapp_service() -> SocialMessagingWhatsApp:
    """AWS End User Messaging Social (the embedded AWS has none: the sender does not use it there)."""
    return SocialMessagingWhatsApp(aws_client("socialmessaging"))


for _factory in (mail_service, sms_service, whatsapp_service):
    on_reset(_factory.cache_clear)


# ----------------------------------------------------------------------------- user accounts
def _attribute_list(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in attributes.items()]


def _directory_error(exc: Any) -> DirectoryError:
    error = exc.response.get("Error", {})
    return DirectoryError(error.get("Code", ""), error.get("Message", ""))


def _directory_user(username: str, attributes: list[dict[str, str]]) -> DirectoryUser:
    return DirectoryUser(username=username, attributes={a["Name"]: a["Value"] for a in attributes})


class CognitoUserDirectory:
    """One user pool; its refusals (botocore ClientError) become DirectoryError with Cognito's code."""

    def __init__(self, client: Any, pool_id: str | None) -> None:
        self._cognito = client
        self._pool_id = pool_id

    @property
    def pool_id(self) -> str:
        if not self._pool_id:
            raise ConfigurationError("LUXEBRAIN_USER_POOL_ID is not set; it is required here")
        return self._pool_id

    @staticmethod
    def _call(operation: Any, **params: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return operation(**params)
        except ClientError as exc:
            raise _directory_error(exc) from None

    def sign_up(
        self, client_id: str, username: str, password: str, *, attributes: Mapping[str, str]
    ) -> tuple[str, bool]:
        response = self._call(
            self._cognito.sign_up,
            ClientId=client_id,
            Username=username,
            Password=password,
            UserAttributes=_attribute_list(attributes),
        )
        return str(response["UserSub"]), bool(response.get("UserConfirmed"))

    def confirm_sign_up(self, client_id: str, username: str, code: str) -> None:
        self._call(self._cognito.confirm_sign_up, ClientId=client_id, Username=username, ConfirmationCode=code)

    def initiate_auth(self, client_id: str, flow: str, parameters: Mapping[str, str]) -> dict[str, Any]:
        response: dict[str, Any] = self._call(
            self._cognito.initiate_auth, ClientId=client_id, AuthFlow=flow, AuthParameters=dict(parameters)
        )
        return response

    def respond_to_auth_challenge(
        self, client_id: str, challenge: str, session: str, responses: Mapping[str, str]
    ) -> dict[str, Any]:
        response: dict[str, Any] = self._call(
            self._cognito.respond_to_auth_challenge,
            ClientId=client_id,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses=dict(responses),
        )
        return response

    def forgot_password(self, client_id: str, username: str) -> None:
        self._call(self._cognito.forgot_password, ClientId=client_id, Username=username)

    def confirm_forgot_password(self, client_id: str, username: str, code: str, password: str) -> None:
        self._call(
            self._cognito.confirm_forgot_password,
            ClientId=client_id,
            Username=username,
            ConfirmationCode=code,
            Password=password,
        )

    def change_password(self, access_token: str, previous: str, proposed: str) -> None:
        self._call(
            self._cognito.change_password,
            AccessToken=access_token,
            PreviousPassword=previous,
            ProposedPassword=proposed,
        )

    def global_sign_out(self, access_token: str) -> None:
        self._call(self._cognito.global_sign_out, AccessToken=access_token)

    def admin_create_user(
        self, username: str, temporary_password: str, *, attributes: Mapping[str, str]
    ) -> DirectoryUser:
        created = self._call(
            self._cognito.admin_create_user,
            UserPoolId=self.pool_id,
            Username=username,
            TemporaryPassword=temporary_password,
            UserAttributes=_attribute_list(attributes),
            DesiredDeliveryMediums=["EMAIL"],
        )["User"]
        return _directory_user(created["Username"], created.get("Attributes", []))

    def admin_get_user(self, username: str) -> DirectoryUser:
        user = self._call(self._cognito.admin_get_user, UserPoolId=self.pool_id, Username=username)
        return _directory_user(user["Username"], user.get("UserAttributes", []))

    def admin_confirm_sign_up(self, username: str) -> None:
        self._call(self._cognito.admin_confirm_sign_up, UserPoolId=self.pool_id, Username=username)

    def admin_update_user_attributes(self, username: str, attributes: Mapping[str, str]) -> None:
        self._call(
            self._cognito.admin_update_user_attributes,
            UserPoolId=self.pool_id,
            Username=username,
            UserAttributes=_attribute_list(attributes),
        )

    def admin_set_user_password(self, username: str, password: str) -> None:
        self._call(
            self._cognito.admin_set_user_password,
            UserPoolId=self.pool_id,
            Username=username,
            Password=password,
            Permanent=True,
        )

    def admin_delete_user(self, username: str) -> None:
        self._call(self._cognito.admin_delete_user, UserPoolId=self.pool_id, Username=username)

    def admin_user_global_sign_out(self, username: str) -> None:
        self._call(self._cognito.admin_user_global_sign_out, UserPoolId=self.pool_id, Username=username)

    def create_group(self, group: str, description: str) -> None:
        self._call(self._cognito.create_group, GroupName=group, UserPoolId=self.pool_id, Description=description)

    def admin_add_user_to_group(self, username: str, group: str) -> None:
        self._call(self._cognito.admin_add_user_to_group, UserPoolId=self.pool_id, Username=username, GroupName=group)

    def users(self) -> Iterator[DirectoryUser]:
        from botocore.exceptions import ClientError

        try:
            for page in self._cognito.get_paginator("list_users").paginate(UserPoolId=self.pool_id):
                for user in page.get("Users", []):
                    yield _directory_user(user["Username"], user.get("Attributes", []))
        except ClientError as exc:
            raise _directory_error(exc) from None


@cache
def user_directory() -> CognitoUserDirectory:
    """The merchants' and operators' user pool."""
    return CognitoUserDirectory(aws_client("cognito-idp"), get_settings().user_pool_id)


on_reset(user_directory.cache_clear)
