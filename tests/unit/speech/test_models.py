"""speech.models: model folder checks and installs from folders, archives and (failing) network."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.speech.errors import ChecksumMismatch, ModelDownloadFailed, ModelInstallFailed, ModelNotFound
from hotline.speech.models import check_model_dir, install_model, missing_parts, resolve_model_path
from tests.support.wait import free_port


def fake_model(root: Path, graph: str = "lookahead") -> Path:
    """A folder shaped like a Vosk model (tiny placeholder files, not loadable by Vosk)."""
    (root / "am").mkdir(parents=True)
    (root / "am" / "final.mdl").write_bytes(b"mdl")
    (root / "conf").mkdir()
    (root / "conf" / "mfcc.conf").write_text("--sample-frequency=16000\n")
    (root / "graph").mkdir()
    names = ["HCLr.fst", "Gr.fst"] if graph == "lookahead" else ["HCLG.fst"]
    for n in names:
        (root / "graph" / n).write_bytes(b"fst")
    return root


def zip_folder(folder: Path, archive: Path, top: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.rglob("*"):
            rel = f.relative_to(folder)
            zf.write(f, str(Path(top) / rel) if top else str(rel))
    return archive


@pytest.mark.parametrize("graph", ["lookahead", "static"])
def test_given_model_shaped_folder_when_checked_then_ok(tmp_path: Path, graph: str) -> None:
    assert check_model_dir(fake_model(tmp_path / "m", graph)) == (tmp_path / "m").resolve()


def test_given_incomplete_folder_when_checked_then_model_not_found_lists_missing(tmp_path: Path) -> None:
    m = fake_model(tmp_path / "m")
    (m / "graph" / "Gr.fst").unlink()
    (m / "am" / "final.mdl").unlink()

    with pytest.raises(ModelNotFound) as err:
        check_model_dir(m)

    assert err.value.missing == ["am/final.mdl", "graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)"]
    assert isinstance(err.value, FileNotFoundError)


def test_given_no_configuration_when_resolved_then_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="HOTLINE_VOSK_MODEL"):
        resolve_model_path(None, env={})
    m = fake_model(tmp_path / "m")
    assert resolve_model_path(None, env={"HOTLINE_VOSK_MODEL": str(m)}) == m.resolve()
    assert resolve_model_path(str(m), env={}) == m.resolve()


def test_given_folder_when_installed_then_copied_under_dest(tmp_path: Path) -> None:
    src = fake_model(tmp_path / "vosk-model-small-cn-0.22")

    got = install_model(src, tmp_path / "models")

    assert got.name == "vosk-model-small-cn-0.22" and got.sha256 is None
    assert missing_parts(got.path) == [] and src.exists()
    with pytest.raises(ModelInstallFailed, match="already exists"):
        install_model(src, tmp_path / "models")
    assert install_model(src, tmp_path / "models", overwrite=True).path == got.path


@pytest.mark.parametrize("top", ["vosk-model-small-cn-0.22", None])
def test_given_zip_archive_when_installed_then_unpacked_and_digest_reported(
    tmp_path: Path, top: str | None
) -> None:
    archive = zip_folder(fake_model(tmp_path / "src"), tmp_path / "vosk-model-small-cn-0.22.zip", top)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()

    got = install_model(archive, tmp_path / "models", sha256=digest)

    assert got.name == "vosk-model-small-cn-0.22"
    assert got.sha256 == digest
    assert missing_parts(got.path) == []
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]  # no leftovers


def test_given_wrong_sha256_when_installed_then_checksum_mismatch(tmp_path: Path) -> None:
    archive = zip_folder(fake_model(tmp_path / "src"), tmp_path / "m.zip", "m")
    with pytest.raises(ChecksumMismatch):
        install_model(archive, tmp_path / "models", sha256="0" * 64)
    assert not (tmp_path / "models" / "m").exists()


def test_given_archive_without_model_when_installed_then_model_not_found(tmp_path: Path) -> None:
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "no model here")
    with pytest.raises(ModelNotFound):
        install_model(archive, tmp_path / "models")


def test_given_archive_with_path_traversal_when_installed_then_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.txt", "x")
    with pytest.raises(ModelInstallFailed, match="unsafe"):
        install_model(archive, tmp_path / "models")
    assert not (tmp_path / "escaped.txt").exists()


def test_given_no_network_when_installing_by_name_then_fast_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/model-list.json"  # nothing listens: refused at once

    with pytest.raises(ModelDownloadFailed) as err:
        install_model("vosk-model-small-cn-0.22", tmp_path / "models", model_list_url=url, timeout_s=2)

    assert "local archive" in str(err.value) and err.value.url == url


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts and never answers (a black-holed proxy)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/model-list.json"
    stop.set()
    t.join(2)
    for c in conns:
        c.close()
    srv.close()


def test_given_server_that_never_answers_when_installing_then_times_out_not_hangs(
    tmp_path: Path, silent_server: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ModelDownloadFailed, match="timed out"):
        install_model(
            "vosk-model-small-cn-0.22", tmp_path / "models", model_list_url=silent_server, timeout_s=0.5
        )
    assert time.monotonic() - started < 5
