/* SPDX-License-Identifier: MIT */
/*
 * libdrv-sim: devsim's model and its in-process host, plugged into libdrv's
 * sim bus when this library is loaded, so that `sim:inproc` works for the
 * programs that link it and costs nothing to those that do not.
 */
#include "devsim/devsim.h"
#include "drv/sim.h"

static int start(const char *options, int *client_fd, void **handle, char *err, size_t errlen)
{
	struct devsim_inproc *h = NULL;
	int rc = devsim_start_inproc(options, client_fd, &h, err, errlen);
	*handle = h;
	return rc;
}

static void stop(void *handle)
{
	devsim_stop_inproc(handle);
}

static const struct drv_sim_inproc_ops inproc = { start, stop };

__attribute__((constructor)) static void plug_in(void)
{
	drv_sim_register_inproc(&inproc);
}

/*
 * Named by the link options of libdrv::sim and libdrv-sim.pc
 * (-Wl,--undefined=drv_sim_plugin): the reference pulls this object out of
 * the static archive, so the constructor above runs although nothing calls
 * into it (for the shared library, --no-as-needed does the same).
 */
DRV_API const int drv_sim_plugin = 1;
