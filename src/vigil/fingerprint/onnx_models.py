"""Opening an operator's ONNX model, written once for the plug-ins that run one on media
(copy descriptors here, classifiers in screening): ONNX Runtime is imported only when such
a plug-in is built (the optional extra ``vigil[onnx]``), each session runs on one thread, and
a failure is one bounded line that names the plug-in.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

Refusal = Callable[[str], Exception]  # the plug-in's own error type, built from a message


def onnxruntime(plugins: str, refuse: Refusal) -> ModuleType:
    """The ONNX Runtime module, or ``refuse`` saying how to install it ("ONNX <plugins> ...")."""
    try:
        return importlib.import_module("onnxruntime")
    except ImportError:
        raise refuse(
            f"ONNX {plugins} need ONNX Runtime: install the extra "
            "vigil[onnx] (pip install 'vigil[onnx]')"
        ) from None


def open_session(
    model_path: Path, *, plugins: str, owner: str, refuse: Refusal, max_bytes: int | None = None
) -> Any:
    """An inference session on the CPU; ``owner`` ("classifier 'x'") starts every refusal."""
    runtime = onnxruntime(plugins, refuse)
    if not model_path.is_file():
        raise refuse(f"{owner}: model file not found: {model_path}")
    size = model_path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise refuse(
            f"{owner}: the model {model_path.name} is {size} bytes, "
            f"more than the {max_bytes} allowed (max_model_megabytes)"
        )
    options = runtime.SessionOptions()
    # One thread each: screening runs many uploads side by side, which beats threads.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: warnings would flood the service log
    try:
        return runtime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ONNX Runtime raises its own, undocumented, hierarchy
        raise refuse(
            f"{owner}: cannot load the model {model_path.name}: {first_line(exc)}"
        ) from exc


def nchw_float_input(model_input: Any, bad_model: Callable[[str], Exception]) -> list[Any]:
    """The (batch, channels, height, width) of a float32 NCHW input whose batch is 1 or
    dynamic (a symbol, not an int); anything else is ``bad_model``'s refusal. Channels and
    sides stay the caller's to check: what each plug-in accepts differs."""
    if model_input.type != "tensor(float)":
        raise bad_model(f"the input must be float32, not {model_input.type}")
    shape = list(model_input.shape)
    if len(shape) != 4:
        raise bad_model(f"the input must be NCHW (rank 4), not rank {len(shape)}")
    batch = shape[0]
    if isinstance(batch, int) and batch != 1:
        raise bad_model(f"the input batch size must be 1 or dynamic, not {batch}")
    return shape


def first_line(exc: BaseException) -> str:
    """An exception's first line, bounded: model errors can quote whole graphs."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
