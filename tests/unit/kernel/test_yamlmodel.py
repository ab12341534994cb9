"""load_model / read_yaml / validate_mapping: every problem as ``file: dotted.path: message``."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from hotline.kernel.errors import ConfigError
from hotline.kernel.yamlmodel import load_model, read_yaml, validate_mapping


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int = 1


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "x"
    inner: Inner = Inner()


def test_given_a_valid_file_when_loaded_then_the_model(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("name: hotline\ninner: {port: 5038}\n", encoding="utf-8")
    assert load_model(path, Doc, ConfigError) == Doc(name="hotline", inner=Inner(port=5038))


def test_given_an_empty_file_when_loaded_then_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("", encoding="utf-8")
    assert load_model(path, Doc, ConfigError) == Doc()


def test_given_bad_keys_when_loaded_then_every_problem_with_file_and_path(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("colour: red\ninner: {port: many}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_model(path, Doc, ConfigError)
    assert sorted(err.value.problems) == [f"{path}: colour: Extra inputs are not permitted",
                                          f"{path}: inner.port: Input should be a valid integer, unable to parse "
                                          "string as an integer"]


def test_given_a_missing_file_when_loaded_then_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "none.yaml"
    with pytest.raises(ConfigError) as err:
        load_model(path, Doc, ConfigError)
    assert err.value.problems == [f"{path}: cannot read: No such file or directory"]


def test_given_bad_yaml_when_read_then_not_valid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_yaml(path, ConfigError)
    assert err.value.problems[0].startswith(f"{path}: not valid YAML: ")


def test_given_a_list_at_the_top_when_validated_then_the_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError) as err:
        validate_mapping([1], Doc, ConfigError, "a.yaml")
    assert err.value.problems == ["a.yaml: the top level must be a mapping, got list"]


def test_given_a_wrong_root_type_inside_when_validated_then_root_marker() -> None:
    with pytest.raises(ConfigError) as err:
        validate_mapping({"inner": 3}, Doc, ConfigError, "a.yaml")
    assert err.value.problems[0].startswith("a.yaml: inner: ")
