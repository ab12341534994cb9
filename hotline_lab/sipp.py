"""Run SIPp (Debian's ``sip-tester``) scenarios from ``lab/sipp/`` against the lab Asterisk (tests, demo, benches).

Each run gets its own free UDP signalling and media ports, so tests never share a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from hotline.kernel.netutil import free_port

SCENARIOS = Path(__file__).resolve().parents[1] / "lab" / "sipp"


@dataclass
class SippRun:
    """A running SIPp process. ``port`` is its SIP port on 127.0.0.1."""

    proc: asyncio.subprocess.Process
    port: int
    log: Path

    async def wait(self, timeout: float) -> int:
        """Wait for SIPp to exit; returns its exit code (0: all calls succeeded).

        Raises:
            TimeoutError: still running after ``timeout`` seconds (it is killed).
        """
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            await self.stop()
            raise TimeoutError(f"sipp on port {self.port} still running after {timeout}s; log: {self.log}") from None

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.proc.wait(), 5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


async def start_sipp(scenario: str, workdir: Path, *, calls: int = 1, rate: float = 1.0, duration_ms: int = 1000,
                     keys: dict[str, str] | None = None, port: int | None = None, target: str = "127.0.0.1:5060",
                     timeout_s: int = 60, extra: list[str] | None = None) -> SippRun:
    """Start ``sipp`` with ``lab/sipp/<scenario>.xml``.

    Args:
        calls: stop after this many calls (``-m``); for a UAS, after that many answered.
        rate: new calls per second (``-r``), UAC only.
        duration_ms: ``-d``: the scenario's ``<pause/>`` (hold time, or ring time for a UAS).
        keys: ``-key NAME VALUE`` substitutions.
        port: the SIP port to bind (default: a free one).
        timeout_s: SIPp's own global timeout (``-timeout``), so it always exits.
    """
    port = port or free_port(kind=2)  # SOCK_DGRAM
    media = free_port(kind=2)
    log = workdir / f"sipp-{scenario}-{port}.log"
    argv = ["sipp", target, "-sf", str(SCENARIOS / f"{scenario}.xml"), "-m", str(calls), "-r", str(rate),
            "-i", "127.0.0.1", "-p", str(port), "-mp", str(media), "-d", str(duration_ms), "-nostdin",
            "-timeout", f"{timeout_s}s", "-timeout_error", "-trace_err", "-error_file", str(log) + ".err"]
    for k, v in (keys or {}).items():
        argv += ["-key", k, v]
    argv += extra or []
    out = log.open("wb")
    proc = await asyncio.create_subprocess_exec(*argv, stdout=out, stderr=asyncio.subprocess.STDOUT,
                                                stdin=asyncio.subprocess.DEVNULL, cwd=workdir)
    out.close()
    return SippRun(proc, port, log)


async def register_seats(seats: list[int] | range, contact_port: int, workdir: Path, expires: int = 600,
                         timeout: float = 30.0) -> None:
    """REGISTER each seat with Contact ``sip:<seat>@127.0.0.1:<contact_port>`` (``lab/sipp/register.xml``).

    Raises:
        RuntimeError: SIPp reported a failed registration (its log is in the message).
    """
    seats = list(seats)
    inf = workdir / f"seats-{contact_port}-{seats[0]}.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(f"{s};{contact_port}\n" for s in seats))
    run = await start_sipp("register", workdir, calls=len(seats), rate=200, keys={"expires": str(expires)},
                           extra=["-inf", str(inf)], timeout_s=int(timeout))
    rc = await run.wait(timeout + 5)
    if rc != 0:
        raise RuntimeError(f"seat registration failed (sipp exit {rc}):\n{run.output()[-2000:]}")


async def start_dtmf_caller(workdir: Path, caller: str, digits: list, *, dial: str = "12345", stay_ms: int = 10000,
                            timeout_s: int = 120, speech: bytes = b"", speech_ms: int = 0) -> SippRun:
    """One citizen call that presses ``digits`` (``hotline.rtpcap.Digit``, times from the answer) over RFC 4733.

    Writes the call's pcap (``caller_dtmf.pcap``) into a fresh folder under ``workdir`` and runs
    ``lab/sipp/caller_dtmf.xml`` there (SIPp loads the pcap by a path relative to its folder).

    Args:
        stay_ms: how long the caller stays after the answer (``-d``): hang-up time.
        speech, speech_ms: raw 8 kHz mu-law the caller says after the last key, repeated for
            ``speech_ms`` (:func:`hotline_lab.rtpcap.rtp_stream`); empty: silence.
    """
    from hotline_lab.rtpcap import write_dtmf_pcap

    folder = workdir / f"dtmf-{caller}-{free_port(kind=2)}"
    folder.mkdir(parents=True)
    await asyncio.to_thread(write_dtmf_pcap, folder / "caller_dtmf.pcap", digits, speech=speech, speech_ms=speech_ms)
    return await start_sipp("caller_dtmf", folder, keys={"caller": caller, "dial": dial}, duration_ms=stay_ms,
                            timeout_s=timeout_s)
