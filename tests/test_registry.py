"""The registries: unique names, clear errors for unknown names and options."""
import pytest

from qgm.circuits.init import register_init
from qgm.errors import ConfigError
from qgm.models.discriminators import register_discriminator
from qgm.registry import Registry, add_unique


def test_create_checks_names_and_options():
    reg = Registry("widget")

    @reg.register("box")
    def box(size: int = 1):
        return ("box", size)

    assert reg.create("box", size=3) == ("box", 3) and reg.names() == ["box"] and "box" in reg
    with pytest.raises(ConfigError, match="unknown widget 'ball'; known widgets: box"):
        reg.create("ball")
    with pytest.raises(ConfigError, match=r"widget 'box' got unknown option\(s\) \['colour'\]; allowed: size"):
        reg.create("box", colour="red")


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
