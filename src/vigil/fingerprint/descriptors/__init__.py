"""Copy-detection descriptors: pictures as unit vectors compared by cosine similarity, a
second signal beside PDQ. The plug point is ``CopyDescriptor``; the built-in reference needs
no model, the ONNX adapter runs the operator's own (ONNX Runtime imported only then)."""

from vigil.fingerprint.descriptors.base import (
    CopyDescriptor,
    DescriptorError,
    Vector,
    describe_all,
    unit_vector,
)
from vigil.fingerprint.descriptors.colour_layout import ColourLayoutDescriptor
from vigil.fingerprint.descriptors.factory import build_descriptor, build_descriptors
from vigil.fingerprint.descriptors.media import describe_photo
from vigil.fingerprint.descriptors.onnx import OnnxDescriptor

__all__ = [
    "ColourLayoutDescriptor",
    "CopyDescriptor",
    "DescriptorError",
    "OnnxDescriptor",
    "Vector",
    "build_descriptor",
    "build_descriptors",
    "describe_all",
    "describe_photo",
    "unit_vector",
]
