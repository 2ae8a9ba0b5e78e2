/* SPDX-License-Identifier: MIT */
/*
 * The edu driver against a mocked device: BAR0 is a plain array, the
 * interrupt is an eventfd, and the test plays the device by looking at what
 * the driver wrote into the registers (see play()). Checks the sequencing
 * (one operation on the device at a time, the next started by each
 * completion, FIFO order), the limit errors, cancellation and the
 * factorial / raise / WAIT_EVENT paths, with interrupts and polled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "dev/devdrv.h"
#include "edu/edu_regs.h"
#include "drv/edu.h"
#include "drv/driver.h"
#include "queue/queue.h"

#define BAR_LEN (1u << 20)
#define WAIT_NS (10ll * 1000 * 1000 * 1000)
/* An edu status bit the device never uses: the mock's "factorial consumed" marker. */
#define MOCK_FACT_IDLE 0x40u

struct mock {
	uint8_t *bar;
	uint8_t edu_buf[EDU_BUF_SIZE];
	uint16_t pci_command;
	int irq_fd;
	enum drv_irq_mode irq_mode;
	uint64_t dma_base; /* bus address of the DMA region's first byte */
	void *dma_va;
	size_t dma_len;
};

static struct mock *mock_of(drv_dev *dev)
{
	return dev->bus_priv;
}

static uint32_t reg(struct mock *m, unsigned off)
{
	uint32_t v;
	memcpy(&v, m->bar + off, sizeof(v));
	return v;
}

static void set_reg(struct mock *m, unsigned off, uint32_t v)
{
	memcpy(m->bar + off, &v, sizeof(v));
}

/* ---- The fake bus ---------------------------------------------------------- */

static int mock_open(drv_dev *dev, const char *addr, const struct drv_open_opts *opts)
{
	(void)dev;
	(void)addr;
	(void)opts;
	return 0;
}

static void mock_close(drv_dev *dev)
{
	(void)dev;
}

static int mock_map_region(drv_dev *dev, unsigned idx, volatile void **va, size_t *len)
{
	assert_int_equal(idx, 0);
	*va = mock_of(dev)->bar;
	*len = BAR_LEN;
	return 0;
}

static int mock_irq_setup(drv_dev *dev, unsigned wanted, enum drv_irq_mode *mode)
{
	assert_int_equal(wanted, 1);
	*mode = mock_of(dev)->irq_mode;
	return *mode == DRV_IRQ_NONE ? 0 : 1;
}

static int mock_irq_fd(drv_dev *dev, unsigned vector)
{
	assert_int_equal(vector, 0);
	return mock_of(dev)->irq_mode == DRV_IRQ_NONE ? -1 : mock_of(dev)->irq_fd;
}

static void mock_irq_ack(drv_dev *dev, unsigned vector)
{
	(void)vector;
	eventfd_t v;
	eventfd_read(mock_of(dev)->irq_fd, &v);
}

static int mock_dma_map(drv_dev *dev, size_t len, struct drv_dma_region *out)
{
	struct mock *m = mock_of(dev);
	assert_null(m->dma_va); /* the tests fit in one region */
	m->dma_va = aligned_alloc(4096, len);
	assert_non_null(m->dma_va);
	memset(m->dma_va, 0, len);
	m->dma_len = len;
	*out = (struct drv_dma_region){
		.va = m->dma_va, .len = len, .contig = len, .bus = m->dma_base
	};
	return 0;
}

static void mock_dma_unmap(drv_dev *dev, struct drv_dma_region *r)
{
	(void)r;
	free(mock_of(dev)->dma_va);
	mock_of(dev)->dma_va = NULL;
}

static int mock_config_read(drv_dev *dev, unsigned off, void *data, size_t len)
{
	assert_int_equal(off, 4);
	assert_int_equal(len, 2);
	memcpy(data, &mock_of(dev)->pci_command, 2);
	return 0;
}

static int mock_config_write(drv_dev *dev, unsigned off, const void *data, size_t len)
{
	assert_int_equal(off, 4);
	assert_int_equal(len, 2);
	memcpy(&mock_of(dev)->pci_command, data, 2);
	return 0;
}

static const struct drv_bus_ops mock_bus = {
	.name = "mock",
	.open = mock_open,
	.close = mock_close,
	.map_region = mock_map_region,
	.irq_setup = mock_irq_setup,
	.irq_fd = mock_irq_fd,
	.irq_ack = mock_irq_ack,
	.dma_map = mock_dma_map,
	.dma_unmap = mock_dma_unmap,
	.config_read = mock_config_read,
	.config_write = mock_config_write,
};

/* ---- Playing the device ------------------------------------------------------ */

static uint8_t *host_mem(struct mock *m, uint32_t bus, uint32_t len)
{
	assert_true(bus >= m->dma_base && bus + len <= m->dma_base + m->dma_len);
	return (uint8_t *)m->dma_va + (bus - m->dma_base);
}

static void interrupt(struct mock *m, uint32_t bits)
{
	set_reg(m, EDU_REG_IRQ_STATUS, reg(m, EDU_REG_IRQ_STATUS) | bits);
	eventfd_write(m->irq_fd, 1);
}

/*
 * A plain array cannot clear IRQ_STATUS when the driver writes IRQ_ACK, so
 * the mock applies acknowledgements before each call that lets the driver
 * look at the device again.
 */
static void apply_acks(struct mock *m)
{
	uint32_t ack = reg(m, EDU_REG_IRQ_ACK);
	set_reg(m, EDU_REG_IRQ_STATUS, reg(m, EDU_REG_IRQ_STATUS) & ~ack);
	set_reg(m, EDU_REG_IRQ_ACK, 0);
}

enum played { PLAYED_NOTHING, PLAYED_DMA, PLAYED_FACT, PLAYED_RAISE };

/* Finishes whatever the driver started on the device. */
static enum played play(struct mock *m)
{
	apply_acks(m);
	uint32_t cmd = reg(m, EDU_REG_DMA_CMD);
	if (cmd & EDU_DMA_RUN) {
		uint32_t src = reg(m, EDU_REG_DMA_SRC), dst = reg(m, EDU_REG_DMA_DST);
		uint32_t cnt = reg(m, EDU_REG_DMA_COUNT);
		if (cmd & EDU_DMA_TO_RAM) {
			assert_true(src >= EDU_BUF_ADDR && src + cnt < EDU_BUF_ADDR + EDU_BUF_SIZE);
			memcpy(host_mem(m, dst, cnt), m->edu_buf + (src - EDU_BUF_ADDR), cnt);
		} else {
			assert_true(dst >= EDU_BUF_ADDR && dst + cnt < EDU_BUF_ADDR + EDU_BUF_SIZE);
			memcpy(m->edu_buf + (dst - EDU_BUF_ADDR), host_mem(m, src, cnt), cnt);
		}
		set_reg(m, EDU_REG_DMA_CMD, cmd & ~EDU_DMA_RUN);
		if (cmd & EDU_DMA_IRQ)
			interrupt(m, EDU_IRQ_DMA);
		return PLAYED_DMA;
	}
	uint32_t status = reg(m, EDU_REG_STATUS);
	if (!(status & MOCK_FACT_IDLE)) {
		uint32_t n = reg(m, EDU_REG_FACTORIAL), f = 1;
		while (n > 0)
			f *= n--;
		set_reg(m, EDU_REG_FACTORIAL, f);
		set_reg(m, EDU_REG_STATUS, status | MOCK_FACT_IDLE);
		if (status & EDU_STATUS_IRQFACT)
			interrupt(m, EDU_IRQ_FACT);
		return PLAYED_FACT;
	}
	uint32_t raised = reg(m, EDU_REG_IRQ_RAISE);
	if (raised) {
		set_reg(m, EDU_REG_IRQ_RAISE, 0);
		interrupt(m, raised);
		return PLAYED_RAISE;
	}
	return PLAYED_NOTHING;
}

/* ---- Fixture ----------------------------------------------------------------- */

struct fx {
	struct mock m;
	drv_dev dev;
	drv_queue *q;
	drv_buf *buf[4];
};

static int open_mock(struct fx *f, enum drv_irq_mode mode, uint64_t dma_base)
{
	memset(f, 0, sizeof(*f));
	f->m.bar = calloc(1, BAR_LEN);
	assert_non_null(f->m.bar);
	f->m.irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->m.irq_fd >= 0);
	f->m.irq_mode = mode;
	f->m.dma_base = dma_base;
	f->m.pci_command = 0x0103;
	set_reg(&f->m, EDU_REG_ID, EDU_ID_VALUE);
	f->dev.bus = &mock_bus;
	f->dev.bus_priv = &f->m;
	f->dev.ops = &edu_driver;
	strcpy(f->dev.info.driver, "edu");
	pthread_mutex_init(&f->dev.lock, NULL);
	assert_int_equal(drvi_dma_pool_init(&f->dev.dma, &f->dev, 8u << 20), 0);
	return f->dev.ops->probe(&f->dev);
}

static void start_queue(struct fx *f, enum drv_cmode cmode)
{
	struct drv_queue_opts o = { .depth = 16, .cmode = cmode };
	assert_int_equal(drv_queue_create(&f->dev, &o, &f->q), 0);
	set_reg(&f->m, EDU_REG_STATUS, MOCK_FACT_IDLE);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(drv_buf_alloc(&f->dev, 4096, &f->buf[i]), 0);
}

static void close_mock(struct fx *f)
{
	for (unsigned i = 0; i < 4; i++)
		drv_buf_free(f->buf[i]);
	if (f->q)
		assert_int_equal(drv_queue_destroy(f->q), 0);
	if (f->dev.drv_priv)
		f->dev.ops->remove(&f->dev);
	drvi_dma_pool_fini(&f->dev.dma);
	pthread_mutex_destroy(&f->dev.lock);
	close(f->m.irq_fd);
	free(f->m.bar);
}

static int setup_irq(void **state)
{
	struct fx *f = malloc(sizeof(*f));
	assert_int_equal(open_mock(f, DRV_IRQ_MSI, 0x100000), 0);
	start_queue(f, DRV_CMODE_IRQ);
	*state = f;
	return 0;
}

static int setup_poll(void **state)
{
	struct fx *f = malloc(sizeof(*f));
	assert_int_equal(open_mock(f, DRV_IRQ_NONE, 0x100000), 0);
	start_queue(f, DRV_CMODE_POLL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close_mock(f);
	free(f);
	return 0;
}

static int wait_req(struct fx *f, struct drv_req *r, int64_t timeout_ns)
{
	apply_acks(&f->m);
	int err = drv_wait(f->q, r, timeout_ns);
	apply_acks(&f->m);
	return err;
}

static int test_req(struct fx *f, struct drv_req *r)
{
	apply_acks(&f->m);
	return drv_test(f->q, r);
}

static void submit1(struct fx *f, struct drv_req *r)
{
	struct drv_req *one[1] = { r };
	assert_int_equal(drv_submit(f->q, one, 1), 1);
}

/* ---- Tests ------------------------------------------------------------------- */

static void test_probe(void **state)
{
	struct fx *f = *state;
	struct drv_info info;
	assert_int_equal(drv_info(&f->dev, &info), 0);
	assert_string_equal(info.driver, "edu");
	assert_int_equal(info.hw_version, 0x0100);
	assert_int_equal(info.capacity, EDU_CAPACITY);
	assert_int_equal(info.max_transfer, 4095);
	assert_int_equal(info.max_sg, 1);
	assert_int_equal(info.max_queues, 1);
	assert_int_equal(info.irq_mode, DRV_IRQ_MSI);
	assert_true(info.features & DRV_FEAT_EVENTS);
	assert_false(info.features & DRV_FEAT_SGL);
	assert_int_equal(f->m.pci_command & 0x4, 0x4); /* bus mastering turned on */
	/* The driver's id and DMA limit are what drv_open matches and builds the pool with. */
	assert_string_equal(drvi_driver_name_for(EDU_VENDOR_ID, EDU_DEVICE_ID, 0x00ff00), "edu");
	assert_int_equal(edu_driver.dma_mask, EDU_DMA_MASK);
	assert_null(drvi_driver_name_for(EDU_VENDOR_ID, EDU_DEVICE_ID + 1, 0x00ff00));

	drv_queue *second;
	assert_int_equal(drv_queue_create(&f->dev, NULL, &second), -EBUSY);
	assert_non_null(strstr(drv_errmsg(), "this edu has 1 queue(s), all in use"));
}

static void test_bad_identity(void **state)
{
	(void)state;
	struct fx f;
	memset(&f, 0, sizeof(f));
	f.m.bar = calloc(1, BAR_LEN);
	f.m.irq_fd = eventfd(0, EFD_CLOEXEC);
	f.m.dma_base = 0x100000;
	set_reg(&f.m, EDU_REG_ID, 0xffffffffu);
	f.dev.bus = &mock_bus;
	f.dev.bus_priv = &f.m;
	f.dev.ops = &edu_driver;
	pthread_mutex_init(&f.dev.lock, NULL);
	assert_int_equal(drvi_dma_pool_init(&f.dev.dma, &f.dev, 1u << 20), 0);
	assert_int_equal(f.dev.ops->probe(&f.dev), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "0xffffffff"));
	assert_null(f.dev.drv_priv);
	close_mock(&f);
}

/* Several transfers: one on the device at a time, each completion starts the next. */
static void test_one_at_a_time_in_order(void **state)
{
	struct fx *f = *state;
	struct drv_req r[4];
	uint8_t *w = drv_buf_addr(f->buf[0]);
	for (unsigned i = 0; i < 100; i++)
		w[i] = (uint8_t)(i * 7 + 1);
	drv_prep_write_buf(&r[0], 10, f->buf[0], 0, 100);
	drv_prep_read_buf(&r[1], 10, f->buf[1], 0, 100);
	drv_prep_read_buf(&r[2], 60, f->buf[2], 0, 50);
	drv_prep_write_buf(&r[3], 4000, f->buf[3], 0, 95);
	struct drv_req *all[4] = { &r[0], &r[1], &r[2], &r[3] };
	assert_int_equal(drv_submit(f->q, all, 4), 4);

	const uint32_t want_count[4] = { 100, 100, 50, 95 };
	for (unsigned i = 0; i < 4; i++) {
		/* Exactly request i is on the device, the later ones still pending. */
		assert_int_equal(reg(&f->m, EDU_REG_DMA_CMD) & EDU_DMA_RUN, EDU_DMA_RUN);
		assert_int_equal(reg(&f->m, EDU_REG_DMA_COUNT), want_count[i]);
		assert_int_equal(reg(&f->m, EDU_REG_DMA_CMD) & EDU_DMA_IRQ, EDU_DMA_IRQ);
		for (unsigned j = i; j < 4; j++)
			assert_int_equal(test_req(f, &r[j]), -EINPROGRESS);
		assert_int_equal(play(&f->m), PLAYED_DMA);
		assert_int_equal(wait_req(f, &r[i], WAIT_NS), 0);
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].result, want_count[i]);
	}
	assert_int_equal(reg(&f->m, EDU_REG_DMA_CMD) & EDU_DMA_RUN, 0);
	for (unsigned i = 1; i < 4; i++)
		assert_true(r[i].complete_ns >= r[i - 1].complete_ns);
	assert_memory_equal(drv_buf_addr(f->buf[1]), w, 100);
	assert_memory_equal(drv_buf_addr(f->buf[2]), w + 50, 50);
	assert_int_equal(reg(&f->m, EDU_REG_IRQ_STATUS), 0); /* every interrupt acknowledged */
}

/* Buffered I/O goes through the bounce area: still one segment. */
static void test_buffered_round_trip(void **state)
{
	struct fx *f = *state;
	uint8_t out[300], in[300];
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(255 - i);
	struct drv_req w, r;
	drv_prep_write(&w, 0, out, sizeof(out));
	drv_prep_read(&r, 0, in, sizeof(in));
	struct drv_req *both[2] = { &w, &r };
	assert_int_equal(drv_submit(f->q, both, 2), 2);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(play(&f->m), PLAYED_NOTHING); /* the read waits for the write */
	assert_int_equal(wait_req(f, &w, WAIT_NS), 0);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(wait_req(f, &r, WAIT_NS), 0);
	assert_int_equal(r.status, 0);
	assert_memory_equal(in, out, sizeof(out));
}

static void expect_refused(struct fx *f, struct drv_req *r, int err, const char *words)
{
	submit1(f, r);
	assert_int_equal(wait_req(f, r, WAIT_NS), 0);
	assert_int_equal(r->status, err);
	if (words)
		assert_non_null(strstr(drv_errmsg(), words));
	assert_int_equal(reg(&f->m, EDU_REG_DMA_CMD), 0); /* nothing reached the device */
}

static void test_limits(void **state)
{
	struct fx *f = *state;
	struct drv_req r;
	drv_prep_write_buf(&r, 0, f->buf[0], 0, 4096);
	expect_refused(f, &r, -E2BIG, "4095");
	/* Ranges past the 4095 usable bytes: libdrv checks them for every storage device. */
	drv_prep_read_buf(&r, 1, f->buf[0], 0, 4095);
	expect_refused(f, &r, -ERANGE, "past the device's 4095 bytes");
	drv_prep_read_buf(&r, 4095, f->buf[0], 0, 1);
	expect_refused(f, &r, -ERANGE, "past the device's 4095 bytes");
	drv_prep_read_buf(&r, UINT64_MAX, f->buf[0], 0, 1);
	expect_refused(f, &r, -ERANGE, "past the device's 4095 bytes");
	struct drv_sge sgl[2] = { { f->buf[0], 0, 8 }, { f->buf[1], 0, 8 } };
	drv_prep_rw_sgl(&r, DRV_OP_WRITE, 0, sgl, 2);
	expect_refused(f, &r, -E2BIG, "at most 1");

	drv_prep_control(&r, 99, NULL, 0, NULL, 0);
	expect_refused(f, &r, -EOPNOTSUPP, "no control code 99");
	drv_prep_control(&r, EDU_CTL_FACTORIAL, NULL, 0, NULL, 0);
	r.arg[0] = 1ull << 32;
	expect_refused(f, &r, -EINVAL, "32-bit");
	const uint64_t bad_raise[] = { 0, EDU_IRQ_DMA, EDU_IRQ_FACT | 0x10, 1ull << 33 };
	for (unsigned i = 0; i < sizeof(bad_raise) / sizeof(bad_raise[0]); i++) {
		drv_prep_control(&r, EDU_CTL_RAISE, NULL, 0, NULL, 0);
		r.arg[0] = bad_raise[i];
		expect_refused(f, &r, -EINVAL, "RAISE value");
	}
	assert_int_equal(reg(&f->m, EDU_REG_IRQ_RAISE), 0);
	uint16_t small;
	drv_prep_wait_event(&r, &small, sizeof(small));
	expect_refused(f, &r, -EINVAL, "at least 4 bytes");

	/* The largest legal transfer goes through. */
	drv_prep_write_buf(&r, 0, f->buf[0], 0, 4095);
	submit1(f, &r);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(wait_req(f, &r, WAIT_NS), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.result, 4095);
}

/* A bus that hands out memory above 256 MiB: the driver refuses to let edu mask it. */
static void test_address_above_28_bits(void **state)
{
	(void)state;
	struct fx f;
	assert_int_equal(open_mock(&f, DRV_IRQ_MSI, 1ull << 28), 0);
	start_queue(&f, DRV_CMODE_IRQ);
	struct drv_req r;
	drv_prep_read_buf(&r, 0, f.buf[0], 0, 16);
	expect_refused(&f, &r, -EINVAL, "below 256 MiB");
	uint8_t data[16] = { 0 };
	drv_prep_write(&r, 0, data, sizeof(data));
	expect_refused(&f, &r, -EINVAL, "below 256 MiB");
	close_mock(&f);
}

static void test_cancel_queued_and_running(void **state)
{
	struct fx *f = *state;
	struct drv_req r[3];
	for (unsigned i = 0; i < 3; i++)
		drv_prep_write_buf(&r[i], 0, f->buf[i], 0, 64 + i);
	struct drv_req *all[3] = { &r[0], &r[1], &r[2] };
	assert_int_equal(drv_submit(f->q, all, 3), 3);

	/* Queued in the driver: gone at once, never reaches the device. */
	assert_int_equal(drv_cancel(f->q, &r[1]), 0);
	assert_int_equal(test_req(f, &r[1]), 0);
	assert_int_equal(r[1].status, -ECANCELED);
	/* Running: edu cannot stop it; it finishes with its real result. */
	assert_int_equal(drv_cancel(f->q, &r[0]), 0);
	assert_int_equal(test_req(f, &r[0]), -EINPROGRESS);
	assert_int_equal(reg(&f->m, EDU_REG_DMA_COUNT), 64);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(wait_req(f, &r[0], WAIT_NS), 0);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].result, 64);
	/* The next one started is r[2], skipping the cancelled r[1]. */
	assert_int_equal(reg(&f->m, EDU_REG_DMA_COUNT), 66);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(wait_req(f, &r[2], WAIT_NS), 0);
	assert_int_equal(r[2].status, 0);

	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(f->q, &st), 0);
	assert_int_equal(st.cancelled, 1);
	assert_int_equal(st.in_flight, 0);
}

static void test_factorial_and_instant_ops_keep_order(void **state)
{
	struct fx *f = *state;
	struct drv_req fact5, id, fact12, nop;
	drv_prep_control(&fact5, EDU_CTL_FACTORIAL, NULL, 0, NULL, 0);
	fact5.arg[0] = 5;
	drv_prep_control(&id, EDU_CTL_IDENTITY, NULL, 0, NULL, 0);
	drv_prep_control(&fact12, EDU_CTL_FACTORIAL, NULL, 0, NULL, 0);
	fact12.arg[0] = 13;
	drv_prep_nop(&nop);
	struct drv_req *all[4] = { &fact5, &id, &fact12, &nop };
	assert_int_equal(drv_submit(f->q, all, 4), 4);

	assert_int_equal(reg(&f->m, EDU_REG_STATUS), EDU_STATUS_IRQFACT);
	assert_int_equal(reg(&f->m, EDU_REG_FACTORIAL), 5);
	/* The identity request waits its turn behind the running factorial. */
	assert_int_equal(wait_req(f, &id, 0), -ETIMEDOUT);
	assert_int_equal(play(&f->m), PLAYED_FACT);
	assert_int_equal(wait_req(f, &id, WAIT_NS), 0);
	assert_int_equal(fact5.status, 0);
	assert_int_equal(fact5.result, 120);
	assert_int_equal(id.result, EDU_IDENTITY);
	assert_int_equal(reg(&f->m, EDU_REG_FACTORIAL), 13);
	assert_int_equal(play(&f->m), PLAYED_FACT);
	assert_int_equal(wait_req(f, &nop, WAIT_NS), 0);
	assert_int_equal(fact12.result, 1932053504u); /* 13! modulo 2^32 */
	assert_int_equal(nop.status, 0);
}

static void test_raise_completes_wait_event(void **state)
{
	struct fx *f = *state;
	uint32_t value = 0;
	struct drv_req ev, raise;
	drv_prep_wait_event(&ev, &value, sizeof(value));
	submit1(f, &ev);
	assert_int_equal(wait_req(f, &ev, 0), -ETIMEDOUT);
	drv_prep_control(&raise, EDU_CTL_RAISE, NULL, 0, NULL, 0);
	raise.arg[0] = 0x5a000;
	submit1(f, &raise);
	assert_int_equal(wait_req(f, &raise, WAIT_NS), 0);
	assert_int_equal(raise.status, 0);
	assert_int_equal(reg(&f->m, EDU_REG_IRQ_RAISE), 0x5a000);
	assert_int_equal(test_req(f, &ev), -EINPROGRESS);
	assert_int_equal(play(&f->m), PLAYED_RAISE);
	assert_int_equal(wait_req(f, &ev, WAIT_NS), 0);
	assert_int_equal(ev.status, 0);
	assert_int_equal(ev.result, sizeof(uint32_t));
	assert_int_equal(value, 0x5a000);
	assert_int_equal(reg(&f->m, EDU_REG_IRQ_STATUS), 0);

	/* An event raised with nobody waiting is kept for the next WAIT_EVENT. */
	interrupt(&f->m, 0x2000);
	struct drv_req nop;
	drv_prep_nop(&nop);
	submit1(f, &nop);
	assert_int_equal(wait_req(f, &nop, WAIT_NS), 0);
	drv_prep_wait_event(&ev, &value, sizeof(value));
	submit1(f, &ev);
	assert_int_equal(wait_req(f, &ev, WAIT_NS), 0);
	assert_int_equal(value, 0x2000);

	/* A parked WAIT_EVENT can be cancelled. */
	drv_prep_wait_event(&ev, &value, sizeof(value));
	submit1(f, &ev);
	assert_int_equal(drv_cancel(f->q, &ev), 0);
	assert_int_equal(wait_req(f, &ev, WAIT_NS), 0);
	assert_int_equal(ev.status, -ECANCELED);
}

/* Without interrupts the driver asks for none and watches the busy bits. */
static void test_polled(void **state)
{
	struct fx *f = *state;
	assert_int_equal(f->dev.info.irq_mode, DRV_IRQ_NONE);
	struct drv_req r[2];
	drv_prep_write_buf(&r[0], 0, f->buf[0], 0, 32);
	drv_prep_read_buf(&r[1], 0, f->buf[1], 0, 32);
	struct drv_req *both[2] = { &r[0], &r[1] };
	assert_int_equal(drv_submit(f->q, both, 2), 2);
	assert_int_equal(reg(&f->m, EDU_REG_DMA_CMD) & EDU_DMA_IRQ, 0);
	assert_int_equal(wait_req(f, &r[0], 0), -ETIMEDOUT);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(wait_req(f, &r[0], WAIT_NS), 0);
	assert_int_equal(reg(&f->m, EDU_REG_DMA_CMD), EDU_DMA_RUN | EDU_DMA_TO_RAM);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(wait_req(f, &r[1], WAIT_NS), 0);
	assert_int_equal(r[1].status, 0);
	assert_int_equal(reg(&f->m, EDU_REG_IRQ_STATUS), 0);
}

/* Destroying the queue cancels what waits in the driver's FIFO. */
static void test_destroy_with_queued_requests(void **state)
{
	struct fx *f = *state;
	struct drv_req r[3];
	for (unsigned i = 0; i < 3; i++)
		drv_prep_write_buf(&r[i], 0, f->buf[i], 0, 8);
	struct drv_req *all[3] = { &r[0], &r[1], &r[2] };
	assert_int_equal(drv_submit(f->q, all, 3), 3);
	assert_int_equal(play(&f->m), PLAYED_DMA);
	assert_int_equal(drv_queue_destroy(f->q), 0);
	f->q = NULL;
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[1].status, -ECANCELED);
	assert_int_equal(r[2].status, -ECANCELED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup_irq, teardown),
		cmocka_unit_test(test_bad_identity),
		cmocka_unit_test_setup_teardown(test_one_at_a_time_in_order, setup_irq, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_round_trip, setup_irq, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup_irq, teardown),
		cmocka_unit_test(test_address_above_28_bits),
		cmocka_unit_test_setup_teardown(test_cancel_queued_and_running, setup_irq,
						teardown),
		cmocka_unit_test_setup_teardown(test_factorial_and_instant_ops_keep_order,
						setup_irq, teardown),
		cmocka_unit_test_setup_teardown(test_raise_completes_wait_event, setup_irq,
						teardown),
		cmocka_unit_test_setup_teardown(test_polled, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_with_queued_requests, setup_irq,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
