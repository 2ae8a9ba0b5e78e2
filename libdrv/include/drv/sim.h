/* SPDX-License-Identifier: MIT */
/*
 * The simulated device in this process (`sim:inproc`) lives in a library of
 * its own, libdrv-sim: link it (pkg-config libdrv-sim, CMake libdrv::sim)
 * and sim:inproc works; without it drv_open("sim:inproc") fails with
 * -ENOTSUP and says so. A program that only drives real devices, or a
 * devsim process through `sim:/path.sock`, carries no simulator.
 *
 * libdrv-sim plugs itself in when it is loaded, through the function
 * below; applications never call it.
 */
#ifndef DRV_SIM_H
#define DRV_SIM_H

#include <stddef.h>

#include "drv/drv.h"

#ifdef __cplusplus
extern "C" {
#endif

struct drv_sim_inproc_ops {
	/*
	 * Starts a device with the URI's options ("latency=fixed:1s&queues=2",
	 * or ""); on success *client_fd is our end of its socket and *handle
	 * what stop() takes. 0 or -errno, with a message in err.
	 */
	int (*start)(const char *options, int *client_fd, void **handle, char *err, size_t errlen);
	/* Stops the device once its socket is closed; frees everything. */
	void (*stop)(void *handle);
};

/* Makes sim:inproc available; the last registration wins. NULL withdraws it. */
DRV_API void drv_sim_register_inproc(const struct drv_sim_inproc_ops *ops);

#ifdef __cplusplus
}
#endif

#endif
