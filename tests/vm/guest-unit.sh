#!/bin/bash
# The command of a --rootfs run (tests/vm/run.sh): the service
# tollgate-vm-test runs this in the guest's own Debian system once it is up.
# Like guest-stage2.sh, it runs the command of the run directory
# /run/tollgate-vm with its output on the virtio-serial port tollgate.out
# (run.sh's stdout), writes the exit status to /run/tollgate-vm/status and
# powers the VM off, but as an ordinary service under systemd: the shutdown
# is systemd's own, so that what the command changed in the system is
# written out before the next boot.
set -u
RUN=/run/tollgate-vm

port=""
for f in /sys/class/virtio-ports/*/name; do
	[ "$(cat "$f" 2>/dev/null)" != tollgate.out ] || port="/dev/$(basename "${f%/name}")"
done
if [ -z "$port" ]; then
	echo "vm: no virtio-serial port tollgate.out" >&2
	echo 125 >"$RUN/status"
	systemctl --no-block poweroff
	exit 0
fi

# shellcheck source=/dev/null
. "$RUN/env"
IFS= read -r -d '' cmd <"$RUN/cmd" || true
cmd="${cmd%$'\n'}"
cd /
bash -c "$cmd" </dev/null 2>&1 | cat >"$port"
status=${PIPESTATUS[0]}
sync
echo "$status" >"$RUN/status"
systemctl --no-block poweroff
