"""The registries: unique names, clear errors for unknown names and options."""
import pytest

from qgm.circuits.init import register_init
from qgm.errors import ConfigError
from qgm.models.discriminators import register_discriminator
from qgm.registry import Registry, add_unique, did_you_mean, plural


def test_create_checks_names_and_options():
    reg = Registry("widget")

    @reg.register("box")
    def box(size: int = 1):
        return ("box", size)

    assert reg.create("box", size=3) == ("box", 3) and reg.names() == ["box"] and "box" in reg
    with pytest.raises(ConfigError, match="unknown widget 'ball'; known widgets: box"):
        reg.create("ball")
    with pytest.raises(ConfigError, match="^unknown widget 'bxo' \\(did you mean 'box'\\?\\); known widgets: box$"):
        reg.create("bxo")
    with pytest.raises(ConfigError, match="^colour: unknown option of widget 'box'; allowed: size$"):
        reg.create("box", colour="red")
    with pytest.raises(ConfigError, match="^sise: unknown option of widget 'box' \\(did you mean 'size'\\?\\)"):
        reg.create("box", sise=2)
    assert reg.options("box") == ["size"] and reg.options("box", fixed=("size",)) == []
    assert [] not in reg and 3 not in reg  # unhashable or odd names are simply absent


def test_plurals_and_suggestions():
    assert [plural(k) for k in ("loss", "model", "metric", "box")] == ["losses", "models", "metrics", "boxes"]
    assert did_you_mean("stpes", ["steps", "seed"]) == " (did you mean 'steps'?)"
    assert did_you_mean("zzz", ["steps"]) == "" and did_you_mean(["x"], ["x"]) == "" and did_you_mean("a" * 500, ["a"]) == ""


def test_a_name_cannot_be_taken_twice():
    table = {}
    first = object()
    assert add_unique(table, "thing", "a", first) is first
    assert add_unique(table, "thing", "a", first) is first  # re-importing a module is fine
    with pytest.raises(ValueError, match="thing 'a' is registered twice"):
        add_unique(table, "thing", "a", object())
    with pytest.raises(ValueError, match="init strategy 'uniform' is registered twice"):
        register_init("uniform")(lambda circuit, generator: None)
    with pytest.raises(ValueError, match="discriminator 'mlp' is registered twice"):
        register_discriminator("mlp")(type("Other", (), {}))
