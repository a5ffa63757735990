"""The dashboard's hosting in infra/template.yaml: a private bucket read only by the stack's CloudFront through
Origin Access Control, a content security policy, and the API's CORS allow-list taking the distribution's
origin from the stack (locally, where none of it exists, the allow-list is the parameter alone)."""

from __future__ import annotations

from typing import Any

from luxebrain_dev.infra_template import IntrinsicResolver, load_template
from luxebrain_dev.local.dashboard import PREVIEW_FRAME_PATH, PREVIEW_FRAME_POLICY

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def test_the_bucket_is_private_and_only_cloudfront_of_this_stack_reads_it() -> None:
    bucket = RESOURCES["DashboardBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statements = RESOURCES["DashboardBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    read = next(s for s in statements if s["Effect"] == "Allow")
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert "${DashboardDistribution}" in read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    origin = RESOURCES["DashboardDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI


def test_every_response_carries_the_content_security_policy() -> None:
    config = RESOURCES["DashboardDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "DashboardHeadersPolicy"}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    headers = RESOURCES["DashboardHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    policy = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' https://${ApiHttpApi}.execute-api." in policy


def test_the_email_preview_frame_alone_has_its_own_policy_the_one_served_locally() -> None:
    config = RESOURCES["DashboardDistribution"]["Properties"]["DistributionConfig"]
    [behavior] = config["CacheBehaviors"]
    assert behavior["PathPattern"] == PREVIEW_FRAME_PATH
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "DashboardPreviewHeadersPolicy"}
    preview = RESOURCES["DashboardPreviewHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = preview["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"]["ContentSecurityPolicy"] == PREVIEW_FRAME_POLICY
    assert headers["FrameOptions"]["FrameOption"] == "SAMEORIGIN"
    assert RESOURCES["DashboardPreviewHeadersPolicy"]["Condition"] == "IsDeployed"


def test_the_api_allows_the_dashboard_origin_of_the_stack_and_the_local_stack_still_resolves() -> None:
    variables = RESOURCES["ApiFunction"]["Properties"]["Environment"]["Variables"]
    origins = variables["LUXEBRAIN_DASHBOARD_ORIGINS"]

    def resolved(app_env: str) -> str:
        resolver = IntrinsicResolver(
            TEMPLATE, stack_name="s", region="eu-west-1", account_id="1", parameters={"AppEnv": app_env}
        )
        resolver.attributes[("DashboardDistribution", "DomainName")] = "d111.cloudfront.net"
        return resolver.resolve(origins)

    assert resolved("prod") == "https://d111.cloudfront.net,https://app.luxebrain.example"
    assert resolved("local") == "https://app.luxebrain.example"
    for name in ("DashboardBucket", "DashboardDistribution", "DashboardHeadersPolicy", "DashboardBucketPolicy"):
        assert RESOURCES[name]["Condition"] == "IsDeployed"  # nothing of it in the embedded local AWS
