/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <string.h>

static const char *sweep_name(enum bench_sweep s)
{
	return s == SWEEP_QD ? "qd" : "queues";
}

static double allocs_per_request(const struct run_result *m)
{
	return m->ops ? (double)m->allocs_loop / (double)m->ops : 0.0;
}

/* A ratio line compares one of our figures with a baseline from this run. */
struct ratio {
	char name[96];
	double value;
};

static unsigned compute_ratios(const struct bench_report *r, struct ratio out[4])
{
	const struct bench_opts *o = r->opts;
	const struct baselines *b = r->base;
	const struct run_result *m = &r->median;
	unsigned n = 0;

	if (!b)
		return 0;
	if (b->eventfd_rtt_p50_ns && m->p50) {
		snprintf(out[n].name, sizeof(out[n].name),
			 "%s QD%u %s p50 / eventfd round trip p50", options_mode_name(o->mode),
			 o->qd, options_op_name(o->op));
		out[n++].value = (double)m->p50 / (double)b->eventfd_rtt_p50_ns;
	}
	if (b->uring_nop_ops_per_s > 0) {
		snprintf(out[n].name, sizeof(out[n].name),
			 "%s %s IOPS / io_uring NOP batch %u ops/s", options_mode_name(o->mode),
			 options_op_name(o->op), b->uring_batch);
		out[n++].value = m->iops / b->uring_nop_ops_per_s;
	}
	if (b->memcpy_gb_per_s > 0 && m->mbps > 0) {
		snprintf(out[n].name, sizeof(out[n].name), "%s %zu B MB/s / memcpy bandwidth",
			 options_op_name(o->op), o->bs);
		out[n++].value = m->mbps / 1e3 / b->memcpy_gb_per_s;
	}
	return n;
}

static const char *pattern_name(const struct bench_opts *o)
{
	return o->seq ? "sequential" : "random";
}

/* " random" or " sequential" after the block size; NOPs have no offsets. */
static const char *pattern_suffix(const struct bench_opts *o)
{
	if (o->op == BENCH_NOP)
		return "";
	return o->seq ? " sequential" : " random";
}

/* "%.0f ns" of a figure that may be unknown (< 0). */
static void text_ns(FILE *f, double ns, const char *what)
{
	if (ns < 0)
		fprintf(f, "%s unavailable", what);
	else
		fprintf(f, "%.0f ns %s", ns, what);
}

static void text_counts(FILE *f, const struct bench_report *r)
{
	const struct run_result *m = &r->median;

	if (r->uring) {
		/* Submissions are io_uring_enter calls; interrupts the kernel's business. */
		fprintf(f, "  ops per submit call ");
		fprintf(f, m->ops_per_kick < 0 ? "none" : "%.2f", m->ops_per_kick);
		fprintf(f, "   ops per sleep ");
		fprintf(f, m->ops_per_sleep < 0 ? "no sleeps" : "%.2f", m->ops_per_sleep);
		fprintf(f, "   interrupts not seen (kernel driver)\n");
		return;
	}
	fprintf(f, "  ops per kick   ");
	fprintf(f, m->ops_per_kick < 0 ? "no kicks" : "%.2f", m->ops_per_kick);
	fprintf(f, "   ops per sleep ");
	fprintf(f, m->ops_per_sleep < 0 ? "no sleeps" : "%.2f", m->ops_per_sleep);
	fprintf(f, "   interrupts %llu\n", (unsigned long long)m->interrupts);
}

static void text_result(FILE *f, const struct bench_report *r)
{
	const struct run_result *m = &r->median;

	fprintf(f, "  IOPS           %.0f\n", m->iops);
	if (m->bytes)
		fprintf(f, "  bandwidth      %.1f MB/s\n", m->mbps);
	fprintf(f,
		"  latency (us)   p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n",
		(double)m->p50 / 1e3, (double)m->p90 / 1e3, (double)m->p99 / 1e3,
		(double)m->p999 / 1e3, (double)m->max / 1e3, m->mean / 1e3);
	fprintf(f, "  CPU per op     %.0f ns in the I/O threads, %.0f ns whole process, ",
		m->thread_cpu_ns_per_op, m->process_cpu_ns_per_op);
	text_ns(f, m->system_cpu_ns_per_op, "whole system");
	fprintf(f, "\n");
	fprintf(f, "  CPU busy       %.1f %% of each I/O thread's time\n",
		100 * m->thread_cpu_util);
	text_counts(f, r);
	if (r->allocs_counted)
		fprintf(f,
			"  allocations per request: %.3g (%llu in the measured loops, %llu by "
			"other threads meanwhile)\n",
			allocs_per_request(m), (unsigned long long)m->allocs_loop,
			(unsigned long long)m->allocs_process);
	else
		fprintf(f, "  allocations per request: not counted in this build\n");
}

static void text_sweep(FILE *f, const struct bench_report *r)
{
	fprintf(f, "\nsweep over %s:\n", r->sweep_kind == SWEEP_QD ? "queue depth" : "queues");
	fprintf(f, "  %6s %12s %10s %10s %12s %12s %12s\n", sweep_name(r->sweep_kind), "IOPS",
		"p50 us", "p99 us", "thr CPU/op", "proc CPU/op", "sys CPU/op");
	for (unsigned i = 0; i < r->nsweep; i++) {
		const struct run_result *s = &r->sweep[i].r;
		fprintf(f, "  %6u %12.0f %10.2f %10.2f %10.0f ns %10.0f ns ", r->sweep[i].x,
			s->iops, (double)s->p50 / 1e3, (double)s->p99 / 1e3,
			s->thread_cpu_ns_per_op, s->process_cpu_ns_per_op);
		if (s->system_cpu_ns_per_op < 0)
			fprintf(f, "%12s\n", "n/a");
		else
			fprintf(f, "%10.0f ns\n", s->system_cpu_ns_per_op);
	}
}

void report_text(FILE *f, const struct bench_report *r)
{
	const struct bench_opts *o = r->opts;
	struct ratio ratios[4];
	unsigned nratios = compute_ratios(r, ratios);

	fprintf(f,
		"%s %zu B%s, QD %u, batch %u, %u queue(s) on %u thread(s), %s completions%s, %s "
		"I/O\n",
		options_op_name(o->op), o->bs, pattern_suffix(o), o->qd, o->batch, o->queues,
		o->threads, options_mode_name(o->mode), o->device_poll ? ", device polls" : "",
		o->buffered ? "buffered" : "direct");
	if (r->uring)
		fprintf(
		    f,
		    "device %s (the kernel's driver through io_uring, O_DIRECT, %s, %llu bytes)\n",
		    o->device, r->info->model, (unsigned long long)r->info->capacity);
	else
		fprintf(f, "device %s (%s on %s, %s, interrupts: %s)\n", o->device, r->info->driver,
			r->info->bus, r->info->model, drv_irq_mode_name(r->info->irq_mode));
	fprintf(f, "%u run(s) of %s%s; medians:\n", r->nruns,
		o->count ? "a request count" : "a fixed duration",
		o->warmup > 0 ? " after warm-up" : "");
	text_result(f, r);
	if (r->base) {
		const struct baselines *b = r->base;
		fprintf(f, "\nbaselines (same run):\n");
		if (b->uring_nop_ops_per_s > 0)
			fprintf(f, "  io_uring NOP, batch %u: %.0f ops/s, %.0f ns per op\n",
				b->uring_batch, b->uring_nop_ops_per_s, b->uring_nop_ns_per_op);
		fprintf(f, "  eventfd ping-pong round trip: p50 %.2f us, p99 %.2f us\n",
			(double)b->eventfd_rtt_p50_ns / 1e3, (double)b->eventfd_rtt_p99_ns / 1e3);
		fprintf(f, "  the same, waiting in edge-triggered epoll_wait: p50 %.2f us\n",
			(double)b->epoll_rtt_p50_ns / 1e3);
		fprintf(f, "  memcpy, 64 KiB blocks: %.2f GB/s\n", b->memcpy_gb_per_s);
		for (unsigned i = 0; i < nratios; i++)
			fprintf(f, "  %s = %.2fx\n", ratios[i].name, ratios[i].value);
	}
	if (r->nsweep)
		text_sweep(f, r);
}

/* ---- JSON ------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Ratios with no denominator are written as null, never as inf. */
static void json_ratio(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, "null");
	else
		fprintf(f, "%.4f", v);
}

/* A figure that may be unknown (< 0), as null. */
static void json_optional(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, "null");
	else
		fprintf(f, "%.1f", v);
}

static void json_result(FILE *f, const struct run_result *m, const struct bench_report *r)
{
	fprintf(f,
		"{\"ops\": %llu, \"bytes\": %llu, \"seconds\": %.6f, \"iops\": %.1f, "
		"\"mb_per_s\": %.3f, ",
		(unsigned long long)m->ops, (unsigned long long)m->bytes, m->seconds, m->iops,
		m->mbps);
	fprintf(f,
		"\"latency_ns\": {\"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"p99_9\": %llu, "
		"\"max\": %llu, \"mean\": %.1f}, ",
		(unsigned long long)m->p50, (unsigned long long)m->p90, (unsigned long long)m->p99,
		(unsigned long long)m->p999, (unsigned long long)m->max, m->mean);
	fprintf(f, "\"cpu_ns_per_op\": {\"threads\": %.1f, \"process\": %.1f}, ",
		m->thread_cpu_ns_per_op, m->process_cpu_ns_per_op);
	fprintf(f, "\"system_cpu_ns_per_op\": ");
	json_optional(f, m->system_cpu_ns_per_op);
	fprintf(f, ", \"thread_cpu_util\": %.4f, ", m->thread_cpu_util);
	fprintf(f, "\"kicks\": %llu, \"interrupts\": ", (unsigned long long)m->kicks);
	if (r->uring)
		fprintf(f, "null"); /* the kernel's, not counted here */
	else
		fprintf(f, "%llu", (unsigned long long)m->interrupts);
	fprintf(f, ", \"sleeps\": %llu, \"ops_per_kick\": ", (unsigned long long)m->sleeps);
	json_ratio(f, m->ops_per_kick);
	fprintf(f, ", \"ops_per_sleep\": ");
	json_ratio(f, m->ops_per_sleep);
	if (r->allocs_counted)
		fprintf(f,
			", \"allocs\": {\"loop\": %llu, \"other_threads\": %llu, "
			"\"per_request\": %.6f}}",
			(unsigned long long)m->allocs_loop, (unsigned long long)m->allocs_process,
			m->ops ? (double)m->allocs_loop / (double)m->ops : 0.0);
	else
		fprintf(f, ", \"allocs\": null}");
}

static void json_config(FILE *f, const struct bench_report *r)
{
	const struct bench_opts *o = r->opts;

	fprintf(f, "  \"config\": {\"device\": ");
	json_string(f, o->device);
	fprintf(f,
		", \"op\": \"%s\", \"mix_read\": %u, \"bs\": %zu, \"qd\": %u, \"queues\": %u, "
		"\"threads\": %u, \"batch\": %u, \"mode\": \"%s\", \"spin_us\": %llu, "
		"\"device_poll\": %s, \"io\": \"%s\", \"offsets\": \"%s\", \"latency\": ",
		options_op_name(o->op), o->mix_read, o->bs, o->qd, o->queues, o->threads, o->batch,
		options_mode_name(o->mode), (unsigned long long)(o->spin_ns / 1000),
		o->device_poll ? "true" : "false", o->buffered ? "buffered" : "direct",
		pattern_name(o));
	if (o->latency)
		json_string(f, o->latency);
	else
		fprintf(f, "null");
	fprintf(f, ", \"duration_s\": %.3f, \"count\": %llu, \"warmup_s\": %.3f, \"runs\": %u},\n",
		o->duration, (unsigned long long)o->count, o->warmup, o->runs);
	fprintf(f, "  \"device\": {\"driver\": ");
	json_string(f, r->info->driver);
	fprintf(f, ", \"bus\": ");
	json_string(f, r->info->bus);
	fprintf(f, ", \"model\": ");
	json_string(f, r->info->model);
	fprintf(f, ", \"capacity\": %llu, \"irq_mode\": ", (unsigned long long)r->info->capacity);
	if (r->uring)
		fprintf(f, "null},\n"); /* the kernel's business */
	else
		fprintf(f, "\"%s\"},\n", drv_irq_mode_name(r->info->irq_mode));
}

static void json_baselines(FILE *f, const struct bench_report *r)
{
	const struct baselines *b = r->base;
	struct ratio ratios[4];
	unsigned n = compute_ratios(r, ratios);

	fprintf(f,
		"  \"baselines\": {\"io_uring_nop\": {\"batch\": %u, \"ops_per_s\": %.1f, "
		"\"ns_per_op\": %.2f}, \"eventfd_round_trip_ns\": {\"p50\": %llu, \"p99\": %llu}, "
		"\"epoll_round_trip_ns\": {\"p50\": %llu}, \"memcpy_gb_per_s\": %.3f},\n",
		b->uring_batch, b->uring_nop_ops_per_s, b->uring_nop_ns_per_op,
		(unsigned long long)b->eventfd_rtt_p50_ns,
		(unsigned long long)b->eventfd_rtt_p99_ns, (unsigned long long)b->epoll_rtt_p50_ns,
		b->memcpy_gb_per_s);
	fprintf(f, "  \"ratios\": {");
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_string(f, ratios[i].name);
		fprintf(f, ": %.4f", ratios[i].value);
	}
	fprintf(f, "},\n");
}

void report_json(FILE *f, const struct bench_report *r)
{
	fprintf(f, "{\n");
	json_config(f, r);
	fprintf(f, "  \"result\": ");
	json_result(f, &r->median, r);
	fprintf(f, ",\n  \"runs\": [");
	for (unsigned i = 0; i < r->nruns; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		json_result(f, &r->runs[i], r);
	}
	fprintf(f, "],\n");
	if (r->base)
		json_baselines(f, r);
	fprintf(f, "  \"sweep\": ");
	if (!r->nsweep) {
		fprintf(f, "null\n}\n");
		return;
	}
	fprintf(f, "{\"over\": \"%s\", \"points\": [", sweep_name(r->sweep_kind));
	for (unsigned i = 0; i < r->nsweep; i++) {
		fprintf(f, "%s\n    {\"%s\": %u, \"result\": ", i ? "," : "",
			sweep_name(r->sweep_kind), r->sweep[i].x);
		json_result(f, &r->sweep[i].r, r);
		fprintf(f, "}");
	}
	fprintf(f, "]}\n}\n");
}
