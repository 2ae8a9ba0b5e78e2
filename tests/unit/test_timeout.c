/* SPDX-License-Identifier: MIT */
/*
 * Getting requests back early: deadlines and quarantine, cancellation,
 * a device that disappears, and several threads waiting on one queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>

#include "fake_fixture.h"

#define MS 1000000ll

static void deadline_quarantines_until_the_device_answers(void **state)
{
	(void)state;
	char data[32] = "before";
	struct drv_req r;
	drv_prep_read(&r, 0, data, sizeof(data));
	r.timeout_ns = 5 * MS;
	fake_submit(&r);
	struct drv_slot *s = fake_slot_of(q, &r);
	uint32_t tag = s->r.tag;
	size_t bounce_off = s->bounce_off;
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, -ETIMEDOUT);
	assert_true(r.complete_ns - r.submit_ns >= 5 * MS);
	assert_int_equal(fake.naborted, 1);
	assert_int_equal(fake.aborted[0], tag);
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.quarantined, 1);
	assert_int_equal(st.in_flight, 0);
	/* The slot and its bounce memory are not handed out while quarantined. */
	struct drv_req others[7];
	for (int i = 0; i < 7; i++) {
		drv_prep_read(&others[i], 0, data, sizeof(data));
		fake_submit(&others[i]);
		assert_int_not_equal(fake_slot_of(q, &others[i]), s);
		assert_int_not_equal(fake_slot_of(q, &others[i])->bounce_off, bounce_off);
	}
	struct drv_req *rp = &r;
	assert_int_equal(drv_submit(q, &rp, 1), -EAGAIN);
	/* The late answer frees the slot without touching the caller's memory. */
	memset(s->bounce_va, 'L', sizeof(data));
	fake_complete(tag, 0, sizeof(data));
	struct drv_req *out[8];
	assert_int_equal(drv_reap(q, out, 8, 0, 0), 0);
	assert_string_equal(data, "before");
	drv_queue_stats(q, &st);
	assert_int_equal(st.quarantined, 0);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	/* Closing fails what is still pending while the requests are in scope. */
	fake_close(dev);
	dev = NULL;
	assert_int_equal(r.status, -ECANCELED);
	assert_int_equal(others[6].status, -ECANCELED);
}

static void cancel_completes_as_the_device_says(void **state)
{
	(void)state;
	struct drv_req a, b;
	drv_prep_nop(&a);
	drv_prep_nop(&b);
	fake_submit(&a);
	fake_submit(&b);
	assert_int_equal(drv_cancel(q, &a), 0);
	assert_int_equal(drv_cancel(q, &a), 0); /* once is enough: no second abort */
	assert_int_equal(fake.naborted, 1);
	assert_int_equal(fake.aborted[0], fake_slot_of(q, &a)->r.tag);
	fake_complete(fake_slot_of(q, &a)->r.tag, -ECANCELED, 0);
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, -ECANCELED);
	assert_int_equal(drv_cancel(q, &a), -ENOENT); /* no longer pending */
	/* The device finished b before the abort reached it. */
	assert_int_equal(drv_cancel_all(q), 1);
	fake_complete(fake_slot_of(q, &b)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &b, -1), 0);
	assert_int_equal(b.status, 0);
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.cancelled, 1);
}

/*
 * A driver with no room for an abort now (-EAGAIN) gets it again after the
 * next reap; a slot that completes meanwhile is not aborted late.
 */
static void refused_aborts_are_sent_again(void **state)
{
	(void)state;
	struct drv_req a, b;
	drv_prep_nop(&a);
	drv_prep_nop(&b);
	fake_submit(&a);
	fake_submit(&b);
	fake.abort_full = 3;
	assert_int_equal(drv_cancel_all(q), 2);
	assert_int_equal(fake.naborted, 0);
	fake_complete(fake_slot_of(q, &b)->r.tag, 0, 0); /* b finishes before its abort goes */
	assert_int_equal(drv_test(q, &b), 0);
	assert_int_equal(b.status, 0);
	assert_int_equal(fake.naborted, 0); /* the third refusal */
	assert_int_equal(drv_test(q, &a), -EINPROGRESS);
	assert_int_equal(fake.naborted, 1);
	assert_int_equal(fake.aborted[0], fake_slot_of(q, &a)->r.tag);
	fake_complete(fake_slot_of(q, &a)->r.tag, -ECANCELED, 0);
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, -ECANCELED);
	assert_int_equal(q->aborts_deferred, 0);
}

/*
 * With every slot quarantined nothing is in flight, yet drv_reap waits (up
 * to its timeout) for the device to return one, so a submit loop that reaps
 * on -EAGAIN sleeps instead of spinning.
 */
static void reap_waits_while_every_slot_is_quarantined(void **state)
{
	(void)state;
	struct drv_req r[8];
	struct drv_req *set[8];
	for (int i = 0; i < 8; i++) {
		drv_prep_nop(&r[i]);
		r[i].timeout_ns = 1 * MS;
		set[i] = &r[i];
	}
	assert_int_equal(drv_submit(q, set, 8), 8);
	uint32_t tag = fake_slot_of(q, &r[3])->r.tag;
	assert_int_equal(drv_wait_all(q, set, 8, -1), 0);
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.quarantined, 8);
	assert_int_equal(drv_submit(q, set, 1), -EAGAIN);
	assert_non_null(strstr(drv_errmsg(), "quarantined"));
	fake.hold_reaps = 5;
	fake_complete(tag, -ECANCELED, 0);
	struct drv_req *out[8];
	assert_int_equal(drv_reap(q, out, 8, 1, 10000 * MS), 0);
	drv_queue_stats(q, &st);
	assert_int_equal(st.quarantined, 7);
	assert_int_equal(fake.hold_reaps, 0);
	assert_int_equal(drv_submit(q, set, 1), 1);
}

/*
 * One processing pass reaps at most 2 * depth completions. The interrupt
 * that announced the rest is spent, so the queue fd must stay readable, or
 * an fd-driven loop (and a sleeping waiter) would never see them.
 */
static void a_full_reap_budget_leaves_the_fd_readable(void **state)
{
	(void)state;
	struct drv_req r[8];
	struct drv_req *set[8];
	for (int i = 0; i < 8; i++) {
		drv_prep_nop(&r[i]);
		set[i] = &r[i];
	}
	assert_int_equal(drv_submit(q, set, 8), 8);
	for (int i = 0; i < 8; i++)
		fake_complete(0xdead0000u + (uint32_t)i, 0, 0); /* stale: consumed, rejected */
	for (int i = 0; i < 8; i++)
		fake_complete(fake_slot_of(q, &r[i])->r.tag, 0, 0);
	struct drv_req *out[8];
	assert_int_equal(drv_reap(q, out, 8, 0, 0), 8); /* 16 consumed: 8 stale, 8 done */
	struct pollfd pfd = { .fd = drv_queue_fd(q), .events = POLLIN };
	assert_int_equal(drv_submit(q, set, 8), 8);
	for (int i = 0; i < 9; i++)
		fake_complete(0xdead0100u + (uint32_t)i, 0, 0);
	for (int i = 0; i < 8; i++)
		fake_complete(fake_slot_of(q, &r[i])->r.tag, 0, 0);
	assert_int_equal(drv_reap(q, out, 8, 0, 0), 7); /* budget spent before the last */
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(drv_reap(q, out, 8, 0, 0), 1);
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.rejected, 8 + 9);
	assert_int_equal(st.in_flight, 0);
}

static void device_gone_fails_everything(void **state)
{
	(void)state;
	struct drv_req r[3];
	for (int i = 0; i < 3; i++) {
		drv_prep_nop(&r[i]);
		fake_submit(&r[i]);
	}
	fake.dead = 1;
	struct drv_req *set[3] = { &r[0], &r[1], &r[2] };
	assert_int_equal(drv_wait_all(q, set, 3, -1), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r[i].status, -ENODEV);
	struct drv_req *rp = &r[0];
	assert_int_equal(drv_submit(q, &rp, 1), -ENODEV);
	struct drv_req *out[4];
	assert_int_equal(drv_reap(q, out, 4, 4, -1), 0); /* nothing can arrive: no hang */
}

static void reap_error_fails_everything(void **state)
{
	(void)state;
	struct drv_req r;
	drv_prep_nop(&r);
	fake_submit(&r);
	fake.reap_error = -EIO;
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, -EIO); /* a fatal error; -ENODEV is for a device gone */
}

struct worker {
	struct drv_req req[4];
	int ok;
};

static void *waiter(void *arg)
{
	struct worker *w = arg;
	struct drv_req *set[4];
	for (int i = 0; i < 4; i++)
		set[i] = &w->req[i];
	w->ok = drv_wait_all(q, set, 4, 30000 * MS) == 0;
	for (int i = 0; i < 4; i++)
		w->ok &= w->req[i].status == 0 && w->req[i].result == (uint64_t)i;
	return NULL;
}

static void threads_share_a_queue(void **state)
{
	(void)state;
	struct worker w[2];
	pthread_t t[2];
	for (int k = 0; k < 2; k++) {
		struct drv_req *set[4];
		for (int i = 0; i < 4; i++) {
			drv_prep_nop(&w[k].req[i]);
			set[i] = &w[k].req[i];
		}
		assert_int_equal(drv_submit(q, set, 4), 4);
		pthread_create(&t[k], NULL, waiter, &w[k]);
	}
	/* Play the device from this thread, in an order that mixes the two sets. */
	for (int i = 3; i >= 0; i--) {
		for (int k = 0; k < 2; k++) {
			pthread_mutex_lock(&q->lock);
			fake_complete(fake_slot_of(q, &w[k].req[i])->r.tag, 0, (uint64_t)i);
			pthread_mutex_unlock(&q->lock);
		}
	}
	for (int k = 0; k < 2; k++) {
		pthread_join(t[k], NULL);
		assert_true(w[k].ok);
	}
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.completed, 8);
	assert_int_equal(st.rejected, 0);
}

int main(void)
{
#define T(f) FAKE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(deadline_quarantines_until_the_device_answers),
		T(cancel_completes_as_the_device_says),
		T(refused_aborts_are_sent_again),
		T(reap_waits_while_every_slot_is_quarantined),
		T(a_full_reap_budget_leaves_the_fd_readable),
		T(device_gone_fails_everything),
		T(reap_error_fails_everything),
		T(threads_share_a_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
