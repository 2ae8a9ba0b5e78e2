/* SPDX-License-Identifier: MIT */
/* Tag table: slot + generation, reuse, stale and foreign tags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_dev.h"

static void tags_encode_slot_and_generation(void **state)
{
	(void)state;
	uint32_t t = DRV_TAG(5, 7);
	assert_int_equal(drv_tag_index(t), 5);
	assert_int_equal(DRV_TAG_GEN(t), 7);
	assert_int_equal(DRV_TAG_GEN(DRV_TAG(65535, 65535)), 65535);
}

static void reused_slot_gets_a_new_generation(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	drv_queue *q = fake_queue(dev, 2);
	struct drv_req r;
	struct drv_req *rp = &r;
	drv_prep_nop(&r);
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	uint32_t first = fake_slot_of(q, &r)->r.tag;
	assert_int_equal(DRV_TAG_GEN(first), 1); /* generation 0 never used */
	fake_complete(first, 0, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	uint32_t second = fake_slot_of(q, &r)->r.tag;
	assert_int_equal(drv_tag_index(second), drv_tag_index(first));
	assert_int_not_equal(second, first);
	/* The old tag now names nothing. */
	pthread_mutex_lock(&q->lock);
	assert_int_equal(drv_queue_complete(q, first, 0, 0, 0), -EPROTO);
	assert_int_equal(q->stats.rejected, 1);
	assert_int_equal(drv_queue_complete(q, second, 0, 0, 0), 0);
	pthread_mutex_unlock(&q->lock);
	assert_int_equal(drv_wait(q, &r, 0), 0);
	fake_close(dev);
}

static void generation_skips_reserved_values(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	drv_queue *q = fake_queue(dev, 1);
	q->slots[0].gen = DRV_TAG_GEN_DRIVER - 1;
	struct drv_req r;
	struct drv_req *rp = &r;
	drv_prep_nop(&r);
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	fake_complete(fake_slot_of(q, &r)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	/* Wrapped past the driver's generation and past 0. */
	assert_int_equal(q->slots[0].gen, 1);
	fake_close(dev);
}

static void full_queue_pushes_back(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	drv_queue *q = fake_queue(dev, 3);
	struct drv_req r[4];
	struct drv_req *rp[4];
	for (int i = 0; i < 4; i++) {
		drv_prep_nop(&r[i]);
		rp[i] = &r[i];
	}
	assert_int_equal(drv_submit(q, rp, 4), 3);
	assert_int_equal(drv_submit(q, rp + 3, 1), -EAGAIN);
	assert_int_equal(r[3].priv.state, DRV_REQ_IDLE);
	/* All three tags are distinct slots. */
	uint32_t seen = 0;
	for (int i = 0; i < 3; i++)
		seen |= 1u << drv_tag_index(fake_slot_of(q, &r[i])->r.tag);
	assert_int_equal(seen, 7);
	fake_complete(fake_slot_of(q, &r[1])->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &r[1], -1), 0);
	assert_int_equal(drv_submit(q, rp + 3, 1), 1);
	fake_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tags_encode_slot_and_generation),
		cmocka_unit_test(reused_slot_gets_a_new_generation),
		cmocka_unit_test(generation_skips_reserved_values),
		cmocka_unit_test(full_queue_pushes_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
