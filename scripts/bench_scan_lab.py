"""What the Python parts of scripts/bench-scan.sh share: the lab's fleet list, the options that
point a scan at the lab, and the counting proxy in front of the hosting server. Run from the
repository's root inside the lab's network (as bench-scan.sh does)."""
import os
import subprocess

LAB = "target/release/examples/lab"


def fleet_list(work):
    """Writes the lab fleet's list into `work` and returns its path."""
    fleet = os.path.join(work, "fleet.txt")
    with open(fleet, "w") as out:
        subprocess.run([LAB, "fleet-list"], stdout=out, check=True)
    return fleet


def lab_options(lab):
    """The options that make mailtls ask the lab's resolver and trust the lab's CA."""
    ca = os.path.join(lab, "certs", "ca.pem")
    return ["--dns", "127.0.0.53", "--ca-file", ca, "--timeout", "5"]


class Front:
    """The counting proxy in front of the hosting server (`lab front`), asked one line at a
    time: `stats`, `reset`, `delay MS`."""

    def __init__(self):
        self.process = subprocess.Popen([LAB, "front"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready", "the proxy did not start"

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self):
        self.process.stdin.close()
