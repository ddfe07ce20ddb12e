"""netlab: the simulated hosts of the scale harness (tests/scale/scale.py).

A "hub" network namespace holds a bridge and Redis; each host is a network
namespace (and a UTS namespace, so its worker ids carry its own host name)
joined to the bridge by a veth pair, with its own SQLite file and scripts
folder. Nothing is created in the root namespace: every link lives in the
namespaces created here, and the harness itself talks to Redis through a
unix socket in its run folder. Everything is named with NS_PREFIX so that
the leftovers of a crashed run are found and removed at the next start.
"""
import os
import shutil
import signal
import subprocess
import time

NS_PREFIX = "arunscale-"
HUB = NS_PREFIX + "hub"
SUBNET = "10.213.7"          # private, only inside these namespaces
REDIS_IP = SUBNET + ".1"
REDIS_PORT = 6379


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True,
                          timeout=20)


def netns_pids(ns):
    r = ip("netns", "pids", ns, check=False)
    return [int(p) for p in r.stdout.split()] if r.returncode == 0 else []


def signal_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def remove_namespace(ns):
    """Kills what runs in ns (thawed first, so SIGKILL is not queued behind
    a SIGSTOP) and deletes it with its links."""
    for _ in range(50):  # bounded: 50 x 0.1 s
        pids = netns_pids(ns)
        if not pids:
            break
        signal_pids(pids, signal.SIGCONT)
        signal_pids(pids, signal.SIGKILL)
        time.sleep(0.1)
    ip("netns", "del", ns, check=False)


def clean_leftovers():
    """Removes every namespace of ours, from this run or a crashed one."""
    r = ip("netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(NS_PREFIX):
            remove_namespace(name)


class Lab:
    """The hub (bridge + Redis) and the hosts; close() undoes all of it."""

    def __init__(self, rundir):
        self.rundir = rundir
        self.hosts = {}
        self.redis = None
        self.sock = os.path.join(rundir, "redis.sock")
        ip("netns", "add", HUB)
        ip("-n", HUB, "link", "set", "lo", "up")
        ip("-n", HUB, "link", "add", "br0", "type", "bridge")
        ip("-n", HUB, "addr", "add", REDIS_IP + "/24", "dev", "br0")
        ip("-n", HUB, "link", "set", "br0", "up")

    # --- Redis --------------------------------------------------------------------

    def start_redis(self, fsync="everysec"):
        d = os.path.join(self.rundir, "redis")
        os.makedirs(d, exist_ok=True)
        args = ["ip", "netns", "exec", HUB, "redis-server", "--bind", REDIS_IP,
                "--port", str(REDIS_PORT), "--unixsocket", self.sock, "--unixsocketperm", "700",
                "--dir", d, "--save", "", "--appendonly", "yes", "--appendfsync", fsync,
                "--maxmemory-policy", "noeviction", "--protected-mode", "no"]
        log = open(os.path.join(self.rundir, "redis.log"), "ab")
        self.redis = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.redis_args = fsync

    def stop_redis(self, sig=signal.SIGTERM):
        if self.redis and self.redis.poll() is None:
            self.redis.send_signal(sig)
            try:
                self.redis.wait(20)
            except subprocess.TimeoutExpired:
                self.redis.kill()
                self.redis.wait()
        self.redis = None

    def wipe_redis(self):
        self.stop_redis()
        shutil.rmtree(os.path.join(self.rundir, "redis"), ignore_errors=True)
        if os.path.exists(self.sock):
            os.unlink(self.sock)

    @property
    def redis_url(self):
        return "redis://%s:%d/0" % (REDIS_IP, REDIS_PORT)

    # --- hosts ----------------------------------------------------------------------

    def add_host(self, i, fixtures):
        ns = "%sh%d" % (NS_PREFIX, i)
        ip("netns", "add", ns)
        ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", HUB, "link", "add", "vh%d" % i, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        ip("-n", HUB, "link", "set", "vh%d" % i, "master", "br0", "up")
        ip("-n", ns, "addr", "add", "%s.%d/24" % (SUBNET, 10 + i), "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        home = os.path.join(self.rundir, "h%d" % i)
        os.makedirs(home, exist_ok=True)
        scripts = os.path.join(home, "scripts")
        if not os.path.isdir(scripts):
            shutil.copytree(fixtures, scripts)
        self.hosts[i] = {"ns": ns, "home": home, "scripts": scripts, "workers": []}
        return self.hosts[i]

    def host_cmd(self, i, argv):
        """argv run on host i: its network namespace, its own host name."""
        name = "host%d" % i
        return ["ip", "netns", "exec", self.hosts[i]["ns"], "unshare", "--uts", "--",
                "sh", "-c", 'hostname "$0" && exec "$@"', name, *argv]

    def link(self, i, up):
        ip("-n", HUB, "link", "set", "vh%d" % i, "up" if up else "down")

    def freeze(self, i, frozen):
        """SIGSTOP (or SIGCONT) every process of host i: worker and jobs."""
        pids = netns_pids(self.hosts[i]["ns"])
        signal_pids(pids, signal.SIGSTOP if frozen else signal.SIGCONT)
        return pids

    def kill_host_processes(self, i):
        for _ in range(50):
            pids = netns_pids(self.hosts[i]["ns"])
            if not pids:
                return
            signal_pids(pids, signal.SIGCONT)
            signal_pids(pids, signal.SIGKILL)
            time.sleep(0.1)

    def close(self):
        for i in list(self.hosts):
            remove_namespace(self.hosts[i]["ns"])
        self.hosts.clear()
        self.stop_redis(signal.SIGKILL)
        remove_namespace(HUB)
