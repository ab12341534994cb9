"""The real lab chroot answers Asterisk's own host-name lookup from /etc/hosts (no DNS round trip).

Asterisk resolves its host name for every RTP leg (``ast_find_ourip``); through DNS that lookup
blocked PJSIP threads for the resolver's 5 s timeout under load (bench/load_300.py).
"""

from __future__ import annotations

import socket
import subprocess

from hotline_lab import lab


def _getent(paths: lab.LabPaths, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chroot", str(paths.chroot), "getent", *args], capture_output=True, text=True,
                          timeout=30, check=False)


def test_given_the_lab_when_the_chroot_resolves_the_host_name_then_files_answer_with_loopback(
        asterisk: lab.LabPaths) -> None:
    hosts = (asterisk.chroot / "etc/hosts").read_text()
    assert socket.gethostname() in hosts.split()
    # "hosts: files dns": an answer from /etc/hosts never reaches the DNS server
    nsswitch = (asterisk.chroot / "etc/nsswitch.conf").read_text().split("\n")
    assert any(line.split()[:2] == ["hosts:", "files"] for line in nsswitch if line.strip())
    result = _getent(asterisk, "ahosts", socket.gethostname())
    assert result.returncode == 0, result.stderr
    assert {line.split()[0] for line in result.stdout.splitlines()} <= {"127.0.0.1", "::1"}
