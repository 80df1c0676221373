"""The ONNX descriptor's checks at start-up and per picture, and building descriptors from
settings; the models are tiny projections built here (tests/fingerprint/descriptor_models)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper
from PIL import Image

from tests.fingerprint.descriptor_models import (
    DIMENSION,
    SIDE,
    projection_model,
    projection_weights,
    save,
)
from tests.media_factory import gradient
from vigil.core.errors import ConfigurationError
from vigil.core.settings import DescriptorConfig, load_settings
from vigil.fingerprint.descriptors import (
    ColourLayoutDescriptor,
    DescriptorError,
    OnnxDescriptor,
    build_descriptors,
)


def config(**fields: Any) -> DescriptorConfig:
    return DescriptorConfig.model_validate(fields)


def test_the_vector_is_the_normalised_projection_of_the_normalised_pixels(
    tmp_path: Path,
) -> None:
    model = OnnxDescriptor("p", projection_model(tmp_path / "p.onnx"), mean=(0.5,), std=(0.25,))
    picture = gradient(100, 80, seed=1)
    grey = picture.resize((SIDE, SIDE), Image.Resampling.BILINEAR).convert("L")
    pixels = (np.asarray(grey, dtype=np.float64) / 255 - 0.5) / 0.25
    expected = pixels.ravel() @ projection_weights(1).astype(np.float64)
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(model.describe(picture), expected, atol=1e-5)
    assert model.dimension == DIMENSION


def test_the_version_changes_with_the_model_file_and_the_input_settings(
    tmp_path: Path,
) -> None:
    path = projection_model(tmp_path / "p.onnx")
    version = OnnxDescriptor("d", path).version
    assert version == OnnxDescriptor("other-name", path).version  # the name is not the model
    assert version.startswith("onnx/sha256:")
    assert OnnxDescriptor("d", path, mean=(0.5,)).version != version
    assert OnnxDescriptor("d", path, std=(0.5,)).version != version
    retrained = projection_model(tmp_path / "q.onnx", scale=2.0)
    assert OnnxDescriptor("d", retrained).version.split("/")[1] != version.split("/")[1]


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DescriptorError, match=r"'d'.*model file not found.*absent\.onnx"):
        OnnxDescriptor("d", tmp_path / "absent.onnx")


def test_a_model_file_over_the_size_bound_is_refused_before_loading(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "p.onnx")
    size = path.stat().st_size
    with pytest.raises(DescriptorError, match=rf"{size} bytes, more than the 1000 allowed"):
        OnnxDescriptor("d", path, max_model_bytes=1000)
    assert OnnxDescriptor("d", path, max_model_bytes=size).dimension == DIMENSION


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00not a model\xff" * 50)
    with pytest.raises(DescriptorError, match=r"'d': cannot load the model junk\.onnx"):
        OnnxDescriptor("d", path)


def test_a_configured_dimension_must_match_the_output(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "p.onnx", dimension=32)
    with pytest.raises(DescriptorError, match="vectors of 32 values, not the 64 configured"):
        OnnxDescriptor("d", path, dimension=64)
    assert OnnxDescriptor("d", path, dimension=32).dimension == 32


@pytest.mark.parametrize(
    ("scale", "problem"), [(math.nan, "not finite"), (math.inf, "not finite"), (0.0, "zero")]
)
def test_nan_infinite_or_zero_vectors_stop_the_model_at_start_up(
    tmp_path: Path, scale: float, problem: str
) -> None:
    path = projection_model(tmp_path / "bad.onnx", scale=scale)
    with pytest.raises(DescriptorError, match=problem):
        OnnxDescriptor("d", path)


def test_an_output_too_long_to_be_a_descriptor_is_refused(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "long.onnx", dimension=5000, side=4)
    with pytest.raises(DescriptorError, match="5000 values per picture; expected 1 to 4096"):
        OnnxDescriptor("d", path)


def test_open_sides_need_an_input_size_and_use_it(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "open.onnx", side="s")
    with pytest.raises(DescriptorError, match="input height is not fixed: set input_size"):
        OnnxDescriptor("d", path)
    model = OnnxDescriptor("d", path, input_size=(SIDE, SIDE))
    assert model.describe(gradient(40, 40)).shape == (DIMENSION,)


def test_an_input_size_must_agree_with_a_fixed_one(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "p.onnx")
    with pytest.raises(DescriptorError, match="input height is 32, not 224"):
        OnnxDescriptor("d", path, input_size=(224, 224))


def test_inputs_and_outputs_are_chosen_by_name(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "two.onnx", extra_output=True)
    with pytest.raises(DescriptorError, match="vectors of 1 values, not the 64 configured"):
        OnnxDescriptor("d", path, output_name="brightness", dimension=DIMENSION)
    assert OnnxDescriptor("d", path, output_name="vector").dimension == DIMENSION
    with pytest.raises(DescriptorError, match=r"no output named 'logits'"):
        OnnxDescriptor("d", path, output_name="logits")
    with pytest.raises(DescriptorError, match=r"no input named 'image'.*\['pixels'\]"):
        OnnxDescriptor("d", path, input_name="image")


@pytest.mark.parametrize(
    ("shape", "problem"),
    [
        ([1, 2, SIDE, SIDE], "1 or 3 channels, not 2"),
        ([4, 1, SIDE, SIDE], "batch size must be 1 or dynamic, not 4"),
        ([1, SIDE * SIDE], "rank 4"),
    ],
)
def test_unsupported_inputs_are_described(tmp_path: Path, shape: list[int], problem: str) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["pixels"], ["vector"])],
        "odd",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, shape)],
    )
    with pytest.raises(DescriptorError, match=problem):
        OnnxDescriptor("d", save(graph, tmp_path / "odd.onnx"))


def test_normalisation_must_fit_the_channels(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "p.onnx")
    with pytest.raises(DescriptorError, match="mean needs 1 or 1 values"):
        OnnxDescriptor("d", path, mean=(0.1, 0.2, 0.3))
    with pytest.raises(DescriptorError, match="std above zero"):
        OnnxDescriptor("d", path, std=(0.0,))


def test_without_onnx_runtime_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = projection_model(tmp_path / "p.onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    with pytest.raises(DescriptorError, match=r"vigil\[onnx\]"):
        OnnxDescriptor("d", path)


# --- settings and the factory ----------------------------------------------------------------


def test_descriptors_are_built_from_the_settings_file(tmp_path: Path) -> None:
    path = projection_model(tmp_path / "p.onnx")
    toml = tmp_path / "vigil.toml"
    toml.write_text(
        f'data_dir = "{tmp_path}"\n'
        '[[descriptors]]\nname = "layout"\nkind = "colour_layout"\n'
        f'[[descriptors]]\nname = "copies"\nkind = "onnx"\nmodel_path = "{path}"\n'
        "mean = [0.5]\nstd = [0.25]\nthreshold = 0.8\ndimension = 64\n",
        encoding="utf-8",
    )
    settings = load_settings(toml)
    layout, copies = build_descriptors(settings.descriptors)
    assert isinstance(layout, ColourLayoutDescriptor) and layout.name == "layout"
    assert isinstance(copies, OnnxDescriptor) and copies.dimension == DIMENSION
    assert settings.descriptors[1].threshold == 0.8


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": "onnx"}, "needs a model_path"),
        ({"kind": "colour_layout", "std": [0.0]}, "std"),
        ({"kind": "colour_layout", "std": [math.inf]}, "std"),
        ({"kind": "colour_layout", "mean": [math.nan]}, "mean"),
        ({"kind": "colour_layout", "mean": [0.1, 0.2]}, "mean"),
        ({"kind": "colour_layout", "input_size": [0, 32]}, "input_size"),
        ({"kind": "colour_layout", "threshold": 0}, "threshold"),
        ({"kind": "colour_layout", "max_model_megabytes": 0}, "max_model_megabytes"),
        ({"kind": "faiss"}, "kind"),
        ({"kind": "colour_layout", "modelpath": "x"}, "modelpath"),
    ],
)
def test_bad_descriptor_settings_are_refused_with_the_setting_named(
    tmp_path: Path, fields: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        load_settings(data_dir=tmp_path, descriptors=[{"name": "d", **fields}])


def test_the_factory_names_the_descriptor_whose_model_is_wrong(tmp_path: Path) -> None:
    configs = [
        config(name="fine", kind="colour_layout"),
        config(name="broken", kind="onnx", model_path=tmp_path / "gone.onnx"),
    ]
    with pytest.raises(ConfigurationError, match=r"descriptors: descriptor 'broken'.*not found"):
        build_descriptors(configs)


def test_two_descriptors_may_not_share_a_name(tmp_path: Path) -> None:
    configs = [
        config(name="Copies", kind="colour_layout"),
        config(name="copies ", kind="colour_layout"),
    ]
    with pytest.raises(ConfigurationError, match="used twice"):
        build_descriptors(configs)


def test_the_model_size_bound_comes_from_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "big.onnx"
    path.write_bytes(b"\x00" * (2 << 20))  # refused on its size, before it is read
    configs = [config(name="big", kind="onnx", model_path=path, max_model_megabytes=1)]
    with pytest.raises(ConfigurationError, match="more than the 1048576 allowed"):
        build_descriptors(configs)
