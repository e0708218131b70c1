"""Read a mapping file, report every problem at once with file:line:col, and cross-check the model.

Admins fix mapping files in one pass only if they see every problem together, so the loader
collects schema errors (from pydantic, positioned through :mod:`crm_sync.rules.yamlpos`) and model
cross-check errors (an output that does not exist, a value the model can emit without an option)
before raising one :class:`~crm_sync.errors.ModelFileError`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import TypeAdapter, ValidationError

from crm_sync.errors import FileProblem, ModelFileError, Position
from crm_sync.mapping.schema import HubSpotMapping, MappingDoc, SalesforceMapping
from crm_sync.rules.yamlpos import YamlDoc, load_yaml

__all__ = ["MappedProperty", "MappingFile", "OutputLike", "load_mapping_file", "parse_mapping"]

_ADAPTER: TypeAdapter[HubSpotMapping | SalesforceMapping] = TypeAdapter(MappingDoc)


class OutputLike(Protocol):
    """What the loader needs from a model output (``rules``' ``OutputSpec`` fits)."""

    @property
    def name(self) -> str:
        """Output name (a segment set, tag set or lifecycle)."""
        ...

    @property
    def entity(self) -> str:
        """``company`` or ``contact``."""
        ...

    @property
    def kind(self) -> str:
        """``single`` or ``multi``."""
        ...

    @property
    def values(self) -> tuple[str, ...]:
        """Every value the output can emit."""
        ...


class ModelLike(Protocol):
    """What the loader needs from a segmentation model."""

    def outputs(self) -> Sequence[OutputLike]:
        """Every output of the model."""
        ...


@dataclass(frozen=True, slots=True)
class MappedProperty:
    """One model output as written to one CRM property: the engine's normalised view.

    ``options`` maps model value → CRM value. ``owned`` is the set of CRM values crm_sync may
    add or remove on a multi-valued property; any other value found there belongs to someone else.
    """

    entity: str
    output: str
    object: str
    name: str
    multi: bool
    write_policy: str
    options: tuple[tuple[str, str], ...]

    @property
    def owned(self) -> frozenset[str]:
        """CRM values crm_sync owns on this property."""
        return frozenset(crm for _, crm in self.options)

    def to_crm(self, model_value: str) -> str:
        """Translate a model value; values without an option pass through unchanged (free text)."""
        for model, crm in self.options:
            if model == model_value:
                return crm
        return model_value


@dataclass(frozen=True)
class MappingFile:
    """A validated mapping: the raw document, where it came from, and the normalised targets."""

    doc: HubSpotMapping | SalesforceMapping
    path: str
    fingerprint: str

    @property
    def crm(self) -> str:
        """``hubspot`` or ``salesforce``."""
        return self.doc.crm

    def targets(self) -> tuple[MappedProperty, ...]:
        """Every written property, ordered by entity then output so plans are deterministic."""
        out: list[MappedProperty] = []
        for entity in ("company", "contact"):
            obj = getattr(self.doc.objects, entity).object
            for output, prop in sorted(self.doc.properties.get(entity, {}).items()):
                out.append(
                    MappedProperty(
                        entity=entity,
                        output=output,
                        object=obj,
                        name=prop.crm_name(),
                        multi=prop.is_multi(),
                        write_policy=prop.write_policy,
                        options=tuple((k, v.value) for k, v in prop.options.items()),
                    )
                )
        return tuple(out)

    def list_fields(self, entity: str) -> dict[str, str]:
        """Model field → HubSpot list name, for the entity's pull fields fed by list membership."""
        return {
            name: f.list
            for owner, fields in self.doc.pull.items()
            if owner == entity
            for name, f in sorted(fields.items())
            if f.list is not None
        }


def _problems_from_validation(exc: ValidationError, doc: YamlDoc) -> list[FileProblem]:
    problems = []
    crm = doc.data.get("crm") if isinstance(doc.data, dict) else None
    for err in exc.errors():
        loc: list[str | int] = list(err["loc"])
        if loc and loc[0] == crm:  # pydantic prefixes the discriminator's tag
            loc = loc[1:]
        # Drop pydantic's internal names for constrained-type steps (e.g. 'function-after[...]').
        loc = [p for p in loc if not (isinstance(p, str) and "[" in p)]
        position = doc.position(loc, key=err["type"] == "extra_forbidden")
        where = ".".join(str(p) for p in loc) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'; check the spelling (allowed keys are documented in the file header)"
        elif err["type"] == "union_tag_invalid" or err["type"] == "union_tag_not_found":
            message = "'crm' must be 'hubspot' or 'salesforce'"
        problems.append(FileProblem(position, f"{where}: {message}"))
    return problems


def _cross_check(
    doc: HubSpotMapping | SalesforceMapping, ydoc: YamlDoc, model: ModelLike
) -> list[FileProblem]:
    problems: list[FileProblem] = []
    outputs = {o.name: o for o in model.outputs()}
    for entity, props in doc.properties.items():
        for output, prop in props.items():
            loc: tuple[str | int, ...] = ("properties", entity, output)
            spec = outputs.get(output)
            if spec is None:
                known = ", ".join(sorted(n for n, o in outputs.items() if o.entity == entity))
                problems.append(
                    FileProblem(
                        ydoc.position(loc, key=True),
                        f"model has no output '{output}' on {entity}; known: {known or 'none'}",
                    )
                )
                continue
            if spec.entity != entity:
                problems.append(
                    FileProblem(
                        ydoc.position(loc, key=True),
                        f"output '{output}' belongs to {spec.entity}, not {entity}; move it",
                    )
                )
            if (spec.kind == "multi") != prop.is_multi():
                want = "a multi-valued" if spec.kind == "multi" else "a single-valued"
                problems.append(
                    FileProblem(
                        ydoc.position((*loc, "type")),
                        f"output '{output}' is {spec.kind}-valued; map it to {want} property",
                    )
                )
            missing = [v for v in spec.values if v not in prop.options]
            if spec.values and missing:
                problems.append(
                    FileProblem(
                        ydoc.position((*loc, "options")),
                        f"output '{output}' can emit {', '.join(missing)} but has no option for "
                        "it; add an entry under options",
                    )
                )
            for value in prop.options:
                if spec.values and value not in spec.values:
                    problems.append(
                        FileProblem(
                            ydoc.position((*loc, "options", value), key=True),
                            f"option '{value}' is not a value output '{output}' can emit",
                        )
                    )
    return problems


def _declared_fields(model: ModelLike) -> dict[str, dict[str, object]] | None:
    """The model file's declared ``fields`` per entity, or None when the model has no file.

    Works for a loaded model (``.spec.fields``) and for the sync engine's computer wrapping one
    (``.model.spec.fields``); stand-ins without a model file (unit-test computers) give None.
    """
    for holder in (model, getattr(model, "model", None)):
        fields = getattr(getattr(holder, "spec", None), "fields", None)
        if isinstance(fields, dict):
            return {str(k): dict(v) for k, v in fields.items()}
    return None


def _check_pull(
    doc: HubSpotMapping | SalesforceMapping, ydoc: YamlDoc, model: ModelLike | None
) -> list[FileProblem]:
    """List-membership pull fields: HubSpot only, and (with a model) a declared ``bool`` field."""
    problems: list[FileProblem] = []
    declared = _declared_fields(model) if model is not None else None
    for entity, fields in doc.pull.items():
        for name, field in fields.items():
            if field.list is None:
                continue
            loc: tuple[str | int, ...] = ("pull", entity, name, "list")
            if doc.crm != "hubspot":
                problems.append(
                    FileProblem(
                        ydoc.position(loc, key=True),
                        f"pull.{entity}.{name}: `list` (list membership) is a HubSpot feature; "
                        "in Salesforce read a field with `source`",
                    )
                )
                continue
            if declared is None:
                continue
            spec = declared.get(entity, {}).get(name)
            kind = getattr(spec, "type", None)
            if spec is None:
                problems.append(
                    FileProblem(
                        ydoc.position(("pull", entity, name), key=True),
                        f"pull.{entity}.{name} reads list '{field.list}', but the model declares "
                        f"no {entity} field '{name}'; add it under fields.{entity} with type: bool",
                    )
                )
            elif kind != "bool":
                problems.append(
                    FileProblem(
                        ydoc.position(loc),
                        f"pull.{entity}.{name} reads list '{field.list}' (true for members, false "
                        f"otherwise), but the model declares '{name}' as type: {kind}; "
                        "declare it type: bool",
                    )
                )
    return problems


def parse_mapping(text: str, file: str, model: ModelLike | None = None) -> MappingFile:
    """Validate mapping text; every problem is raised together in one ModelFileError."""
    ydoc = load_yaml(text, file)
    if not isinstance(ydoc.data, dict):
        raise ModelFileError(
            [FileProblem(Position(1, 1, file), "expected a mapping with 'crm:' and 'version:'")]
        )
    try:
        doc = _ADAPTER.validate_python(ydoc.data)
    except ValidationError as exc:
        raise ModelFileError(_problems_from_validation(exc, ydoc)) from exc
    problems = _cross_check(doc, ydoc, model) if model is not None else []
    problems += _check_pull(doc, ydoc, model)
    if problems:
        raise ModelFileError(problems)
    canonical = json.dumps(doc.model_dump(mode="json"), sort_keys=True)
    fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return MappingFile(doc=doc, path=file, fingerprint=fingerprint)


def load_mapping_file(path: Path, model: ModelLike | None = None) -> MappingFile:
    """Read and validate ``path``; with ``model``, also check every output and value is mapped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelFileError(
            [FileProblem(Position(1, 1, str(path)), f"cannot read mapping file: {exc.strerror}")]
        ) from exc
    return parse_mapping(text, str(path), model)
