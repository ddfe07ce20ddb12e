"""arun_warm: the warm interpreter of an arun-worker (ARUN_PRELOAD).

It imports the preloaded modules once, then only forks on the worker's
request; no code of any job ever runs in this process. The worker talks to
it over a SOCK_SEQPACKET socket on fd 3:

  worker -> warm   one request of NUL-terminated fields (arguments and
                   environment are bytes): worker pid, RLIMIT_AS bytes,
                   RLIMIT_CPU seconds, RLIMIT_NPROC (0: none), uid, gid
                   (-1: unchanged), argc, argv..., environment entries...;
                   with two descriptors (SCM_RIGHTS): the write ends of the
                   job's stdout and stderr pipes
  warm -> worker   "ready" once the modules are imported;
                   "pid N" for each request, or "err REASON"

Each job is double-forked: the middle process forks the job and exits, so
the job is reparented to the worker (a child subreaper), which reaps it with
wait4 and kills its process group like any job's. The job then becomes what
a fresh `python3 SCRIPT ARGS` would be: its own process group, the job's
environment and limits, stdin /dev/null, stdout/stderr on the pipes, the
interpreter's default signal handling, no other descriptor, death with the
worker, sys.argv and sys.path[0] from the script, and the script run as
__main__. The `random` module reseeds itself in a forked child.
"""
import atexit
import builtins
import ctypes
import importlib
import io
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
import traceback
import types

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def log(msg):
    sys.stderr.write(json.dumps({"level": "warn", "msg": "warm interpreter: " + msg,
                                 "subsystem": "analytics"}) + "\n")
    sys.stderr.flush()


def preload(names):
    """Imports each module; refuses to go on if one started a thread (a
    forked child would inherit a process without it, in any state)."""
    for name in names:
        importlib.import_module(name)
        if threading.active_count() > 1:
            return "module %s started a thread at import: not fork-safe, not preloaded" % name
    return None


def default_signals():
    """The handlers a fresh interpreter starts with."""
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def std_streams(env):
    """New sys.stdin/stdout/stderr on fds 0-2, buffered as the job's
    environment says (PYTHONUNBUFFERED), as a fresh interpreter would."""
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    enc = sys.stdout.encoding or "utf-8"

    def out(fd, errors):
        raw = io.FileIO(fd, "w", closefd=False)
        buf = raw if unbuffered else io.BufferedWriter(raw)
        return io.TextIOWrapper(buf, encoding=enc, errors=errors, write_through=unbuffered,
                                line_buffering=False)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                 encoding=enc)
    sys.stdout = out(1, "strict")
    sys.stderr = out(2, "backslashreplace")
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def run_main(path):
    """Runs the file at path as __main__, as `python3 path` does (runpy's
    run_path would import pkgutil, re and typing in every job: 7 ms)."""
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    main.__cached__ = None
    sys.modules["__main__"] = main
    with io.open_code(path) as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    exec(code, main.__dict__)


def become_job(req, fds, middle):
    """Runs in the job process: never returns."""
    code = 127
    try:
        os.setpgid(0, 0)
        # wait for the middle process to exit (we are then the worker's
        # child), then die with the worker as a fresh job does
        deadline = time.monotonic() + 5
        while os.getppid() == middle and time.monotonic() < deadline:
            time.sleep(0.0002)
        if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or \
                os.getppid() != req["worker_pid"]:
            os._exit(127)
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        os.closerange(3, 1 << 20)  # the control socket, the pipes' originals
        env = dict(e.split(b"=", 1) for e in req["env"] if b"=" in e)
        os.environb.clear()
        os.environb.update(env)
        if req["as"]:
            resource.setrlimit(resource.RLIMIT_AS, (req["as"], req["as"]))
        if req["cpu"]:
            resource.setrlimit(resource.RLIMIT_CPU, (req["cpu"], req["cpu"] + 1))
        if req["nproc"]:
            resource.setrlimit(resource.RLIMIT_NPROC, (req["nproc"], req["nproc"]))
        if req["uid"] >= 0:
            os.setgroups([])
            os.setgid(req["gid"])
            os.setuid(req["uid"])
        default_signals()
        std_streams(os.environ)
        argv = [os.fsdecode(a) for a in req["argv"]]
        script = argv[1]
        sys.argv = argv[1:]
        sys.path[0] = os.path.dirname(script)
    except BaseException:  # the job could not be set up: like a failed exec
        os._exit(127)
    try:
        run_main(script)
        code = 0
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code & 0xFF
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 128 + signal.SIGINT
    except BaseException:
        traceback.print_exc()
        code = 1
    # what the interpreter does on the way out: wait for non-daemon
    # threads, run atexit handlers, flush
    try:
        threading._shutdown()
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:
            code = code or 120
    os._exit(code)


def parse_request(msg):
    parts = msg.split(b"\0")[:-1]
    nums = [int(x) for x in parts[:7]]
    argc = nums[6]
    if argc < 2 or len(parts) < 7 + argc:
        raise ValueError("malformed request")
    return {"worker_pid": nums[0], "as": nums[1], "cpu": nums[2], "nproc": nums[3],
            "uid": nums[4], "gid": nums[5], "argv": parts[7:7 + argc],
            "env": parts[7 + argc:]}


def serve(ctl):
    while True:
        try:
            msg, anc, _, _ = ctl.recvmsg(1 << 22, socket.CMSG_SPACE(2 * 4))
        except InterruptedError:
            continue
        if not msg:
            return  # the worker is gone
        fds = []
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += list(memoryview(data).cast("i"))
        try:
            req = parse_request(msg)
            if len(fds) != 2:
                raise ValueError("expected 2 descriptors, got %d" % len(fds))
        except ValueError as e:
            for fd in fds:
                os.close(fd)
            ctl.send(b"err " + str(e).encode())
            continue
        middle = os.fork()
        if middle == 0:
            try:
                me = os.getpid()  # before the fork: the job's parent may be gone by the time it asks
                job = os.fork()
                if job == 0:
                    become_job(req, fds, me)
                ctl.send(b"pid %d" % job)
            except BaseException as e:
                try:
                    ctl.send(b"err " + str(e).encode())
                except OSError:
                    pass
            os._exit(0)
        for fd in fds:
            os.close(fd)
        os.waitpid(middle, 0)


def main():
    ctl = socket.socket(fileno=3)
    if len(sys.argv) > 1:  # the scripts folder: where preloaded modules live
        sys.path[0] = sys.argv[1]
    names = [n for n in os.environ.get("ARUN_PRELOAD", "").split(",") if n]
    try:
        refused = preload(names)
    except BaseException as e:
        refused = "importing the preloaded modules failed: %s" % e
    if refused:
        log(refused)
        ctl.send(b"err " + refused.encode())
        return 1
    ctl.send(b"ready")
    serve(ctl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
