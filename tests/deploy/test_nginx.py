"""The shipped nginx config (deploy/nginx/liemchinh.conf), run by Debian's nginx in
front of real gunicorn: a large no-JavaScript report never touches nginx's disk, and
nothing nginx writes or forwards names the reporter.

The test takes the shipped intake server block (and its upstream) as they are and
substitutes only paths and ports; the rest of nginx.conf (prefix, temp folders, a
control server that logs) is the test's.

- While a 1.5 MB upload with a canary crawls in (curl --limit-rate), the test watches
  every file under the nginx prefix and every file the nginx process holds open: nginx
  unlinks its body temp files at once, so only /proc/<pid>/fd shows them. HTTP/1.1 and
  HTTP/2.
- Positive control: the same block with ``proxy_request_buffering on`` and a small
  ``client_body_buffer_size`` - the canary is seen in nginx's body temp file.
- The client connects from 127.66.77.88 and sends X-Forwarded-For / X-Real-IP /
  Forwarded itself: the address is nowhere under the prefix (a control server's access
  log shows it can be seen), and gunicorn receives none of the three headers (a request
  straight to gunicorn shows it can).
"""

from __future__ import annotations

import ast
import datetime
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.database import Database
from app.intake.setup import max_request_bytes
from app.models import Blob, Case
from config import load_settings
from tests.factories import make_reviewer
from tests.reliability.harness import ROOT, GunicornServer, count_rows, free_port, hidden_fields_in

NGINX = Path("/usr/sbin/nginx")
CURL = shutil.which("curl")
SHIPPED = ROOT / "deploy" / "nginx" / "liemchinh.conf"
CLIENT_ADDRESS = "127.66.77.88"
FORWARDED = "203.0.113.77"
UPLOAD_BYTES = 1_500_000
RECEIPT = re.compile(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4} \d{4})<')
FORWARD_LOG_FORMAT = "seen xff=%({x-forwarded-for}i)s real=%({x-real-ip}i)s fwd=%({forwarded}i)s"

pytestmark = [
    pytest.mark.skipif(
        not NGINX.exists(), reason="needs Debian's nginx at /usr/sbin/nginx (.ci/run installs it)"
    ),
    pytest.mark.skipif(CURL is None, reason="needs curl (.ci/run installs it)"),
]


# -- the shipped config ------------------------------------------------------------------


def _block(text: str, start: int) -> str:
    """The ``{…}`` block whose header starts at ``start`` (the config has no braces in
    comments or strings)."""
    depth = 0
    for i in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start : i + 1]
    raise AssertionError("unbalanced braces")


def shipped_intake_blocks() -> tuple[str, str]:
    """(upstream liemchinh_intake {…}, the TLS server block that proxies to it)."""
    text = re.sub(r"#[^\n]*", "", SHIPPED.read_text("utf-8"))
    upstream = _block(text, text.index("upstream liemchinh_intake"))
    servers = [_block(text, m.start()) for m in re.finditer(r"\bserver\s*\{", text)]
    (intake,) = [s for s in servers if "proxy_pass http://liemchinh_intake;" in s]
    return upstream, intake


def _directive(block: str, name: str) -> str:
    (value,) = re.findall(rf"^\s*{name}\s+([^;]+);", block, re.M)
    return value.strip()


def test_intake_block_streams_logs_nothing_and_forwards_no_address() -> None:
    _upstream, intake = shipped_intake_blocks()
    assert _directive(intake, "proxy_request_buffering") == "off"
    assert _directive(intake, "proxy_http_version") == "1.1"
    assert _directive(intake, "proxy_buffering") == "off"
    assert _directive(intake, "access_log") == "off"
    assert _directive(intake, "error_log").endswith(" emerg")
    assert _directive(intake, "gzip") == "off"
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        assert re.search(rf'proxy_set_header\s+{header}\s+"";', intake), header
    assert "$remote_addr" not in intake and "$proxy_add_x_forwarded_for" not in intake


def _nginx_size(value: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def test_body_size_limit_matches_the_intake_settings() -> None:
    _upstream, intake = shipped_intake_blocks()
    allowed = _nginx_size(_directive(intake, "client_max_body_size"))
    needed = max_request_bytes(load_settings({}))
    # At least the intake's own limit (its 413 page is the reporter's language), and not
    # much more (nginx stops the rest).
    assert needed <= allowed < needed + 2 * 1024 * 1024


def test_app_never_reads_a_client_address() -> None:
    """No code in app/ touches the client's address or a forwarded one (comments may
    say so): no ``remote_addr``/``access_route``, ProxyFix, get_remote_address, or a
    string naming a forwarding header."""
    names = {"remote_addr", "access_route", "ProxyFix", "get_remote_address", "REMOTE_ADDR"}
    headers = ("x-forwarded", "x_forwarded", "x-real-ip", "x_real_ip", "forwarded")
    offending = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in names:
                offending.append(f"{path.name}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.Name) and node.id in names:
                offending.append(f"{path.name}:{node.lineno} {node.id}")
            elif isinstance(node, ast.alias) and node.name.split(".")[-1] in names:
                offending.append(f"{path.name} imports {node.name}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                if text in names or any(
                    text.startswith(h) or text.startswith("http_" + h) for h in headers
                ):
                    offending.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert offending == []


# -- running it --------------------------------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bao-cao.example.gov.vn")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "intake.crt", directory / "intake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Nginx:
    prefix: Path
    port: int
    control_port: int
    proc: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def start_nginx(
    prefix: Path, upstream_port: int, tweak: Callable[[str], str] = lambda block: block
) -> Nginx:
    """nginx with the shipped intake block, only paths and ports substituted; ``tweak``
    changes the block for the positive control."""
    prefix.mkdir(parents=True)
    (prefix / "logs").mkdir()
    cert, key = _self_signed(prefix)
    port, control_port = free_port(), free_port()
    upstream, intake = shipped_intake_blocks()
    upstream = re.sub(r"server 127\.0\.0\.1:\d+;", f"server 127.0.0.1:{upstream_port};", upstream)
    intake = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;", intake)
    intake = re.sub(r"ssl_certificate [^;]+;", f"ssl_certificate {cert};", intake)
    intake = re.sub(r"ssl_certificate_key [^;]+;", f"ssl_certificate_key {key};", intake)
    intake = re.sub(r"error_log \S+", f"error_log {prefix}/logs/intake.error.log", intake)
    intake = tweak(intake)
    import pwd

    user = pwd.getpwuid(os.getuid()).pw_name
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""
{"user " + user + ";" if os.getuid() == 0 else ""}
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/logs/access.log;
    # As Debian's own nginx.conf has it: the shipped block must turn it off for pages.
    gzip on;
    gzip_types text/css application/javascript text/javascript;
{temp}
    {upstream}
    {intake}
    # Control: a server that logs, to show the scan would see an address.
    server {{
        listen 127.0.0.1:{control_port};
        error_log {prefix}/logs/control.error.log info;
        location / {{ return 204; }}
    }}
}}
""",
        "utf-8",
    )
    check = subprocess.run(
        [str(NGINX), "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        [str(NGINX), "-p", str(prefix), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
    )
    nginx = Nginx(prefix, port, control_port, proc)
    deadline = time.monotonic() + 15
    while subprocess.run(
        [CURL or "curl", "-sk", "-o", "/dev/null", nginx.url("/")], capture_output=True
    ).returncode:
        assert proc.poll() is None, (prefix / "stderr.log").read_text()
        assert time.monotonic() < deadline, "nginx did not start"
        time.sleep(0.1)
    return nginx


def _curl(*args: str) -> list[str]:
    return [
        CURL or "curl",
        "-sk",
        "--interface",
        CLIENT_ADDRESS,
        "-H",
        f"X-Forwarded-For: {FORWARDED}",
        "-H",
        f"X-Real-IP: {FORWARDED}",
        "-H",
        f"Forwarded: for={FORWARDED}",
        *args,
    ]


def _seen_by_nginx(nginx: Nginx, needle: bytes) -> list[str]:
    """Files under the prefix and files the nginx process holds open (its body temp
    files are unlinked at once) that contain ``needle``."""
    found = []
    for path in nginx.prefix.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(str(path.relative_to(nginx.prefix)))
    fds = Path(f"/proc/{nginx.proc.pid}/fd")
    for fd in fds.iterdir() if fds.exists() else []:
        try:
            target = os.readlink(fd)
            if target.startswith("/") and needle in fd.read_bytes():
                found.append(f"open fd -> {target}")
        except OSError:
            continue
    return found


def upload_while_watching(nginx: Nginx, tmp: Path, canary: str, http: str) -> tuple[str, list[str]]:
    """A no-JavaScript report with a 1.5 MB attachment sent at 500 KB/s; while it is
    sent, look for the canary wherever nginx could have put it. (page, places seen)"""
    jar = tmp / f"cookies-{http}"
    form = subprocess.run(
        _curl(http, "-c", str(jar), nginx.url("/report")), capture_output=True, text=True
    )
    hidden = hidden_fields_in(form.stdout)
    assert set(hidden) == {"csrf_token", "form_nonce"}, form.stdout[:300]
    block = (canary + " Biên bản họp Ủy ban phường. ").encode()
    document = tmp / f"bien-ban-{http}.pdf"
    document.write_bytes(b"%PDF-1.4\n" + block * (UPLOAD_BYTES // len(block)))
    fields = {
        **hidden,
        "category": "corruption",
        "sector": "land_construction",
        "summary": "Cán bộ phường đòi tiền để ký giấy phép",
        "details": "Ông A yêu cầu 20 triệu đồng.",
    }
    args = [http, "-b", str(jar), "--limit-rate", "500k", "-o", str(tmp / f"page-{http}")]
    for name, value in fields.items():
        args += ["--form-string", f"{name}={value}"]
    args += ["-F", f"attachments=@{document};filename=biên bản họp.pdf;type=application/pdf"]
    curl = subprocess.Popen(_curl(*args, nginx.url("/report")))
    seen: set[str] = set()
    try:
        while curl.poll() is None:
            seen.update(_seen_by_nginx(nginx, canary.encode()))
            time.sleep(0.1)
    finally:
        if curl.poll() is None:
            curl.kill()
    assert curl.wait(timeout=60) == 0
    seen.update(_seen_by_nginx(nginx, canary.encode()))
    return (tmp / f"page-{http}").read_text("utf-8"), sorted(seen)


@pytest.fixture
def intake_server(env: dict[str, str], database: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    make_reviewer(database, "intake")
    access = tmp_path / "gunicorn-headers.log"
    server = GunicornServer(
        env,
        tmp_path / "gunicorn.log",
        workers=1,
        extra_args=["--access-logfile", str(access), "--access-logformat", FORWARD_LOG_FORMAT],
    )
    with server:
        yield server, access


@pytest.mark.slow
def test_large_upload_never_reaches_nginx_disk_and_names_no_one(
    intake_server: tuple[GunicornServer, Path], database: Database, tmp_path: Path
) -> None:
    server, headers_log = intake_server
    nginx = start_nginx(tmp_path / "nginx", server.port)
    try:
        for http in ("--http1.1", "--http2"):
            canary = f"CANARY-NGINX-{http[2:]}-{os.urandom(6).hex()}"
            page, seen = upload_while_watching(nginx, tmp_path, canary, http)
            assert RECEIPT.search(page), page[:500]
            assert seen == [], seen
        # The control server logs: the address can be seen where it is written.
        subprocess.run(_curl(f"http://127.0.0.1:{nginx.control_port}/"), check=True)
    finally:
        nginx.stop()
    assert count_rows(database, Case) == 2 and count_rows(database, Blob) == 4
    # The reporter's address is in no log (the global error log runs at "info"); only
    # the control server's own logs hold it.
    seen = _seen_by_nginx(nginx, CLIENT_ADDRESS.encode())
    assert "logs/access.log" in seen and set(seen) <= {"logs/access.log", "logs/control.error.log"}
    access_log = (nginx.prefix / "logs" / "access.log").read_text()
    assert "/report" not in access_log  # only the control server's line
    # gunicorn got no forwarded address from nginx...
    forwarded = headers_log.read_text().splitlines()
    assert forwarded and all(line == "seen xff=- real=- fwd=-" for line in forwarded), forwarded
    # ...though it would log one sent straight to it.
    subprocess.run(_curl("-o", "/dev/null", f"http://127.0.0.1:{server.port}/"), check=True)
    time.sleep(0.5)
    assert FORWARDED in headers_log.read_text().splitlines()[-1]


@pytest.mark.slow
def test_positive_control_buffered_upload_lands_in_nginx_temp_folder(
    intake_server: tuple[GunicornServer, Path], tmp_path: Path
) -> None:
    server, _headers = intake_server

    def buffered(block: str) -> str:
        block = block.replace("proxy_request_buffering off;", "proxy_request_buffering on;")
        return block.replace(
            "server_tokens off;", "server_tokens off;\nclient_body_buffer_size 16k;"
        )

    nginx = start_nginx(tmp_path / "nginx-buffered", server.port, buffered)
    try:
        canary = f"CANARY-NGINX-BUFFERED-{os.urandom(6).hex()}"
        page, seen = upload_while_watching(nginx, tmp_path, canary, "--http1.1")
    finally:
        nginx.stop()
    assert RECEIPT.search(page), page[:500]
    assert any("client_body_temp" in place for place in seen), seen


def _encoding_through(nginx: Nginx, path: str) -> str | None:
    command = [CURL or "curl", "-sk", "-o", "/dev/null", "-D", "-"]
    headers = subprocess.run(
        [*command, "-H", "Accept-Encoding: gzip, br", nginx.url(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"(?im)^content-encoding:\s*(\S+)", headers)
    return found.group(1) if found else None


@pytest.mark.slow
def test_pages_are_never_compressed_static_files_are(
    intake_server: tuple[GunicornServer, Path], tmp_path: Path
) -> None:
    server, _headers = intake_server
    nginx = start_nginx(tmp_path / "nginx", server.port)
    try:
        page, script = (
            _encoding_through(nginx, "/report"),
            _encoding_through(nginx, "/static/js/intake.js"),
        )
    finally:
        nginx.stop()
    assert page is None  # BREACH: the page holds the CSRF token
    assert script == "br"  # compressed by the app, passed through untouched

    # Positive control: without the block's "gzip off", Debian's "gzip on" compresses
    # the page, and the check above would have seen it.
    html_too = start_nginx(
        tmp_path / "nginx-gzip",
        server.port,
        lambda block: block.replace("gzip off;", "gzip on;"),
    )
    try:
        assert _encoding_through(html_too, "/report") == "gzip"
    finally:
        html_too.stop()
