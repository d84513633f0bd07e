"""A playbook YAML file -> typed ``Playbook``, with every problem named by file and key path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from remediate.actions.base import LoadContext
from remediate.actions.registry import STEP_OPTIONS, action_keys, action_type
from remediate.errors import UserError
from remediate.fields import command_field
from remediate.load.names import find_named_file
from remediate.load.secrets import read_vars
from remediate.load.template_files import TemplateFileError, read_included, read_template_source
from remediate.model import Playbook, Probe, RolloutSettings, Step, TemplateSource, sha256_hex
from remediate.plan.render import parse_template
from remediate.plan.waves import parse_amount, parse_batches
from remediate.probes.registry import probe_keys, probe_kind
from remediate.yamlnode import Node, display_path, load_yaml


def load_playbook(name_or_path: str) -> Playbook:
    path = find_named_file(name_or_path, "playbooks", "playbook")
    document = load_yaml(path)
    root = Node(path, "", document)
    top = root.mapping(
        ("name", "description", "hosts", "become", "vars", "steps", "verify", "rollout"), required=("steps",)
    )
    steps_node = top["steps"]
    step_nodes = steps_node.items()
    variables, secrets = read_vars(top["vars"]) if "vars" in top else ({}, frozenset[str]())
    if not step_nodes:
        raise steps_node.error("a playbook needs at least one step")
    return Playbook(
        path=path,
        name=top["name"].string() if "name" in top else path.stem,
        description=top["description"].string() if "description" in top else "",
        hosts=top["hosts"].string() if "hosts" in top else "all",
        vars=variables,
        steps=tuple(_step(i, node, _Files(path.parent)) for i, node in enumerate(step_nodes)),
        sha256=sha256_hex(path.read_bytes()),
        verify=tuple(_probe(node) for node in top["verify"].items()) if "verify" in top else (),
        rollout=_rollout(top["rollout"]) if "rollout" in top else RolloutSettings(),
        secrets=secrets,
        become=top["become"].boolean() if "become" in top else False,
    )


def _rollout(node: Node) -> RolloutSettings:
    f = node.mapping(("canary", "canary_group", "batches", "max_fail", "forks"))

    def text(key: str) -> str:
        value = f[key].value
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        if isinstance(value, int | str) and not isinstance(value, bool):
            return str(value)
        raise f[key].error("expected a number, a percentage such as 25%, or a list of them")

    try:
        return RolloutSettings(
            canary=f["canary"].integer(0) if "canary" in f else None,
            canary_group=f["canary_group"].string() if "canary_group" in f else None,
            batches=parse_batches(text("batches"), "batches") if "batches" in f else None,
            max_fail=parse_amount(text("max_fail"), "max_fail") if "max_fail" in f else None,
            forks=f["forks"].integer(1, 10000) if "forks" in f else None,
        )
    except UserError as e:
        raise node.error(str(e)) from None


def _step(index: int, node: Node, files: LoadContext) -> Step:
    step_types = action_keys()
    fields = node.mapping(("name", *step_types, *STEP_OPTIONS))
    kinds = [k for k in step_types if k in fields]
    if len(kinds) != 1:
        if not kinds and isinstance(node.value, dict):
            unknown = [k for k in node.value if k not in ("name", *STEP_OPTIONS)]
            if unknown:
                raise node.child(unknown[0], None).error(
                    f"unknown step type (expected one of: {', '.join(step_types)})"
                )
        raise node.error(f"a step needs exactly one of: {', '.join(step_types)}")
    kind = kinds[0]
    step_type = action_type(kind)
    action = step_type.load(fields[kind], files)
    return Step(
        index=index,
        name=fields["name"].string() if "name" in fields else f"{kind} {action.target}",
        action=action,
        validate=command_field(fields["validate"]) if "validate" in fields else None,
        on_change=command_field(fields["on_change"]) if "on_change" in fields else None,
        parents=step_type.parents(fields[kind], action),
    )


@dataclass(frozen=True)
class _Files:
    """The files a step reads at load time, beside the playbook (a template step's templates)."""

    base_dir: Path

    def template_source(self, node: Node) -> TemplateSource:
        src = (self.base_dir / node.string()).resolve()
        try:
            source = read_template_source(src)
            parse_template(source, display_path(src))
            includes = read_included(src, source, self.base_dir)
        except TemplateFileError as e:
            raise node.error(str(e)) from None
        return TemplateSource(src, source, includes)


def _probe(node: Node) -> Probe:
    kinds = probe_keys()
    fields = node.mapping(kinds)
    if len(fields) != 1:
        raise node.error(f"a probe needs exactly one of: {', '.join(kinds)}")
    ((kind, spec),) = fields.items()
    probe: Probe = probe_kind(kind).load(spec)
    return probe
