/* SPDX-License-Identifier: MIT */
/* CONTROL codes (the DeviceIoControl role): arguments in, results out. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "regs.h"

static uint32_t crc_table[256];

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
		crc_table[i] = c;
	}
}

uint32_t dsim_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, crc_table_init);
	const uint8_t *p = buf;
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
	return ~crc;
}

/* The CONTROL input buffer (always contiguous), or NULL for a counted DMA error. */
static const void *control_input(struct dsim_dev *d, const struct dsim_sqe *sqe)
{
	if (!sqe->in_length)
		return "";
	const void *p = dsim_dma_ptr(d, sqe->in_addr, sqe->in_length);
	if (!p)
		dsim_stat_add(d->regs, DSIM_STAT_DMA_ERRORS, 1);
	return p;
}

/* Copies a result struct to the output buffer; result = bytes copied. */
static unsigned control_output(struct dsim_dev *d, const struct dsim_sqe *sqe, const void *src,
			       size_t len, uint32_t *result)
{
	struct dsim_seg segs[DSIM_MAX_SG_ENTRIES];
	unsigned nseg = 0;
	unsigned sc = dsim_dma_resolve(d, sqe, segs, &nseg);
	if (sc == DSIM_SC_SUCCESS)
		*result = (uint32_t)dsim_segs_write(segs, nseg, src, len);
	return sc;
}

static void fill_info(struct dsim_dev *d, struct dsim_info *info)
{
	memset(info, 0, sizeof(*info));
	info->magic = DSIM_MAGIC;
	info->version = DSIM_VERSION;
	info->features = dsim_dev_features(d);
	info->capacity = d->st.capacity;
	info->num_queues = d->cfg.queues;
	info->max_log2_depth = DSIM_MAX_LOG2;
	info->max_transfer = DSIM_MAX_TRANSFER_BYTES;
	info->max_sg = DSIM_MAX_SG_ENTRIES;
	info->num_vectors = d->num_vectors;
	info->max_event_payload = DSIM_EVENT_PAYLOAD_MAX;
	snprintf(info->model, sizeof(info->model), "devsim 1.0 %s", d->st.fd >= 0 ? "file" : "ram");
}

/* FILL and CRC32C walk storage in scratch-sized chunks. */
static unsigned storage_walk(struct dsim_dev *d, const struct dsim_sqe *sqe, bool fill,
			     uint32_t *result)
{
	uint64_t off = sqe->offset, len = sqe->arg[0];
	if (!dsim_storage_range_ok(&d->st, off, len))
		return DSIM_SC_OUT_OF_RANGE;
	if (fill)
		memset(d->scratch, (int)(uint8_t)sqe->arg[1], DSIM_MAX_TRANSFER_BYTES);
	uint32_t crc = 0;
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < DSIM_MAX_TRANSFER_BYTES ? (size_t)(len - done)
								: DSIM_MAX_TRANSFER_BYTES;
		int rc = fill ? dsim_storage_write(&d->st, off + done, d->scratch, n)
			      : dsim_storage_read(&d->st, off + done, d->scratch, n);
		if (rc) {
			dsim_dev_set_fatal(d, DSIM_FATAL_INTERNAL);
			return DSIM_SC_INTERNAL;
		}
		if (!fill)
			crc = dsim_crc32c(crc, d->scratch, n);
		done += n;
	}
	if (fill)
		dsim_stat_add(d->regs, DSIM_STAT_BYTES_WRITTEN, len);
	*result = fill ? (len > UINT32_MAX ? UINT32_MAX : (uint32_t)len) : crc;
	return DSIM_SC_SUCCESS;
}

unsigned dsim_control(struct dsim_dev *d, struct dsim_req *r, uint32_t *result)
{
	const struct dsim_sqe *sqe = &r->sqe;
	*result = 0;
	/* A size check like length's: it does not depend on whether the code reads its input. */
	if (sqe->in_length > DSIM_MAX_TRANSFER_BYTES)
		return DSIM_SC_TOO_LARGE;
	switch (sqe->code) {
	case DSIM_CTL_INFO: {
		struct dsim_info info;
		fill_info(d, &info);
		return control_output(d, sqe, &info, sizeof(info), result);
	}
	case DSIM_CTL_ECHO: {
		const void *in = control_input(d, sqe);
		if (!in)
			return DSIM_SC_DMA_ERROR;
		/* Through scratch: in and out may overlap. */
		memcpy(d->scratch, in, sqe->in_length);
		return control_output(d, sqe, d->scratch, sqe->in_length, result);
	}
	case DSIM_CTL_FILL:
		return storage_walk(d, sqe, true, result);
	case DSIM_CTL_CRC32C:
		return storage_walk(d, sqe, false, result);
	case DSIM_CTL_RAISE_EVENT: {
		if (sqe->in_length > DSIM_EVENT_PAYLOAD_MAX)
			return DSIM_SC_TOO_LARGE;
		const void *in = control_input(d, sqe);
		if (!in)
			return DSIM_SC_DMA_ERROR;
		uint8_t payload[DSIM_EVENT_PAYLOAD_MAX];
		memcpy(payload, in, sqe->in_length);
		dsim_event_raise(d, payload, sqe->in_length);
		*result = sqe->in_length;
		return DSIM_SC_SUCCESS;
	}
	case DSIM_CTL_SET_TIMING: {
		struct dsim_timing t;
		if (sqe->in_length != sizeof(t))
			return DSIM_SC_INVALID_FIELD;
		const void *in = control_input(d, sqe);
		if (!in)
			return DSIM_SC_DMA_ERROR;
		memcpy(&t, in, sizeof(t));
		if (!dsim_timing_valid(&t))
			return DSIM_SC_INVALID_FIELD;
		d->timing = t;
		memset(d->unit_free, 0, sizeof(d->unit_free));
		return DSIM_SC_SUCCESS;
	}
	case DSIM_CTL_GET_STATS: {
		uint64_t stats[DSIM_STAT_COUNT];
		for (unsigned i = 0; i < DSIM_STAT_COUNT; i++)
			stats[i] = dsim_rd64(d->regs, DSIM_REG_STAT(i));
		return control_output(d, sqe, stats, sizeof(stats), result);
	}
	case DSIM_CTL_SET_FAULTS: {
		const char *in = control_input(d, sqe);
		if (!in)
			return DSIM_SC_DMA_ERROR;
		if (sqe->in_length >= DSIM_MAX_TRANSFER_BYTES)
			return DSIM_SC_INVALID_FIELD; /* no room for the terminating NUL */
		memcpy(d->scratch, in, sqe->in_length);
		d->scratch[sqe->in_length] = 0;
		return dsim_fault_control_set(d, (const char *)d->scratch, result);
	}
	case DSIM_CTL_GET_FAULTS: {
		struct dsim_fault_stats fs;
		dsim_fault_stats(d, &fs);
		return control_output(d, sqe, &fs, sizeof(fs), result);
	}
	default:
		return DSIM_SC_INVALID_CODE;
	}
}
