"""Build the configured descriptors once, at start-up: a bad setting or model stops the
service with a message naming the descriptor, as a bad classifier does."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.core.errors import ConfigurationError
from vigil.core.plugins import build_each
from vigil.core.settings import DescriptorConfig
from vigil.fingerprint.descriptors.base import CopyDescriptor, DescriptorError
from vigil.fingerprint.descriptors.colour_layout import ColourLayoutDescriptor
from vigil.fingerprint.descriptors.onnx import OnnxDescriptor

MEGABYTE = 1 << 20


def build_descriptors(configs: Sequence[DescriptorConfig]) -> list[CopyDescriptor]:
    """One descriptor per config, in order; ConfigurationError names the one that is wrong."""
    return build_each(configs, build_descriptor, section="descriptors", refusal=DescriptorError)


def build_descriptor(config: DescriptorConfig) -> CopyDescriptor:
    if config.kind == "colour_layout":
        return ColourLayoutDescriptor(config.name)
    if config.model_path is None:  # the settings refuse this already; kept for direct callers
        raise ConfigurationError(f"descriptors: {config.name!r} (onnx) needs a model_path")
    return OnnxDescriptor(
        config.name,
        config.model_path.expanduser(),
        input_size=config.input_size,
        input_name=config.input_name,
        output_name=config.output_name,
        mean=config.mean,
        std=config.std,
        dimension=config.dimension,
        max_model_bytes=config.max_model_megabytes * MEGABYTE,
    )
