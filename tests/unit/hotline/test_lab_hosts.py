"""The lab chroot's /etc/hosts: Asterisk's own host name resolves on loopback without DNS."""

from __future__ import annotations

from pathlib import Path

from hotline_lab.lab import LabPaths, chroot_hosts, install_hosts


def _names_for(hosts: str, address: str) -> list[str]:
    for line in hosts.splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#") and fields[0] == address:
            return fields[1:]
    return []


def test_given_a_host_name_then_it_and_localhost_map_to_ipv4_loopback() -> None:
    hosts = chroot_hosts("vm")
    assert _names_for(hosts, "127.0.0.1") == ["localhost", "vm"]
    assert "localhost" in _names_for(hosts, "::1")


def test_given_host_name_localhost_or_empty_then_no_name_is_listed_twice() -> None:
    assert _names_for(chroot_hosts("localhost"), "127.0.0.1") == ["localhost"]
    assert _names_for(chroot_hosts(""), "127.0.0.1") == ["localhost"]


def test_given_a_chroot_without_hosts_when_installed_twice_then_written_once(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    (paths.chroot / "etc").mkdir(parents=True)
    assert install_hosts(paths, "lab-box") is True
    assert install_hosts(paths, "lab-box") is False
    assert (paths.chroot / "etc/hosts").read_text() == chroot_hosts("lab-box")


def test_given_the_machine_was_renamed_when_installed_then_the_file_follows(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    (paths.chroot / "etc").mkdir(parents=True)
    install_hosts(paths, "old-name")
    assert install_hosts(paths, "new-name") is True
    assert "new-name" in _names_for((paths.chroot / "etc/hosts").read_text(), "127.0.0.1")
