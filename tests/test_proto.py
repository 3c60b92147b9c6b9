# SPDX-License-Identifier: Apache-2.0
"""xfast.encoding.proto against TensorBoard's generated classes: same schema, same bytes, same
text."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

from xfast.encoding import proto as _proto

# Importing these registers TensorBoard's messages in protobuf's default pool.
for _module in (
    "tensorboard.compat.proto.event_pb2",
    "tensorboard.compat.proto.summary_pb2",
    "tensorboard.compat.proto.graph_pb2",
    "tensorboard.compat.proto.config_pb2",
    "tensorboard.plugins.text.plugin_data_pb2",
    "tensorboard.plugins.scalar.plugin_data_pb2",
    "tensorboard.plugins.histogram.plugin_data_pb2",
    "tensorboard.plugins.image.plugin_data_pb2",
    "tensorboard.plugins.audio.plugin_data_pb2",
    "tensorboard.plugins.pr_curve.plugin_data_pb2",
    "tensorboard.plugins.custom_scalar.layout_pb2",
    "tensorboard.plugins.hparams.plugin_data_pb2",
    "tensorboard.plugins.mesh.plugin_data_pb2",
    "tensorboard.plugins.projector.projector_config_pb2",
):
    importlib.import_module(_module)

_XFAST_FILES = ["xfast/tensorboard.proto", "xfast/hparams.proto", "xfast/mesh.proto",
                "xfast/projector.proto"]


def _all_messages(descriptors: Any) -> list[Any]:
    out = []
    for d in descriptors:
        out.append(d)
        out.extend(_all_messages(d.nested_types))
    return out


def _our_messages() -> list[Any]:
    out = []
    for name in _XFAST_FILES:
        out.extend(_all_messages(_proto._POOL.FindFileByName(name).message_types_by_name.values()))
    return out


def _our_enums() -> list[Any]:
    out = []
    for name in _XFAST_FILES:
        fd = _proto._POOL.FindFileByName(name)
        out.extend(fd.enum_types_by_name.values())
        for m in _all_messages(fd.message_types_by_name.values()):
            out.extend(m.enum_types)
    return out


def _field_key(field: Any, oneofs: Any) -> tuple[Any, ...]:
    oneof = oneofs[field.oneof_index].name if field.HasField("oneof_index") else None
    return (field.name, field.number, field.type, field.label, field.type_name, oneof)


def _real(full_name: str) -> Any:
    return message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(full_name)
    )


MESSAGES = [d.full_name for d in _our_messages()]


@pytest.mark.parametrize("full_name", MESSAGES)
def test_fields_match_tensorboard(full_name: str) -> None:
    ours = descriptor_pb2.DescriptorProto()
    _proto._POOL.FindMessageTypeByName(full_name).CopyToProto(ours)
    real = descriptor_pb2.DescriptorProto()
    descriptor_pool.Default().FindMessageTypeByName(full_name).CopyToProto(real)
    real_fields = {f.number: _field_key(f, real.oneof_decl) for f in real.field}
    for field in ours.field:
        assert _field_key(field, ours.oneof_decl) == real_fields[field.number]
    assert ours.options.map_entry == real.options.map_entry


@pytest.mark.parametrize("enum", _our_enums(), ids=lambda e: e.full_name)
def test_enums_match_tensorboard(enum: Any) -> None:
    real = descriptor_pool.Default().FindEnumTypeByName(enum.full_name)
    real_values = {v.name: v.number for v in real.values}
    assert {v.name: v.number for v in enum.values}.items() <= real_values.items()
    # Only tensorboard.DataType leaves values out (the *_REF and newest float types).
    if enum.full_name != "tensorboard.DataType":
        assert len(enum.values) == len(real.values)


_SCALAR_SAMPLES = {
    descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE: -2.5,
    descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT: 0.75,
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: -(2**40),
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64: 2**63 + 5,
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: -7,
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32: 300,
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: True,
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: "s\u00e9",
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: b"\x00\xffb",
}


def _sample(field: Any) -> Any:
    if field.type == field.TYPE_ENUM:
        return field.enum_type.values[-1].number
    return _SCALAR_SAMPLES[field.type]


def _fill(msg: Any, variant: int, depth: int) -> None:
    """Sets every field of `msg` (the `variant`-th member of each oneof), recursing `depth` deep."""
    for field in msg.DESCRIPTOR.fields:
        oneof = field.containing_oneof
        if oneof is not None and oneof.fields[variant % len(oneof.fields)] is not field:
            continue
        if field.message_type is not None:
            if depth == 0:
                continue
            if field.message_type.GetOptions().map_entry:
                key_field, value_field = field.message_type.fields
                container = getattr(msg, field.name)
                if value_field.message_type is not None:
                    _fill(container[_sample(key_field)], variant, depth - 1)
                else:
                    container[_sample(key_field)] = _sample(value_field)
            elif field.is_repeated:
                for _ in range(2):
                    _fill(getattr(msg, field.name).add(), variant, depth - 1)
            else:
                _fill(getattr(msg, field.name), variant, depth - 1)
        elif field.is_repeated:
            getattr(msg, field.name).extend([_sample(field)] * 2)
        else:
            setattr(msg, field.name, _sample(field))


@pytest.mark.parametrize("full_name", [n for n in MESSAGES if not n.endswith("Entry")])
@pytest.mark.parametrize("variant", range(10))
def test_bytes_and_text_match_tensorboard(full_name: str, variant: int) -> None:
    ours = _proto.message_class(full_name)()
    _fill(ours, variant, depth=3)
    data = ours.SerializeToString(deterministic=True)
    real = _real(full_name).FromString(data)
    assert real.SerializeToString(deterministic=True) == data
    text = text_format.MessageToString(ours, print_unknown_fields=True)
    assert text_format.MessageToString(real, print_unknown_fields=True) == text
    assert text_format.Parse(text, _proto.message_class(full_name)()) == ours
    # And back: TensorBoard's bytes parse into ours unchanged.
    assert _proto.message_class(full_name).FromString(real.SerializeToString()) == ours


def test_coexists_with_tensorboard_and_feeds_file_writer(tmp_path: Any) -> None:
    """Both sets of classes live side by side, and xfast's Summary goes through FileWriter."""
    from tensorboard.backend.event_processing import event_file_loader

    from xfast import FileWriter

    summary = _proto.Summary(value=[_proto.Summary.Value(tag="t", simple_value=2.0)])
    fw = FileWriter(str(tmp_path))
    fw.add_summary(summary, global_step=3)
    fw.close()
    (path,) = tmp_path.iterdir()
    events = list(event_file_loader.LegacyEventFileLoader(str(path)).Load())
    assert events[-1].step == 3
    assert events[-1].summary.value[0].simple_value == 2.0
    assert _proto.Event is not _real("tensorboard.Event")


def test_enum_wrappers() -> None:
    assert _proto.DataType.Value("DT_STRING") == 7
    assert _proto.HParamDataType.Name(3) == "DATA_TYPE_FLOAT64"
    assert _proto.HParamStatus.Value("STATUS_SUCCESS") == 1
    assert _proto.MeshPluginData.COLOR == 3
