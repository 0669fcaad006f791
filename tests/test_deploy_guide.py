"""docs/deploy.md, followed step by step on this machine.

Every command of the guide's `sh` blocks is handled, in the guide's order: what can run here runs as written
(kpiwatch-admin commands through deploy/kpiwatch-admin, the units' own ExecStart lines with their Environment and
EnvironmentFile, nginx with deploy/nginx.conf, the curl checks), with the machine's paths (/etc/kpiwatch,
/var/lib/kpiwatch, /opt/kpiwatch, ports 8001/8002) moved into a temporary folder; what needs root or a running
systemd (apt-get, useradd, systemctl) is checked against the files it names and done here by equivalent means
(systemctl start = the unit's ExecStart, systemctl stop = the unit's KillSignal). A command the test does not
know fails it, so the guide cannot gain a step nobody ran.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.config import ENV_OVERRIDES, ENV_SECRETS, load_config
from tests.conftest import ROOT, create_database
from tests.deploy_support import DEPLOY, KPIWATCH, Nginx, nginx_site, self_signed_certificate, wait_for_port
from tests.test_notify_support import free_port

GUIDE = ROOT / "docs" / "deploy.md"
ENV_NAMES = {"KPIWATCH_CONFIG", *ENV_OVERRIDES, *ENV_SECRETS}


def fenced(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)


def guide_commands() -> list[str]:
    return [line.strip() for block in fenced("sh") for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file as sections of (key, value) pairs, keeping repeated keys such as Environment=."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None and "=" in line, f"{path.name}:{number}: not a unit file line: {raw!r}"
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def unit_value(unit: dict, section: str, key: str) -> str:
    (value,) = [v for k, v in unit[section] if k == key]
    return value


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments, blank lines, quotes)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def test_the_guides_config_secrets_template_units_and_packages_are_valid(tmp_path):
    (config,) = fenced("toml")
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    settings = load_config(tmp_path / "config.toml", env={})
    assert settings.portal.trusted_proxies == ("127.0.0.1",) and settings.logging.format == "json"

    template = read_env_file(DEPLOY / "kpiwatch.env.example")
    assert set(template) <= ENV_NAMES and {"KPIWATCH_DATABASE_URL", "KPIWATCH_SECRET_KEY"} <= set(template)
    load_config(tmp_path / "config.toml", env=template)  # the template's URL is one the store accepts

    web, scheduler = parse_unit(DEPLOY / "kpiwatch-web@.service"), parse_unit(DEPLOY / "kpiwatch-scheduler.service")
    assert unit_value(web, "Service", "ExecStart").endswith("serve --no-scheduler --host 127.0.0.1 --port %i")
    assert unit_value(scheduler, "Service", "ExecStart") == "/opt/kpiwatch/bin/kpiwatch scheduler"
    for unit in (web, scheduler):
        assert set(unit) == {"Unit", "Service", "Install"}
        assert unit_value(unit, "Service", "EnvironmentFile") == "/etc/kpiwatch/kpiwatch.env"
        assert ("Environment", "KPIWATCH_CONFIG=/etc/kpiwatch/config.toml") in unit["Service"]
        assert unit_value(unit, "Service", "KillSignal") == "SIGTERM"
    # systemd must leave a stopping replica the time kpiwatch gives requests in flight.
    assert int(unit_value(web, "Service", "TimeoutStopSec")) > settings.portal.shutdown_grace_seconds

    install = (ROOT / "scripts" / "install").read_text(encoding="utf-8")
    runtime = re.search(r"^packages=\((.*)\)$", install, flags=re.M).group(1).split()
    (apt,) = [c for c in guide_commands() if c.startswith("sudo apt-get install ")]
    assert set(runtime) | {"postgresql", "nginx", "python3-venv"} <= set(apt.split()[3:])


@dataclass
class Machine:
    """The guide's machine, moved into `root`: its paths, its ports, its services."""

    root: Path
    database_url: str
    ports: dict[str, int] = field(default_factory=lambda: {"8001": free_port(), "8002": free_port()})
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    running: dict[str, subprocess.Popen] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    nginx: Nginx | None = None
    cert: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def places(self) -> dict[str, str]:
        return {"/opt/kpiwatch/bin/kpiwatch": KPIWATCH, "/usr/local/bin/kpiwatch-admin": str(self.root / "bin" /
                                                                                               "kpiwatch-admin"),
                "/etc/kpiwatch": str(self.root / "etc"), "/var/lib/kpiwatch": str(self.root / "state"),
                "/var/cache/kpiwatch": str(self.root / "cache"), "/var/backups/kpiwatch": str(self.root / "backups")}

    def local(self, text: str) -> str:
        for real, here in sorted(self.places.items(), key=lambda item: -len(item[0])):
            text = text.replace(real, here)
        for real, here in self.ports.items():
            text = text.replace(f"127.0.0.1:{real}", f"127.0.0.1:{here}")
        return text

    def clean_env(self) -> dict[str, str]:
        """What systemd gives a service: a PATH and a locale, nothing of the test's own environment."""
        return {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}

    # -- services ------------------------------------------------------------------------------------------------

    def unit_file(self, name: str) -> tuple[Path, str]:
        base, _, instance = name.partition("@")
        path = DEPLOY / (f"{base}@.service" if instance else f"{name}.service")
        assert path.is_file(), f"the guide starts {name}, but deploy/ has no {path.name}"
        return path, str(self.ports.get(instance, instance))

    def start(self, *names: str) -> None:
        """`systemctl start`: each unit's ExecStart with its environment, all at once, then wait until each is up."""
        waits = []
        for name in names:
            path, instance = self.unit_file(name)
            unit = parse_unit(path)
            env = self.clean_env()
            for key, value in unit["Service"]:
                if key == "Environment":
                    variable, _, setting = value.partition("=")
                    env[variable] = self.local(setting)
            env.update(read_env_file(Path(self.local(unit_value(unit, "Service", "EnvironmentFile")))))
            workdir = Path(self.local(unit_value(unit, "Service", "WorkingDirectory")))
            command = shlex.split(self.local(unit_value(unit, "Service", "ExecStart").replace("%i", instance)))
            log = self.root / "journal" / f"{name}.log"  # a file, not a pipe: a chatty service never blocks on it
            log.parent.mkdir(exist_ok=True)
            with log.open("ab") as journal:
                self.running[name] = subprocess.Popen(command, cwd=workdir, env=env, stdout=journal,
                                                      stderr=subprocess.STDOUT, start_new_session=True)
            waits.append((name, command, log, log.stat().st_size))
        for name, command, log, offset in waits:
            if "--port" in command:
                wait_for_port(int(command[command.index("--port") + 1]), self.running[name])
            else:
                deadline = time.monotonic() + 90
                while b"scheduler started" not in log.read_bytes()[offset:]:
                    assert self.running[name].poll() is None and time.monotonic() < deadline, log.read_text()
                    time.sleep(0.1)

    def stop(self, pattern: str) -> None:
        """`systemctl stop`: the unit's KillSignal, then up to TimeoutStopSec for a clean exit (status 0, or death
        by that very signal, which systemd also counts as clean: a service stopped before it was listening)."""
        names = [name for name in self.running if fnmatch.fnmatchcase(name, pattern.strip("'"))]
        assert names, f"systemctl stop {pattern}: nothing of that name runs"
        stopping = []
        for name in names:
            unit = parse_unit(self.unit_file(name)[0])
            kill = getattr(signal, unit_value(unit, "Service", "KillSignal"))
            process = self.running.pop(name)
            process.send_signal(kill)
            stopping.append((name, process, kill, int(unit_value(unit, "Service", "TimeoutStopSec"))))
        for name, process, kill, timeout in stopping:
            process.wait(timeout=timeout)
            journal = (self.root / "journal" / f"{name}.log").read_text(errors="replace")
            assert process.returncode in (0, -kill), f"{name} did not stop cleanly: {journal[-2000:]}"

    def stop_everything(self) -> None:
        for process in self.running.values():
            process.kill()
            process.wait()
        if self.nginx is not None:
            self.nginx.stop()

    # -- the guide's commands ------------------------------------------------------------------------------------

    def shell(self, command: str, *, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], input=stdin, capture_output=True, text=True, timeout=120,
                              env={**self.clean_env(), **(env or {})}, start_new_session=True)

    def admin(self, arguments: str) -> None:
        stdin = "Adm1n-passphrase!\nAdm1n-passphrase!\n" if arguments.startswith("users add") else None
        result = self.shell(f"{self.root / 'bin' / 'kpiwatch-admin'} {self.local(arguments)}", stdin=stdin)
        if arguments == "status":
            # A new installation: the checks /readyz makes all pass; evaluation has not run yet (the guide's
            # words). Sending has not either until the scheduler's first minute boundary, when its "send" job runs
            # on the empty outbox: whether the guide's steps span one is a matter of the clock.
            assert result.returncode == 1 and "就绪 (ready)" in result.stdout and "未就绪" not in result.stdout, \
                result.stdout + result.stderr
            warnings = re.findall(r"告警：(.*)", result.stdout)
            assert warnings in (["评估从未成功运行"], ["评估从未成功运行", "邮件发送从未成功运行"]), result.stdout
            return
        assert result.returncode == 0, f"kpiwatch-admin {arguments}: {result.stdout}{result.stderr}"

    def install(self, files: list[str], destination: str) -> None:
        for file in files:
            assert (ROOT / file).is_file(), f"the guide installs {file}, which does not exist"
            if file == "deploy/kpiwatch-admin":
                wrapper = self.root / "bin" / "kpiwatch-admin"
                wrapper.parent.mkdir(parents=True, exist_ok=True)
                wrapper.write_text(self.local((ROOT / file).read_text(encoding="utf-8")), encoding="utf-8")
                wrapper.chmod(0o755)
            elif file == "deploy/kpiwatch.env.example":
                shutil.copy(ROOT / file, self.local(destination))
            elif file == "deploy/nginx.conf":
                self.cert, key = self_signed_certificate(self.root, "kpiwatch.example.org")
                site = nginx_site(upstreams=[self.ports["8001"], self.ports["8002"]], https_port=self.https_port,
                                  http_port=self.http_port, cert=self.cert, key=key)
                self.nginx = Nginx(self.root / "nginx", site, self.https_port, self.http_port)
            else:
                assert file.endswith(".service") and destination == "/etc/systemd/system/", file

    def edit_secrets(self) -> None:
        """What the operator types into kpiwatch.env: the store's URL and the secrets the guide had made."""
        path = self.root / "etc" / "kpiwatch.env"
        template = read_env_file(path)
        values = {"KPIWATCH_DATABASE_URL": self.database_url, "KPIWATCH_SECRET_KEY": self.secrets[-1],
                  "KPIWATCH_METRICS_TOKEN": self.secrets[-1][::-1], "KPIWATCH_SMTP_PASSWORD": ""}
        assert set(template) == set(values)
        text = path.read_text(encoding="utf-8")
        for key, value in values.items():
            text = re.sub(rf"^{key}=.*$", f"{key}='{value}'", text, flags=re.M)
        path.write_text(text, encoding="utf-8")

    def curl(self, command: str) -> None:
        command = self.local(command)
        if "https://kpiwatch.example.org/" in command:  # the gateway, by its name, on this machine's nginx
            gateway = f"https://kpiwatch.example.org:{self.https_port}/"
            command = command.replace("https://kpiwatch.example.org/", gateway)
            command += f" --resolve kpiwatch.example.org:{self.https_port}:127.0.0.1 --cacert {self.cert}"
        env = read_env_file(self.root / "etc" / "kpiwatch.env")
        result = self.shell(command, env={"KPIWATCH_METRICS_TOKEN": env["KPIWATCH_METRICS_TOKEN"]})
        assert result.returncode == 0, f"{command}: {result.stderr}"
        if "/readyz" in command:
            assert '"status":"ready"' in result.stdout, result.stdout
        elif "/healthz" in command:
            assert result.stdout == '{"status":"ok"}'
        else:
            assert 'kpiwatch_ready{check="scheduler"} 1.0' in result.stdout

    def follow(self, command: str) -> None:
        """One command of the guide, run here or done by its equivalent; anything else fails the test."""
        words = command.split()
        if (match := re.fullmatch(r"sudo -u kpiwatch kpiwatch-admin (.+)", command)):
            self.admin(match.group(1))
        elif command.startswith("curl -fsS "):
            self.curl(command)
        elif command.startswith("python3 -c "):
            result = self.shell(command)
            assert result.returncode == 0 and len(result.stdout.strip()) >= 60, result
            self.secrets.append(result.stdout.strip())
        elif command == "sudoedit /etc/kpiwatch/kpiwatch.env":
            self.edit_secrets()
        elif words[:3] == ["sudo", "install", "-d"]:
            for folder in (w for w in words if w.startswith("/")):
                Path(self.local(folder)).mkdir(parents=True, exist_ok=True)
        elif words[:2] == ["sudo", "install"]:
            self.install([w for w in words[2:] if w.startswith("deploy/")], words[-1])
        elif command == "sudo systemctl daemon-reload":
            verify_units(self)
        elif words[:3] == ["sudo", "systemctl", "start"] or words[:4] == ["sudo", "systemctl", "enable", "--now"]:
            self.start(*words[4 if words[2] == "enable" else 3:])
        elif words[:3] == ["sudo", "systemctl", "stop"]:
            for pattern in words[3:]:
                self.stop(pattern)
        elif words[:3] == ["sudo", "systemctl", "restart"]:
            self.stop(words[3])
            self.start(words[3])
        elif command == "sudo nginx -t":
            assert self.nginx is not None and self.nginx.check_config().returncode == 0
        elif command == "sudo systemctl reload nginx":
            self.nginx.start()
        elif command.startswith("sudo apt-get install "):
            self.notes.append(f"machine step (checked against scripts/install): {command}")
        elif command == "sudo useradd --system --home-dir /var/lib/kpiwatch --shell /usr/sbin/nologin kpiwatch":
            assert all(unit_value(parse_unit(p), "Service", "User") == "kpiwatch" for p in DEPLOY.glob("*.service"))
        elif command == "sudo python3 -m venv /opt/kpiwatch" or re.fullmatch(
                r"sudo /opt/kpiwatch/bin/pip install (--upgrade )?\./kpiwatch-[\d.]+-py3-none-any\.whl", command):
            self.notes.append(f"machine step (here: this test's virtualenv): {command}")
        elif re.fullmatch(r"sudo -u postgres create(user --pwprompt|db --owner kpiwatch --encoding UTF8) kpiwatch",
                          command):
            self.notes.append(f"machine step (here: a fresh test database): {command}")
        else:
            raise AssertionError(f"docs/deploy.md: {command!r} is neither run here nor a known machine step")


def verify_units(machine: Machine) -> None:
    """`systemd-analyze verify` on the units as installed (paths moved here), when systemd is on this machine."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # parse_unit (every start) has already read every line
        return
    folder = machine.root / "systemd"
    folder.mkdir(exist_ok=True)
    names = []
    for path in DEPLOY.glob("*.service"):
        name = path.name.replace("@.service", "@8001.service")  # a template is verified as an instance
        (folder / name).write_text(machine.local(path.read_text(encoding="utf-8")), encoding="utf-8")
        names.append(str(folder / name))
    result = subprocess.run([analyze, "verify", *names], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.slow
def test_following_the_guide_step_by_step(tmp_path):
    url, drop = create_database("postgresql", tmp_path)
    machine = Machine(tmp_path / "machine", url)
    (machine.root / "etc").mkdir(parents=True)
    (machine.root / "etc" / "config.toml").write_text(fenced("toml")[0], encoding="utf-8")
    try:
        for command in guide_commands():
            machine.follow(command)
        assert set(machine.running) == {"kpiwatch-web@8001", "kpiwatch-web@8002", "kpiwatch-scheduler"}
        for name in list(machine.running):  # the guide's machine goes down cleanly, as on `systemctl stop`
            machine.stop(name)
    finally:
        machine.stop_everything()
        drop()
    backups = machine.root / "backups"
    assert sorted(p.name for p in backups.iterdir()) == ["before-upgrade.backup", "kpiwatch-daily.backup"]
