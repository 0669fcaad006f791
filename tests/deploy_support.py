"""What the deployment tests share: the shipped deploy/nginx.conf with test ports and a throw-away certificate,
a real nginx run from a temporary folder (no root, nothing installed), and `kpiwatch serve` replicas.

The nginx site is templated by exact replacements of the shipped file's lines, each of which must be there, so a
changed deploy/nginx.conf is either still what the tests run or a loud failure, never silently something else.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.test_notify_support import free_port

DEPLOY = ROOT / "deploy"
KPIWATCH = str(Path(sys.executable).with_name("kpiwatch"))
SHIPPED_UPSTREAMS = ("127.0.0.1:8001", "127.0.0.1:8002")


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    assert found, "nginx is not installed: scripts/install --test installs Debian's nginx"
    return found


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `host` (an address or a name) made with openssl, as an operator would for a first test."""
    cert, key = folder / "kpiwatch.pem", folder / "kpiwatch.key"
    alt = f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={host}",
                    "-addext", f"subjectAltName={alt}"], check=True, capture_output=True)
    return cert, key


def nginx_site(*, upstreams: list[int], https_port: int, http_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx.conf with these ports and files in place of the shipped ones."""
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    servers = [line for line in text.splitlines() if line.strip().startswith("server 127.0.0.1:")]
    assert [line.split()[1] for line in servers] == list(SHIPPED_UPSTREAMS), servers
    replacements = {servers[0]: "\n".join(servers[0].replace(SHIPPED_UPSTREAMS[0], f"127.0.0.1:{port}")
                                          for port in upstreams),
                    servers[1]: "",
                    "    listen 443 ssl;": f"    listen 127.0.0.1:{https_port} ssl;",
                    "    listen 80;": f"    listen 127.0.0.1:{http_port};",
                    "/etc/ssl/certs/kpiwatch.pem": str(cert),
                    "/etc/ssl/private/kpiwatch.key": str(key)}
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} once"
        text = text.replace(old, new)
    return text


@dataclass
class Nginx:
    """nginx from `folder` with the templated site, its own logs, temp files and pid file: `nginx -p DIR -c ...`."""

    folder: Path
    site: str
    https_port: int
    http_port: int
    process: subprocess.Popen | None = None

    def command(self, *extra: str) -> list[str]:
        return [nginx_binary(), "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
                "-g", f"daemon off; pid {self.folder / 'nginx.pid'};", *extra]

    def write(self) -> None:
        (self.folder / "tmp").mkdir(parents=True, exist_ok=True)
        (self.folder / "kpiwatch.conf").write_text(self.site, encoding="utf-8")
        # As root, workers would drop to "nobody", which cannot enter a private temporary folder.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp = "".join(f"    {kind}_temp_path {self.folder / 'tmp' / kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (self.folder / "nginx.conf").write_text(f"""{user}worker_processes 1;
error_log {self.folder / 'error.log'} notice;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$remote_addr $upstream_addr "$request" $status';
    access_log {self.folder / 'access.log'} upstream;
{temp}    include {self.folder / 'kpiwatch.conf'};
}}
""", encoding="utf-8")

    def check_config(self) -> subprocess.CompletedProcess:
        self.write()
        return subprocess.run(self.command("-t"), capture_output=True, text=True)

    def start(self) -> Nginx:
        checked = self.check_config()
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for_port(self.https_port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.communicate(timeout=20)

    def upstreams_used(self) -> set[str]:
        return {line.split()[1] for line in (self.folder / "access.log").read_text().splitlines()}


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else b""
            raise AssertionError(f"exited with {process.returncode} before listening on {port}: {output!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def start_replicas(count: int, env: dict[str, str], cwd: Path) -> tuple[list[int], list[subprocess.Popen]]:
    """`kpiwatch serve --no-scheduler` on `count` loopback ports, all on the store and secret key in `env`."""
    ports = [free_port() for _ in range(count)]
    processes = [subprocess.Popen([KPIWATCH, "serve", "--no-scheduler", "--port", str(port)], cwd=cwd, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for port in ports]
    for port, process in zip(ports, processes, strict=True):
        wait_for_port(port, process)
    return ports, processes


def stop_all(processes: list[subprocess.Popen]) -> list[bytes]:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    return [process.communicate(timeout=60)[0] for process in processes]


def desk(address: str, base_url: str, cert: Path | None = None) -> httpx.Client:
    """A browser at workstation `address` (a loopback alias such as 127.0.0.2)."""
    verify = ssl.create_default_context(cafile=str(cert)) if cert else True
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=address, verify=verify),
                        timeout=30)
