/* SPDX-License-Identifier: MIT */
/*
 * The driver framework from a driver's side, on the public API only:
 * registration and its checks, matching by id table and class, opening
 * with a named driver, the resources a driver is given (queue indices,
 * register windows, waits on registers, DMA memory), and what the
 * framework does with what a driver reports (doorbells, errors, bogus
 * tags, a device marked failed).
 *
 * The "loop" driver below serves whatever device it is opened on without
 * driving it: requests complete on the next reap with a status the test
 * chooses, so the framework's side is observed alone.
 */
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv/driver.h"
#include "drv/mmio.h"
#include "harness.h"

#define LOOP_DEPTH 8

struct loop_queue {
	unsigned id;
	const struct drv_request *pending[LOOP_DEPTH];
	unsigned npending;
};

static struct {
	unsigned max_queues;
	int status;       /* completes requests with this */
	int post_error;   /* post refuses with this, when set */
	bool fail_device; /* reap marks the device failed */
	bool hold;        /* reap completes nothing: the device is busy */
	bool abi_0_1;     /* probe describes the device as a driver built against 0.1 */
	unsigned commits; /* calls to commit */
	unsigned probes, removes, creates, destroys;
	unsigned last_queue_id;
} loop;

/*
 * The 0.1 entry points, as a program or driver linked against libdrv 0.1
 * binds them: struct drv_info ended at dma_pool_bytes then.
 */
#define DRV_INFO_0_1_SIZE offsetof(struct drv_info, block_size)
int drv_info_0_1(drv_dev *dev, void *out);
void drv_dev_set_info_0_1(drv_dev *dev, const void *info);
__asm__(".symver drv_info_0_1, drv_info@LIBDRV_0.1");
__asm__(".symver drv_dev_set_info_0_1, drv_dev_set_info@LIBDRV_0.1");

static int loop_probe(drv_dev *dev)
{
	struct drv_info info = *drv_dev_info(dev);
	snprintf(info.model, sizeof(info.model), "loop");
	snprintf(info.driver, sizeof(info.driver), "ignored"); /* libdrv's field */
	info.vendor_id = 0x1234;                               /* the bus's: kept */
	info.max_queues = loop.max_queues;
	info.max_queue_depth = LOOP_DEPTH;
	info.max_transfer = 4096;
	info.max_sg = 1;
	if (loop.abi_0_1) {
		/* Exactly the old size, so that reading past it is caught by ASan. */
		void *old = malloc(DRV_INFO_0_1_SIZE);
		if (!old)
			return -ENOMEM;
		memcpy(old, &info, DRV_INFO_0_1_SIZE);
		drv_dev_set_info_0_1(dev, old);
		free(old);
	} else {
		info.block_size = 512;
		memset(info.serial, 'S', sizeof(info.serial)); /* no terminating NUL */
		snprintf(info.firmware, sizeof(info.firmware), "1.2");
		drv_dev_set_info(dev, &info);
	}
	loop.probes++;
	return drv_dev_irq_setup(dev, 0) < 0 ? -EIO : 0;
}

static void loop_remove(drv_dev *dev)
{
	(void)dev;
	loop.removes++;
}

static int loop_queue_create(drv_queue *q)
{
	struct loop_queue *lq = calloc(1, sizeof(*lq));
	if (!lq)
		return -ENOMEM;
	lq->id = drv_queue_id(q);
	loop.last_queue_id = lq->id;
	drv_queue_set_priv(q, lq);
	loop.creates++;
	return 0;
}

static void loop_queue_destroy(drv_queue *q)
{
	free(drv_queue_priv(q));
	drv_queue_set_priv(q, NULL);
	loop.destroys++;
}

static int loop_post(drv_queue *q, const struct drv_request *r)
{
	struct loop_queue *lq = drv_queue_priv(q);
	if (loop.post_error)
		return drv_fail(loop.post_error, "loop refuses op %u on purpose", r->op);
	assert_true(drv_request_index(r) < drv_queue_depth(q));
	lq->pending[lq->npending++] = r;
	return 0;
}

static unsigned loop_commit(drv_queue *q)
{
	(void)q;
	loop.commits++;
	return 1;
}

static int loop_reap(drv_queue *q, unsigned budget)
{
	struct loop_queue *lq = drv_queue_priv(q);
	if (loop.fail_device && lq->npending) {
		drv_dev_set_failed(drv_queue_dev(q));
		return 0;
	}
	unsigned n = 0;
	while (!loop.hold && n < lq->npending && n < budget) {
		const struct drv_request *r = lq->pending[n++];
		assert_int_equal(drv_queue_complete(q, r->tag, loop.status, r->len, 0), 0);
	}
	memmove(lq->pending, lq->pending + n, (lq->npending - n) * sizeof(lq->pending[0]));
	lq->npending -= n;
	return (int)n;
}

static bool loop_irq_enable(drv_queue *q, bool on)
{
	struct loop_queue *lq = drv_queue_priv(q);
	return on && lq->npending;
}

static struct drv_driver loop_driver = {
	DRV_DRIVER_INIT,
	.name = "loop",
	.probe = loop_probe,
	.remove = loop_remove,
	.queue_create = loop_queue_create,
	.queue_destroy = loop_queue_destroy,
	.post = loop_post,
	.commit = loop_commit,
	.reap = loop_reap,
	.irq_enable = loop_irq_enable,
};

static int reset_loop(void **state)
{
	(void)state;
	memset(&loop, 0, sizeof(loop));
	loop.max_queues = 2;
	loop_driver.ids = NULL;
	return 0;
}

static drv_dev *open_loop(void)
{
	drv_dev *dev = NULL;
	int err = drv_open_driver(it_device_uri(), "loop", NULL, &dev);
	if (err)
		fail_msg("drv_open_driver: %s", drv_errmsg());
	return dev;
}

static void test_register_checks(void **state)
{
	(void)state;
	assert_int_equal(drv_driver_register(NULL), -EINVAL);

	struct drv_driver bad = loop_driver;
	bad.abi = DRV_DRIVER_ABI + 1;
	assert_int_equal(drv_driver_register(&bad), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "DRV_DRIVER_INIT"));

	bad = loop_driver;
	bad.reap = NULL;
	assert_int_equal(drv_driver_register(&bad), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "no reap operation"));

	bad = loop_driver;
	bad.name = "a-name-that-is-too-long";
	assert_int_equal(drv_driver_register(&bad), -EINVAL);

	bad = loop_driver;
	bad.name = "dsim"; /* libdrv's own */
	assert_int_equal(drv_driver_register(&bad), -EEXIST);

	assert_int_equal(drv_driver_register(&loop_driver), 0);
	assert_int_equal(drv_driver_register(&loop_driver), -EEXIST);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
	assert_int_equal(drv_driver_unregister(&loop_driver), -ENOENT);
}

static void test_registry_full(void **state)
{
	(void)state;
	static struct drv_driver many[40];
	static char names[40][16];
	unsigned n = 0;
	int err = 0;
	while (n < 40) {
		many[n] = loop_driver;
		snprintf(names[n], sizeof(names[n]), "loop%u", n);
		many[n].name = names[n];
		err = drv_driver_register(&many[n]);
		if (err)
			break;
		n++;
	}
	assert_int_equal(err, -ENOSPC);
	assert_true(n >= 8);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(drv_driver_unregister(&many[i]), 0);
}

static void test_open_by_name(void **state)
{
	(void)state;
	drv_dev *dev = NULL;
	assert_int_equal(drv_open_driver(it_device_uri(), "nosuch", NULL, &dev), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "no libdrv driver named nosuch"));
	assert_non_null(strstr(drv_errmsg(), "dsim"));

	assert_int_equal(drv_driver_register(&loop_driver), 0);
	dev = open_loop();
	struct drv_info info;
	assert_int_equal(drv_info(dev, &info), 0);
	assert_string_equal(info.driver, "loop");
	assert_string_equal(info.model, "loop");
	assert_string_equal(info.bus, "sim");
	assert_int_equal(info.vendor_id, DSIM_PCI_VENDOR); /* the bus's, not the driver's */
	assert_int_equal(info.irq_mode, DRV_IRQ_NONE);
	assert_int_equal(loop.probes, 1);

	/* The driver stays while a device uses it. */
	assert_int_equal(drv_driver_unregister(&loop_driver), -EBUSY);
	assert_non_null(strstr(drv_errmsg(), "close them first"));
	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(loop.removes, 1);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

static void opened_driver(const char *want)
{
	drv_dev *dev = NULL;
	if (drv_open(it_device_uri(), NULL, &dev))
		fail_msg("drv_open: %s", drv_errmsg());
	struct drv_info info;
	assert_int_equal(drv_info(dev, &info), 0);
	assert_string_equal(info.driver, want);
	assert_int_equal(drv_close(dev), 0);
}

/* Which driver drv_open picks while loop is registered with `ids`. */
static void opened_with_loop_ids(const struct drv_pci_id *ids, const char *want)
{
	loop_driver.ids = ids;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	opened_driver(want);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

static void test_match_by_ids(void **state)
{
	(void)state;
	opened_driver("dsim");
	/* A registered driver naming the function wins over libdrv's own. */
	static const struct drv_pci_id exact[] = { { DSIM_PCI_VENDOR, DSIM_PCI_DEVICE, 0, 0 },
						   { 0 } };
	opened_with_loop_ids(exact, "loop");
	static const struct drv_pci_id other[] = { { DSIM_PCI_VENDOR, DSIM_PCI_DEVICE + 1, 0, 0 },
						   { 0 } };
	opened_with_loop_ids(other, "dsim");
	/* Class matching: memory controller (05), RAM (00) is what the function is. */
	static const struct drv_pci_id ram[] = {
		{ DRV_PCI_ANY_ID, DRV_PCI_ANY_ID, 0x050000, 0xffff00 }, { 0 }
	};
	opened_with_loop_ids(ram, "loop");
	static const struct drv_pci_id storage[] = {
		{ DRV_PCI_ANY_ID, DRV_PCI_ANY_ID, 0x010000, 0xff0000 }, { 0 }
	};
	opened_with_loop_ids(storage, "dsim");
}

static void test_driver_probe_failure_is_clean(void **state)
{
	(void)state;
	/* edu reaches 28 bits of bus address, and has its registers in BAR0: not on sim. */
	drv_dev *dev = NULL;
	int err = drv_open_driver(it_device_uri(), "edu", NULL, &dev);
	print_message("edu on the sim bus: %d, %s\n", err, drv_errmsg());
	assert_true(err == -ENOMEM || err == -ENOENT);
	assert_null(dev);
	opened_driver("dsim"); /* nothing was left behind */
}

static void test_queue_ids(void **state)
{
	(void)state;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	drv_dev *dev = open_loop();
	drv_queue *a, *b, *c;
	struct drv_queue_opts o = { .depth = LOOP_DEPTH, .cmode = DRV_CMODE_POLL };
	assert_int_equal(drv_queue_create(dev, &o, &a), 0);
	assert_int_equal(loop.last_queue_id, 0);
	assert_int_equal(drv_queue_create(dev, &o, &b), 0);
	assert_int_equal(loop.last_queue_id, 1);
	assert_int_equal(drv_queue_create(dev, &o, &c), -EBUSY);
	assert_non_null(strstr(drv_errmsg(), "2 queue(s), all in use"));
	assert_int_equal(loop.creates, 2);
	assert_int_equal(drv_queue_destroy(a), 0);
	assert_int_equal(loop.destroys, 1);
	assert_int_equal(drv_queue_create(dev, &o, &c), 0);
	assert_int_equal(loop.last_queue_id, 0);
	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(loop.destroys, 3);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

static void test_requests_and_status(void **state)
{
	(void)state;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	drv_dev *dev = open_loop();
	struct drv_queue_opts o = { .depth = LOOP_DEPTH, .cmode = DRV_CMODE_POLL };
	drv_queue *q;
	assert_int_equal(drv_queue_create(dev, &o, &q), 0);
	char data[64] = "payload";
	struct drv_req r[3];
	struct drv_req *rp[3] = { &r[0], &r[1], &r[2] };
	for (unsigned i = 0; i < 3; i++)
		drv_prep_write(&r[i], 0, data, 10 + i);
	assert_int_equal(drv_submit(q, rp, 3), 3);
	assert_int_equal(loop.commits, 1); /* one batch, one doorbell */
	assert_int_equal(drv_wait_all(q, rp, 3, it_timeout_ns()), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].result, 10 + i); /* what the driver completed with */
	}
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.kicks, 1);

	/* A status the driver translated reaches the request. */
	loop.status = -ERANGE;
	drv_prep_nop(&r[0]);
	it_submit1(q, &r[0]);
	assert_int_equal(it_wait_done(q, &r[0]), -ERANGE);

	/* A post the driver refuses completes the request with its status and message. */
	loop.post_error = -EOPNOTSUPP;
	drv_prep_flush(&r[0]);
	it_submit1(q, &r[0]);
	assert_int_equal(it_wait_done(q, &r[0]), -EOPNOTSUPP);
	loop.post_error = 0;

	/* A tag that names no pending request is refused and counted. */
	assert_int_equal(drv_queue_complete(q, 3u, 0, 0, 0), -EPROTO);
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.rejected, 1);

	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

static void test_device_marked_failed(void **state)
{
	(void)state;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	drv_dev *dev = open_loop();
	struct drv_queue_opts o = { .depth = LOOP_DEPTH, .cmode = DRV_CMODE_POLL };
	drv_queue *q;
	assert_int_equal(drv_queue_create(dev, &o, &q), 0);
	loop.fail_device = true;
	struct drv_req r;
	drv_prep_nop(&r);
	it_submit1(q, &r);
	assert_int_equal(it_wait_done(q, &r), -ENODEV);
	assert_int_equal(drv_dev_alive(dev), -ENODEV);
	drv_queue *other;
	assert_int_equal(drv_queue_create(dev, &o, &other), -ENODEV);
	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

/* loop has no abort: cancel and timeouts wait for the device, and nothing crashes. */
static void test_driver_without_abort(void **state)
{
	(void)state;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	drv_dev *dev = open_loop();
	struct drv_queue_opts o = { .depth = LOOP_DEPTH, .cmode = DRV_CMODE_POLL };
	drv_queue *q;
	assert_int_equal(drv_queue_create(dev, &o, &q), 0);
	loop.hold = true;
	struct drv_req r, t;
	drv_prep_nop(&r);
	it_submit1(q, &r);
	assert_int_equal(drv_cancel(q, &r), 0);
	assert_int_equal(drv_wait(q, &r, 20 * IT_MS), -ETIMEDOUT); /* the device still has it */

	drv_prep_nop(&t);
	t.timeout_ns = 1;
	it_submit1(q, &t);
	assert_int_equal(it_wait_done(q, &t), -ETIMEDOUT); /* delivered; its slot is quarantined */
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.quarantined, 1);

	loop.hold = false; /* the device finishes both */
	assert_int_equal(it_wait_done(q, &r), 0);
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.quarantined, 0);

	/* Teardown with a request the device holds: the grace period ends it. */
	loop.hold = true;
	drv_prep_nop(&r);
	it_submit1(q, &r);
	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(r.status, -ECANCELED);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

static void test_register_failure_named_once(void **state)
{
	(void)state;
	struct drv_driver bad = loop_driver;
	bad.queue_create = NULL;
	assert_int_equal(drv_driver_register(&bad), -EINVAL);
	drv_dev *dev = NULL;
	assert_int_equal(drv_open_driver(it_device_uri(), "loop", NULL, &dev), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "a driver failed to register: driver loop has no "
					     "queue_create operation"));
	/* Registered after all: the old failure is no longer news. */
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	assert_int_equal(drv_driver_register(&loop_driver), -EEXIST);
	assert_int_equal(drv_open_driver(it_device_uri(), "nosuch", NULL, &dev), -ENODEV);
	assert_null(strstr(drv_errmsg(), "failed to register"));
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

static void test_device_resources(void **state)
{
	(void)state;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	drv_dev *dev = open_loop();

	volatile void *regs;
	size_t len;
	assert_int_equal(drv_dev_map_bar(dev, 0, &regs, &len), -ENOENT);
	assert_int_equal(drv_dev_map_bar(dev, 2, &regs, &len), 0);
	assert_true(len >= DSIM_REG_PAGE_SIZE);
	assert_int_equal(drv_mmio_rd32(regs, DSIM_REG_MAGIC), DSIM_MAGIC);
	assert_int_equal(drv_dev_wait32(dev, regs, DSIM_REG_MAGIC, 0xffffffffu, DSIM_MAGIC, 0, 0),
			 0);
	assert_int_equal(
	    drv_dev_wait32(dev, regs, DSIM_REG_MAGIC, 0xffffffffu, 0, 0, 2 * (uint64_t)IT_MS),
	    -ETIMEDOUT);
	assert_int_equal(
	    drv_dev_wait32(dev, regs, DSIM_REG_MAGIC, 0xffffffffu, 0, DSIM_MAGIC, it_timeout_ns()),
	    -EIO);

	uint16_t vendor;
	assert_int_equal(drv_dev_config_read(dev, 0, &vendor, sizeof(vendor)), -EOPNOTSUPP);
	assert_true(drv_dev_has_kick(dev));

	drv_buf *ring;
	assert_int_equal(drv_dev_dma_alloc(dev, 3 * 4096, 8192, &ring), 0);
	assert_int_equal(drv_buf_bus(ring) % 8192, 0);
	assert_int_equal(drv_buf_len(ring), 3 * 4096);
	const uint8_t *p = drv_buf_addr(ring);
	for (size_t i = 0; i < 3 * 4096; i++)
		assert_int_equal(p[i], 0);
	drv_buf_free(ring);
	assert_int_equal(drv_dev_dma_alloc(dev, 4096, 1u << 17, &ring), -EINVAL);

	assert_null(drv_dev_priv(dev));
	int mine;
	drv_dev_set_priv(dev, &mine);
	assert_ptr_equal(drv_dev_priv(dev), &mine);
	drv_dev_set_priv(dev, NULL);
	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

/* drv_info 0.2: block size and strings from the driver, the strings cut to their arrays. */
static void test_info_fields(void **state)
{
	(void)state;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	drv_dev *dev = open_loop();
	struct drv_info info;
	assert_int_equal(drv_info(dev, &info), 0);
	assert_string_equal(info.model, "loop");
	assert_int_equal(info.block_size, 512);
	assert_int_equal(strlen(info.serial), sizeof(info.serial) - 1);
	assert_int_equal(strspn(info.serial, "S"), sizeof(info.serial) - 1);
	assert_string_equal(info.firmware, "1.2");
	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

/*
 * A driver and a program built against 0.1 keep working: the old
 * set_info reads only the old structure (block size then defaults to 1),
 * the old drv_info writes only the old structure.
 */
static void test_abi_0_1(void **state)
{
	(void)state;
	loop.abi_0_1 = true;
	assert_int_equal(drv_driver_register(&loop_driver), 0);
	drv_dev *dev = open_loop();
	struct drv_info now;
	assert_int_equal(drv_info(dev, &now), 0);
	assert_int_equal(now.block_size, 1);
	assert_string_equal(now.serial, "");
	assert_string_equal(now.firmware, "");

	unsigned char old[sizeof(struct drv_info) + 16];
	memset(old, 0xa5, sizeof(old));
	assert_int_equal(drv_info_0_1(dev, old), 0);
	assert_memory_equal(old, &now, DRV_INFO_0_1_SIZE);
	for (size_t i = DRV_INFO_0_1_SIZE; i < sizeof(old); i++)
		assert_int_equal(old[i], 0xa5);
	assert_int_equal(drv_info_0_1(dev, NULL), -EINVAL);
	assert_int_equal(drv_close(dev), 0);
	assert_int_equal(drv_driver_unregister(&loop_driver), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_register_checks, reset_loop),
		cmocka_unit_test_setup(test_registry_full, reset_loop),
		cmocka_unit_test_setup(test_open_by_name, reset_loop),
		cmocka_unit_test_setup(test_match_by_ids, reset_loop),
		cmocka_unit_test_setup(test_driver_probe_failure_is_clean, reset_loop),
		cmocka_unit_test_setup(test_queue_ids, reset_loop),
		cmocka_unit_test_setup(test_requests_and_status, reset_loop),
		cmocka_unit_test_setup(test_device_marked_failed, reset_loop),
		cmocka_unit_test_setup(test_driver_without_abort, reset_loop),
		cmocka_unit_test_setup(test_register_failure_named_once, reset_loop),
		cmocka_unit_test_setup(test_device_resources, reset_loop),
		cmocka_unit_test_setup(test_info_fields, reset_loop),
		cmocka_unit_test_setup(test_abi_0_1, reset_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
