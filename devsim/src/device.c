/* SPDX-License-Identifier: MIT */
/*
 * The device: creation, driver sessions (register page, doorbells,
 * interrupt eventfds), reset, and the loop that sleeps on doorbells and
 * timers or, in poll mode, spins on the SQ tails.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "drv_support/cpu.h"
#include "model.h"
#include "regs.h"

/* Device polling stops after an idle window of 50 us to 1 ms without work. */
#define POLL_IDLE_MIN_NS 50000u
#define POLL_IDLE_MAX_NS 1000000u
#define POLL_YIELD_NS 2000u           /* polling without work yields the CPU this often */
#define POLL_IDLE_RESET_NS 100000000u /* a sleep this long starts again from the minimum */
#define CQ_RETRY_NS 1000000u          /* re-check a full CQ this often */

uint64_t dsim_now_ns(void)
{
	return drv_monotonic_ns();
}

/*
 * An eventfd or timerfd read returns and resets the whole count, so one read
 * consumes every signal that arrived since the last one.
 */
static uint64_t consume(int fd)
{
	uint64_t v;
	return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? v : 0;
}

/*
 * Doorbells are watched edge-triggered: each signal is a new event, so the
 * eventfd count never needs reading (one system call less per doorbell;
 * 2^64 signals would overflow it). Signals that arrive while the device is
 * busy merge into one event and count once. Any doorbell means "look at
 * everything", which the next pass does.
 */
static int watch_doorbell(struct dsim_dev *d, struct dsim_watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = w };
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

static void on_kick(struct dsim_dev *d, const struct dsim_watch *w)
{
	dsim_stat_add(d->regs, DSIM_STAT_KICKS, 1);
	if (w == &d->kick_watch[DSIM_KICK_ADMIN])
		d->admin_kicked = true;
}

static void on_timer(void *ctx, uint32_t events)
{
	(void)events;
	struct dsim_dev *d = ctx;
	consume(d->timer_fd);
	d->timer_armed_ns = 0;
}

static void on_stop(void *ctx, uint32_t events)
{
	(void)events;
	struct dsim_dev *d = ctx;
	consume(d->stop_fd);
	d->stopping = true;
}

int dsim_dev_watch(struct dsim_dev *d, struct dsim_watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

void dsim_dev_unwatch(struct dsim_dev *d, struct dsim_watch *w)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* The device fetches nothing more until reset; requests in service still complete. */
void dsim_dev_set_fatal(struct dsim_dev *d, unsigned code)
{
	d->fatal = true;
	d->ready = false;
	dsim_wr32(d->regs, DSIM_REG_STATUS, DSIM_STS_FATAL | code << DSIM_STS_CODE_SHIFT);
}

uint64_t dsim_dev_features(const struct dsim_dev *d)
{
	uint64_t feat = DSIM_FEAT_SGL | DSIM_FEAT_EVENTS | DSIM_FEAT_ABORT | DSIM_FEAT_COALESCE |
			DSIM_FEAT_DEVICE_POLL;
	if (d->st.fd >= 0)
		feat |= DSIM_FEAT_PERSISTENT;
	return feat;
}

static void init_identity(struct dsim_dev *d)
{
	dsim_wr32(d->regs, DSIM_REG_MAGIC, DSIM_MAGIC);
	dsim_wr32(d->regs, DSIM_REG_VERSION, DSIM_VERSION);
	dsim_wr64(d->regs, DSIM_REG_FEATURES, dsim_dev_features(d));
	dsim_wr32(d->regs, DSIM_REG_NUM_QUEUES, d->cfg.queues);
	dsim_wr32(d->regs, DSIM_REG_MAX_LOG2_DEPTH, DSIM_MAX_LOG2);
	dsim_wr32(d->regs, DSIM_REG_MAX_TRANSFER, DSIM_MAX_TRANSFER_BYTES);
	dsim_wr32(d->regs, DSIM_REG_MAX_SG, DSIM_MAX_SG_ENTRIES);
	dsim_wr64(d->regs, DSIM_REG_CAPACITY, d->st.capacity);
	dsim_wr32(d->regs, DSIM_REG_NUM_VECTORS, d->num_vectors);
	dsim_wr32(d->regs, DSIM_REG_NUM_KICKS, d->num_kicks);
}

/* Drops all work and returns to the power-on state; counters only if asked. */
static void reset(struct dsim_dev *d, bool zero_stats)
{
	dsim_queue_drop(d, -1);
	memset(d->q, 0, sizeof(d->q));
	d->live_queues = 0;
	d->irq_queues = 0;
	d->admin_kicked = true;
	for (unsigned q = 0; q < DSIM_MAX_QUEUES; q++)
		memset(d->regs + DSIM_REG_Q(q, 0), 0, DSIM_QUEUE_STRIDE);
	if (zero_stats)
		memset(d->regs + DSIM_REG_STAT_BASE, 0, 8u * DSIM_STAT_COUNT);
	dsim_events_clear(d);
	d->timing = d->cfg.timing;
	d->instant_ops = dsim_timing_instant_ops(&d->timing);
	memset(d->unit_free, 0, sizeof(d->unit_free));
	d->fatal = false;
	d->ready = false;
	d->polling = false;
	d->poll_idle_ns = POLL_IDLE_MIN_NS;
	d->poll_slept_ns = 0;
	d->irq_deadline = 0;
	d->cq_blocked = false;
	dsim_faults_reset(d);
	dsim_wr32(d->regs, DSIM_REG_DEVICE_POLLING, 0);
	dsim_wr32(d->regs, DSIM_REG_POLL_MODE, d->cfg.poll ? 1 : 0);
	dsim_wr32(d->regs, DSIM_REG_STATUS, 0);
	/* The page is plain shared memory: a driver may have scribbled on RO registers. */
	init_identity(d);
	dsim_wr32(d->regs, DSIM_REG_CONTROL, 0);
}

void dsim_dev_reset(struct dsim_dev *d)
{
	reset(d, true);
}

static void close_session_fds(struct dsim_dev *d)
{
	for (unsigned i = 0; i < 1 + DSIM_MAX_QUEUES; i++) {
		if (d->kick_fd[i] >= 0) {
			dsim_dev_unwatch(d, &d->kick_watch[i]);
			close(d->kick_fd[i]);
		}
		d->kick_fd[i] = -1;
	}
	for (unsigned i = 0; i < DSIM_MAX_QUEUES; i++) {
		if (d->irq_fd[i] >= 0)
			close(d->irq_fd[i]);
		d->irq_fd[i] = -1;
	}
	if (d->reg_fd >= 0)
		close(d->reg_fd);
	d->reg_fd = -1;
}

int dsim_dev_attach(struct dsim_dev *d)
{
	if (d->regs)
		reset(d, false);
	dsim_dma_clear(d);
	close_session_fds(d);
	int fd = memfd_create("dsim-regs", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	void *page = MAP_FAILED;
	if (ftruncate(fd, DSIM_REG_PAGE_SIZE) == 0)
		page = mmap(NULL, DSIM_REG_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (d->regs)
		munmap(d->regs, DSIM_REG_PAGE_SIZE);
	d->regs = page;
	d->reg_fd = fd;
	reset(d, true);
	for (unsigned i = 0; i < d->num_kicks; i++) {
		d->kick_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->kick_fd[i] < 0)
			return -errno;
		/* No callback: the loop recognises kick watches and calls on_kick(). */
		d->kick_watch[i] = (struct dsim_watch){ .fd = d->kick_fd[i], .ctx = d };
		int rc = watch_doorbell(d, &d->kick_watch[i]);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < d->num_vectors; i++) {
		d->irq_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->irq_fd[i] < 0)
			return -errno;
	}
	return 0;
}

void dsim_dev_detach(struct dsim_dev *d)
{
	reset(d, false);
	dsim_dma_clear(d);
	close_session_fds(d);
}

int dsim_dev_create(const struct dsim_config *cfg, struct dsim_dev **out, char *err, size_t errlen)
{
	struct dsim_dev *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->cfg = *cfg;
	d->timing = cfg->timing;
	d->instant_ops = dsim_timing_instant_ops(&d->timing);
	d->num_kicks = 1 + cfg->queues;
	d->num_vectors = cfg->queues;
	d->reg_fd = d->epfd = d->timer_fd = d->stop_fd = -1;
	d->st.fd = -1;
	memset(d->kick_fd, -1, sizeof(d->kick_fd));
	memset(d->irq_fd, -1, sizeof(d->irq_fd));
	d->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	dsim_faults_init(&d->faults, &cfg->faults, cfg->fault_seed);
	for (unsigned i = DSIM_REQ_POOL; i-- > 0;) {
		d->reqs[i].heap_idx = -1;
		d->reqs[i].next = d->free_reqs;
		d->free_reqs = &d->reqs[i];
	}
	int rc = dsim_storage_open(&d->st, cfg, err, errlen);
	if (rc) {
		free(d);
		return rc;
	}
	d->scratch = malloc(DSIM_MAX_TRANSFER_BYTES);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rc = (!d->scratch || d->epfd < 0 || d->timer_fd < 0 || d->stop_fd < 0) ? -ENOMEM : 0;
	if (!rc) {
		d->timer_watch = (struct dsim_watch){ .fd = d->timer_fd, .cb = on_timer, .ctx = d };
		d->stop_watch = (struct dsim_watch){ .fd = d->stop_fd, .cb = on_stop, .ctx = d };
		rc = dsim_dev_watch(d, &d->timer_watch);
		if (!rc)
			rc = dsim_dev_watch(d, &d->stop_watch);
	}
	if (!rc)
		rc = dsim_dev_attach(d);
	if (rc) {
		snprintf(err, errlen, "cannot set up the device: %s", strerror(-rc));
		dsim_dev_destroy(d);
		return rc;
	}
	*out = d;
	return 0;
}

void dsim_dev_destroy(struct dsim_dev *d)
{
	if (!d)
		return;
	dsim_dma_clear(d);
	close_session_fds(d);
	if (d->regs)
		munmap(d->regs, DSIM_REG_PAGE_SIZE);
	dsim_storage_close(&d->st);
	free(d->scratch);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	free(d);
}

void dsim_dev_stop(struct dsim_dev *d)
{
	uint64_t one = 1;
	if (write(d->stop_fd, &one, sizeof(one)) < 0)
		perror("devsim: stop");
}

static void sync_admin(struct dsim_dev *d)
{
	uint32_t ctrl = dsim_rd32(d->regs, DSIM_REG_CONTROL);
	if (ctrl & DSIM_CTRL_RESET) {
		reset(d, true);
		return;
	}
	bool ready = (ctrl & DSIM_CTRL_ENABLE) && !d->fatal;
	if (ready != d->ready) {
		d->ready = ready;
		if (!d->fatal)
			dsim_wr32(d->regs, DSIM_REG_STATUS, ready ? DSIM_STS_READY : 0);
	}
	for (unsigned q = 0; q < d->cfg.queues; q++)
		dsim_queue_sync_enable(d, q);
}

/*
 * One pass. Admin registers (CONTROL, queue enables) change only with an
 * admin doorbell, so the loop syncs them only after one rang.
 */
static unsigned process(struct dsim_dev *d, bool admin)
{
	if (admin) {
		d->admin_kicked = false;
		sync_admin(d);
	}
	d->cq_blocked = false;
	d->pass_bytes = 0;
	d->pass_cut = false;
	d->now_ns = dsim_now_ns();
	/* A hung or vanished device holds what it has: nothing executes or is fetched. */
	bool stalled = d->faults.stalled;
	unsigned work = d->heap_len && !stalled ? dsim_exec_due(d, d->now_ns) : 0;
	if (d->ready && !stalled)
		for (uint32_t m = d->live_queues; m; m &= m - 1)
			work += dsim_queue_fetch(d, (unsigned)__builtin_ctz(m));
	if (d->heap_len && !d->faults.stalled)
		work += dsim_exec_due(d, d->now_ns);
	d->irq_deadline = d->irq_queues ? dsim_queue_irqs(d, d->now_ns) : 0;
	if (d->faults.vanished)
		dsim_faults_after_pass(d);
	return work;
}

unsigned dsim_dev_process(struct dsim_dev *d)
{
	return process(d, true);
}

static uint64_t next_deadline(struct dsim_dev *d, uint64_t now)
{
	uint64_t next = d->irq_deadline;
	const struct dsim_req *top = d->faults.stalled ? NULL : dsim_heap_top(d);
	if (top && (!next || top->finish_ns < next))
		next = top->finish_ns;
	if (d->cq_blocked && (!next || now + CQ_RETRY_NS < next))
		next = now + CQ_RETRY_NS;
	return next;
}

/*
 * Arms the timer only when it would fire too late (or not at all): a timer
 * armed for an earlier time than needed merely causes one extra pass, which
 * re-arms it. So untimed work costs no timer system call.
 */
static void arm_timer(struct dsim_dev *d, uint64_t at)
{
	if (!at || (d->timer_armed_ns && d->timer_armed_ns <= at))
		return;
	struct itimerspec its = { 0 };
	its.it_value.tv_sec = (time_t)(at / 1000000000u);
	its.it_value.tv_nsec = (long)(at % 1000000000u);
	if (timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		d->timer_armed_ns = at;
}

static void set_polling(struct dsim_dev *d, bool on)
{
	d->polling = on;
	dsim_wr32(d->regs, DSIM_REG_DEVICE_POLLING, on ? 1 : 0);
}

/*
 * The idle window adapts to the driver: a doorbell soon after the device
 * stopped polling means it stopped too early (the driver was merely busy or
 * descheduled), so the window doubles; a long sleep shrinks it again.
 */
static void adapt_idle_window(struct dsim_dev *d, uint64_t now)
{
	if (!d->poll_idle_ns)
		d->poll_idle_ns = POLL_IDLE_MIN_NS;
	if (!d->poll_slept_ns)
		return;
	uint64_t slept = now - d->poll_slept_ns;
	if (slept < 2 * d->poll_idle_ns && d->poll_idle_ns < POLL_IDLE_MAX_NS)
		d->poll_idle_ns *= 2;
	else if (slept > POLL_IDLE_RESET_NS)
		d->poll_idle_ns = POLL_IDLE_MIN_NS;
	d->poll_slept_ns = 0;
}

/* Returns true while the device keeps polling; false when it may sleep. */
static bool poll_step(struct dsim_dev *d, unsigned work)
{
	bool wanted = d->ready && dsim_rd32(d->regs, DSIM_REG_POLL_MODE) == 1;
	if (!wanted) {
		if (d->polling)
			set_polling(d, false);
		return false;
	}
	uint64_t now = d->now_ns;
	if (!d->polling) {
		adapt_idle_window(d, now);
		set_polling(d, true);
		d->last_work_ns = now;
		return true;
	}
	if (work) {
		d->last_work_ns = now;
		return true;
	}
	if (now - d->last_work_ns < d->poll_idle_ns)
		return true;
	/* Going to sleep: clear the flag, then look once more so no tail is missed. */
	set_polling(d, false);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (dsim_dev_process(d)) {
		set_polling(d, true);
		d->last_work_ns = d->now_ns;
		return true;
	}
	d->poll_slept_ns = d->now_ns;
	return false;
}

static bool is_kick(struct dsim_dev *d, struct dsim_watch *w)
{
	return w >= d->kick_watch && w < d->kick_watch + 1 + DSIM_MAX_QUEUES;
}

int dsim_dev_run(struct dsim_dev *d)
{
	struct epoll_event evs[8];
	d->stopping = false;
	while (!d->stopping) {
		unsigned work = process(d, d->admin_kicked);
		int timeout = -1;
		if (poll_step(d, work)) {
			drv_cpu_relax();
			/* Idle for a while: let a driver thread sharing this core run. */
			if (d->now_ns - d->last_work_ns >= POLL_YIELD_NS &&
			    d->now_ns - d->last_yield_ns >= POLL_YIELD_NS) {
				d->last_yield_ns = d->now_ns;
				sched_yield();
			}
			/* Sockets and doorbells still need looking at now and then. */
			if (++d->poll_spins % 64)
				continue;
			timeout = 0;
		} else {
			/*
			 * The pass's clock read: at most one pass old. A deadline
			 * that passed since then arms a timer in the past, which
			 * fires at once.
			 */
			uint64_t now = d->now_ns;
			uint64_t next = next_deadline(d, now);
			if (d->pass_cut || (next && next <= now))
				timeout = 0;
			else
				arm_timer(d, next);
		}
		int n = epoll_wait(d->epfd, evs, 8, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct dsim_watch *w = evs[i].data.ptr;
			if (is_kick(d, w))
				on_kick(d, w);
			else
				w->cb(w->ctx, evs[i].events);
		}
	}
	if (d->polling)
		set_polling(d, false);
	return 0;
}
