/* SPDX-License-Identifier: MIT */
/* Request life cycle: each completion is delivered exactly once, by one path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_fixture.h"

static void finish(struct drv_req *r, int status, uint64_t result)
{
	fake_complete(fake_slot_of(q, r)->r.tag, status, result);
}

static void buffered_read_copies_out(void **state)
{
	(void)state;
	char data[100];
	memset(data, 0, sizeof(data));
	struct drv_req r;
	drv_prep_read(&r, 0, data, sizeof(data));
	fake_submit(&r);
	assert_int_equal(r.status, -EINPROGRESS);
	assert_int_equal(r.priv.state, DRV_REQ_PENDING);
	assert_true(r.submit_ns > 0);
	struct drv_slot *s = fake_slot_of(q, &r);
	assert_non_null(s->bounce_va);
	memset(s->bounce_va, 'x', 60); /* the device writes 60 bytes */
	finish(&r, 0, 60);
	assert_int_equal(drv_test(q, &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.result, 60);
	assert_true(r.complete_ns >= r.submit_ns);
	assert_int_equal(data[59], 'x');
	assert_int_equal(data[60], 0);
	assert_int_equal(r.priv.state, DRV_REQ_IDLE);
}

static void buffered_write_copies_in(void **state)
{
	(void)state;
	char data[300];
	memset(data, 'w', sizeof(data));
	struct drv_req r;
	drv_prep_write(&r, 4096, data, sizeof(data));
	fake_submit(&r);
	struct drv_slot *s = fake_slot_of(q, &r);
	assert_memory_equal(s->bounce_va, data, sizeof(data));
	assert_int_equal(s->r.offset, 4096);
	assert_int_equal(s->r.len, 300);
	assert_int_equal(s->r.nseg, 1);
	finish(&r, 0, 300);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.result, 300);
}

static void control_input_and_output(void **state)
{
	(void)state;
	char in[10] = "ping", out[32] = { 0 };
	struct drv_req r;
	drv_prep_control(&r, 2, in, sizeof(in), out, sizeof(out));
	fake_submit(&r);
	struct drv_slot *s = fake_slot_of(q, &r);
	assert_int_equal(s->r.in.len, sizeof(in));
	assert_int_equal(s->r.code, 2);
	char *in_va = (char *)q->bounce.va + (s->r.in.bus - drv_buf_bus(&q->bounce));
	assert_string_equal(in_va, "ping");
	strcpy(s->bounce_va, "pong");
	finish(&r, 0, 12345); /* a control result is a value, not a length */
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.result, 12345);
	assert_string_equal(out, "pong");
}

static void failure_does_not_copy_out(void **state)
{
	(void)state;
	char data[16] = "keep";
	struct drv_req r;
	drv_prep_read(&r, 0, data, sizeof(data));
	fake_submit(&r);
	memset(fake_slot_of(q, &r)->bounce_va, 'z', sizeof(data));
	finish(&r, -ERANGE, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, -ERANGE);
	assert_string_equal(data, "keep");
}

static void reap_delivers_once_in_completion_order(void **state)
{
	(void)state;
	struct drv_req r[3];
	for (int i = 0; i < 3; i++) {
		drv_prep_nop(&r[i]);
		fake_submit(&r[i]);
	}
	finish(&r[2], 0, 0);
	finish(&r[0], 0, 0);
	struct drv_req *out[8];
	assert_int_equal(drv_reap(q, out, 8, 2, -1), 2);
	assert_ptr_equal(out[0], &r[2]);
	assert_ptr_equal(out[1], &r[0]);
	assert_int_equal(drv_reap(q, out, 8, 0, 0), 0);
	/* Waiting on a delivered request returns at once and delivers nothing new. */
	assert_int_equal(drv_wait(q, &r[2], 0), 0);
	finish(&r[1], 0, 0);
	assert_int_equal(drv_wait(q, &r[1], -1), 0);
	assert_int_equal(drv_reap(q, out, 8, 0, 0), 0);
}

static void wait_any_and_all(void **state)
{
	(void)state;
	struct drv_req r[3];
	struct drv_req *set[3];
	for (int i = 0; i < 3; i++) {
		drv_prep_nop(&r[i]);
		set[i] = &r[i];
		fake_submit(&r[i]);
	}
	assert_int_equal(drv_wait_any(q, set, 3, 0), -ETIMEDOUT);
	assert_int_equal(drv_wait_all(q, set, 3, 1000000), -ETIMEDOUT);
	finish(&r[1], 0, 0);
	assert_int_equal(drv_wait_any(q, set, 3, -1), 1);
	assert_int_equal(drv_wait_all(q, set, 3, 0), -ETIMEDOUT);
	finish(&r[0], 0, 0);
	finish(&r[2], 0, 0);
	assert_int_equal(drv_wait_all(q, set, 3, -1), 0);
	struct drv_req *out[4];
	assert_int_equal(drv_reap(q, out, 4, 0, 0), 0);
	assert_int_equal(q->ndone, 0);
}

static void resubmit_before_delivery_leaves_the_done_list(void **state)
{
	(void)state;
	struct drv_req r;
	drv_prep_nop(&r);
	fake_submit(&r);
	finish(&r, 0, 0);
	assert_int_equal(drv_reap(q, NULL, 0, 0, 0), 0); /* processes, delivers nothing */
	assert_int_equal(r.priv.state, DRV_REQ_DONE);
	assert_int_equal(q->ndone, 1);
	fake_submit(&r);
	assert_int_equal(q->ndone, 0);
	struct drv_req *rp = &r;
	assert_int_equal(drv_submit(q, &rp, 1), -EBUSY); /* pending: refused */
	finish(&r, 0, 0);
	struct drv_req *out[2];
	assert_int_equal(drv_reap(q, out, 2, 1, -1), 1);
	assert_ptr_equal(out[0], &r);
}

static int cb_calls;
static struct drv_req *cb_resubmit;

static void on_done(struct drv_req *r, void *user)
{
	assert_ptr_equal(user, &cb_calls);
	assert_int_equal(r->priv.state, DRV_REQ_IDLE);
	cb_calls++;
	if (cb_resubmit == r) {
		cb_resubmit = NULL;
		fake_submit(r); /* runs without the queue lock: may submit */
	}
}

static void callbacks_run_once_and_may_resubmit(void **state)
{
	(void)state;
	struct drv_req r;
	drv_prep_nop(&r);
	r.cb = on_done;
	r.user_data = &cb_calls;
	cb_calls = 0;
	cb_resubmit = &r;
	fake_submit(&r);
	finish(&r, 0, 0);
	struct drv_req *out[2];
	assert_int_equal(drv_reap(q, out, 2, 0, 0), 0); /* callbacks never reach reap */
	assert_int_equal(cb_calls, 1);
	assert_int_equal(r.priv.state, DRV_REQ_PENDING);
	finish(&r, 0, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(cb_calls, 2);
	assert_int_equal(drv_reap(q, out, 2, 0, 0), 0);
}

static void stats_count(void **state)
{
	(void)state;
	struct drv_req r;
	drv_prep_nop(&r);
	fake_submit(&r);
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.submitted, 1);
	assert_int_equal(st.in_flight, 1);
	assert_int_equal(st.kicks, 1);
	finish(&r, 0, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.in_flight, 0);
}

int main(void)
{
#define T(f) FAKE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(buffered_read_copies_out),
		T(buffered_write_copies_in),
		T(control_input_and_output),
		T(failure_does_not_copy_out),
		T(reap_delivers_once_in_completion_order),
		T(wait_any_and_all),
		T(resubmit_before_delivery_leaves_the_done_list),
		T(callbacks_run_once_and_may_resubmit),
		T(stats_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
