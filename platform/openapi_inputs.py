"""The OpenAPI schema of request bodies, as strict as the decoder that reads them.

Litestar's own schema for a msgspec Struct drops much of what msgspec enforces: limits on
items of lists and values of dicts, ``Literal`` dict keys, ``forbid_unknown_fields``, a
``ge=0``. Clients generated from the document and fuzzers then send bodies the API
refuses. :class:`StrictInputSchemaPlugin` documents every *input* Struct (one declared
``forbid_unknown_fields=True``) with msgspec's own JSON schema of it, so what the document
allows is what the decoder accepts. Output types keep Litestar's schema.

A field may add a rule the decoder leaves to the service (which answers it with a precise
error code) through ``msgspec.Meta(extra_json_schema={"extra": {"pattern": ...}})``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIFormat, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

# JSON Schema keyword -> Litestar ``Schema`` field.
_KEYS = {
    "type": "type",
    "properties": "properties",
    "required": "required",
    "additionalProperties": "additional_properties",
    "items": "items",
    "anyOf": "any_of",
    "oneOf": "one_of",
    "allOf": "all_of",
    "not": "schema_not",
    "enum": "enum",
    "const": "const",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
    "multipleOf": "multiple_of",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minItems": "min_items",
    "maxItems": "max_items",
    "minProperties": "min_properties",
    "maxProperties": "max_properties",
    "propertyNames": "property_names",
    "format": "format",
    "title": "title",
    "description": "description",
    "default": "default",
    "examples": "examples",
}
_NESTED = {"items", "additionalProperties", "not", "propertyNames"}
_NESTED_LISTS = {"anyOf", "oneOf", "allOf"}


def is_input_struct(annotation: Any) -> bool:
    """A request body type: a msgspec Struct that refuses unknown fields."""
    return (
        isinstance(annotation, type)
        and issubclass(annotation, msgspec.Struct)
        and bool(annotation.__struct_config__.forbid_unknown_fields)
    )


def input_schema(kind: type[msgspec.Struct]) -> Schema:
    """``kind``'s msgspec JSON schema as a Litestar ``Schema``, ``$defs`` inlined."""
    document = msgspec.json.schema(kind)
    definitions = document.get("$defs", {})
    return _to_schema(document, definitions)


def _resolve(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {**definitions[node["$ref"].rsplit("/", 1)[-1]], **{
            key: value for key, value in node.items() if key != "$ref"
        }}  # fmt: skip
    return node


def _to_schema(node: dict[str, Any] | bool, definitions: dict[str, Any]) -> Any:
    if isinstance(node, bool):
        return node  # additionalProperties: false
    node = _resolve(node, definitions)
    if isinstance(node.get("extra"), dict):
        # Meta(extra_json_schema={"extra": {...}}): keywords the service checks, not msgspec.
        node = {**{k: v for k, v in node.items() if k != "extra"}, **node["extra"]}
    fields: dict[str, Any] = {}
    for key, value in node.items():
        name = _KEYS.get(key)
        if name is None:
            continue
        if key == "properties":
            value = {prop: _to_schema(sub, definitions) for prop, sub in value.items()}
        elif key in _NESTED:
            value = _to_schema(value, definitions)
        elif key in _NESTED_LISTS:
            value = [_to_schema(sub, definitions) for sub in value]
        elif key == "format":
            value = OpenAPIFormat(value)
        elif key == "required" and not value:
            continue
        fields[name] = value
    return Schema(**fields)


class StrictInputSchemaPlugin(OpenAPISchemaPlugin):
    """Documents input Structs with the schema their decoder enforces."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return is_input_struct(field_definition.annotation)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return input_schema(field_definition.annotation)
