/* SPDX-License-Identifier: MIT */
/*
 * Integration test harness: device fixture, devsim process control, data
 * patterns and waits with generous deadlines.
 *
 * The same test programs run against every path a device can be reached
 * by, so tests never name a URI themselves: the fixture opens
 * it_device_uri() (DRV_TEST_URI, default sim:inproc), or, with
 * DRV_TEST_SPAWN=1, a fresh `devsim serve` process per test. Device
 * behaviour that tests depend on (latency) is set through the device's
 * SET_TIMING control code, which works on every path.
 */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include "devsim/dsim_hw.h"
#include "drv/drv.h"

#define IT_US 1000ll
#define IT_MS 1000000ll
#define IT_SEC 1000000000ll

/* "Should have finished by now" deadline: 10 s times DRV_TEST_TIMEOUT_SCALE. */
int64_t it_timeout_ns(void);

/* DRV_TEST_URI, or sim:inproc. */
const char *it_device_uri(void);

/* ---- devsim as a separate process ------------------------------------- */

struct it_devsim {
	pid_t pid;    /* 0 when not running */
	char dir[64]; /* private temporary directory, removed by destroy */
	char sock[96];
	char uri[112]; /* sim:<sock> */
};

/* $DEVSIM_BIN, or NULL when the environment does not name it. */
const char *it_devsim_bin(void);
/*
 * Starts `devsim serve --socket <dir>/dsim.sock [extra...]` (extra is
 * NULL-terminated, may be NULL) and waits until the socket listens. The
 * directory is created on first start and kept across restarts.
 */
void it_devsim_start(struct it_devsim *d, const char *const extra[]);
/* Sends sig, reaps the process (SIGKILL after the deadline); returns its wait status. */
int it_devsim_stop(struct it_devsim *d, int sig);
/* Stops the process if running and removes the directory. Safe to repeat. */
void it_devsim_destroy(struct it_devsim *d);
/* Path of a file name inside the devsim directory. */
const char *it_devsim_path(struct it_devsim *d, const char *name, char *out, size_t len);
/* Runs argv to completion, stdout into out (NUL-terminated); returns the exit code or -1. */
int it_run(const char *const argv[], char *out, size_t outlen);

/* ---- Device fixture --------------------------------------------------- */

#define IT_MAX_ALLOCS 64

struct it_ctx {
	struct it_devsim sim; /* used when a test or DRV_TEST_SPAWN runs devsim */
	drv_dev *dev;
	drv_queue *q; /* default queue: depth 64, IRQ mode */
	struct drv_info info;
	bool dsim; /* the device is dsim: its control codes (timing, events, stats) exist */
	void *allocs[IT_MAX_ALLOCS]; /* freed at teardown, after the device is closed */
	unsigned nallocs;
};

/* cmocka fixtures: an open device with a default queue and zero latency. */
int it_setup(void **state);
int it_teardown(void **state);
/* Opens uri into c (device, info, default queue, zero latency); asserts. */
void it_open(struct it_ctx *c, const char *uri);
/* Closes the device now (teardown then skips it); returns drv_close's result. */
int it_close(struct it_ctx *c);
drv_queue *it_queue(struct it_ctx *c, unsigned depth, enum drv_cmode mode);
/*
 * Zeroed memory that outlives the device: requests live here so that a
 * failing test never leaves the library pointing at a dead stack frame.
 */
void *it_calloc(struct it_ctx *c, size_t n, size_t size);
drv_buf *it_buf(struct it_ctx *c, size_t len);
/* v rounded down / up to a multiple of a (a block size: 1 on dsim, 512 or 4096 on NVMe). */
static inline uint64_t it_align_down(uint64_t v, uint64_t a)
{
	return v - v % a;
}
static inline uint64_t it_align_up(uint64_t v, uint64_t a)
{
	return it_align_down(v + a - 1, a);
}
/* Skips the test unless the device has all of the DRV_FEAT_* bits. */
void it_require(struct it_ctx *c, uint64_t features);

/* ---- Device timing (DSIM_CTL_SET_TIMING) -------------------------------- */

/*
 * The same programs run on devices other than dsim (NVMe in the guest):
 * what needs dsim's control codes skips the test there, printing
 * "n/a: needs dsim's WHAT". The timing and statistics helpers below do
 * this themselves; it_try_latency instead reports whether it could.
 */
void it_require_dsim(const char *what);
bool it_try_latency(drv_queue *q, unsigned dist, uint64_t mean_ns, unsigned units);

void it_timing_zero(struct dsim_timing *t);
void it_timing_op(struct dsim_timing *t, unsigned op, unsigned dist, uint64_t mean_ns,
		  uint64_t spread_ns);
void it_set_timing(drv_queue *q, const struct dsim_timing *t);
/* Same latency for NOP, READ, WRITE and FLUSH; CONTROL and events stay instant. */
void it_set_latency(drv_queue *q, unsigned dist, uint64_t mean_ns, unsigned units);
/* Device statistics, DSIM_STAT_* indexed. */
void it_device_stats(drv_queue *q, uint64_t stats[DSIM_STAT_COUNT]);

/* ---- Data ------------------------------------------------------------- */

/* Byte at storage offset off of the pattern named by seed. */
uint8_t it_pattern(uint32_t seed, uint64_t off);
void it_fill(void *p, size_t len, uint64_t off, uint32_t seed);
/* Asserts p holds the pattern; on a mismatch prints the storage offset. */
void it_check_pattern(const void *p, size_t len, uint64_t off, uint32_t seed);
/* Asserts got == want; on a mismatch prints the storage offset and both bytes. */
void it_check_equal(const void *got, const void *want, size_t len, uint64_t off, const char *what);
/* First differing index, or -1. */
ptrdiff_t it_first_diff(const void *a, const void *b, size_t len);

/* Test random numbers: seed from IT_SEED or the clock, printed once. */
uint64_t it_seed(void);
uint64_t it_rand(uint64_t *state);

/* ---- Requests --------------------------------------------------------- */

/* Waits (generous deadline) and returns the request's status. */
int it_wait_done(drv_queue *q, struct drv_req *r);
/* Waits and asserts status 0. */
void it_wait_ok(drv_queue *q, struct drv_req *r);
/* Submits all n, asserting each is accepted. */
void it_submit(drv_queue *q, struct drv_req *const reqs[], unsigned n);
void it_submit1(drv_queue *q, struct drv_req *r);
/* Synchronous write/read of plain memory, asserting the full length moved. */
void it_write(drv_queue *q, uint64_t off, const void *data, size_t len);
void it_read(drv_queue *q, uint64_t off, void *data, size_t len);
/* Consumes pending events so a test starts with an empty device event queue. */
void it_drain_events(drv_queue *q);
void it_sleep_ns(int64_t ns);

#endif
