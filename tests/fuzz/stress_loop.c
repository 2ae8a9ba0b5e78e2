/* SPDX-License-Identifier: MIT */
/*
 * What the single-threaded harnesses miss: the device's real event loop
 * (dsim_dev_run: edge-triggered doorbells, the deadline timer, interrupt
 * coalescing, adaptive device polling) on its own thread while a hostile
 * driver acts on another. The driver plays the programs of the
 * devsim_driver corpus (dsim_guest.c), and mutations of them, against the
 * live device: doorbells are its eventfds, and a "pass" is a pause that
 * lets the device thread run. Registers and rings race with the device as
 * they would on a real bus, so this runs under ASan and UBSan, not TSan.
 *
 * Each input starts from power-on. After it the device thread is stopped,
 * and with the device quiescent the invariants are checked: the device
 * wrote nothing outside its two DMA windows (guard bytes), its ring state
 * is within its rings, every request it holds is counted in flight and
 * the rest are free. Not deterministic (it is a stress harness, not a
 * fuzzer): the seed fixes the choice and mutation of inputs only.
 *
 *   stress_loop [--seconds N] [--seed S] DIR|FILE...
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

#include "dsim_guest.h"
#include "regs.h"

#define INPUT_MAX 1024u

struct input {
	uint8_t *data;
	size_t len;
};

static struct input *inputs;
static size_t ninputs, cap_inputs;

static uint64_t rng_state;

/* splitmix64: enough for choosing and mutating inputs. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "stress_loop: %s: %s\n", path, strerror(errno));
		return -1;
	}
	uint8_t *buf = malloc(INPUT_MAX);
	size_t n = buf ? fread(buf, 1, INPUT_MAX, f) : 0;
	fclose(f);
	if (ninputs == cap_inputs) {
		cap_inputs = cap_inputs ? 2 * cap_inputs : 64;
		struct input *more = realloc(inputs, cap_inputs * sizeof(*inputs));
		if (!more) {
			free(buf);
			return -1;
		}
		inputs = more;
	}
	if (!buf)
		return -1;
	inputs[ninputs++] = (struct input){ buf, n };
	return 0;
}

static int add_path(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		fprintf(stderr, "stress_loop: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return add_file(path);
	DIR *dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "stress_loop: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		char file[4096];
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		rc = add_file(file);
	}
	closedir(dir);
	return rc;
}

/* One of the inputs, as it is or with a few bytes changed, inserted or cut. */
static size_t next_input(uint8_t *buf)
{
	const struct input *in = &inputs[rnd() % ninputs];
	size_t len = in->len;
	memcpy(buf, in->data, len);
	unsigned edits = (unsigned)(rnd() % 4);
	for (unsigned i = 0; i < edits; i++) {
		uint64_t r = rnd();
		size_t at = len ? (size_t)(r >> 8) % len : 0;
		switch (r % 3) {
		case 0:
			if (len)
				buf[at] = (uint8_t)(r >> 40);
			break;
		case 1:
			if (len < INPUT_MAX) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = (uint8_t)(r >> 40);
				len++;
			}
			break;
		default:
			len = at;
			break;
		}
	}
	return len;
}

static struct dsim_dev *dev;
static uint8_t *mem;

static void *device_thread(void *arg)
{
	(void)arg;
	if (dsim_dev_run(dev) < 0)
		abort();
	return NULL;
}

static uint64_t doorbells;

static void kick(struct dsim_guest *g, unsigned vector)
{
	if (vector < g->d->num_kicks && eventfd_write(g->d->kick_fd[vector], 1) == 0)
		doorbells++;
}

/* The interrupts the device raised (the statistics registers are the driver's to scribble on). */
static uint64_t take_interrupts(void)
{
	uint64_t n = 0;
	for (unsigned v = 0; v < dev->num_vectors; v++) {
		eventfd_t k;
		if (eventfd_read(dev->irq_fd[v], &k) == 0)
			n += k;
	}
	return n;
}

/* The device runs by itself: a pass is a moment for it to do so. */
static void pause_for_device(struct dsim_guest *g)
{
	(void)g;
	nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
}

struct totals {
	uint64_t inputs, interrupts;
};

static void run_input(const uint8_t *data, size_t size, struct totals *t)
{
	static const struct dsim_fault_set no_rules;
	dsim_faults_init(&dev->faults, &no_rules, DSIM_FAULT_DEFAULT_SEED);
	dsim_dev_reset(dev);
	memset(dev->st.ram, 0, dev->st.capacity);
	struct dsim_guest g = { .d = dev,
				.regs = dev->regs,
				.kick = kick,
				.pass = pause_for_device,
				.device_thread = true };
	dsim_guest_memory_reset(&g, mem);
	dsim_guest_restart(&g);
	dsim_wr32(dev->regs, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	kick(&g, DSIM_KICK_ADMIN);
	pthread_t thread;
	if (pthread_create(&thread, NULL, device_thread, NULL))
		abort();
	struct fuzz_in in = { data, size };
	while (fuzz_more(&in))
		dsim_guest_step(&g, &in);
	pause_for_device(&g);
	dsim_dev_stop(dev);
	pthread_join(thread, NULL);
	dsim_guest_memory_check(mem);
	dsim_guest_check_rings(dev);
	dsim_guest_check_pool(dev);
	t->inputs++;
	t->interrupts += take_interrupts();
}

static int usage(void)
{
	fprintf(stderr, "usage: stress_loop [--seconds N] [--seed S] DIR|FILE...\n"
			"  plays the devsim_driver corpus against the device's own event loop\n");
	return 2;
}

int main(int argc, char **argv)
{
	double seconds = 5;
	rng_state = 1;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			return usage();
		char *end;
		if (strcmp(argv[i], "--seconds") == 0) {
			seconds = strtod(argv[i + 1], &end);
			if (*end || !(seconds > 0))
				return usage();
		} else if (strcmp(argv[i], "--seed") == 0) {
			rng_state = strtoull(argv[i + 1], &end, 0);
			if (*end)
				return usage();
		} else {
			return usage();
		}
	}
	if (i == argc)
		return usage();
	for (; i < argc; i++)
		if (add_path(argv[i]) < 0)
			return 1;
	if (!ninputs) {
		fprintf(stderr, "stress_loop: no inputs in the paths given\n");
		return 1;
	}
	dev = dsim_guest_device(2);
	if (dsim_dev_attach(dev) < 0) {
		fprintf(stderr, "stress_loop: cannot give the device its doorbells\n");
		return 1;
	}
	mem = dsim_guest_memory(dev);
	struct totals t = { 0 };
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	uint8_t buf[INPUT_MAX];
	do {
		run_input(buf, next_input(buf), &t);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 <
		 seconds);
	printf("stress_loop: %" PRIu64 " inputs (of %zu, mutated) against the device thread, "
	       "%" PRIu64 " doorbells rung, %" PRIu64 " interrupts raised; invariants held\n",
	       t.inputs, ninputs, doorbells, t.interrupts);
	dsim_dev_destroy(dev);
	free(mem);
	for (size_t k = 0; k < ninputs; k++)
		free(inputs[k].data);
	free(inputs);
	return 0;
}
