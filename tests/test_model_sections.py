"""Config `models`: each entry merged over `model` (and its `embedded_model` over the top-level one, the
corpus kept shared), a config without it as one model named `default`, and every bad entry refused
with the key named in full before anything runs."""

import pytest
import yaml
from conftest import ROOT

from latentfacts.configcheck import ConfigError, check_model_choice
from latentfacts.modelcheck import check_model_sections
from latentfacts.model.sections import load_settings, model_sections, pretraining, section_keys

SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def config(models=None):
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return base | ({"models": models} if models is not None else {})


def test_without_models_the_one_model_is_named_default():
    plain = config()
    assert section_keys(plain) == {"default": "model"}
    assert model_sections(plain) == {"default": plain["model"]}
    assert load_settings(plain, "default")["name_or_path"] == "results/models/default/base_model"


def test_an_entry_holds_what_differs_from_model_and_its_own_pretraining():
    two = config({"brief": {"embedded_model": {"steps": 400}}, "hub": {"name_or_path": "owner/m", "dtype": "bfloat16"}})
    sections = model_sections(two)
    assert section_keys(two) == {"brief": "models.brief", "hub": "models.hub"}
    assert sections["hub"] == two["model"] | {"name_or_path": "owner/m", "dtype": "bfloat16"}
    assert pretraining(two, "brief")["steps"] == 400 and pretraining(two, "hub")["steps"] == two["embedded_model"]["steps"]
    assert "corpus" not in pretraining(two, "brief")
    assert load_settings(two, "brief")["name_or_path"] == "results/models/brief/base_model"
    assert load_settings(two, "hub")["name_or_path"] == "owner/m"


@pytest.mark.parametrize(
    "models, message",
    [
        ({"small": {"dtype": "float8"}}, "config key models.small.dtype: 'float8' is not one of"),
        ({"small": {"embedded_model": {"corpus": {}}}}, "config key models.small.embedded_model: Additional properties"),
        ({"small": {"embedded_model": {"steps": 0}}}, "config key models.small.embedded_model.steps: 0 is less than"),
        ({"small": {"gpus": 0}}, "config key models.small.gpus: 0 is less than the minimum of 1"),
        ({"a/b": {}}, "config key models.a/b: a model's short name names its folder"),
        ({"small": "owner/m"}, "config key models.small: expected a model section"),
    ],
)
def test_a_bad_entry_is_refused_naming_its_key(models, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        check_model_sections(config(models), SCHEMA)


def test_a_path_like_model_that_does_not_exist_is_named_by_its_entry():
    with pytest.raises(ConfigError, match=r"config key models.mine.name_or_path: './nowhere' is no local directory"):
        check_model_choice(config({"mine": {"name_or_path": "./nowhere"}}))
