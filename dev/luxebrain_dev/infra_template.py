"""Reading infra/template.yaml: YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub ...).

The template is the single source of truth for AWS resources; the local runtime and the tests read it
through this module instead of keeping a second list.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from luxebrain.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"
# SAM resolves CodeUri / ContentUri / DockerContext relative to the template's folder, and so does the local runtime.
TEMPLATE_DIR = DEFAULT_TEMPLATE_PATH.parent


# libyaml's SafeLoader when PyYAML was built with it: the template parses ~6x faster than in pure Python.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CloudFormationLoader(_SafeLoader):
    """SafeLoader that turns ``!Tag value`` into the long form ``{"Fn::Tag": value}``."""


def _construct_tag(loader: _CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Parse the SAM template; a clear ConfigurationError when it is missing or not valid YAML."""
    template_path = path or DEFAULT_TEMPLATE_PATH
    try:
        text = template_path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read template {template_path}: {exc.strerror}") from None
    try:
        document = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigurationError(f"template {template_path} is not valid YAML{where}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise ConfigurationError(f"template {template_path} has no Resources section")
    return document


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == resource_type
    }


def references(value: Any, names: set[str]) -> bool:
    """Whether a template value refers (Ref / GetAtt / Sub) to one of the named resources."""
    if isinstance(value, dict):
        if value.get("Ref") in names:
            return True
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and attribute[0] in names:
            return True
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) else sub
        if isinstance(text, str) and any(f"${{{name}}}" in text or f"${{{name}." in text for name in names):
            return True
        return any(references(item, names) for item in value.values())
    if isinstance(value, list):
        return any(references(item, names) for item in value)
    return False


class IntrinsicResolver:
    """Resolves Ref / GetAtt / Sub / Join / If against known physical values (the local runtime's)."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        stack_name: str,
        region: str,
        account_id: str,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.pseudo = {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
        self.parameters.update(parameters or {})
        self.refs: dict[str, str] = {}  # logical id -> what !Ref returns
        self.attributes: dict[tuple[str, str], str] = {}  # (logical id, attribute) -> value

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handler = self._intrinsics().get(key)
            if handler:
                return handler(argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _intrinsics(self) -> dict[str, Any]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::If": lambda arg: self.resolve(arg[1] if self.condition(arg[0]) else arg[2]),
            "Fn::Equals": lambda arg: self.resolve(arg[0]) == self.resolve(arg[1]),
            "Fn::Not": lambda arg: not self.resolve(arg[0]),
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(arg[0]),
            "Fn::Condition": self.condition,
        }

    def _join(self, argument: list[Any]) -> str:
        parts = self.resolve(argument[1])
        if isinstance(parts, str):  # !Ref of a CommaDelimitedList parameter (held here as its text)
            parts = parts.split(",")
        return str(argument[0]).join(str(part) for part in parts)

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvedReferenceError(name)

    def _get_att(self, argument: list[str]) -> str:
        key = (argument[0], argument[1])
        if key not in self.attributes:
            raise UnresolvedReferenceError(argument[0])
        return self.attributes[key]

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, variables = argument, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._get_att([logical_id, attribute])
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", substitute, text)


class UnresolvedReferenceError(LookupError):
    """A reference to a resource not created (yet)."""
