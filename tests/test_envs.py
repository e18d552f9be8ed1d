"""The conda environments in envs/: pinned like requirements.lock, named by every rule, and complete
(every third-party module a rule's script imports, directly or through latentfacts, is installed)."""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from latentfacts.measurements.arms import ARMS

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
# Snakemake puts its own installation on a script's path; it is not an environment's business.
PROVIDED = {"snakemake"}


def lock():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def env_pins(path):
    spec = yaml.safe_load(path.read_text())
    pip = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    return [Requirement(line) for line in pip]


def directive(block, name):
    """The quoted value of a rule's `name:` directive (comment lines may come between), or None."""
    found = re.search(rf"^\s+{name}:\s*\n(?:\s*#.*\n)*\s+\"([^\"]+)\"", block, flags=re.M)
    return found.group(1) if found else None


def rule_names(block):
    """A rule's name; a rule defined in a loop over the arms (`name: f"finetune_{arm}"`) has one per arm."""
    named = re.match(r"\s*rule (\w+):", block)
    if named:
        return [named.group(1)]
    pattern = re.search(r"^\s+name:\s*\n\s+f\"([\w{}]+)\"", block, flags=re.M).group(1)
    return [pattern.format(arm=arm) for arm in ARMS]


def rules():
    """{rule: (env file, script file or None, asks for a GPU)} from workflow/rules/*.smk."""
    found = {}
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        # Rules may be indented (defined inside an `if` on the config or a loop).
        for block in re.split(r"^(?=[ \t]*rule( \w+)?:)", smk.read_text(), flags=re.M)[2::2]:
            conda, script = (directive(block, name) for name in ("conda", "script"))
            for name in rule_names(block):
                found[name] = (
                    (smk.parent / conda).resolve() if conda else None,
                    (smk.parent / script).resolve() if script else None,
                    re.search(r"^\s+gpu=", block, flags=re.M) is not None,
                )
    return found


def imported_modules(path, seen=None):
    """Top-level names of the third-party modules `path` imports, following latentfacts imports."""
    seen = set() if seen is None else seen
    if path in seen:
        return set()
    seen.add(path)
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            # `from latentfacts.analysis import figures` imports the module latentfacts.analysis.figures
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top == "latentfacts":
                module = ROOT / "workflow" / Path(*name.split("."))
                modules |= (
                    imported_modules(module.with_suffix(".py"), seen) if module.with_suffix(".py").exists() else set()
                )
            elif top not in sys.stdlib_module_names and top not in PROVIDED:
                modules.add(top)
    return modules


def installed_closure(requirements):
    """Canonical names of the distributions `requirements` install, dependencies included."""
    todo = [canonicalize_name(r.name) for r in requirements]
    closure = set()
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        for line in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return closure


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_env_pins_agree_with_lock(env):
    pins = lock()
    spec = yaml.safe_load(env.read_text())
    assert "python=3.11" in spec["dependencies"]
    for requirement in env_pins(env):
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{env.name}: {requirement} is not pinned exactly"
        assert (
            pins.get(canonicalize_name(requirement.name)) == specifier.version
        ), f"{env.name}: {requirement} but requirements.lock has {pins.get(canonicalize_name(requirement.name))}"
    assert (
        env.parent / f"{env.stem}.post-deploy.sh"
    ).exists(), f"{env.name} has no post-deploy script installing latentfacts"


def test_every_rule_names_an_environment_and_gpu_rules_the_gpu_one():
    found = rules()
    assert found, "no rules found in workflow/rules"
    for name, (env, _, gpu) in found.items():
        if name == "all":
            continue
        assert env is not None and env.exists(), f"rule {name}: conda env {env} missing"
        assert not gpu or env.name == "gpu.yaml", f"rule {name} asks for a GPU but uses {env.name}"


def test_environments_provide_what_scripts_import():
    by_module = importlib.metadata.packages_distributions()
    closures = {env: installed_closure(env_pins(env)) for env in ENVS}
    missing = []
    for name, (env, script, _) in sorted(rules().items()):
        if env is None or script is None:
            continue
        for module in sorted(imported_modules(script)):
            providers = {canonicalize_name(d) for d in by_module.get(module, [module])}
            if not providers & closures[env]:
                missing.append(f"rule {name} ({script.name}) imports {module}, not in {env.name}")
    assert not missing, "\n".join(missing)
