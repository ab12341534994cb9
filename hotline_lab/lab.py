"""The lab: a real Asterisk 22, Redis, Mosquitto (and Request Tracker) on loopback.

Debian 12 has no Asterisk package, so the lab debootstraps a minimal Debian ``sid`` chroot
(cached under ``<root>/chroot``), installs Debian's ``asterisk`` into it, copies the
project's ``asterisk_conf/`` in and runs Asterisk there. Redis, Mosquitto, SIPp
(``sip-tester``), espeak-ng and sox come from the host's own Debian packages.

Every step is idempotent: a second ``hotline lab up`` only checks and (re)starts what is not
running. Services started by the lab are tracked by pid files under ``<root>/run``;
``hotline lab down`` stops only those pids. A failing step raises :class:`LabError` naming
the step and the tail of its log.

Traps handled here (found while building the lab):
* sid's mirror can serve a ``Release`` past its ``Valid-Until``: the chroot's apt gets
  ``Acquire::Check-Valid-Until "false"``.
* no init system in the chroot: ``policy-rc.d`` forbids service starts during install.
* the agent seats (1001-1300) are generated into ``pjsip_wizard_seats.conf`` from the
  wizard template, not written out by hand.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hotline.app.config import AmiConfig, LabConfig
from hotline.kernel.errors import LabError

REPO_ROOT = Path(__file__).resolve().parent.parent
ASTERISK_CONF = REPO_ROOT / "asterisk_conf"

#: binary on the host -> Debian package that provides it
HOST_PACKAGES: dict[str, str] = {
    "debootstrap": "debootstrap",
    "sipp": "sip-tester",
    "redis-server": "redis-server",
    "mosquitto": "mosquitto",
    "espeak-ng": "espeak-ng",
    "sox": "sox",
    "chromium": "chromium",  # the wallboard browser test (Playwright drives /usr/bin/chromium)
}
CHROOT_PACKAGES: tuple[str, ...] = (
    "asterisk",
    "asterisk-core-sounds-en-gsm",
    "asterisk-moh-opsound-gsm",
)
#: bumped when the chroot recipe changes, so cached chroots are rebuilt
CHROOT_RECIPE = "1"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LabPaths:
    """Folders of one lab root (default ``/var/lib/hotline``)."""

    root: Path

    @property
    def chroot(self) -> Path:
        return self.root / "chroot"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "log"

    def pidfile(self, service: str) -> Path:
        return self.run / f"{service}.pid"

    def log(self, step: str) -> Path:
        return self.logs / f"{step}.log"


@dataclass(frozen=True)
class ServiceStatus:
    """One line of ``hotline lab status``."""

    name: str
    pid: int | None
    running: bool
    detail: str


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _run(step: str, argv: Sequence[str], paths: LabPaths, *, timeout: float = 900,
         env: dict[str, str] | None = None) -> None:
    """Run one command of a step, appending its output to the step's log.

    Raises:
        LabError: non-zero exit, missing binary or timeout; with the log's tail.
    """
    log = paths.log(step)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        try:
            proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                  env={**os.environ, **(env or {})}, check=False)
        except FileNotFoundError as exc:
            raise LabError(step, f"{argv[0]} not found", log_path=str(log)) from exc
        except subprocess.TimeoutExpired as exc:
            raise LabError(step, f"timed out after {timeout:.0f}s: {' '.join(argv)}",
                           _tail(log), str(log)) from exc
    if proc.returncode != 0:
        raise LabError(step, f"exit {proc.returncode}: {' '.join(argv)}", _tail(log), str(log))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours is not alive
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def read_pid(paths: LabPaths, service: str) -> int | None:
    """The pid the lab recorded for ``service`` if that process is still alive, else None."""
    try:
        pid = int(paths.pidfile(service).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(step: str, probe: Callable[[], bool], timeout: float, what: str, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise LabError(step, f"{what} not ready after {timeout:.0f}s",
                           _tail(log) if log else "", str(log or ""))
        time.sleep(0.1)


def _spawn(service: str, argv: Sequence[str], paths: LabPaths, cwd: Path | None = None) -> int:
    paths.run.mkdir(parents=True, exist_ok=True)
    log = paths.log(service)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n=== start {time.strftime('%F %T')}: {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True)
    paths.pidfile(service).write_text(str(proc.pid))
    return proc.pid


def stop_service(paths: LabPaths, service: str, timeout: float = 10.0, crash: bool = False) -> bool:
    """Stop a service the lab started (by its recorded pid). Returns True if one was stopped.

    Args:
        crash: SIGKILL at once (a crash: Asterisk sends no Hangup events), instead of
            SIGTERM then SIGKILL after ``timeout`` seconds.
    """
    pid = read_pid(paths, service)
    paths.pidfile(service).unlink(missing_ok=True)
    if pid is None:
        return False
    steps = [(signal.SIGKILL, 5.0)] if crash else [(signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)]
    for sig, wait_s in steps:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if not _pid_alive(pid):
                return True
            time.sleep(0.05)
    return not _pid_alive(pid)


# --------------------------------------------------------------------------- steps


def ensure_host_packages(paths: LabPaths, progress: Progress) -> None:
    """Install the host's Debian packages that are missing (apt-get, as root)."""
    missing = [pkg for binary, pkg in HOST_PACKAGES.items()
               if not (shutil.which(binary) or Path("/usr/sbin", binary).exists())]
    if not missing:
        return
    progress(f"installing host packages: {' '.join(missing)}")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        _run("host-packages", ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
             paths, env=env)
    except LabError:
        _run("host-packages", ["apt-get", "update", "-q"], paths, env=env)
        _run("host-packages", ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
             paths, env=env)


def _chroot_marker(paths: LabPaths) -> Path:
    return paths.chroot / ".hotline-chroot"


def _chroot_fingerprint(cfg: LabConfig) -> str:
    return f"recipe={CHROOT_RECIPE} suite={cfg.suite} packages={','.join(CHROOT_PACKAGES)}\n"


def ensure_chroot(cfg: LabConfig, paths: LabPaths, progress: Progress) -> None:
    """Build the Debian ``sid`` chroot with Asterisk, unless a matching one is cached."""
    marker = _chroot_marker(paths)
    if marker.exists() and marker.read_text() == _chroot_fingerprint(cfg):
        return
    if read_pid(paths, "asterisk"):
        stop_service(paths, "asterisk")
    unmount_all(paths)
    partial = paths.root / "chroot.partial"
    progress(f"building the Asterisk chroot ({cfg.suite} from {cfg.mirror}); about a minute")
    if partial.exists():
        _unmount_under(partial)
        shutil.rmtree(partial)
    _run("chroot", ["debootstrap", "--variant=minbase", cfg.suite, str(partial), cfg.mirror], paths)
    (partial / "etc/apt/apt.conf.d/99hotline").write_text(
        '// sid mirrors may be past Valid-Until: the lab accepts them.\n'
        'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n'
    )
    policy = partial / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\n# no init system in the lab chroot: never start services on install\nexit 101\n")
    policy.chmod(0o755)
    env = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    _run("chroot", ["chroot", str(partial), "apt-get", "update", "-q"], paths, env=env)
    _run("chroot", ["chroot", str(partial), "apt-get", "install", "-y", "-q", *CHROOT_PACKAGES], paths, env=env)
    _run("chroot", ["chroot", str(partial), "apt-get", "clean"], paths, env=env)
    if paths.chroot.exists():
        shutil.rmtree(paths.chroot)
    partial.rename(paths.chroot)
    marker.write_text(_chroot_fingerprint(cfg))


def _mounted(target: Path) -> bool:
    t = str(target.resolve())
    with open("/proc/self/mountinfo") as fh:
        return any(line.split()[4] == t for line in fh)


def _unmount_under(root: Path) -> None:
    r = str(root.resolve())
    with open("/proc/self/mountinfo") as fh:
        points = [line.split()[4] for line in fh]
    for point in sorted((p for p in points if p == r or p.startswith(r + "/")), reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def ensure_mounts(paths: LabPaths) -> None:
    """Mount /proc and bind /dev into the chroot (Asterisk needs both)."""
    for target, argv in ((paths.chroot / "proc", ["mount", "-t", "proc", "proc"]),
                         (paths.chroot / "dev", ["mount", "--bind", "/dev"])):
        if not _mounted(target):
            _run("mounts", [*argv, str(target)], paths, timeout=30)


def unmount_all(paths: LabPaths) -> None:
    """Unmount everything mounted inside the chroot."""
    if paths.chroot.exists():
        _unmount_under(paths.chroot)


def seats_conf(first: int, last: int) -> str:
    """The generated ``pjsip_wizard_seats.conf``: one ``[NNNN](seat)`` line per agent seat."""
    lines = [f"; generated by `hotline lab up`: agent seats {first}-{last} from the 'seat' template", ""]
    lines += [f"[{seat}](seat)" for seat in range(first, last + 1)]
    return "\n".join(lines) + "\n"


def install_configs(cfg: LabConfig, paths: LabPaths, conf_dir: Path = ASTERISK_CONF) -> bool:
    """Copy ``asterisk_conf/*.conf`` into the chroot. Returns True if anything changed."""
    etc = paths.chroot / "etc/asterisk"
    wanted = {p.name: p.read_bytes() for p in sorted(conf_dir.glob("*.conf"))}
    wanted["pjsip_wizard_seats.conf"] = seats_conf(cfg.first_seat, cfg.last_seat).encode()
    changed = False
    for name, data in wanted.items():
        dest = etc / name
        if not dest.exists() or dest.read_bytes() != data:
            dest.write_bytes(data)
            changed = True
    for d in ("var/run/asterisk", "var/spool/asterisk/monitor", "var/log/asterisk"):
        (paths.chroot / d).mkdir(parents=True, exist_ok=True)
    return changed


def chroot_hosts(hostname: str) -> str:
    """The chroot's ``/etc/hosts``: ``localhost`` and this machine's ``hostname`` on loopback.

    Asterisk resolves its own host name (``ast_find_ourip``, getaddrinfo) every time an RTP
    instance bound to the any-address turns RTCP on, i.e. for every PJSIP call leg, on the PJSIP
    thread that handles the INVITE. debootstrap leaves the chroot without ``/etc/hosts``, so
    that lookup went to the DNS server in ``resolv.conf``; under a burst of calls the server drops
    queries and each one waits out the resolver's 5 s timeout (PJSIP distributor tasks of 5 s,
    callers stuck in ``Answer`` once ~10 calls/s arrive, Asterisk idle: bench/load_300.py).
    Answered from this file, the lookup takes microseconds and needs no network.
    """
    names = " ".join(dict.fromkeys(n for n in ("localhost", hostname) if n))
    return ("# written by `hotline lab up`: the lab's own names resolve without DNS\n"
            f"127.0.0.1\t{names}\n::1\tlocalhost ip6-localhost ip6-loopback\n")


def install_hosts(paths: LabPaths, hostname: str | None = None) -> bool:
    """Write the chroot's ``/etc/hosts`` (:func:`chroot_hosts`; default: ``socket.gethostname()``).

    Takes effect at once (glibc reads the file on each lookup): no Asterisk restart.
    Returns True if the file changed.
    """
    dest = paths.chroot / "etc/hosts"
    data = chroot_hosts(hostname if hostname is not None else socket.gethostname())
    if dest.exists() and dest.read_text() == data:
        return False
    dest.write_text(data)
    return True


def ami_probe(ami: AmiConfig, timeout: float = 5.0) -> str:
    """Log in to AMI, wait for ``FullyBooted`` and return ``AsteriskVersion`` (CoreSettings).

    Raises:
        OSError / TimeoutError: AMI not reachable or not booted within ``timeout`` seconds.
        PermissionError: login refused.
    """
    from hotline.telephony.frames import AmiFramer  # local import: the lab has no other AMI needs

    framer = AmiFramer(fallback_encoding=ami.fallback_encoding)
    deadline = time.monotonic() + timeout
    with socket.create_connection((ami.host, ami.port), timeout=timeout) as sock:
        sock.sendall(
            f"Action: Login\r\nActionID: probe-login\r\nUsername: {ami.username}\r\n"
            f"Secret: {ami.secret}\r\nEvents: system\r\n\r\n".encode()
        )
        booted = logged_in = False
        version = ""
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("AMI closed the connection")
            for msg in framer.feed(data):
                if msg.get("ActionID") == "probe-login":
                    if msg.get("Response") != "Success":
                        raise PermissionError(f"AMI login refused: {msg.get('Message')}")
                    logged_in = True
                    sock.sendall(b"Action: CoreSettings\r\nActionID: probe-settings\r\n\r\n")
                elif msg.get("ActionID") == "probe-settings":
                    version = str(msg.get("AsteriskVersion", ""))
                elif msg.get("Event") == "FullyBooted":
                    booted = True
            if logged_in and booted and version:
                with contextlib.suppress(OSError):
                    sock.sendall(b"Action: Logoff\r\n\r\n")
                return version
    raise TimeoutError(f"AMI at {ami.host}:{ami.port} did not report FullyBooted within {timeout:.0f}s")


def start_asterisk(cfg: LabConfig, paths: LabPaths, ami: AmiConfig, timeout: float = 60.0) -> str:
    """Start Asterisk in the chroot (unless running) and wait until AMI is fully booted.

    Returns:
        Asterisk's version string as reported over AMI.
    Raises:
        LabError: Asterisk exited or AMI did not come up within ``timeout`` seconds.
    """
    ensure_mounts(paths)
    if read_pid(paths, "asterisk") is None:
        deadline = time.monotonic() + 10  # a just-stopped Asterisk may still be closing its sockets
        while port_open(ami.port, ami.host) and time.monotonic() < deadline:
            time.sleep(0.1)
        if port_open(ami.port, ami.host):
            raise LabError("asterisk", f"port {ami.port} is taken by a process the lab did not start; "
                           "stop it or set ami.port")
        _spawn("asterisk", ["chroot", str(paths.chroot), "/usr/sbin/asterisk", "-f", "-n", "-g"], paths)
    log = paths.log("asterisk")
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if read_pid(paths, "asterisk") is None:
            raise LabError("asterisk", "Asterisk exited during start", _tail(log), str(log))
        try:
            return ami_probe(ami, timeout=min(5.0, max(0.5, deadline - time.monotonic())))
        except PermissionError as exc:
            raise LabError("asterisk", f"{exc} (check manager.conf and ami.secret)") from exc
        except (OSError, TimeoutError) as exc:
            last = exc
            time.sleep(0.2)
    raise LabError("asterisk", f"AMI not ready after {timeout:.0f}s: {last}", _tail(log), str(log))


def reload_asterisk(paths: LabPaths) -> None:
    """Ask the running Asterisk to reload its configuration (``core reload``)."""
    _run("asterisk", ["chroot", str(paths.chroot), "/usr/sbin/asterisk", "-rx", "core reload"], paths,
         timeout=30)


def start_redis(cfg: LabConfig, paths: LabPaths) -> str:
    """Start redis-server on 127.0.0.1:<redis_port> (unless running)."""
    if read_pid(paths, "redis") is None:
        if port_open(cfg.redis_port):
            return f"port {cfg.redis_port} already served (not started by the lab)"
        data = paths.root / "redis"
        data.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        # AOF on (a killed Redis loses nothing hotline wrote), but no fsync from Redis: with ``everysec``
        # on this shared, noisy disk a slow background fsync makes Redis hold write replies up to 2 s
        # ("Asynchronous AOF fsync is taking too long"), and the service's bounded Redis calls time out
        # mid-demo. Production keeps ``everysec`` on a disk of its own (README, lab traps).
        _spawn("redis", [binary, "--port", str(cfg.redis_port), "--bind", "127.0.0.1", "--dir", str(data),
                         "--appendonly", "yes", "--appendfsync", "no", "--save", ""], paths)
    _wait("redis", lambda: port_open(cfg.redis_port), 15, "redis", paths.log("redis"))
    return f"127.0.0.1:{cfg.redis_port}"


def start_mosquitto(cfg: LabConfig, paths: LabPaths) -> str:
    """Start mosquitto on 127.0.0.1:<mqtt_port> (unless running)."""
    if read_pid(paths, "mosquitto") is None:
        if port_open(cfg.mqtt_port):
            return f"port {cfg.mqtt_port} already served (not started by the lab)"
        data = paths.root / "mosquitto"
        data.mkdir(parents=True, exist_ok=True)
        conf = paths.run / "mosquitto.conf"
        paths.run.mkdir(parents=True, exist_ok=True)
        conf.write_text(f"listener {cfg.mqtt_port} 127.0.0.1\nallow_anonymous true\n"
                        f"persistence true\npersistence_location {data}/\n")
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        _spawn("mosquitto", [binary, "-c", str(conf)], paths)
    _wait("mosquitto", lambda: port_open(cfg.mqtt_port), 15, "mosquitto", paths.log("mosquitto"))
    return f"127.0.0.1:{cfg.mqtt_port}"


def rt_script() -> Path:
    return REPO_ROOT / "lab" / "rt.sh"


def make_prompts(paths: LabPaths) -> str:
    """Synthesize the sample menu's prompts into the chroot's sound folder (``ivr.prompts``; skips up-to-date files).

    Raises:
        LabError: step ``prompts``, naming the prompt and program that failed.
    """
    from hotline.ivr.prompt_catalog import PromptCatalogError, load_catalog
    from hotline.ivr.prompts import PromptSynthesisError, synthesize

    sounds = paths.chroot / "usr/share/asterisk/sounds"
    try:
        report = synthesize(load_catalog(REPO_ROOT / "hotline/ivr/examples/prompts.yaml"), sounds)
    except (PromptSynthesisError, PromptCatalogError, OSError) as exc:
        raise LabError("prompts", str(exc)) from exc
    return report.summary()


def start_rt(paths: LabPaths, progress: Progress) -> str:
    """Install (once) and start Request Tracker via ``lab/rt.sh``; returns its URL."""
    script = rt_script()
    if not script.exists():
        return "not part of this checkout"
    env = {"HOTLINE_RT_DIR": str(paths.root / "rt")}
    progress("request tracker: install (first run takes a few minutes) and start")
    _run("rt", ["bash", str(script), "install"], paths, env=env, timeout=1800)
    _run("rt", ["bash", str(script), "start"], paths, env=env, timeout=300)
    envfile = paths.root / "rt" / "rt.env"
    for line in envfile.read_text().splitlines() if envfile.exists() else []:
        if line.startswith("HOTLINE_RT_URL="):
            return line.split("=", 1)[1].strip().strip('"')
    return "started"


def up(cfg: LabConfig, ami: AmiConfig, progress: Progress = print) -> dict[str, str]:
    """Bring the whole lab up; returns service -> what is running (address or version).

    Raises:
        LabError: a step failed (with its name and log tail).
    """
    paths = LabPaths(cfg.root)
    for d in (paths.root, paths.run, paths.logs):
        d.mkdir(parents=True, exist_ok=True)
    ensure_host_packages(paths, progress)
    ensure_chroot(cfg, paths, progress)
    changed = install_configs(cfg, paths)
    install_hosts(paths)
    if changed and read_pid(paths, "asterisk"):
        progress("asterisk_conf changed: restarting Asterisk")
        stop_service(paths, "asterisk")
    result = {"asterisk": "Asterisk " + start_asterisk(cfg, paths, ami)}
    result["prompts"] = make_prompts(paths)
    result["ami"] = f"{ami.host}:{ami.port} (user {ami.username}, FullyBooted)"
    result["redis"] = start_redis(cfg, paths)
    result["mosquitto"] = start_mosquitto(cfg, paths)
    if cfg.with_rt:
        result["rt"] = start_rt(paths, progress)
    return result


def down(cfg: LabConfig) -> list[str]:
    """Stop what the lab started (by pid) and unmount the chroot's /proc and /dev."""
    paths = LabPaths(cfg.root)
    stopped = [s for s in ("asterisk", "redis", "mosquitto") if stop_service(paths, s)]
    if rt_script().exists() and (paths.root / "rt").exists():
        with contextlib.suppress(LabError):
            _run("rt", ["bash", str(rt_script()), "stop"], paths, env={"HOTLINE_RT_DIR": str(paths.root / "rt")},
                 timeout=60)
            stopped.append("rt")
    unmount_all(paths)
    return stopped


def status(cfg: LabConfig, ami: AmiConfig) -> list[ServiceStatus]:
    """What is running now: one :class:`ServiceStatus` per service."""
    paths = LabPaths(cfg.root)
    out = []
    marker = _chroot_marker(paths)
    out.append(ServiceStatus("chroot", None, marker.exists(),
                             str(paths.chroot) if marker.exists() else "not built"))
    for name, port in (("asterisk", ami.port), ("redis", cfg.redis_port), ("mosquitto", cfg.mqtt_port)):
        pid = read_pid(paths, name)
        detail = f"port {port} " + ("open" if port_open(port) else "closed")
        if name == "asterisk" and pid:
            try:
                detail = f"Asterisk {ami_probe(ami, timeout=3)}, AMI ready"
            except (OSError, TimeoutError) as exc:
                detail = f"AMI not ready: {exc}"
        out.append(ServiceStatus(name, pid, pid is not None, detail))
    return out
