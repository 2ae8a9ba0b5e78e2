/* SPDX-License-Identifier: MIT */
/*
 * The per-test fixture of the request-path tests on the fake device: a
 * device with a 4 MiB DMA pool and one polled queue of depth 8, opened
 * before each test and closed after it. A test that closes the device
 * itself sets dev to NULL. Include after cmocka.h.
 */
#ifndef FAKE_FIXTURE_H
#define FAKE_FIXTURE_H

#include "fake_dev.h"

static drv_dev *dev;
static drv_queue *q;

static int fake_fixture_setup(void **state)
{
	(void)state;
	dev = fake_open(4 << 20);
	q = fake_queue(dev, 8);
	return dev && q ? 0 : -1;
}

static int fake_fixture_teardown(void **state)
{
	(void)state;
	if (dev)
		fake_close(dev);
	dev = NULL;
	q = NULL;
	return 0;
}

#define FAKE_TEST(f) cmocka_unit_test_setup_teardown(f, fake_fixture_setup, fake_fixture_teardown)

/* Submits r alone on the fixture's queue and checks the queue took it. */
static FAKE_UNUSED void fake_submit(struct drv_req *r)
{
	struct drv_req *rp = r;
	assert_int_equal(drv_submit(q, &rp, 1), 1);
}

#endif
