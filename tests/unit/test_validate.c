/* SPDX-License-Identifier: MIT */
/*
 * Completions from a misbehaving device: unknown, stale and duplicate tags,
 * results larger than the request. Each is counted as rejected, and no
 * caller memory is written for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_fixture.h"

static uint64_t rejected(void)
{
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	return st.rejected;
}

static void unknown_tags_are_rejected(void **state)
{
	(void)state;
	char data[64] = "untouched";
	struct drv_req r;
	drv_prep_read(&r, 0, data, sizeof(data));
	fake_submit(&r);
	struct drv_slot *s = fake_slot_of(q, &r);
	memset(s->bounce_va, 'X', sizeof(data));
	uint32_t tag = s->r.tag;
	fake_complete(DRV_TAG(200, 1), 0, 8);                    /* slot out of range */
	fake_complete(DRV_TAG(drv_tag_index(tag) + 1, 1), 0, 8); /* free slot */
	fake_complete(DRV_TAG(drv_tag_index(tag), DRV_TAG_GEN(tag) + 1), 0, 8); /* wrong gen */
	fake_complete(0, 0, 8);                                                 /* a zeroed entry */
	assert_int_equal(drv_wait(q, &r, 0), -ETIMEDOUT);
	assert_int_equal(rejected(), 4);
	assert_string_equal(data, "untouched");
	assert_int_equal(r.status, -EINPROGRESS);
	fake_complete(tag, 0, sizeof(data));
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(data[0], 'X');
}

static void duplicate_completion_is_rejected(void **state)
{
	(void)state;
	char data[64] = "first";
	struct drv_req r;
	drv_prep_read(&r, 0, data, sizeof(data));
	fake_submit(&r);
	uint32_t tag = fake_slot_of(q, &r)->r.tag;
	fake_complete(tag, 0, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	/* The caller reuses its buffer; the device repeats itself. */
	strcpy(data, "mine now");
	fake_complete(tag, 0, sizeof(data));
	struct drv_req *out[2];
	assert_int_equal(drv_reap(q, out, 2, 0, 0), 0);
	assert_int_equal(rejected(), 1);
	assert_string_equal(data, "mine now");
}

static void stale_tag_after_reuse_is_rejected(void **state)
{
	(void)state;
	char a[32] = "", b[32] = "";
	struct drv_req r;
	drv_prep_read(&r, 0, a, sizeof(a));
	fake_submit(&r);
	uint32_t old = fake_slot_of(q, &r)->r.tag;
	fake_complete(old, 0, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	drv_prep_read(&r, 0, b, sizeof(b));
	fake_submit(&r);
	struct drv_slot *s = fake_slot_of(q, &r);
	assert_int_equal(drv_tag_index(s->r.tag), drv_tag_index(old));
	memset(s->bounce_va, 'S', sizeof(b));
	fake_complete(old, 0, sizeof(b)); /* late answer for the previous use */
	assert_int_equal(drv_wait(q, &r, 0), -ETIMEDOUT);
	assert_int_equal(rejected(), 1);
	assert_int_equal(b[0], 0);
	fake_complete(s->r.tag, 0, sizeof(b));
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(b[0], 'S');
}

static void oversized_result_fails_the_request(void **state)
{
	(void)state;
	char data[16] = "safe";
	char canary[64];
	memset(canary, 'c', sizeof(canary));
	struct drv_req r;
	drv_prep_read(&r, 0, data, sizeof(data));
	fake_submit(&r);
	memset(fake_slot_of(q, &r)->bounce_va, 'B', 4096);
	fake_complete(fake_slot_of(q, &r)->r.tag, 0, 4096);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, -EPROTO);
	assert_int_equal(r.result, 0);
	assert_string_equal(data, "safe");
	assert_int_equal(rejected(), 1);
	/* The slot is free again and works. */
	drv_prep_nop(&r);
	fake_submit(&r);
	fake_complete(fake_slot_of(q, &r)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, 0);
}

static void event_and_write_results_are_bounded_too(void **state)
{
	(void)state;
	char ev[8];
	struct drv_req r;
	drv_prep_wait_event(&r, ev, sizeof(ev));
	fake_submit(&r);
	fake_complete(fake_slot_of(q, &r)->r.tag, 0, 9);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, -EPROTO);
	drv_prep_write(&r, 0, ev, sizeof(ev));
	fake_submit(&r);
	fake_complete(fake_slot_of(q, &r)->r.tag, 0, 1u << 31);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, -EPROTO);
	assert_int_equal(rejected(), 2);
}

int main(void)
{
#define T(f) FAKE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(unknown_tags_are_rejected),
		T(duplicate_completion_is_rejected),
		T(stale_tag_after_reuse_is_rejected),
		T(oversized_result_fails_the_request),
		T(event_and_write_results_are_bounded_too),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
