/* SPDX-License-Identifier: MIT */
/* Interrupt kind choice: MSI-X before MSI before INTx, vectors capped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bus/irq_choice.h"

static struct drv_irq_pick pick(unsigned msix, unsigned msi, unsigned intx, unsigned wanted)
{
	struct drv_irq_avail a = { msix, msi, intx };
	return drvi_irq_choose(&a, wanted);
}

static void test_order(void **state)
{
	(void)state;
	assert_int_equal(pick(8, 1, 1, 4).mode, DRV_IRQ_MSIX);
	assert_int_equal(pick(8, 1, 1, 4).vectors, 4);
	assert_int_equal(pick(0, 1, 1, 4).mode, DRV_IRQ_MSI); /* edu */
	assert_int_equal(pick(0, 1, 1, 4).vectors, 1);
	assert_int_equal(pick(0, 0, 1, 4).mode, DRV_IRQ_INTX);
	assert_int_equal(pick(0, 0, 1, 4).vectors, 1);
}

static void test_counts_zero(void **state)
{
	(void)state;
	assert_int_equal(pick(0, 0, 0, 4).mode, DRV_IRQ_NONE);
	assert_int_equal(pick(0, 0, 0, 4).vectors, 0);
	assert_int_equal(pick(4, 4, 1, 0).mode, DRV_IRQ_NONE);
	assert_int_equal(pick(4, 4, 1, 0).vectors, 0);
}

static void test_fewer_available_than_wanted(void **state)
{
	(void)state;
	assert_int_equal(pick(2, 0, 0, 16).vectors, 2);
	assert_int_equal(pick(0, 8, 1, 3).vectors, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_counts_zero),
		cmocka_unit_test(test_fewer_available_than_wanted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
