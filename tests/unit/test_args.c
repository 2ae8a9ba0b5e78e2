/* SPDX-License-Identifier: MIT */
/*
 * drv_submit's argument checks: each bad request is refused with the right
 * errno, delivered like a completion, never posted to the device, and the
 * requests before it in the batch are still submitted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_dev.h"

static drv_dev *dev;
static drv_queue *q;
static drv_buf *buf;
static char mem[8192];

static int setup(void **state)
{
	(void)state;
	dev = fake_open(4 << 20);
	q = fake_queue(dev, 16);
	assert_int_equal(drv_buf_alloc(dev, 8192, &buf), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	drv_buf_free(buf);
	fake_close(dev);
	return 0;
}

/* Submits r alone; expects it refused with err and never posted. */
static void refused(struct drv_req *r, int err)
{
	unsigned posted = fake.nposted;
	struct drv_req *rp = r;
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	assert_int_equal(r->status, err);
	assert_int_equal(fake.nposted, posted);
	assert_string_not_equal(drv_errmsg(), "no error recorded");
	/* Delivered exactly once: by this wait, not again by a reap. */
	assert_int_equal(drv_wait(q, r, 0), 0);
	struct drv_req *out[1];
	assert_int_equal(drv_reap(q, out, 1, 0, 0), 0);
}

static void bad_requests(void **state)
{
	(void)state;
	struct drv_req r;
	drv_prep_read(&r, 0, NULL, 512);
	refused(&r, -EINVAL); /* no buffer */
	drv_prep_read(&r, 0, mem, 0);
	refused(&r, -EINVAL); /* zero length */
	drv_prep_write(&r, 0, NULL, 0);
	refused(&r, -EINVAL);
	drv_prep_read(&r, 0, mem, 512);
	r.buf = buf;
	refused(&r, -EINVAL); /* two kinds of buffer */
	drv_prep_read_buf(&r, 0, buf, 4096, 8192);
	refused(&r, -EINVAL); /* range outside the buffer */
	drv_prep_read_buf(&r, 0, buf, SIZE_MAX, 2);
	refused(&r, -EINVAL); /* offset overflow */
	drv_prep_read(&r, 0, mem, 2u << 20);
	refused(&r, -E2BIG); /* > max_transfer */
	drv_prep(&r, (enum drv_op)9, 0, NULL, 0);
	refused(&r, -EOPNOTSUPP);
	drv_prep_nop(&r);
	r.flags = 1;
	refused(&r, -EINVAL);
	drv_prep_flush(&r);
	r.data = mem;
	r.len = 4;
	refused(&r, -EINVAL); /* FLUSH carries no data */
	drv_prep_read(&r, 0, mem, 16);
	r.in = mem;
	r.in_len = 4;
	refused(&r, -EINVAL); /* only CONTROL takes input */
	drv_prep_control(&r, 1, NULL, 4, mem, 16);
	refused(&r, -EINVAL); /* in_len without in */
	drv_prep_control(&r, 1, mem, 2u << 20, mem, 16);
	refused(&r, -E2BIG);
}

static void bad_sg_lists(void **state)
{
	(void)state;
	struct drv_req r;
	struct drv_sge sgl[9];
	for (int i = 0; i < 9; i++)
		sgl[i] = (struct drv_sge){ buf, (size_t)i * 512, 512 };
	drv_prep_rw_sgl(&r, DRV_OP_READ, 0, sgl, 9);
	refused(&r, -E2BIG); /* > max_sg */
	drv_prep_rw_sgl(&r, DRV_OP_READ, 0, sgl, 2);
	r.len = 100;
	refused(&r, -EINVAL); /* len disagrees with the list */
	sgl[1].buf = NULL;
	drv_prep_rw_sgl(&r, DRV_OP_READ, 0, sgl, 2);
	refused(&r, -EINVAL);
	sgl[1] = (struct drv_sge){ buf, 8000, 512 };
	drv_prep_rw_sgl(&r, DRV_OP_READ, 0, sgl, 2);
	refused(&r, -EINVAL); /* entry past the buffer */
	sgl[1] = (struct drv_sge){ buf, 0, 0 };
	drv_prep_rw_sgl(&r, DRV_OP_READ, 0, sgl, 2);
	refused(&r, -EINVAL); /* empty entry */
}

static void events_need_the_feature(void **state)
{
	(void)state;
	dev->info.features &= ~DRV_FEAT_EVENTS;
	struct drv_req r;
	drv_prep_wait_event(&r, mem, 64);
	refused(&r, -EOPNOTSUPP);
	dev->info.features |= DRV_FEAT_EVENTS;
}

static void bounce_larger_than_the_area_is_refused(void **state)
{
	(void)state;
	/* 16 slots * 64 KiB = 1 MiB of bounce memory, exactly max_transfer. */
	struct drv_req r;
	static char big[1u << 20];
	drv_prep_control(&r, 1, mem, 4096, big, sizeof(big));
	refused(&r, -E2BIG);
}

static void batch_stops_at_the_bad_request(void **state)
{
	(void)state;
	struct drv_req a, bad, c;
	drv_prep_read(&a, 0, mem, 512);
	drv_prep_read(&bad, 0, NULL, 512);
	drv_prep_read(&c, 0, mem, 512);
	struct drv_req *batch[3] = { &a, &bad, &c };
	unsigned commits = fake.commits;
	assert_int_equal(drv_submit(q, batch, 3), 2);
	assert_int_equal(a.status, -EINPROGRESS);
	assert_int_equal(bad.status, -EINVAL);
	assert_int_equal(c.status, 0); /* untouched */
	assert_int_equal(c.priv.state, DRV_REQ_IDLE);
	assert_int_equal(fake.commits, commits + 1);
	struct drv_req *out[4];
	assert_int_equal(drv_reap(q, out, 4, 1, 0), 1);
	assert_ptr_equal(out[0], &bad);
	fake_complete(fake_slot_of(q, &a)->r.tag, 0, 512);
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, 0);
}

static void api_null_arguments(void **state)
{
	(void)state;
	struct drv_req *none[1] = { NULL };
	assert_int_equal(drv_submit(NULL, none, 1), -EINVAL);
	assert_int_equal(drv_submit(q, none, 1), -EINVAL);
	assert_int_equal(drv_wait(q, NULL, 0), -EINVAL);
	assert_int_equal(drv_wait_any(q, none, 0, 0), -EINVAL);
	assert_int_equal(drv_wait_all(NULL, none, 1, 0), -EINVAL);
	assert_int_equal(drv_reap(q, NULL, 4, 0, 0), -EINVAL);
	assert_int_equal(drv_cancel(q, NULL), -ENOENT);
	assert_int_equal(drv_queue_fd(NULL), -EINVAL);
	assert_int_equal(drv_submit(q, none, 0), 0);
	struct drv_queue_opts o = { .depth = 100000 };
	drv_queue *q2;
	assert_int_equal(drv_queue_create(dev, &o, &q2), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "depth"));
	o = (struct drv_queue_opts){ .cmode = (enum drv_cmode)7 };
	assert_int_equal(drv_queue_create(dev, &o, &q2), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "unknown completion mode 7"));
	/* The bus has no interrupts: IRQ and HYBRID queues are accepted, polled by a timer. */
	o = (struct drv_queue_opts){ .cmode = DRV_CMODE_IRQ };
	assert_int_equal(drv_queue_create(dev, &o, &q2), 0);
	assert_int_equal(drv_queue_destroy(q2), 0);
	o = (struct drv_queue_opts){ .cmode = DRV_CMODE_HYBRID };
	assert_int_equal(drv_queue_create(dev, &o, &q2), 0);
	assert_int_equal(drv_queue_destroy(q2), 0);
	drv_dev *d;
	assert_int_equal(drv_open("bogus:x", NULL, &d), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "sim:, uio:, vfio: or pci:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_sg_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(events_need_the_feature, setup, teardown),
		cmocka_unit_test_setup_teardown(bounce_larger_than_the_area_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(batch_stops_at_the_bad_request, setup, teardown),
		cmocka_unit_test_setup_teardown(api_null_arguments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
