// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The generation switch and the --confirm timer (see switch.h). */
#include "kernel/switch.h"
#include "kernel/dataplane.h"
#include "kernel/snapshot.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void tg_test_stop_point(const char *name)
{
	const char *at = getenv("TOLLGATE_TEST_STOP_AT");

	if (at && !strcmp(at, name))
		raise(SIGSTOP);
}

static int spawn_rollback_timer(const char *ifname, uint32_t generation, uint64_t deadline_ns, pid_t *pid_out)
{
	int fds[2];
	pid_t child;

	if (pipe(fds))
		return -errno;
	child = fork();
	if (child < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (child == 0) {
		char gen[16], deadline[24];
		pid_t grandchild;
		int devnull;

		close(fds[0]);
		if (setsid() < 0)
			_exit(1);
		grandchild = fork();
		if (grandchild < 0)
			_exit(1); /* the parent reads nothing and says -ECHILD */
		if (grandchild != 0) {
			if (write(fds[1], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
				_exit(1);
			_exit(0);
		}
		close(fds[1]);
		snprintf(gen, sizeof(gen), "%u", generation);
		snprintf(deadline, sizeof(deadline), "%llu", (unsigned long long)deadline_ns);
		devnull = open("/dev/null", O_RDWR);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
			_exit(127);
		execl("/proc/self/exe", "tollgate", "rollback-timer", ifname, gen, deadline, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	if (read(fds[0], pid_out, sizeof(*pid_out)) != sizeof(*pid_out)) {
		close(fds[0]);
		return -ECHILD;
	}
	close(fds[0]);
	return 0;
}

/* The timer is ours only if it still runs our rollback-timer for this
 * interface: never signal a reused PID. */
void tg_stop_rollback_timer(pid_t pid, const char *ifname)
{
	char path[64], cmdline[256] = "";
	const char *arg;
	size_t n;
	FILE *f;

	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	cmdline[n] = '\0';
	arg = cmdline + strlen(cmdline) + 1; /* argv[1] */
	if (arg < cmdline + n && !strcmp(arg, "rollback-timer") && arg + strlen(arg) + 1 < cmdline + n &&
	    !strcmp(arg + strlen(arg) + 1, ifname))
		kill(pid, SIGTERM);
}

/* The spare slot gets the new generation's maps; nothing in force changes.
 * When the kernel refuses them, res keeps libbpf's words for the report. */
static int build_into_spare(struct tg_state *st, const struct tg_image *img, struct tg_switch_result *res)
{
	struct tg_generation gen;
	struct tg_gen_layout layout;
	char *log;
	int err;

	tg_dataplane_capture_log();
	err = tg_gen_layout_read(NULL, &layout) ?: tg_generation_build(&layout, img, &gen, NULL);
	if (!err) {
		err = tg_generation_install(st->outer_fd, tg_state_spare_slot(st), &gen);
		tg_generation_close(&gen); /* the outer maps hold them now */
	}
	log = tg_dataplane_take_log();
	if (err) {
		res->load_failed = true;
		res->load_log = log;
	} else {
		free(log);
	}
	return err;
}

static int record_intent(struct tg_state *st, const struct tg_switch_request *req, uint32_t next)
{
	int err = 0;

	st->meta.pending_generation = next;
	st->meta.pending = req->policy;
	if (req->confirm_seconds) {
		pid_t timer = 0;

		st->meta.previous = st->meta.current;
		st->meta.confirm_deadline_ns = tg_realtime_ns() + (uint64_t)req->confirm_seconds * 1000000000ull;
		err = spawn_rollback_timer(st->ifname, next, st->meta.confirm_deadline_ns, &timer);
		st->meta.confirm_pid = (uint32_t)timer;
	}
	return err ?: tg_state_write_slots(st) ?: tg_state_write_meta(st);
}

int tg_switch_generation(struct tg_state *st, struct tg_image *img, const struct tg_switch_request *req,
			 struct tg_switch_result *res)
{
	uint32_t next = st->meta.generation + 1;
	struct tg_slot_plan *plan = xcalloc(1, sizeof(*plan));
	int err;

	memset(res, 0, sizeof(*res));
	err = tg_plan_slots(st->slots, st->meta.generation, next, img, plan);
	if (!err) {
		res->kept = plan->kept;
		res->added = plan->added;
		res->retired = plan->retired;
		err = build_into_spare(st, img, res) ?: tg_state_apply_slot_plan(st, plan);
	}
	free(plan);
	if (err)
		return err;
	/* Before the switch: the slot's snapshot always describes its maps. */
	if (req->snapshot) {
		res->snapshot_err =
			tg_snapshot_store(st->dir, tg_state_spare_slot(st), req->snapshot, req->snapshot_len);
		if (res->snapshot_err)
			tg_snapshot_forget(st->dir, tg_state_spare_slot(st));
	}
	err = record_intent(st, req, next);
	if (!err) {
		tg_test_stop_point("before-switch");
		err = tg_generation_activate(st->active_fd, tg_state_spare_slot(st));
	}
	if (!err) {
		tg_test_stop_point("after-switch");
		err = tg_state_record_switch(st);
	}
	if (err) {
		tg_state_recover(st);
		return err;
	}
	res->generation = next;
	return 0;
}
