"""Load a causal language model and its tokenizer the same way for every rule: by hub name or local
directory, dtype and device from config `model`, an optional PEFT adapter on top, and a chat template
that can be overridden from the config.

Heavy imports (torch, transformers, peft) happen inside the functions, so a rule that only needs
`resolve_device` or the errors pays nothing for them.
"""

import json
import os
import tempfile

from latentfacts.checksums import verify_checksums
from latentfacts.model.names import could_be_hub_name


class ModelInputError(ValueError):
    """A model, tokenizer or adapter cannot be used; the message names it and says what was expected."""


def resolve_device(device):
    """`auto` -> `cuda` when a GPU is visible, else `cpu`."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelInputError("config key model.device is 'cuda' but no CUDA device is visible")
    return device


def check_model_location(name_or_path, key="model.name_or_path"):
    """Fail early, naming the path, when `name_or_path` is neither a local model directory nor
    something that can only be a hub name. Relative paths with two or more slashes never are hub names.
    `key`: the config key that names it."""
    if os.path.isdir(name_or_path):
        if not os.path.isfile(os.path.join(name_or_path, "config.json")):
            raise ModelInputError(
                f"model directory {name_or_path!r} (config key {key}) has no config.json: "
                "expected a directory written by save_pretrained"
            )
        return
    if not could_be_hub_name(name_or_path):
        raise ModelInputError(
            f"model path {name_or_path!r} (config key {key}) does not exist: expected a local "
            "directory written by save_pretrained or a Hugging Face hub name such as 'owner/model'"
        )


def with_fixed_date(chat_template, date_string):
    """`chat_template` reading `date_string` wherever it would read today's date: the variable
    `date_string` (Llama 3.1-3.3 templates) is set, and the clock function `strftime_now` that
    transformers offers templates is shadowed by a macro that returns it, whatever the format."""
    quoted = json.dumps(date_string)
    return (
        # no whitespace control: the template's own text stays exactly as it was
        f"{{% set date_string = {quoted} %}}"
        f"{{% macro strftime_now(format) %}}{{{{ {quoted} }}}}{{% endmacro %}}"
        + chat_template
    )


def check_stable_rendering(tokenizer, name_or_path):
    """Refuse a chat template that renders the same conversation differently on two calls: every
    score would then depend on when (or by chance how) the prompt was rendered."""
    conversation = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    first, second = (
        tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True) for _ in range(2)
    )
    if first != second:
        raise ModelInputError(
            f"the chat template of {name_or_path!r} renders the same conversation differently on two calls "
            f"({first!r} then {second!r}): it reads something that changes (the clock, a random filter); "
            "set config key model.chat_template to a template that does not"
        )


def load_tokenizer(name_or_path, chat_template=None, trust_remote_code=False, date_string=None):
    """The tokenizer with a usable chat template (`chat_template` overrides its own), today's date in
    it fixed to `date_string` when given, and a pad token."""
    from transformers import AutoTokenizer

    check_model_location(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    if chat_template:
        tokenizer.chat_template = chat_template
    if not tokenizer.chat_template:
        raise ModelInputError(
            f"tokenizer of {name_or_path!r} has no chat template and config key model.chat_template is null: "
            "set model.chat_template to a Jinja chat template"
        )
    if date_string is not None:
        tokenizer.chat_template = with_fixed_date(tokenizer.chat_template, date_string)
    check_stable_rendering(tokenizer, name_or_path)
    if tokenizer.pad_token_id is None:
        # Padding positions are masked out everywhere, so any token id will do.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def check_adapter(adapter):
    """An adapter directory must hold a PEFT adapter whose files match the checksums saved with it."""
    if not os.path.isfile(os.path.join(adapter, "adapter_config.json")):
        raise ModelInputError(f"adapter directory {adapter!r} has no adapter_config.json")
    verify_checksums(adapter)


def sharding(device_map, max_memory):
    """from_pretrained's arguments that shard a model through accelerate: `device_map` (`auto`, `balanced`,
    `sequential` or {module: device}) within `max_memory` ({device: size}; GPU ids as integers); where
    modules may be placed on `disk`, `offload_folder` is a new temporary directory (load_model keeps it
    on the model, so it is removed with it)."""
    if device_map is None:
        return {}
    arguments = {"device_map": device_map}
    if max_memory:
        arguments["max_memory"] = {int(k) if str(k).isdigit() else k: v for k, v in max_memory.items()}
    if device_map == "auto" or "disk" in (device_map.values() if isinstance(device_map, dict) else ()):
        arguments["offload_folder"] = tempfile.TemporaryDirectory(prefix="latentfacts-offload-")
    return arguments


def load_model(name_or_path, dtype="float32", device="cpu", adapter=None, trust_remote_code=False, device_map=None,
               max_memory=None):  # fmt: skip
    """The model in eval mode on `device`, with the PEFT adapter directory `adapter` applied if given;
    with `device_map`, sharded over the devices it names instead (see `sharding`).

    The model's own generation config is replaced by a neutral one so that hub defaults (sampling on,
    temperature 0.6, top_p 0.9 for Llama-3.1-Instruct) never leak into our `generate` calls: every
    call states its decoding settings in full."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    check_model_location(name_or_path)
    if adapter is not None:
        check_adapter(adapter)
    placement = sharding(device_map, max_memory)
    offload = placement.pop("offload_folder", None)
    model = AutoModelForCausalLM.from_pretrained(
        name_or_path,
        dtype=getattr(torch, dtype),
        trust_remote_code=trust_remote_code,
        **placement,
        **({"offload_folder": offload.name} if offload else {}),
    )
    model.generation_config = GenerationConfig(
        bos_token_id=model.config.bos_token_id,
        eos_token_id=model.config.eos_token_id,
        pad_token_id=model.config.pad_token_id,
    )
    if offload:
        model.offload_folder = offload  # removed with the model
    if device_map is None:
        model.to(device)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    return model


def load_tokenizer_for(model_config):
    """The tokenizer config section `model` names (as the model rules pass it on, with
    `date_string` from config key prompts.date_string)."""
    return load_tokenizer(
        model_config["name_or_path"],
        model_config.get("chat_template"),
        model_config["trust_remote_code"],
        model_config.get("date_string"),
    )


def run_settings(model, resources):
    """A model rule's params.model with where it runs, from its resources: `device` and the JSON
    `placement` (device_map, max_memory)."""
    return {**model, "device": resources.device, **json.loads(resources.placement)}


def load_model_for(model_config, adapter=None):
    """The model config section `model` names, on its configured device and dtype."""
    return load_model(
        model_config["name_or_path"],
        model_config["dtype"],
        resolve_device(model_config["device"]),
        adapter,
        model_config["trust_remote_code"],
        model_config.get("device_map"),
        model_config.get("max_memory"),
    )


def with_each_adapter(model_config, adapters):
    """Yield the model config section `model` names with each adapter directory of `adapters` in turn
    (None: the base model alone). The base model is loaded once; only the adapter weights are swapped."""
    for adapter in adapters:
        if adapter is not None:
            check_adapter(adapter)  # every directory, before any model work
    model = load_model_for(model_config)
    active = None
    for number, adapter in enumerate(adapters):
        if adapter is None:
            if active is None:
                yield model
            else:
                with model.disable_adapter():
                    yield model
            continue
        name = f"adapter{number}"
        if active is None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter, adapter_name=name)
        else:
            model.load_adapter(adapter, adapter_name=name)
            model.set_adapter(name)
            model.delete_adapter(active)
        active = name
        model.eval()
        yield model
