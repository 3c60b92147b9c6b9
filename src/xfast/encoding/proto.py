# SPDX-License-Identifier: Apache-2.0
"""The protobuf messages xfast writes (Event, Summary, plugin payloads, GraphDef, projector
config), with TensorBoard's package names and field numbers, built at import time.

Why descriptors are built at run time: generated ``_pb2`` modules are tied to the protobuf
runtime that ``protoc`` targeted (new gencode refuses older runtimes, and very old gencode is
rejected by new ones), and shipping them would mean a protoc step in the build. Instead the
schemas below are written in a small subset of proto3 syntax, turned into
``FileDescriptorProto``s here, added to a private ``DescriptorPool`` and given classes by
``message_factory``. This works with every protobuf release we support (>=4.21), needs no
protoc, and never imports tensorboard. Because the pool is private, TensorBoard's own classes
(registered in the default pool under the same names) can be imported beside these without a
clash; both produce the same bytes and the same text format, which ``tests/test_proto.py``
checks message by message.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

# Each schema: (file name, package, proto3 source). Field numbers, names and types follow
# tensorboard/compat/proto/*.proto and tensorboard/plugins/*/*.proto; fields xfast never writes
# (and whose types would drag in large files) are left out, which only means that a parsed
# message keeps them as unknown fields, written back unchanged.
_SCHEMAS: list[tuple[str, str, str]] = [
    ("xfast/tensorboard.proto", "tensorboard", """
        enum DataType {
          DT_INVALID = 0; DT_FLOAT = 1; DT_DOUBLE = 2; DT_INT32 = 3; DT_UINT8 = 4;
          DT_INT16 = 5; DT_INT8 = 6; DT_STRING = 7; DT_COMPLEX64 = 8; DT_INT64 = 9;
          DT_BOOL = 10; DT_QINT8 = 11; DT_QUINT8 = 12; DT_QINT32 = 13; DT_BFLOAT16 = 14;
          DT_QINT16 = 15; DT_QUINT16 = 16; DT_UINT16 = 17; DT_COMPLEX128 = 18; DT_HALF = 19;
          DT_RESOURCE = 20; DT_VARIANT = 21; DT_UINT32 = 22; DT_UINT64 = 23;
        }
        enum DataClass {
          DATA_CLASS_UNKNOWN = 0; DATA_CLASS_SCALAR = 1; DATA_CLASS_TENSOR = 2;
          DATA_CLASS_BLOB_SEQUENCE = 3;
        }

        message TensorShapeProto {
          message Dim { int64 size = 1; string name = 2; }
          repeated Dim dim = 2;
          bool unknown_rank = 3;
        }
        message TensorProto {
          DataType dtype = 1;
          TensorShapeProto tensor_shape = 2;
          int32 version_number = 3;
          bytes tensor_content = 4;
          repeated int32 half_val = 13;
          repeated float float_val = 5;
          repeated double double_val = 6;
          repeated int32 int_val = 7;
          repeated bytes string_val = 8;
          repeated float scomplex_val = 9;
          repeated int64 int64_val = 10;
          repeated bool bool_val = 11;
          repeated double dcomplex_val = 12;
          repeated VariantTensorDataProto variant_val = 15;
          repeated uint32 uint32_val = 16;
          repeated uint64 uint64_val = 17;
          bytes float8_val = 18;
        }
        message VariantTensorDataProto {
          string type_name = 1;
          bytes metadata = 2;
          repeated TensorProto tensors = 3;
        }
        message HistogramProto {
          double min = 1; double max = 2; double num = 3; double sum = 4;
          double sum_squares = 5;
          repeated double bucket_limit = 6;
          repeated double bucket = 7;
        }

        message SummaryMetadata {
          message PluginData { string plugin_name = 1; bytes content = 2; }
          PluginData plugin_data = 1;
          string display_name = 2;
          string summary_description = 3;
          DataClass data_class = 4;
        }
        message Summary {
          message Image {
            int32 height = 1; int32 width = 2; int32 colorspace = 3;
            bytes encoded_image_string = 4;
          }
          message Audio {
            float sample_rate = 1; int64 num_channels = 2; int64 length_frames = 3;
            bytes encoded_audio_string = 4; string content_type = 5;
          }
          message Value {
            string node_name = 7;
            string tag = 1;
            SummaryMetadata metadata = 9;
            oneof value {
              float simple_value = 2;
              bytes obsolete_old_style_histogram = 3;
              Image image = 4;
              HistogramProto histo = 5;
              Audio audio = 6;
              TensorProto tensor = 8;
            }
          }
          repeated Value value = 1;
        }

        message Event {
          double wall_time = 1;
          int64 step = 2;
          oneof what {
            string file_version = 3;
            bytes graph_def = 4;
            Summary summary = 5;
            LogMessage log_message = 6;
            SessionLog session_log = 7;
            TaggedRunMetadata tagged_run_metadata = 8;
            bytes meta_graph_def = 9;
          }
          SourceMetadata source_metadata = 10;
        }
        message SourceMetadata { string writer = 1; }
        message LogMessage {
          enum Level {
            UNKNOWN = 0; DEBUGGING = 10; INFO = 20; WARN = 30; ERROR = 40; FATAL = 50;
          }
          Level level = 1;
          string message = 2;
        }
        message SessionLog {
          enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
          SessionStatus status = 1;
          string checkpoint_path = 2;
          string msg = 3;
        }
        message TaggedRunMetadata { string tag = 1; bytes run_metadata = 2; }

        message GraphDef {
          repeated NodeDef node = 1;
          VersionDef versions = 4;
          int32 version = 3;
        }
        message NodeDef {
          string name = 1;
          string op = 2;
          repeated string input = 3;
          string device = 4;
          map<string, AttrValue> attr = 5;
        }
        message AttrValue {
          message ListValue {
            repeated bytes s = 2;
            repeated int64 i = 3;
            repeated float f = 4;
            repeated bool b = 5;
            repeated DataType type = 6;
            repeated TensorShapeProto shape = 7;
            repeated TensorProto tensor = 8;
            repeated NameAttrList func = 9;
          }
          oneof value {
            bytes s = 2;
            int64 i = 3;
            float f = 4;
            bool b = 5;
            DataType type = 6;
            TensorShapeProto shape = 7;
            TensorProto tensor = 8;
            ListValue list = 1;
            NameAttrList func = 10;
            string placeholder = 9;
          }
        }
        message NameAttrList {
          string name = 1;
          map<string, AttrValue> attr = 2;
        }
        message VersionDef {
          int32 producer = 1;
          int32 min_consumer = 2;
          repeated int32 bad_consumers = 3;
        }
        message RunMetadata { StepStats step_stats = 1; }
        message StepStats { repeated DeviceStepStats dev_stats = 1; }
        message DeviceStepStats {
          string device = 1;
          map<uint32, string> thread_names = 3;
        }

        message ScalarPluginData { int32 version = 1; }
        message HistogramPluginData { int32 version = 1; }
        message TextPluginData { int32 version = 1; }
        message ImagePluginData { int32 version = 1; bool converted_to_tensor = 2; }
        message AudioPluginData {
          enum Encoding { UNKNOWN = 0; WAV = 11; }
          int32 version = 1;
          Encoding encoding = 2;
          bool converted_to_tensor = 3;
        }
        message PrCurvePluginData { int32 version = 1; uint32 num_thresholds = 2; }

        message Layout { int32 version = 1; repeated Category category = 2; }
        message Category { string title = 1; repeated Chart chart = 2; bool closed = 3; }
        message Chart {
          string title = 1;
          oneof content {
            MultilineChartContent multiline = 2;
            MarginChartContent margin = 3;
          }
        }
        message MultilineChartContent { repeated string tag = 1; }
        message MarginChartContent {
          message Series { string value = 1; string lower = 2; string upper = 3; }
          repeated Series series = 1;
        }
    """),
    ("xfast/hparams.proto", "tensorboard.hparams", """
        enum DataType {
          DATA_TYPE_UNSET = 0; DATA_TYPE_STRING = 1; DATA_TYPE_BOOL = 2; DATA_TYPE_FLOAT64 = 3;
        }
        enum DatasetType { DATASET_UNKNOWN = 0; DATASET_TRAINING = 1; DATASET_VALIDATION = 2; }
        enum Status {
          STATUS_UNKNOWN = 0; STATUS_SUCCESS = 1; STATUS_FAILURE = 2; STATUS_RUNNING = 3;
        }
        message Experiment {
          string name = 6;
          string description = 1;
          string user = 2;
          double time_created_secs = 3;
          repeated HParamInfo hparam_infos = 4;
          repeated MetricInfo metric_infos = 5;
        }
        message HParamInfo {
          string name = 1;
          string display_name = 2;
          string description = 3;
          DataType type = 4;
          oneof domain {
            google.protobuf.ListValue domain_discrete = 5;
            Interval domain_interval = 6;
          }
          bool differs = 7;
        }
        message Interval { double min_value = 1; double max_value = 2; }
        message MetricName { string group = 1; string tag = 2; }
        message MetricInfo {
          MetricName name = 1;
          string display_name = 3;
          string description = 4;
          DatasetType dataset_type = 5;
        }
        message HParamsPluginData {
          int32 version = 1;
          oneof data {
            Experiment experiment = 2;
            SessionStartInfo session_start_info = 3;
            SessionEndInfo session_end_info = 4;
          }
        }
        message SessionStartInfo {
          map<string, google.protobuf.Value> hparams = 1;
          string model_uri = 2;
          string monitor_url = 3;
          string group_name = 4;
          double start_time_secs = 5;
        }
        message SessionEndInfo { Status status = 1; double end_time_secs = 2; }
    """),
    ("xfast/mesh.proto", "tensorboard.mesh", """
        message MeshPluginData {
          enum ContentType { UNDEFINED = 0; VERTEX = 1; FACE = 2; COLOR = 3; }
          int32 version = 1;
          string name = 2;
          ContentType content_type = 3;
          string json_config = 5;
          repeated int32 shape = 6;
          uint32 components = 7;
        }
    """),
    ("xfast/projector.proto", "tensorboard.projector", """
        message SpriteMetadata {
          string image_path = 1;
          repeated uint32 single_image_dim = 2;
        }
        message EmbeddingInfo {
          string tensor_name = 1;
          string metadata_path = 2;
          string bookmarks_path = 3;
          repeated uint32 tensor_shape = 4;
          SpriteMetadata sprite = 5;
          string tensor_path = 6;
        }
        message ProjectorConfig {
          string model_checkpoint_path = 1;
          repeated EmbeddingInfo embeddings = 2;
          string model_checkpoint_dir = 3;
        }
    """),
]

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALAR_TYPES = {
    "double": _FDP.TYPE_DOUBLE, "float": _FDP.TYPE_FLOAT, "int64": _FDP.TYPE_INT64,
    "uint64": _FDP.TYPE_UINT64, "int32": _FDP.TYPE_INT32, "fixed64": _FDP.TYPE_FIXED64,
    "fixed32": _FDP.TYPE_FIXED32, "bool": _FDP.TYPE_BOOL, "string": _FDP.TYPE_STRING,
    "bytes": _FDP.TYPE_BYTES, "uint32": _FDP.TYPE_UINT32, "sfixed32": _FDP.TYPE_SFIXED32,
    "sfixed64": _FDP.TYPE_SFIXED64, "sint32": _FDP.TYPE_SINT32, "sint64": _FDP.TYPE_SINT64,
}
_TOKEN = re.compile(r"[A-Za-z_][\w.]*|-?\d+|[{}=;<>,]")


class _Parser:
    """Reads the proto3 subset used above (message, enum, oneof, repeated, map) into
    descriptor protos. Type names are resolved afterwards, once every schema is read."""

    def __init__(self, source: str) -> None:
        self._tokens: list[str] = _TOKEN.findall(re.sub(r"//[^\n]*", "", source))
        self._pos = 0
        # (field, scope it was declared in, type name as written)
        self.unresolved: list[tuple[Any, str, str]] = []
        self.declared: dict[str, int] = {}  # full name -> TYPE_MESSAGE or TYPE_ENUM

    def _next(self, expect: str | None = None) -> str:
        tok = self._tokens[self._pos]
        self._pos += 1
        if expect is not None and tok != expect:
            raise SyntaxError(f"schema: expected {expect!r}, got {tok!r} (token {self._pos})")
        return tok

    def _peek(self) -> str:
        return self._tokens[self._pos]

    def parse_file(self, fdp: Any) -> None:
        while self._pos < len(self._tokens):
            self._definition(fdp.message_type, fdp.enum_type, fdp.package)

    def _definition(self, messages: Any, enums: Any, scope: str) -> None:
        kind = self._next()
        if kind == "message":
            self._message(messages.add(), scope)
        elif kind == "enum":
            self._enum(enums.add(), scope)
        else:
            raise SyntaxError(f"schema: expected message or enum, got {kind!r}")

    def _enum(self, enum: Any, scope: str) -> None:
        enum.name = self._next()
        self.declared[f"{scope}.{enum.name}"] = _FDP.TYPE_ENUM
        self._next("{")
        while self._peek() != "}":
            value = enum.value.add(name=self._next())
            self._next("=")
            value.number = int(self._next())
            self._next(";")
        self._next("}")

    def _message(self, msg: Any, scope: str) -> None:
        msg.name = self._next()
        full = f"{scope}.{msg.name}"
        self.declared[full] = _FDP.TYPE_MESSAGE
        self._next("{")
        while self._peek() != "}":
            if self._peek() in ("message", "enum"):
                self._definition(msg.nested_type, msg.enum_type, full)
            elif self._peek() == "oneof":
                self._next()
                msg.oneof_decl.add(name=self._next())
                self._next("{")
                while self._peek() != "}":
                    self._field(msg, full, oneof_index=len(msg.oneof_decl) - 1)
                self._next("}")
            else:
                self._field(msg, full, oneof_index=None)
        self._next("}")

    def _field(self, msg: Any, scope: str, oneof_index: int | None) -> None:
        label = _FDP.LABEL_OPTIONAL
        if self._peek() == "repeated":
            self._next()
            label = _FDP.LABEL_REPEATED
        type_name = self._next()
        if type_name == "map":
            self._map_field(msg, scope)
            return
        field = msg.field.add(name=self._next(), label=label)
        self._next("=")
        field.number = int(self._next())
        self._next(";")
        if oneof_index is not None:
            field.oneof_index = oneof_index
        self._set_type(field, scope, type_name)

    def _map_field(self, msg: Any, scope: str) -> None:
        # map<K, V> name = n;  is sugar for a repeated nested NameEntry{K key = 1; V value = 2;}
        self._next("<")
        key_type = self._next()
        self._next(",")
        value_type = self._next()
        self._next(">")
        name = self._next()
        self._next("=")
        number = int(self._next())
        self._next(";")
        entry = msg.nested_type.add(
            name="".join(p[:1].upper() + p[1:] for p in name.split("_")) + "Entry"
        )
        entry.options.map_entry = True
        entry_scope = f"{scope}.{entry.name}"
        self.declared[entry_scope] = _FDP.TYPE_MESSAGE
        for part, part_type, part_number in (("key", key_type, 1), ("value", value_type, 2)):
            field = entry.field.add(name=part, number=part_number, label=_FDP.LABEL_OPTIONAL)
            self._set_type(field, entry_scope, part_type)
        field = msg.field.add(name=name, number=number, label=_FDP.LABEL_REPEATED)
        self._set_type(field, scope, entry.name)

    def _set_type(self, field: Any, scope: str, type_name: str) -> None:
        if type_name in _SCALAR_TYPES:
            field.type = _SCALAR_TYPES[type_name]
        else:
            self.unresolved.append((field, scope, type_name))


def _resolve(field: Any, scope: str, type_name: str, declared: dict[str, int]) -> str:
    """Points `field` at the declared type `type_name` names from `scope` (protoc's rule:
    innermost enclosing scope first); returns the full name found."""
    while True:
        candidate = f"{scope}.{type_name}" if scope else type_name
        if candidate in declared:
            field.type = declared[candidate]
            field.type_name = "." + candidate
            return candidate
        if not scope:
            raise NameError(f"schema: unknown type {type_name!r}")
        scope = scope.rpartition(".")[0]


def _build_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(struct_pb2.DESCRIPTOR.serialized_pb)
    declared: dict[str, int] = {
        f"google.protobuf.{name}": _FDP.TYPE_MESSAGE
        for name in struct_pb2.DESCRIPTOR.message_types_by_name
    }
    declared.update({
        f"google.protobuf.{name}": _FDP.TYPE_ENUM
        for name in struct_pb2.DESCRIPTOR.enum_types_by_name
    })
    owner = dict.fromkeys(declared, struct_pb2.DESCRIPTOR.name)
    parsed = []
    for file_name, package, source in _SCHEMAS:
        fdp = descriptor_pb2.FileDescriptorProto(name=file_name, package=package, syntax="proto3")
        parser = _Parser(source)
        parser.parse_file(fdp)
        declared.update(parser.declared)
        owner.update(dict.fromkeys(parser.declared, file_name))
        parsed.append((fdp, parser))
    for fdp, parser in parsed:
        deps = set()
        for field, scope, type_name in parser.unresolved:
            deps.add(owner[_resolve(field, scope, type_name, declared)])
        deps.discard(fdp.name)
        fdp.dependency.extend(sorted(deps))
        pool.AddSerializedFile(fdp.SerializeToString())
    return pool


_POOL = _build_pool()

if hasattr(message_factory, "GetMessageClass"):
    _get_class = message_factory.GetMessageClass
else:  # protobuf releases before GetMessageClass (4.21.x)
    _get_class = message_factory.MessageFactory(_POOL).GetPrototype  # type: ignore[attr-defined]


def message_class(full_name: str) -> Any:
    """The message class for `full_name` (e.g. ``"tensorboard.hparams.Experiment"``)."""
    return _get_class(_POOL.FindMessageTypeByName(full_name))


def enum_type(full_name: str) -> EnumTypeWrapper:
    """The enum `full_name` as generated code exposes it (``.Value(name)``, ``.Name(number)``)."""
    return EnumTypeWrapper(_POOL.FindEnumTypeByName(full_name))


# package tensorboard
Event: Any = message_class("tensorboard.Event")
SourceMetadata: Any = message_class("tensorboard.SourceMetadata")
LogMessage: Any = message_class("tensorboard.LogMessage")
SessionLog: Any = message_class("tensorboard.SessionLog")
TaggedRunMetadata: Any = message_class("tensorboard.TaggedRunMetadata")
Summary: Any = message_class("tensorboard.Summary")
SummaryMetadata: Any = message_class("tensorboard.SummaryMetadata")
HistogramProto: Any = message_class("tensorboard.HistogramProto")
TensorProto: Any = message_class("tensorboard.TensorProto")
TensorShapeProto: Any = message_class("tensorboard.TensorShapeProto")
VariantTensorDataProto: Any = message_class("tensorboard.VariantTensorDataProto")
DataType = enum_type("tensorboard.DataType")
DataClass = enum_type("tensorboard.DataClass")
GraphDef: Any = message_class("tensorboard.GraphDef")
NodeDef: Any = message_class("tensorboard.NodeDef")
AttrValue: Any = message_class("tensorboard.AttrValue")
NameAttrList: Any = message_class("tensorboard.NameAttrList")
VersionDef: Any = message_class("tensorboard.VersionDef")
RunMetadata: Any = message_class("tensorboard.RunMetadata")
StepStats: Any = message_class("tensorboard.StepStats")
DeviceStepStats: Any = message_class("tensorboard.DeviceStepStats")
ScalarPluginData: Any = message_class("tensorboard.ScalarPluginData")
HistogramPluginData: Any = message_class("tensorboard.HistogramPluginData")
TextPluginData: Any = message_class("tensorboard.TextPluginData")
ImagePluginData: Any = message_class("tensorboard.ImagePluginData")
AudioPluginData: Any = message_class("tensorboard.AudioPluginData")
PrCurvePluginData: Any = message_class("tensorboard.PrCurvePluginData")
Layout: Any = message_class("tensorboard.Layout")
Category: Any = message_class("tensorboard.Category")
Chart: Any = message_class("tensorboard.Chart")
MultilineChartContent: Any = message_class("tensorboard.MultilineChartContent")
MarginChartContent: Any = message_class("tensorboard.MarginChartContent")

# package tensorboard.hparams
HParamsPluginData: Any = message_class("tensorboard.hparams.HParamsPluginData")
Experiment: Any = message_class("tensorboard.hparams.Experiment")
HParamInfo: Any = message_class("tensorboard.hparams.HParamInfo")
Interval: Any = message_class("tensorboard.hparams.Interval")
MetricName: Any = message_class("tensorboard.hparams.MetricName")
MetricInfo: Any = message_class("tensorboard.hparams.MetricInfo")
SessionStartInfo: Any = message_class("tensorboard.hparams.SessionStartInfo")
SessionEndInfo: Any = message_class("tensorboard.hparams.SessionEndInfo")
HParamDataType = enum_type("tensorboard.hparams.DataType")
DatasetType = enum_type("tensorboard.hparams.DatasetType")
HParamStatus = enum_type("tensorboard.hparams.Status")

# package tensorboard.mesh
MeshPluginData: Any = message_class("tensorboard.mesh.MeshPluginData")

# package tensorboard.projector
ProjectorConfig: Any = message_class("tensorboard.projector.ProjectorConfig")
EmbeddingInfo: Any = message_class("tensorboard.projector.EmbeddingInfo")
SpriteMetadata: Any = message_class("tensorboard.projector.SpriteMetadata")

# google.protobuf (struct.proto, in this pool): hparams values and discrete domains
Value: Any = message_class("google.protobuf.Value")
ListValue: Any = message_class("google.protobuf.ListValue")
