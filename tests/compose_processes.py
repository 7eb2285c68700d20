"""docker-compose.yml run as compose would, without a container engine: each service a local process.

What is read from the compose file and the Dockerfiles: the services, their order (depends_on and
its conditions), entrypoints and commands, ENV, env_file and environment (in compose's order of
precedence, with ${VAR:-default}, ${VAR:?error} and $$ interpolated), bind mounts and named volumes,
and the health checks (CMD and CMD-SHELL). What is adapted, because there are no containers:
- a container's file system is a folder of its own (`rootfs/<service>/`): mounts are copied in, and
  paths under a mount or the image's own folders are rewritten to point there;
- each container's ports become free local ports on 127.0.0.1 (`listener N` and `127.0.0.1:N` in
  its own files and health check, `<service>:N` in the others' settings);
- the `postgres` image is not started: the machine's PostgreSQL stands in, with a private schema;
- images of this repository run this checkout's `maitre` and `maitre-gateway`, and the Mosquitto
  image the machine's `mosquitto` (`mosquitto_sub` for its health check), `pg_isready` Debian's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The image's own folders a container writes to (beyond its mounts), per image name.
IMAGE_DIRS = {"eclipse-mosquitto": ("/mosquitto",)}
# The machine's programs standing in for what an image would bring; Mosquitto's log line-buffered,
# so a test can read it while the broker runs.
HOST_PROGRAMS = {"mosquitto": 'exec stdbuf -oL /usr/sbin/mosquitto "$@"'}
# Services not started, and what stands in for them.
STAND_INS = {"postgres": "the machine's PostgreSQL at 127.0.0.1:5432"}
# Health checks run this often here (compose: `interval`), within compose's own deadline.
POLL_SECONDS = 0.5

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable substitution, recursively; a missing `${X:?message}` raises ValueError."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        got = env.get(name)
        if op in (":-", ":?") and not got:
            got = None
        if got is not None:
            return got
        if op is not None and op.endswith("?"):
            raise ValueError(f"{name}: {arg}")
        return arg if op is not None else ""

    return _VAR.sub(one, value)


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v for k, v in pairs if not k.lstrip().startswith("#")}


@dataclass
class Image:
    """What a Dockerfile of this repository (or a known public image) gives a container."""

    entrypoint: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None


def dockerfile_image(path: Path) -> Image:
    image = Image()
    for line in path.read_text().splitlines():
        words = line.split(maxsplit=1)
        if not words or len(words) < 2:
            continue
        if words[0] == "ENTRYPOINT":
            image.entrypoint = yaml.safe_load(words[1])
        elif words[0] == "WORKDIR":
            image.workdir = words[1].strip()
        elif words[0] == "ENV":
            image.env.update(dict(pair.split("=", 1) for pair in shlex.split(words[1])))
    return image


def start_order(services: Mapping[str, Any]) -> list[str]:
    """Services after everything they depend on (compose's order)."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        assert name not in path, f"depends_on cycle: {path}"
        for dep in services[name].get("depends_on", {}):
            visit(dep, (*path, name))
        done.append(name)

    for name in services:
        visit(name, ())
    return done


def health_argv(test: Any) -> list[str]:
    """A healthcheck's `test` as a command line: CMD runs as given, CMD-SHELL (or a string) in sh."""
    if isinstance(test, str):
        return ["/bin/sh", "-c", test]
    kind, *rest = test
    if kind == "CMD":
        return list(rest)
    if kind == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(rest)]
    raise ValueError(f"healthcheck test {test!r}: not CMD or CMD-SHELL")


def seconds(text: str | None, default: float) -> float:
    if text is None:
        return default
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)(ms|s|m|h)", str(text)):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


class ComposeStack:
    """The compose file's services as local processes, started in order, each health-checked."""

    def __init__(self, workdir: Path, env: Mapping[str, str], database_url: str) -> None:
        self.workdir = workdir
        self.env = dict(env)  # the .env file's values
        self.database_url = database_url
        spec = interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), self.env)
        self.services: dict[str, Any] = spec["services"]
        self.ports: dict[tuple[str, int], int] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.startup_seconds = 0.0  # from `up` until every health check has passed
        self.images = {
            s.get("image", "").split(":")[0]: dockerfile_image(ROOT / s["build"]["dockerfile"])
            for s in self.services.values()
            if "build" in s
        }

    # -- translation ----------------------------------------------------------------------------

    def port(self, service: str, container_port: int) -> int:
        return self.ports.setdefault((service, container_port), free_port())

    def rootfs(self, service: str) -> Path:
        return self.workdir / "rootfs" / service

    def _image(self, service: str) -> tuple[str, Image]:
        name = self.services[service]["image"].split(":")[0]
        return name, self.images.get(name, Image())

    def _prefixes(self, service: str) -> list[str]:
        """Container paths that live in the service's own folder here, longest first."""
        name, image = self._image(service)
        paths = [v.split(":")[1] for v in self.services[service].get("volumes", [])]
        paths += list(IMAGE_DIRS.get(name, ()))
        paths += [image.workdir] if image.workdir else []
        paths += [p for p in image.env.values() if p.startswith("/")]
        return sorted(set(paths), key=len, reverse=True)

    def translate(self, service: str, text: str) -> str:
        """A container's string as it reads here: its paths, its ports, the others' addresses."""
        root = self.rootfs(service)
        paths = "|".join(re.escape(p) for p in self._prefixes(service))
        text = re.sub(rf"(?<![\w./])({paths})(?=/|\b|$)", lambda m: f"{root}{m[1]}", text)
        text = re.sub(
            r"\blistener (\d+)\b", lambda m: f"listener {self.port(service, int(m[1]))} 127.0.0.1", text
        )
        text = re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{self.port(service, int(m[1]))}", text)
        text = re.sub(r"(?<=\s)-p (\d+)\b", lambda m: f"-p {self.port(service, int(m[1]))}", text)
        others = "|".join(re.escape(s) for s in self.services)
        return re.sub(rf"\b({others}):(\d+)\b", lambda m: f"127.0.0.1:{self.port(m[1], int(m[2]))}", text)

    def _mount(self, service: str) -> None:
        """Copy each volume into the service's folder, text files translated; named volumes persist."""
        root = self.rootfs(service)
        for volume in self.services[service].get("volumes", []):
            source, target = volume.split(":")[:2]
            dest = Path(f"{root}{target}")
            if not source.startswith((".", "/")):  # a named volume: an empty folder at first
                dest.mkdir(parents=True, exist_ok=True)
                continue
            src = (ROOT / source).resolve() if source.startswith(".") else Path(source)
            files = [src] if src.is_file() else [p for p in src.rglob("*") if p.is_file()]
            for f in files:
                out = dest if src.is_file() else dest / f.relative_to(src)
                out.parent.mkdir(parents=True, exist_ok=True)
                try:
                    out.write_text(self.translate(service, f.read_text()))
                except UnicodeDecodeError:
                    shutil.copyfile(f, out)
                out.chmod(f.stat().st_mode & 0o777)

    def environment(self, service: str) -> dict[str, str]:
        """Image ENV, then env_file, then environment (compose's precedence), translated."""
        spec = self.services[service]
        env = dict(self._image(service)[1].env)
        files = spec.get("env_file", [])
        for f in [files] if isinstance(files, str) else files:
            env.update(read_env_file((ROOT / f).resolve() if f.startswith(".") else Path(f)))
        environment = spec.get("environment", {})
        if isinstance(environment, list):
            environment = dict(e.split("=", 1) for e in environment)
        env.update({k: str(v) for k, v in environment.items()})
        env = {k: self.translate(service, v) for k, v in env.items()}
        if "MAITRE_DATABASE_URL" in env:  # the machine's PostgreSQL, in a schema of the test's own
            env["MAITRE_DATABASE_URL"] = self.database_url
        if "MAITRE_HTTP_PORT" in env:
            env["MAITRE_HTTP_PORT"] = str(self.port(service, int(env["MAITRE_HTTP_PORT"])))
            env["MAITRE_HTTP_HOST"] = "127.0.0.1"
        return env

    def argv(self, service: str) -> list[str]:
        spec = self.services[service]
        image = self._image(service)[1]
        entrypoint = spec.get("entrypoint", image.entrypoint)
        command = spec.get("command", [])
        argv = [self.translate(service, a) for a in [*entrypoint, *command]]
        if argv and argv[0] in ("maitre", "maitre-gateway"):
            argv[0] = str(BIN / argv[0])
        return argv

    def _process_env(self, service: str) -> dict[str, str]:
        home = self.rootfs(service) / "home"
        home.mkdir(parents=True, exist_ok=True)
        # The image's programs: this checkout's commands and the machine's broker tools.
        path = f"{BIN}:{self.workdir / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return {"PATH": path, "HOME": str(home), **self.environment(service)}

    # -- running --------------------------------------------------------------------------------

    def up(self) -> None:
        """Start every service in order, waiting on each dependency's condition as compose does."""
        started = time.monotonic()
        (self.workdir / "bin").mkdir(exist_ok=True)
        for program, script in HOST_PROGRAMS.items():
            (self.workdir / "bin" / program).write_text(f"#!/bin/sh\n{script}\n")
            (self.workdir / "bin" / program).chmod(0o755)
        for service in start_order(self.services):
            for dep, rule in self.services[service].get("depends_on", {}).items():
                self.wait_for(dep, rule.get("condition", "service_started"))
            if service not in STAND_INS:
                self.start(service)
        for service, spec in self.services.items():  # what nothing waited on must get healthy too
            if "healthcheck" in spec and (service in self.procs or service in STAND_INS):
                self.wait_healthy(service)
        self.startup_seconds = time.monotonic() - started

    def start(self, service: str) -> None:
        self._mount(service)
        _, image = self._image(service)
        cwd = Path(f"{self.rootfs(service)}{image.workdir}") if image.workdir else self.rootfs(service)
        cwd.mkdir(parents=True, exist_ok=True)
        log = self.workdir / f"{service}.log"
        self.logs[service] = log
        with log.open("ab") as out:
            self.procs[service] = subprocess.Popen(
                self.argv(service), cwd=cwd, env=self._process_env(service), stdout=out, stderr=out
            )

    def wait_for(self, service: str, condition: str) -> None:
        if condition == "service_completed_successfully":
            proc = self.procs[service]
            rc = proc.wait(timeout=120)
            assert rc == 0, f"{service} exited {rc}:\n{self.log_tail(service)}"
        elif condition == "service_healthy":
            self.wait_healthy(service)

    def wait_healthy(self, service: str) -> None:
        """Run the health check until it passes; fail after compose's own deadline."""
        check = self.services[service]["healthcheck"]
        argv = [self.translate(service, a) for a in health_argv(check["test"])]
        budget = seconds(check.get("start_period"), 0) + seconds(check.get("interval"), 30) * int(
            check.get("retries", 3)
        )
        timeout = seconds(check.get("timeout"), 30)
        env = self._process_env(service)
        if service == "postgres":  # the machine's server stands in for the container's
            env.update(PGHOST="127.0.0.1", PGPORT="5432")
        deadline = time.monotonic() + budget
        last = ""
        while True:
            proc = self.procs.get(service)
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"{service} exited {proc.returncode}:\n{self.log_tail(service)}")
            try:
                result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
                if result.returncode == 0:
                    return
                last = f"rc {result.returncode}: {result.stdout[-500:]}{result.stderr[-500:]}"
            except subprocess.TimeoutExpired:
                last = f"timed out after {timeout} s"
            if time.monotonic() > deadline:
                never = f"{service}'s health check never passed in {budget:.0f} s ({last})"
                raise AssertionError(f"{never}:\n{self.log_tail(service)}")
            time.sleep(POLL_SECONDS)

    def log_tail(self, service: str, lines: int = 40) -> str:
        log = self.logs.get(service)
        if log is None or not log.exists():
            return "(no log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def down(self) -> None:
        for service in reversed(list(self.procs)):
            proc = self.procs[service]
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def compose_credentials_command() -> list[str]:
    """The `maitre gateways credentials` command docker-compose.yml's header tells operators to run."""
    text = (ROOT / "docker-compose.yml").read_text()
    match = re.search(r"^#\s+(maitre gateways credentials[^\n\\]*(?:\\\n#[^\n\\]*)*)", text, re.MULTILINE)
    assert match, "docker-compose.yml no longer says how to write the broker's files"
    return shlex.split(re.sub(r"\\\n#", " ", match[1]))


def os_environ_without_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MAITRE_")}
