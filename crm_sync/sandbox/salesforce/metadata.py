"""Metadata API (SOAP ``/services/Soap/m/XX.X``): create/read/upsert/delete ``CustomField``.

Why: crm_sync provisions its Persona/Tags/Segment fields this way (facts §3.1), and the trap is
what comes after — a new field is invisible (describe omits it, SOQL says ``No such column``)
until field-level security is granted through a permission set assigned to the integration user
(facts §3.3, Gotcha 10). Fields created here join the org's schema as custom fields; ``state.Org``
hides them until a ``FieldPermissions`` row grants Read.

Limits and shapes: at most 10 components per call, all of one type; per-component
``SaveResult``/``DeleteResult`` with ``errors{statusCode,message}`` (simple-salesforce turns those
into a bare ``Exception``); session and quota refusals are SOAP faults. Only Contact, Lead and
Account accept new fields here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from crm_sync.sandbox.faults import Fault
from crm_sync.sandbox.http import Request, Response
from crm_sync.sandbox.salesforce.auth import Sessions
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.limits import ApiLimits
from crm_sync.sandbox.salesforce.schema import FieldDef
from crm_sync.sandbox.salesforce.state import Org

__all__ = ["CUSTOMIZABLE", "MetadataApi"]

CUSTOMIZABLE = ("Contact", "Lead", "Account")
MAX_COMPONENTS = 10
_MD = "{http://soap.sforce.com/2006/04/metadata}"
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_TYPES = {
    "Text": "string", "TextArea": "textarea", "LongTextArea": "textarea", "Number": "double",
    "Currency": "currency", "Percent": "percent", "Checkbox": "boolean", "Date": "date",
    "DateTime": "datetime", "Email": "email", "Phone": "phone", "Url": "url",
    "Picklist": "picklist", "MultiselectPicklist": "multipicklist",
}  # fmt: skip
_NAME = re.compile(r"^[A-Za-z](?!.*__.*__c$)[A-Za-z0-9_]*[A-Za-z0-9]__c$")
_BAD_NAME = (
    "The Field Name field can only contain underscores and alphanumeric characters. It must be "
    "unique, begin with a letter, not include spaces, not end with an underscore, and not "
    "contain two consecutive underscores."
)


def _envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="http://soap.sforce.com/2006/04/metadata" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(code: str, message: str) -> Response:
    """A SOAP fault (HTTP 500), how the Metadata API refuses a whole call."""
    body = f"<soapenv:Fault><faultcode>{escape(code)}</faultcode><faultstring>{escape(message)}</faultstring></soapenv:Fault>"
    return Response.text(500, _envelope(body), "text/xml; charset=utf-8")


def _text(el: ET.Element, name: str) -> str | None:
    child = el.find(_MD + name)
    return child.text if child is not None and child.text is not None else None


def _result(full_name: str, error: SfError | None) -> str:
    errors = ""
    if error is not None:
        errors = f"<errors><message>{escape(error.message)}</message><statusCode>{error.code}</statusCode></errors>"
    ok = "true" if error is None else "false"
    return (
        f"<result>{errors}<fullName>{escape(full_name)}</fullName><success>{ok}</success></result>"
    )


class MetadataApi:
    """The SOAP endpoint; one instance per sandbox."""

    def __init__(self, org: Org, sessions: Sessions, limits: ApiLimits) -> None:
        self.org = org
        self.sessions = sessions
        self.limits = limits
        self.definitions: dict[str, dict[str, Any]] = {}  # fullName -> what was declared

    def handle(self, request: Request, fault: Fault | None) -> Response:
        """Authenticate from the SOAP ``SessionHeader``, charge the call, run the operation."""
        try:
            root = ET.fromstring(request.body)  # noqa: S314 - local, trusted test traffic
        except ET.ParseError as exc:
            return soap_fault("soapenv:Client", f"Unable to parse the request: {exc}")
        session = root.find(f".//{_MD}SessionHeader/{_MD}sessionId")
        try:
            if fault is not None and fault.kind.value == "session_expiry":
                raise SfError("INVALID_SESSION_ID", "", status=401)
            self.sessions.session_id(session.text or "" if session is not None else "")
            self.limits.charge()
        except SfError as exc:
            if exc.code == "INVALID_SESSION_ID":
                return soap_fault(
                    "sf:INVALID_SESSION_ID",
                    "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session",
                )
            return soap_fault(f"sf:{exc.code}", f"{exc.code}: {exc.message}")
        body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        op = body[0] if body is not None and len(body) else None
        name = op.tag.removeprefix(_MD) if op is not None else ""
        if op is None or name not in (
            "createMetadata",
            "upsertMetadata",
            "readMetadata",
            "deleteMetadata",
        ):
            return soap_fault(
                "soapenv:Client", f"The sandbox does not implement the Metadata operation '{name}'"
            )
        items = list(
            op.findall(
                _MD + ("fullNames" if name in ("readMetadata", "deleteMetadata") else "metadata")
            )
        )
        if len(items) > MAX_COMPONENTS:
            return soap_fault(
                "sf:EXCEEDED_ID_LIMIT",
                f"EXCEEDED_ID_LIMIT: record limit reached. cannot submit more than {MAX_COMPONENTS} records in this call",
            )
        if name in ("readMetadata", "deleteMetadata"):
            kind = _text(op, "type")
            if kind != "CustomField":
                return soap_fault(
                    "soapenv:Client", f"The sandbox only supports CustomField, not {kind}"
                )
            names = [i.text or "" for i in items]
            if name == "readMetadata":
                return self._read(names)
            return self._delete(names)
        kinds = {(i.get(_XSI + "type") or "").rpartition(":")[2] for i in items}
        if kinds - {"CustomField"}:
            return soap_fault(
                "soapenv:Client",
                f"The sandbox only supports CustomField, not {', '.join(sorted(kinds))}",
            )
        for item in items:
            declared = _text(item, "type")
            if declared is not None and declared not in _TYPES:
                return soap_fault(
                    "soapenv:Client", f"'{declared}' is not a valid value for the enum 'FieldType'"
                )
        results = "".join(self._save(item, upsert=name == "upsertMetadata") for item in items)
        return Response.text(
            200, _envelope(f"<{name}Response>{results}</{name}Response>"), "text/xml; charset=utf-8"
        )

    def _save(self, item: ET.Element, *, upsert: bool) -> str:
        full_name = _text(item, "fullName") or ""
        try:
            field = self._field(item, full_name)
            obj_name = full_name.partition(".")[0]
            with self.org.lock:
                obj = self.org.schema[obj_name]
                existing = obj.field(field.name)
                if existing is not None and not upsert:
                    raise SfError(
                        "DUPLICATE_DEVELOPER_NAME",
                        f"There is already a field named {field.name.removesuffix('__c')} on {obj_name}.",
                    )
                obj.fields[field.name] = field
                default = bool(field.default_checkbox) if field.type == "boolean" else None
                for rec in self.org.records[obj_name].values():
                    rec.setdefault(field.name, default)
                self.definitions[f"{obj_name}.{field.name}"] = {
                    child.tag.removeprefix(_MD): child for child in item
                }
        except SfError as exc:
            return _result(full_name, exc)
        if upsert:
            return _result(full_name, None).replace(
                "</success>", f"</success><created>{'false' if existing else 'true'}</created>"
            )
        return _result(full_name, None)

    def _field(self, item: ET.Element, full_name: str) -> FieldDef:
        obj_name, _, field_name = full_name.partition(".")
        if obj_name not in CUSTOMIZABLE:
            raise SfError(
                "INVALID_CROSS_REFERENCE_KEY",
                f"In field: fullName - no CustomObject named {obj_name} found",
            )
        if not _NAME.match(field_name) or len(field_name) > 43:
            raise SfError("FIELD_INTEGRITY_EXCEPTION", _BAD_NAME)
        label = _text(item, "label")
        kind = _text(item, "type")
        if not label:
            raise SfError("REQUIRED_FIELD_MISSING", "Required field is missing: label")
        if not kind:
            raise SfError("REQUIRED_FIELD_MISSING", "Required field is missing: type")

        def need(attr: str) -> str:
            value = _text(item, attr)
            if value is None:
                raise SfError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"Must specify '{attr}' for a CustomField of type {kind}",
                )
            return value

        f = FieldDef(field_name, _TYPES[kind], label=label, custom=True)
        f.external_id = (_text(item, "externalId") or "false") == "true"
        f.unique = (_text(item, "unique") or "false") == "true"
        if kind in ("Text", "LongTextArea"):
            f.length = int(need("length"))
            limit = 255 if kind == "Text" else 131072
            if not 1 <= f.length <= limit:
                raise SfError("FIELD_INTEGRITY_EXCEPTION", f"Length must be between 1 and {limit}")
        if kind == "TextArea":
            f.length = 255
        if kind in ("Number", "Currency", "Percent"):
            f.precision, f.scale = (
                int(need("precision")),
                int(need("scale") if kind != "Number" else _text(item, "scale") or "0"),
            )
            if not 1 <= f.precision <= 18 or not 0 <= f.scale <= f.precision:
                raise SfError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "Precision must be between 1 and 18 and scale between 0 and precision",
                )
        if kind == "Checkbox":
            f.default_checkbox = need("defaultValue").lower() == "true"
        if kind in ("MultiselectPicklist", "LongTextArea"):
            f.visible_lines = int(need("visibleLines"))
        if kind in ("Picklist", "MultiselectPicklist"):
            value_set = item.find(_MD + "valueSet")
            if value_set is None:
                raise SfError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"Must specify 'valueSet' for a CustomField of type {kind}",
                )
            f.restricted = (_text(value_set, "restricted") or "false") == "true"
            values = value_set.findall(f"{_MD}valueSetDefinition/{_MD}value")
            f.picklist = tuple(_text(v, "fullName") or "" for v in values)
            f.default_value = next(
                (_text(v, "fullName") for v in values if _text(v, "default") == "true"), None
            )
            if not f.picklist:
                raise SfError("FIELD_INTEGRITY_EXCEPTION", "A picklist needs at least one value")
        return f

    def _read(self, names: list[str]) -> Response:
        records = []
        for full_name in names:
            declared = self.definitions.get(full_name)
            if declared is None:
                records.append('<records xsi:type="CustomField"/>')
                continue
            inner = "".join(ET.tostring(el, encoding="unicode") for el in declared.values())
            records.append(f'<records xsi:type="CustomField">{inner}</records>')
        body = f"<readMetadataResponse><result>{''.join(records)}</result></readMetadataResponse>"
        return Response.text(200, _envelope(body), "text/xml; charset=utf-8")

    def _delete(self, names: list[str]) -> Response:
        results = []
        for full_name in names:
            obj_name, _, field_name = full_name.partition(".")
            with self.org.lock:
                obj = self.org.schema.get(obj_name)
                f = obj.field(field_name) if obj else None
                if obj is None or f is None or not f.custom:
                    results.append(
                        _result(
                            full_name,
                            SfError(
                                "INVALID_CROSS_REFERENCE_KEY",
                                f"no CustomField named {full_name} found",
                            ),
                        )
                    )
                    continue
                del obj.fields[f.name]
                self.definitions.pop(f"{obj_name}.{f.name}", None)
                for rec in self.org.records[obj_name].values():
                    rec.pop(f.name, None)
            results.append(_result(full_name, None))
        body = f"<deleteMetadataResponse>{''.join(results)}</deleteMetadataResponse>"
        return Response.text(200, _envelope(body), "text/xml; charset=utf-8")
