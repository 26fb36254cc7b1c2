#!/bin/bash
# Second stage of the VM (tests/vm/run.sh): PID 1 inside the overlay root, run
# by bash from the host's file system. Runs the command of the run directory
# /run/tollgate-vm (a 9p share of the host's run directory) with its output on
# /dev/tollgate-out (a virtio-serial port that is run.sh's stdout), writes its
# exit status to /run/tollgate-vm/status and powers the VM off. It must never
# exit (PID 1's death is a kernel panic) and starts no program of its own but
# the command and cat: under TCG each exec costs a good part of a second.
set -u
RUN=/run/tollgate-vm
TICK=/run/.tollgate-vm-tick

nap() { read -r -t "$1" <>"$TICK" || true; }
poweroff_now() {
	echo o >/proc/sysrq-trigger
	while :; do nap 60; done
}
trap poweroff_now EXIT

# Environment: CI and the names in TOLLGATE_VM_ENV, from the host.
# shellcheck source=/dev/null
. "$RUN/env"
read -r cwd <"$RUN/cwd"
IFS= read -r -d '' cmd <"$RUN/cmd" || true
cmd="${cmd%$'\n'}"

# The command's output goes through a pipe (for it stdout is a FIFO, as in
# CI) to cat, which writes it to the port. A write to the port returns once
# qemu has put the data in its file (see run.sh): when cat has ended, all is.
status=0
exec 4> >(exec cat >/dev/tollgate-out)
fwd=$!
if cd "$cwd"; then
	bash -c "$cmd" </dev/null >&4 2>&1 || status=$?
else
	echo "vm: cannot cd to $cwd in the guest" >&4
	status=125
fi
exec 4>&-
# What the command left running may keep the pipe open: wait a little only.
for _ in {1..50}; do
	kill -0 "$fwd" 2>/dev/null || break
	nap 0.1
done
kill "$fwd" 2>/dev/null

echo "$status" >"$RUN/status"
poweroff_now
