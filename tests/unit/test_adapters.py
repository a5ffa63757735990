"""The AWS adapters, each method checked against the boto3 operation it makes (botocore's Stubber: no
network), and the factories that create each adapter once per execution environment."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from luxebrain.adapters import (
    DirectoryError,
    MissingObject,
    ObjectVersion,
    ProviderError,
    ReceivedMessage,
    StoredObject,
)
from luxebrain.adapters.aws import (
    CognitoUserDirectory,
    KmsKeyVault,
    S3ObjectStore,
    SesMailService,
    SnsSmsService,
    SocialMessagingWhatsApp,
    SqsQueue,
    mail_service,
    models_bucket,
    queue,
    sms_service,
)
from luxebrain.errors import ConfigurationError
from luxebrain.runtime import reset_runtime

BUCKET = "luxebrain-models-test"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/luxebrain-privacy"


def _client(service: str) -> Any:
    return boto3.session.Session().client(service, region_name="us-east-1")


def _body(content: bytes) -> StreamingBody:
    import io

    return StreamingBody(io.BytesIO(content), len(content))


def test_object_store_maps_each_method_to_its_s3_operation() -> None:
    s3 = _client("s3")
    store = S3ObjectStore(s3, BUCKET)
    with Stubber(s3) as stubber:
        stubber.add_response(
            "put_object", {}, {"Bucket": BUCKET, "Key": "k", "Body": b"x", "ContentType": "application/json"}
        )
        stubber.add_response("get_object", {"Body": _body(b"x")}, {"Bucket": BUCKET, "Key": "k"})
        stubber.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
        stubber.add_response("head_object", {}, {"Bucket": BUCKET, "Key": "k"})
        stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
        stubber.add_client_error("head_object", service_error_code="AccessDenied", http_status_code=403)
        store.put("k", b"x", content_type="application/json")
        assert store.get("k") == b"x"
        with pytest.raises(MissingObject):
            store.get("gone")
        assert store.exists("k") is True
        assert store.exists("gone") is False
        with pytest.raises(s3.exceptions.ClientError):  # not "missing": an error worth seeing
            store.exists("forbidden")
        stubber.assert_no_pending_responses()


def test_object_store_lists_objects_folders_and_versions_across_pages() -> None:
    s3 = _client("s3")
    store = S3ObjectStore(s3, BUCKET)
    with Stubber(s3) as stubber:
        stubber.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": "p/a", "Size": 3}], "IsTruncated": True, "NextContinuationToken": "t"},
            {"Bucket": BUCKET, "Prefix": "p/"},
        )
        stubber.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": "p/b", "Size": 4}], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": "p/", "ContinuationToken": "t"},
        )
        stubber.add_response(
            "list_objects_v2",
            {"CommonPrefixes": [{"Prefix": "p/v2/"}, {"Prefix": "p/v1/"}], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": "p/", "Delimiter": "/"},
        )
        stubber.add_response(
            "list_object_versions",
            {
                "Versions": [{"Key": "p/a", "VersionId": "1"}],
                "DeleteMarkers": [{"Key": "p/b", "VersionId": "2"}],
                "IsTruncated": False,
            },
            {"Bucket": BUCKET, "Prefix": "p/"},
        )
        assert list(store.objects("p/")) == [StoredObject("p/a", 3), StoredObject("p/b", 4)]
        assert store.folders("p/") == ["v1", "v2"]
        assert list(store.versions("p/")) == [ObjectVersion("p/a", "1"), ObjectVersion("p/b", "2")]


def test_object_store_deletes_in_batches_of_a_thousand() -> None:
    s3 = _client("s3")
    store = S3ObjectStore(s3, BUCKET)
    keys = [f"k{i}" for i in range(1001)]
    with Stubber(s3) as stubber:
        for chunk in (keys[:1000], keys[1000:]):
            expected = {"Bucket": BUCKET, "Delete": {"Objects": [{"Key": k} for k in chunk], "Quiet": True}}
            stubber.add_response("delete_objects", {}, expected)
        stubber.add_response(
            "delete_objects",
            {},
            {"Bucket": BUCKET, "Delete": {"Objects": [{"Key": "a", "VersionId": "1"}], "Quiet": True}},
        )
        stubber.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": "one"})
        store.delete_many(keys)
        store.delete_versions([ObjectVersion("a", "1")])
        store.delete("one")
        store.delete_many([])  # nothing to delete: no call
        stubber.assert_no_pending_responses()


def test_queue_sends_fifo_fields_only_when_given_and_batches_by_ten() -> None:
    sqs = _client("sqs")
    messages = SqsQueue(sqs, QUEUE_URL)
    with Stubber(sqs) as stubber:
        stubber.add_response("send_message", {"MessageId": "m1"}, {"QueueUrl": QUEUE_URL, "MessageBody": "{}"})
        stubber.add_response(
            "send_message",
            {"MessageId": "m2"},
            {"QueueUrl": QUEUE_URL, "MessageBody": "{}", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
        )
        ok = [{"Id": str(i), "MessageId": f"m{i}", "MD5OfMessageBody": "x"} for i in range(10)]
        stubber.add_response(
            "send_message_batch", {"Successful": ok, "Failed": []}, {"QueueUrl": QUEUE_URL, "Entries": ANY}
        )
        stubber.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "x", "Message": "throttled"}]},
            {"QueueUrl": QUEUE_URL, "Entries": [{"Id": "0", "MessageBody": "10"}]},
        )
        stubber.add_response(
            "change_message_visibility",
            {},
            {"QueueUrl": QUEUE_URL, "ReceiptHandle": "receipt-1", "VisibilityTimeout": 60},
        )
        assert messages.send("{}") == "m1"
        assert messages.send("{}", group_id="g", deduplication_id="d") == "m2"
        with pytest.raises(RuntimeError, match="1 message"):
            messages.send_batch([str(i) for i in range(11)])
        messages.delay("receipt-1", seconds=60)
        stubber.assert_no_pending_responses()


def test_queue_receives_at_most_ten_without_waiting_with_their_group_and_deletes_by_receipt() -> None:
    sqs = _client("sqs")
    messages = SqsQueue(sqs, QUEUE_URL)
    received = {
        "Messages": [
            {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "Attributes": {"MessageGroupId": "g"}},
            {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "[]"},
        ]
    }
    asked = {
        "QueueUrl": QUEUE_URL,
        "MaxNumberOfMessages": 10,
        "MessageSystemAttributeNames": ["MessageGroupId"],
        "WaitTimeSeconds": 0,
    }
    with Stubber(sqs) as stubber:
        stubber.add_response("receive_message", received, asked)
        stubber.add_response("receive_message", {}, {**asked, "MaxNumberOfMessages": 3})
        stubber.add_response("delete_message", {}, {"QueueUrl": QUEUE_URL, "ReceiptHandle": "r2"})
        first, second = messages.receive(max_messages=50)
        assert first == ReceivedMessage("m1", "{}", "r1", "g") and second == ReceivedMessage("m2", "[]", "r2", None)
        assert messages.receive(max_messages=3) == []
        messages.delete(second)
        stubber.assert_no_pending_responses()


def test_key_vault_binds_the_ciphertext_to_its_context() -> None:
    kms = _client("kms")
    vault = KmsKeyVault(kms, "alias/luxebrain-secrets")
    context = {"tenant_id": "t-0123456789ab", "store_id": "s1"}
    with Stubber(kms) as stubber:
        stubber.add_response(
            "encrypt",
            {"CiphertextBlob": b"sealed"},
            {"KeyId": "alias/luxebrain-secrets", "Plaintext": b"secret", "EncryptionContext": context},
        )
        stubber.add_response(
            "decrypt", {"Plaintext": b"secret"}, {"CiphertextBlob": b"sealed", "EncryptionContext": context}
        )
        assert vault.encrypt(b"secret", context=context) == b"sealed"
        assert vault.decrypt(b"sealed", context=context) == b"secret"
        # A function without the key's id still decrypts (the ciphertext names its key) but cannot encrypt
        stubber.add_response(
            "decrypt", {"Plaintext": b"secret"}, {"CiphertextBlob": b"sealed", "EncryptionContext": context}
        )
        assert KmsKeyVault(kms, None).decrypt(b"sealed", context=context) == b"secret"
    with pytest.raises(ConfigurationError, match="LUXEBRAIN_SECRETS_KEY_ID"):
        KmsKeyVault(kms, None).encrypt(b"secret", context=context)


def test_mail_service_sends_raw_mime_or_plain_text_and_classifies_refusals() -> None:
    ses = _client("sesv2")
    mail = SesMailService(ses)
    with Stubber(ses) as stubber:
        stubber.add_response(
            "send_email",
            {"MessageId": "m-1"},
            {
                "FromEmailAddress": "no-reply@luxebrain.example",
                "Content": {"Raw": {"Data": b"MIME"}},
                "EmailTags": [{"Name": "lb_tenant", "Value": "t-shop"}],
                "ConfigurationSetName": "campaigns",
            },
        )
        stubber.add_response(
            "send_email",
            {"MessageId": "m-2"},
            {"FromEmailAddress": "no-reply@luxebrain.example", "Content": {"Raw": {"Data": b"MIME"}}, "EmailTags": []},
        )
        stubber.add_response(
            "send_email",
            {"MessageId": "m-3"},
            {
                "FromEmailAddress": "no-reply@luxebrain.example",
                "Destination": {"ToAddresses": ["owner@shop.example"]},
                "Content": {"Simple": {"Subject": {"Data": "Alert"}, "Body": {"Text": {"Data": "Body"}}}},
            },
        )
        stubber.add_client_error("send_email", service_error_code="MessageRejected", http_status_code=400)
        stubber.add_client_error("send_email", service_error_code="TooManyRequestsException", http_status_code=429)
        stubber.add_client_error("send_email", service_error_code="Whatever", http_status_code=503)
        sender = "no-reply@luxebrain.example"
        assert (
            mail.send_raw(b"MIME", sender=sender, tags={"lb_tenant": "t-shop"}, configuration_set="campaigns") == "m-1"
        )
        assert mail.send_raw(b"MIME", sender=sender, tags={}) == "m-2"
        assert mail.send_text(sender=sender, to="owner@shop.example", subject="Alert", text="Body") == "m-3"
        refusals = []
        for _ in range(3):
            with pytest.raises(ProviderError) as refused:
                mail.send_raw(b"MIME", sender=sender, tags={})
            refusals.append((refused.value.code, refused.value.retryable))
        stubber.assert_no_pending_responses()
    # A rejection is final; throttling and the provider's own failures (5xx) are worth another attempt
    assert refusals == [("MessageRejected", False), ("TooManyRequestsException", True), ("Whatever", True)]
    assert str(refused.value).startswith("email provider: Whatever")


def test_sms_service_checks_the_opt_out_list_and_publishes_typed_attributes() -> None:
    sns = _client("sns")
    sms = SnsSmsService(sns)
    with Stubber(sns) as stubber:
        stubber.add_response("check_if_phone_number_is_opted_out", {"isOptedOut": True}, {"phoneNumber": "+4477"})
        stubber.add_response("check_if_phone_number_is_opted_out", {"isOptedOut": False}, {"phoneNumber": "+4478"})
        stubber.add_response(
            "publish",
            {"MessageId": "sms-1"},
            {
                "PhoneNumber": "+4478",
                "Message": "Hi",
                "MessageAttributes": {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Promotional"}},
            },
        )
        stubber.add_client_error("publish", service_error_code="Throttling", http_status_code=400)
        assert sms.opted_out("+4477") is True and sms.opted_out("+4478") is False
        assert sms.publish("+4478", "Hi", attributes={"AWS.SNS.SMS.SMSType": "Promotional"}) == "sms-1"
        with pytest.raises(ProviderError, match="sms provider: Throttling") as throttled:
            sms.publish("+4478", "Hi", attributes={})
        stubber.assert_no_pending_responses()
    assert throttled.value.retryable


def test_whatsapp_service_sends_through_social_messaging() -> None:
    # moto has no socialmessaging service: the Stubber is this call's only check
    social = _client("socialmessaging")
    whatsapp = SocialMessagingWhatsApp(social)
    with Stubber(social) as stubber:
        stubber.add_response(
            "send_whatsapp_message",
            {"messageId": "wamid-1"},
            {"originationPhoneNumberId": "phone-1", "message": b"{}", "metaApiVersion": "v20.0"},
        )
        stubber.add_client_error("send_whatsapp_message", service_error_code="ValidationException")
        assert whatsapp.send("phone-1", b"{}", api_version="v20.0") == "wamid-1"
        with pytest.raises(ProviderError, match="whatsapp provider: ValidationException") as refused:
            whatsapp.send("phone-1", b"{}", api_version="v20.0")
        stubber.assert_no_pending_responses()
    assert not refused.value.retryable


def test_user_directory_maps_its_methods_to_cognito_and_refusals_to_directory_errors() -> None:
    cognito = _client("cognito-idp")
    users = CognitoUserDirectory(cognito, "us-east-1_pool")
    pool = {"UserPoolId": "us-east-1_pool"}
    with Stubber(cognito) as stubber:
        stubber.add_response(
            "sign_up",
            {"UserSub": "sub-1", "UserConfirmed": False},
            {
                "ClientId": "client",
                "Username": "lea@shop.example",
                "Password": "Pass-word-1",
                "UserAttributes": [{"Name": "email", "Value": "lea@shop.example"}],
            },
        )
        stubber.add_client_error("sign_up", service_error_code="UsernameExistsException", service_message="exists")
        stubber.add_response(
            "admin_get_user",
            {"Username": "lea@shop.example", "UserAttributes": [{"Name": "sub", "Value": "sub-1"}]},
            {**pool, "Username": "lea@shop.example"},
        )
        stubber.add_response(
            "admin_update_user_attributes",
            {},
            {**pool, "Username": "lea@shop.example", "UserAttributes": [{"Name": "custom:role", "Value": "staff"}]},
        )
        stubber.add_response(
            "admin_set_user_password",
            {},
            {**pool, "Username": "lea@shop.example", "Password": "Pass-word-2", "Permanent": True},
        )
        stubber.add_response(
            "admin_create_user",
            {"User": {"Username": "uuid-2", "Attributes": [{"Name": "sub", "Value": "sub-2"}]}},
            {
                **pool,
                "Username": "sam@shop.example",
                "TemporaryPassword": "Tmp-1",
                "UserAttributes": [{"Name": "email", "Value": "sam@shop.example"}],
                "DesiredDeliveryMediums": ["EMAIL"],
            },
        )
        page = {"Users": [{"Username": "u1", "Attributes": [{"Name": "custom:tenant_id", "Value": "t-1"}]}]}
        stubber.add_response("list_users", {**page, "PaginationToken": "next"}, pool)
        stubber.add_response("list_users", {"Users": [{"Username": "u2"}]}, {**pool, "PaginationToken": "next"})
        assert users.sign_up("client", "lea@shop.example", "Pass-word-1", attributes={"email": "lea@shop.example"}) == (
            "sub-1",
            False,
        )
        with pytest.raises(DirectoryError) as refused:
            users.sign_up("client", "lea@shop.example", "Pass-word-1", attributes={})
        assert users.admin_get_user("lea@shop.example").sub == "sub-1"
        users.admin_update_user_attributes("lea@shop.example", {"custom:role": "staff"})
        users.admin_set_user_password("lea@shop.example", "Pass-word-2")
        created = users.admin_create_user("sam@shop.example", "Tmp-1", attributes={"email": "sam@shop.example"})
        assert [(u.username, dict(u.attributes)) for u in users.users()] == [
            ("u1", {"custom:tenant_id": "t-1"}),
            ("u2", {}),
        ]
        stubber.assert_no_pending_responses()
    assert (refused.value.code, refused.value.message) == ("UsernameExistsException", "exists")
    assert (created.username, created.sub) == ("uuid-2", "sub-2")
    # Without a pool the administrative calls say which setting is missing
    with pytest.raises(ConfigurationError, match="LUXEBRAIN_USER_POOL_ID"):
        CognitoUserDirectory(cognito, None).admin_delete_user("lea@shop.example")


def test_factories_create_each_adapter_once_per_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "local")
    monkeypatch.setenv("LUXEBRAIN_TABLE_NAME", "luxebrain-data")
    monkeypatch.setenv("LUXEBRAIN_MODELS_BUCKET", BUCKET)
    monkeypatch.delenv("LUXEBRAIN_PRIVACY_QUEUE_URL", raising=False)
    reset_runtime()
    try:
        assert models_bucket() is models_bucket() and models_bucket().bucket == BUCKET
        with pytest.raises(ConfigurationError, match="LUXEBRAIN_PRIVACY_QUEUE_URL"):
            queue("privacy_queue_url")
        monkeypatch.setenv("LUXEBRAIN_PRIVACY_QUEUE_URL", QUEUE_URL)
        monkeypatch.setenv("LUXEBRAIN_MODELS_BUCKET", "another-bucket")
        before = models_bucket()
        reset_runtime()  # the environment changed: new adapters
        assert models_bucket() is not before and models_bucket().bucket == "another-bucket"
        assert queue("privacy_queue_url").queue_url == QUEUE_URL
        assert mail_service() is mail_service() and sms_service() is sms_service()
        mail = mail_service()
        reset_runtime()
        assert mail_service() is not mail
    finally:
        monkeypatch.undo()
        reset_runtime()
