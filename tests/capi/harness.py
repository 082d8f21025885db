#!/usr/bin/env python3
"""The C API from outside the project: install the package into a temporary prefix, build the
C test (capi_test.c) with pkg-config and with CMake's find_package, start a real hub on
127.0.0.1, and run the C test (shared and static) and a ctypes driver against it.

    harness.py BUILD_DIR SOURCE_DIR TOOLS_DIR [--sanitize FLAGS] [--cross aarch64]

--sanitize FLAGS (a sanitizer build's "-fsanitize=..."): the C programs are built with them too.
--cross aarch64 (BUILD_DIR cross-built with tools/cmake/aarch64.cmake): the C programs are
built with the aarch64 cross compiler and run under qemu-aarch64; TOOLS_DIR's hub runs here.
Either way the ctypes driver is left out (Python would need the sanitizer's runtime preloaded,
or be an aarch64 Python).

Every child runs with a time limit; the hub is ended by its PID."""
import argparse
import ctypes
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

LIMIT_S = 300


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=LIMIT_S, **kw)
    if r.returncode != 0:
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}")
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SilentListener:
    """A port on 127.0.0.1 that accepts connections and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        deadline = time.monotonic() + LIMIT_S
        while not self.stop and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except socket.timeout:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        for c in self.held:
            c.close()
        self.sock.close()


class CuttingProxy:
    """A proxy on 127.0.0.1 to the hub that refuses its first `refuse` connections (closing
    them at once), then forwards, at most `rate` bytes a second each way, and cuts whatever is
    open every `period` seconds."""

    def __init__(self, target, refuse=3, period=1.5, rate=16384):
        self.target, self.refuse, self.period, self.rate = target, refuse, period, rate
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.lock = threading.Lock()
        self.open = []
        self.accepted = self.cuts = 0
        self.threads = [threading.Thread(target=self.accept_loop, daemon=True),
                        threading.Thread(target=self.cut_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def accept_loop(self):
        deadline = time.monotonic() + LIMIT_S
        while not self.stop and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.accepted += 1
            if self.accepted <= self.refuse:
                conn.close()
                continue
            hub = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.open.append((conn, hub))
            for a, b in ((conn, hub), (hub, conn)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    def pump(self, src, dst):
        try:
            while not self.stop:
                data = src.recv(4096)
                if not data:
                    break
                time.sleep(len(data) / self.rate)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut_loop(self):
        deadline = time.monotonic() + LIMIT_S
        while not self.stop and time.monotonic() < deadline:
            time.sleep(self.period)
            with self.lock:
                for pair in self.open:
                    for s in pair:
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                    self.cuts += 1
                self.open = []

    def close(self):
        self.stop = True
        for t in self.threads:
            t.join()
        self.sock.close()


class Hub:
    def __init__(self, tools, work, source):
        self.tools = tools
        self.data = os.path.join(work, "hub")
        self.port = free_port()
        address = f"127.0.0.1:{self.port}"
        admin = os.path.join(tools, "visitsync-admin")
        run([admin, "init", "--data", self.data, "--hub-address", address])
        for kind in ("schools", "inspectors", "assignments"):
            run([admin, "import", "--data", self.data, kind,
                 os.path.join(source, "schema/sample", kind + ".csv")])
        run([admin, "template", "publish", "--data", self.data,
             os.path.join(source, "schema/templates/school-conditions.json")])
        self.log_path = os.path.join(work, "hub.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(tools, "visitsync-hub"), "--data", self.data, "--listen", address],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                if "listening on" in f.read():
                    return
            time.sleep(0.1)
        self.end()
        raise SystemExit("the hub did not start")

    def enroll(self, path, port=None):
        run([os.path.join(self.tools, "visitsync-admin"), "enroll-device", "--data", self.data,
             "--inspector", "I0011", "--out", path])
        if port is not None:  # the same device, pointed at another port
            with open(path) as f:
                e = json.load(f)
            e["hub_port"] = port
            with open(path, "w") as f:
                json.dump(e, f)
            os.chmod(path, 0o600)
        return path

    def end(self):
        self.proc.terminate()  # by its PID
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Target:
    """How the C programs are built and run: natively, under a sanitizer, or for aarch64."""

    def __init__(self, source, sanitize, cross):
        self.sanitize = sanitize.split()
        self.cc = "aarch64-linux-gnu-gcc" if cross else "cc"
        self.runner = ["qemu-aarch64"] if cross else []
        self.toolchain = os.path.join(source, "tools/cmake/aarch64.cmake") if cross else None
        self.native = not cross and not self.sanitize  # ctypes can load the library


def build_c_tests(build, source, work, target):
    prefix = os.path.join(work, "prefix")
    run(["cmake", "--install", build, "--prefix", prefix])
    lib = os.path.join(prefix, "lib")
    tests = os.path.join(source, "tests/capi")
    sources = [os.path.join(tests, f) for f in ("capi_test.c", "capi_replicator.c")]
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(lib, "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "visitsync"], env=env).split()
    flags += target.sanitize + ["-pthread", "-Wl,-rpath," + lib]
    strict = ["-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra"]
    by_pkg_config = os.path.join(work, "capi_test_pkgconfig")
    run([target.cc, *strict, "-D_POSIX_C_SOURCE=200809L", *sources, "-o", by_pkg_config, *flags])
    shell_c = os.path.join(source, "tools/examples/shell.c")
    shell_pkg_config = os.path.join(work, "shell_pkgconfig")
    run([target.cc, *strict, shell_c, "-o", shell_pkg_config, *flags])
    consumer = os.path.join(work, "consumer")
    configure = ["cmake", "-S", os.path.join(tests, "consumer"), "-B", consumer, "-G", "Ninja",
                 "-DCMAKE_PREFIX_PATH=" + prefix, "-DCAPI_TEST_DIR=" + tests,
                 "-DSHELL_SOURCE=" + shell_c, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                 "-DCMAKE_BUILD_RPATH=" + lib, "-DCMAKE_C_FLAGS=" + " ".join(target.sanitize),
                 "-DCMAKE_EXE_LINKER_FLAGS=" + " ".join(target.sanitize)]
    if target.toolchain:
        configure.append("-DCMAKE_TOOLCHAIN_FILE=" + target.toolchain)
    run(configure)
    run(["cmake", "--build", consumer, "-j2"])
    return lib, [by_pkg_config, os.path.join(consumer, "capi_test_static")], \
        [shell_pkg_config, os.path.join(consumer, "shell")]


def run_shells(hub, shells, work, runner):
    """The example shell, built both ways, records a visit and sees it sent."""
    for shell in shells:
        d = os.path.join(work, os.path.basename(shell) + ".d")
        os.mkdir(d)
        enrollment = hub.enroll(os.path.join(d, "device.json"))
        out = run([*runner, shell, os.path.join(d, "data"), enrollment, "S00001", "school-conditions",
                   "enrolled_students", "377", "60"])
        for words in ("recorded visit", "[idle]", "conflicts: [", "all sent"):
            if words not in out:
                sys.stdout.write(out)
                raise SystemExit(f"{shell}: '{words}' missing from its output")
        print(f"{os.path.basename(shell)}:\n{out}", end="")


def ctypes_flow(lib_dir, work, enrollment):
    """A visit driven through the shared library from Python, standard library only."""
    lib = ctypes.CDLL(os.path.join(lib_dir, "libvisitsync.so.1"))
    P = ctypes.c_char_p
    VP = ctypes.c_void_p
    OUT = ctypes.POINTER(VP)
    lib.vs_version.restype = P
    lib.vs_free.argtypes = [VP]
    lib.vs_enroll_file.argtypes = [P, P, VP, OUT, OUT]
    lib.vs_sync.argtypes = [VP, VP, VP, VP, OUT, OUT]
    lib.vs_visit_start.argtypes = [VP, P, P, OUT, OUT]
    lib.vs_visit_set.argtypes = [VP, P, P, P, OUT]
    lib.vs_status_json.argtypes = [VP, OUT, OUT]
    lib.vs_release.argtypes = [VP]

    def take(p):
        s = ctypes.cast(p, P).value.decode()
        lib.vs_free(p)
        return s

    def call(fn, *args, out=False):
        err = VP()
        result = VP()
        extra = [ctypes.byref(result)] if out else []
        code = fn(*args, *extra, ctypes.byref(err))
        message = take(err) if err.value else ""
        return code, (take(result) if out and result.value else None), message

    assert lib.vs_abi_version() == 1
    db = VP()
    err = VP()
    code = lib.vs_enroll_file(os.path.join(work, "py-device").encode(), enrollment.encode(), None,
                              ctypes.byref(db), ctypes.byref(err))
    assert code == 0, take(err)
    code, report, message = call(lib.vs_sync, db, None, None, None, out=True)
    assert code == 0, message
    code, visit, message = call(lib.vs_visit_start, db, b"S00001", b"school-conditions", out=True)
    assert code == 0 and len(visit) == 36, message
    code, _, message = call(lib.vs_visit_set, db, visit.encode(), b"enrolled_students", b"377")
    assert code == 0, message
    code, _, message = call(lib.vs_visit_set, db, visit.encode(), b"enrolled_students", b"\xff")
    assert code == 1 and "not valid UTF-8" in message, (code, message)
    code, report, message = call(lib.vs_sync, db, None, None, None, out=True)
    assert code == 0 and json.loads(report)["pushed"] >= 1, (code, message, report)
    code, status, message = call(lib.vs_status_json, db, out=True)
    assert code == 0 and json.loads(status)["unsynced_ops"] == 0, (code, message, status)
    lib.vs_release(db)
    print("ctypes: visit", visit, "synced through", lib.vs_version().decode())


def main():
    parser = argparse.ArgumentParser(description="the C API from outside the project")
    parser.add_argument("build")
    parser.add_argument("source")
    parser.add_argument("tools")
    parser.add_argument("--sanitize", default="")
    parser.add_argument("--cross", choices=["aarch64"])
    args = parser.parse_args()
    args.build, args.source, args.tools = map(os.path.abspath, (args.build, args.source, args.tools))
    target = Target(args.source, args.sanitize, args.cross)
    work = tempfile.mkdtemp(prefix="vs-capi-")
    try:
        lib, binaries, shells = build_c_tests(args.build, args.source, work, target)
        hub = Hub(args.tools, work, args.source)
        silent = SilentListener()
        try:
            for binary in binaries:
                d = os.path.join(work, os.path.basename(binary) + ".d")
                os.mkdir(d)
                good = hub.enroll(os.path.join(d, "device.json"))
                mute = hub.enroll(os.path.join(d, "silent.json"), silent.port)
                other = hub.enroll(os.path.join(d, "other.json"))
                proxy = CuttingProxy(hub.port)
                try:
                    cut = hub.enroll(os.path.join(d, "proxied.json"), proxy.port)
                    print(run([*target.runner, binary, d, good, mute, cut, other]), end="")
                finally:
                    proxy.close()
                print(f"proxy: {proxy.accepted} connections, {proxy.cuts} cut")
            if target.native:
                ctypes_flow(lib, work, hub.enroll(os.path.join(work, "py.json")))
            run_shells(hub, shells, work, target.runner)
        finally:
            silent.close()
            hub.end()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("capi harness: passed")


if __name__ == "__main__":
    main()
