"""The SAM transform, offline: infra/template.yaml as CloudFormation receives it after AWS::Serverless-2016-10-31.

Runs in the SAM CLI tool environment (aws-sam-translator is SAM CLI's own dependency, the library
CloudFormation's transform is built from), never in the project's virtualenv. Reads the template, writes the
translated JSON document. Local CodeUri / ContentUri paths are replaced by placeholder S3 URIs first, as
`sam validate` does (the transform only accepts S3 locations); the local runtime keeps reading code paths from
the SAM template itself.

    python infra/translate.py infra/template.yaml out.json [Name=Value ...]

Exit status 1 with ``<logical id>: <message>`` lines on stderr when the transform refuses the template.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from samcli.yamlhelper import yaml_parse
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

LOCAL_PATH_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


def _replace_local_paths(template: dict) -> None:
    for logical_id, resource in (template.get("Resources") or {}).items():
        name = LOCAL_PATH_PROPERTIES.get(resource.get("Type"))
        properties = resource.get("Properties") or {}
        value = properties.get(name) if name else None
        if isinstance(value, str) and not value.startswith("s3://"):
            properties[name] = f"s3://local-build/{logical_id}.zip"


def main(argv: list[str]) -> int:
    source, target, *assignments = argv
    parameters = dict(item.split("=", 1) for item in assignments)
    template = yaml_parse(Path(source).read_text())
    _replace_local_paths(template)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        translated = Translator(managed_policy_map=None, sam_parser=Parser()).translate(
            sam_template=template,
            parameter_values=parameters,
            # Managed policies named without an ARN come from the translator's bundled list, offline.
            get_managed_policy_map=lambda: {},
        )
    except InvalidDocumentException as exc:
        for cause in exc.causes:
            print(f"{source}: {cause.message}", file=sys.stderr)
        return 1
    Path(target).write_text(json.dumps(translated, indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
